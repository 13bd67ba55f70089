/*
 * api_http.h
 *	  Answers in the service's formats (JSON, RFC 7807 problems) and the
 *	  JSON request body, for the route modules (on http_server.h).
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "http_server.h"

extern int	api_send_body(HttpRequest *r, int status, const char *ctype, const char *body);
extern int	api_send_json(HttpRequest *r, int status, json_t *o);
extern int	api_send_problem(HttpRequest *r, int status, const char *detail);
extern int	api_send_busy(HttpRequest *r, const char *what);
extern json_t *api_read_json(HttpRequest *r, int *status, char *err, size_t errlen);

#endif							/* API_HTTP_H */
