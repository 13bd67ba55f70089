/*
 * api_http.c
 *	  Answers in the service's formats, and the JSON request body: every
 *	  route module answers through these (the HTTP server logs and counts
 *	  each request once it is finished).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_http.h"
#include "api_json.h"
#include "api_problem.h"

/* Answer with a body (may be NULL: empty); returns the status. */
int
api_send_body(HttpRequest *r, int status, const char *ctype, const char *body)
{
	http_respond(r, status, ctype, body, body ? strlen(body) : 0);
	return status;
}

/* Answer with a JSON value (consumed). */
int
api_send_json(HttpRequest *r, int status, json_t *o)
{
	char	   *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int			rc;

	json_decref(o);
	if (!s)
		return api_send_body(r, 500, "application/problem+json",
							 "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}");
	rc = api_send_body(r, status, "application/json", s);
	free(s);
	return rc;
}

/* Answer with an RFC 7807 problem. */
int
api_send_problem(HttpRequest *r, int status, const char *detail)
{
	char	   *s = api_problem_json(status, detail, http_uri(r));
	int			rc = api_send_body(r, status, "application/problem+json", s ? s : "");

	free(s);
	return rc;
}

/* 503 with Retry-After: a shared resource (what) is busy for now. */
int
api_send_busy(HttpRequest *r, const char *what)
{
	char		msg[160];

	snprintf(msg, sizeof(msg), "%s; retry later", what);
	http_add_header(r, "Retry-After", "1");
	return api_send_problem(r, 503, msg);
}

/*
 * The request's JSON body (the server has read it whole, within the
 * route's bound).  NULL with *status 400 and a message when it is not
 * JSON, or nests deeper than API_JSON_MAX_DEPTH.
 */
json_t *
api_read_json(HttpRequest *r, int *status, char *err, size_t errlen)
{
	size_t		len;
	const char *body = http_body(r, &len);
	json_t	   *o = api_json_parse(body, len, err, errlen);

	if (!o)
		*status = 400;
	return o;
}
