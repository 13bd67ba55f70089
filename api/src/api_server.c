/*
 * api_server.c
 *	  civetweb server setup and the service routes built so far: /healthz,
 *	  /readyz, /metrics, /api/v1/status and /api/v1/version; anything else
 *	  is a 404 problem.  Every response goes through send_body(), which also
 *	  counts it in the metrics by route template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "api_metrics.h"
#include "api_problem.h"
#include "api_server.h"

#define PPRL_VERSION "0.1.0"

struct ApiServer
{
	struct mg_context *ctx;
	ApiDb	   *db;
	ObjectStore *store;
};

/* Reason phrase for a status line. */
static const char *
reason(int status)
{
	return status == 200 ? "OK" : status == 201 ? "Created" : status == 204 ? "No Content"
		: api_problem_title(status);
}

/* Send a complete response and count it. */
static int
send_body(struct mg_connection *c, const char *route, int status, const char *ctype,
		  const char *body)
{
	size_t		len = body ? strlen(body) : 0;

	mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "Cache-Control: no-store\r\n\r\n", status, reason(status), ctype, len);
	if (len)
		mg_write(c, body, len);
	api_metrics_request(route, status);
	return status;
}

/* Send a JSON object (consumes it). */
static int
send_json(struct mg_connection *c, const char *route, int status, json_t *o)
{
	char	   *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int			rc;

	json_decref(o);
	if (!s)
		return send_body(c, route, 500, "application/problem+json",
						 "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}");
	rc = send_body(c, route, status, "application/json", s);
	free(s);
	return rc;
}

/* Send an RFC 7807 problem. */
static int
send_problem(struct mg_connection *c, const char *route, int status, const char *detail)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	char	   *s = api_problem_json(status, detail, ri ? ri->local_uri : NULL);
	int			rc = send_body(c, route, status, "application/problem+json", s ? s : "");

	free(s);
	return rc;
}

/* Only GET (and HEAD) on these read-only routes. */
static int
method_is_get(struct mg_connection *c)
{
	const char *m = mg_get_request_info(c)->request_method;

	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* GET /healthz: the process is alive. */
static int
route_healthz(struct mg_connection *c, void *cb)
{
	(void) cb;
	return send_json(c, "/healthz", 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /readyz: database and object store reachable. */
static int
route_readyz(struct mg_connection *c, void *cb)
{
	ApiServer  *s = cb;
	char		err[256];

	if (!api_db_ping(s->db))
		return send_problem(c, "/readyz", 503, "database unreachable");
	if (store_ping(s->store, err, sizeof(err)) != 0)
		return send_problem(c, "/readyz", 503, "object store unreachable");
	return send_json(c, "/readyz", 200, json_pack("{s:s}", "status", "ready"));
}

/* GET /metrics: Prometheus text format. */
static int
route_metrics(struct mg_connection *c, void *cb)
{
	char	   *text = api_metrics_render();
	int			rc;

	(void) cb;
	rc = send_body(c, "/metrics", text ? 200 : 500, "text/plain; version=0.0.4", text ? text : "");
	free(text);
	return rc;
}

/* Run a one-value query; -1 on error. */
static long long
query_number(PGconn *pg, const char *sql)
{
	PGresult   *r = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0);
	long long	v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = PQgetisnull(r, 0, 0) ? 0 : atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* GET /api/v1/status: {"status", "project_count", "rate"}. */
static int
route_status(struct mg_connection *c, void *cb)
{
	ApiServer  *s = cb;
	PGconn	   *pg;
	long long	projects,
				rate;

	if (!method_is_get(c))
		return send_problem(c, "/status", 405, "only GET");
	pg = api_db_get(s->db);
	projects = query_number(pg, "SELECT count(*) FROM projects");
	rate = query_number(pg, "SELECT rate FROM metrics ORDER BY ts DESC LIMIT 1");
	api_db_put(s->db, pg);
	if (projects < 0)
		return send_problem(c, "/status", 503, "database not ready (schema missing?)");
	return send_json(c, "/status", 200, json_pack("{s:s,s:I,s:I}", "status", "ok",
												   "project_count", (json_int_t) projects,
												   "rate", (json_int_t) (rate < 0 ? 0 : rate)));
}

/* GET /api/v1/version. */
static int
route_version(struct mg_connection *c, void *cb)
{
	(void) cb;
	if (!method_is_get(c))
		return send_problem(c, "/version", 405, "only GET");
	return send_json(c, "/version", 200,
					 json_pack("{s:s,s:s,s:s}", "entityservice", "pg_pprl " PPRL_VERSION,
							   "anonlink", "pg_pprl " PPRL_VERSION " (anonlink-compatible)",
							   "python", "none"));
}

/* Anything else. */
static int
route_not_found(struct mg_connection *c, void *cb)
{
	(void) cb;
	return send_problem(c, "other", 404, "no such resource");
}

/* Start civetweb with bounded headers and a fixed thread pool. */
ApiServer *
api_server_start(const ApiServerConfig *cfg, char *err, size_t errlen)
{
	ApiServer  *s = calloc(1, sizeof(ApiServer));
	struct mg_callbacks cbs;
	const char *options[] = {
		"listening_ports", cfg->listen,
		"num_threads", cfg->threads,
		"max_request_size", cfg->max_header_bytes,
		"request_timeout_ms", "600000",
		"enable_keep_alive", "yes",
		NULL
	};

	if (!s)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->db = cfg->db;
	s->store = cfg->store;
	memset(&cbs, 0, sizeof(cbs));
	mg_init_library(0);
	s->ctx = mg_start(&cbs, s, options);
	if (!s->ctx)
	{
		snprintf(err, errlen, "cannot listen on %s", cfg->listen);
		free(s);
		return NULL;
	}
	mg_set_request_handler(s->ctx, "/healthz$", route_healthz, s);
	mg_set_request_handler(s->ctx, "/readyz$", route_readyz, s);
	mg_set_request_handler(s->ctx, "/metrics$", route_metrics, s);
	mg_set_request_handler(s->ctx, "/api/v1/status$", route_status, s);
	mg_set_request_handler(s->ctx, "/api/v1/version$", route_version, s);
	mg_set_request_handler(s->ctx, "/", route_not_found, s);
	return s;
}

/* Stop serving (waits for requests in flight). */
void
api_server_stop(ApiServer *s)
{
	if (!s)
		return;
	mg_stop(s->ctx);
	mg_exit_library();
	free(s);
}
