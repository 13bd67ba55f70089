/*
 * api_http.c
 *	  Responses (counted in the metrics by route template) and bounded
 *	  request bodies.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_http.h"
#include "api_metrics.h"
#include "api_problem.h"
#include "api_settings.h"

/* The mark of a connection whose response must say it closes. */
static int	closing;

/*
 * Say "Connection: close" in this connection's response.  Uploads use it:
 * civetweb does not keep a connection alive after some long request bodies,
 * and a client told so opens a new connection for its next request instead
 * of finding the old one closed.
 */
void
api_http_closing(struct mg_connection *c)
{
	mg_set_user_connection_data(c, &closing);
}

/*
 * The request's id: the client's X-Request-Id when it is a short token of
 * letters, digits and dashes, else one made of the process id and a
 * counter.  Written into out (at least 65 bytes).
 */
static void
request_id(struct mg_connection *c, char *out, size_t outlen)
{
	static atomic_ulong counter;
	const char *h = mg_get_header(c, "X-Request-Id");
	size_t		n = h ? strlen(h) : 0;
	int			ok = n > 0 && n <= 64;

	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char) h[i]) || h[i] == '-';
	if (ok)
		snprintf(out, outlen, "%s", h);
	else
		snprintf(out, outlen, "%x-%lu", (unsigned) getpid(), atomic_fetch_add(&counter, 1) + 1);
}

/*
 * Count a finished request in the metrics and log it as one JSON line
 * (method, route template, status, request id; never a header value
 * other than the id, so no token reaches the log).
 */
void
api_http_log(struct mg_connection *c, const char *route, int status, const char *id)
{
	const struct mg_request_info *ri = mg_get_request_info(c);

	api_metrics_request(route, status);
	api_log(status >= 500 ? "error" : "info", "request",
			json_pack("{s:s,s:s,s:i,s:s}", "method", ri ? ri->request_method : "",
					  "route", route, "status", status, "request_id", id));
}

/* Reason phrase for a status line. */
static const char *
reason(int status)
{
	return status == 200 ? "OK" : status == 201 ? "Created" : status == 204 ? "No Content"
		: api_problem_title(status);
}

/* Send a complete response, count it and log it. */
int
api_send_body(struct mg_connection *c, const char *route, int status, const char *ctype,
			  const char *body)
{
	size_t		len = body ? strlen(body) : 0;
	char		id[80];

	request_id(c, id, sizeof(id));
	mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "Cache-Control: no-store\r\nX-Request-Id: %s\r\n%s\r\n", status, reason(status), ctype,
			  len, id, mg_get_user_connection_data(c) == &closing ? "Connection: close\r\n" : "");
	if (len)
		mg_write(c, body, len);
	api_http_log(c, route, status, id);
	return status;
}

/*
 * Send the head of a 200 response whose body the caller streams
 * (Content-Length known); returns the request id for api_http_log.
 */
void
api_send_head(struct mg_connection *c, const char *ctype, const char *length, char *id, size_t idlen)
{
	request_id(c, id, idlen);
	mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %s\r\n"
			  "Cache-Control: no-store\r\nX-Request-Id: %s\r\n\r\n", ctype, length, id);
}

/* Send a JSON object (consumes it). */
int
api_send_json(struct mg_connection *c, const char *route, int status, json_t *o)
{
	char	   *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int			rc;

	json_decref(o);
	if (!s)
		return api_send_body(c, route, 500, "application/problem+json",
						 "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}");
	rc = api_send_body(c, route, status, "application/json", s);
	free(s);
	return rc;
}

/* Send an RFC 7807 problem. */
int
api_send_problem(struct mg_connection *c, const char *route, int status, const char *detail)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	char	   *s = api_problem_json(status, detail, ri ? ri->local_uri : NULL);
	int			rc = api_send_body(c, route, status, "application/problem+json", s ? s : "");

	free(s);
	return rc;
}

/*
 * Read a JSON request body of at most max bytes.  NULL with *status 413
 * (too large), 400 (not JSON) or 411 (no length and no chunking) and a
 * message when it cannot.
 */
json_t *
api_read_json(struct mg_connection *c, size_t max, int *status, char *err, size_t errlen)
{
	char	   *buf = malloc(max + 1);
	size_t		len = 0;
	json_error_t je;
	json_t	   *o;

	if (!buf)
	{
		*status = 500;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (;;)
	{
		int			n = mg_read(c, buf + len, max + 1 - len);

		if (n <= 0)
			break;
		len += (size_t) n;
		if (len > max)
		{
			free(buf);
			*status = 413;
			snprintf(err, errlen, "request body larger than %zu bytes", max);
			return NULL;
		}
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!o)
	{
		*status = 400;
		snprintf(err, errlen, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	}
	return o;
}
