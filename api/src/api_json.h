/*
 * api_json.h
 *	  Client JSON in: nesting bounded before any recursive parse, so that
 *	  no body can outrun a thread's stack in jansson's parser or, later,
 *	  in json_dumps of what was parsed.
 */
#ifndef API_JSON_H
#define API_JSON_H

#include <stddef.h>

#include <jansson.h>

/* Deepest nesting of arrays and objects accepted from a client. */
#define API_JSON_MAX_DEPTH 32

extern int	api_json_depth_ok(const char *buf, size_t len, int max_depth);
extern json_t *api_json_parse(const char *buf, size_t len, char *err, size_t errlen);

#endif							/* API_JSON_H */
