/*
 * api_http.h
 *	  Response and request helpers shared by the route modules.
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <stddef.h>

#include <civetweb.h>
#include <jansson.h>

extern int	api_send_body(struct mg_connection *c, const char *route, int status,
						  const char *ctype, const char *body);
extern int	api_send_json(struct mg_connection *c, const char *route, int status, json_t *o);
extern int	api_send_problem(struct mg_connection *c, const char *route, int status,
							 const char *detail);
extern void api_http_closing(struct mg_connection *c);
extern void api_http_log(struct mg_connection *c, const char *route, int status, const char *id);
extern void api_send_head(struct mg_connection *c, const char *ctype, const char *length,
						  char *id, size_t idlen);
extern json_t *api_read_json(struct mg_connection *c, size_t max, int *status,
							 char *err, size_t errlen);

#endif							/* API_HTTP_H */
