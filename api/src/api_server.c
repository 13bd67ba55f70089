/*
 * api_server.c
 *	  civetweb server setup and the top-level routes: /healthz, /readyz,
 *	  /metrics, /api/v1/status, /api/v1/version and the project routes
 *	  (api_projects.c, which hands uploads and runs on); anything else is a
 *	  404 problem.  Every
 *	  response goes through api_send_body() (api_http.c), which also counts
 *	  it in the metrics by route template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "api_http.h"
#include "api_metrics.h"
#include "api_problem.h"
#include "api_projects.h"
#include "api_server.h"
#include "api_settings.h"

#define PPRL_VERSION "0.1.0"

struct ApiServer
{
	struct mg_context *mg;
	ApiCtx		ctx;			/* what the routes share */
	size_t		max_head;		/* PPRL_MAX_HEADER_BYTES */
	char		buf_size[24];	/* civetweb's request buffer: room to measure a head past max_head */
};

#define HEAD_TOO_LARGE "the request's headers are larger than this server accepts (PPRL_MAX_HEADER_BYTES)"

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
	return api_send_json(c, "/healthz", 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /readyz: database, Redis and object store reachable. */
static int
route_readyz(struct mg_connection *c, void *cb)
{
	ApiServer  *s = cb;
	char		err[256];

	if (!api_db_ping(s->ctx.db))
		return api_send_problem(c, "/readyz", 503, "database unreachable");
	if (!api_queue_ping(s->ctx.queue))
		return api_send_problem(c, "/readyz", 503, "Redis unreachable");
	if (store_ping(s->ctx.store, err, sizeof(err)) != 0)
		return api_send_problem(c, "/readyz", 503, "object store unreachable");
	return api_send_json(c, "/readyz", 200, json_pack("{s:s}", "status", "ready"));
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

/* GET /metrics: Prometheus text format; queue depth and rate read now. */
static int
route_metrics(struct mg_connection *c, void *cb)
{
	ApiServer  *s = cb;
	PGconn	   *pg = api_db_get(s->ctx.db);
	long long	depth = query_number(pg, "SELECT count(*) FROM runs WHERE state = 'queued'"),
				rate = query_number(pg, "SELECT rate FROM metrics ORDER BY ts DESC LIMIT 1");
	char	   *text;
	int			rc;

	api_db_put(s->ctx.db, pg);
	if (depth >= 0)
		api_metrics_set_queue_depth(depth);
	if (rate >= 0)
		api_metrics_set_comparison_rate((double) rate);
	text = api_metrics_render();
	rc = api_send_body(c, "/metrics", text ? 200 : 500, "text/plain; version=0.0.4", text ? text : "");
	free(text);
	return rc;
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
		return api_send_problem(c, "/status", 405, "only GET");
	pg = api_db_get(s->ctx.db);
	projects = query_number(pg, "SELECT count(*) FROM projects");
	rate = query_number(pg, "SELECT rate FROM metrics ORDER BY ts DESC LIMIT 1");
	api_db_put(s->ctx.db, pg);
	if (projects < 0)
		return api_send_problem(c, "/status", 503, "database not ready (schema missing?)");
	return api_send_json(c, "/status", 200, json_pack("{s:s,s:I,s:I}", "status", "ok",
												   "project_count", (json_int_t) projects,
												   "rate", (json_int_t) (rate < 0 ? 0 : rate)));
}

/* GET /api/v1/version. */
static int
route_version(struct mg_connection *c, void *cb)
{
	(void) cb;
	if (!method_is_get(c))
		return api_send_problem(c, "/version", 405, "only GET");
	return api_send_json(c, "/version", 200,
					 json_pack("{s:s,s:s,s:s}", "entityservice", "pg_pprl " PPRL_VERSION,
							   "anonlink", "pg_pprl " PPRL_VERSION " (anonlink-compatible)",
							   "python", "none"));
}

/* Anything else. */
static int
route_not_found(struct mg_connection *c, void *cb)
{
	(void) cb;
	return api_send_problem(c, "other", 404, "no such resource");
}

/*
 * Before any route: a request head over PPRL_MAX_HEADER_BYTES is 431
 * Request Header Fields Too Large.  civetweb reads heads into a larger
 * buffer (see api_server_start) so that they can be measured here.
 */
static int
on_begin_request(struct mg_connection *c)
{
	ApiServer  *s = mg_get_user_data(mg_get_context(c));
	const struct mg_request_info *ri = mg_get_request_info(c);
	size_t		n = strlen(ri->request_method) + strlen(ri->request_uri) + 16 +
		(ri->query_string ? strlen(ri->query_string) + 1 : 0);

	for (int i = 0; i < ri->num_headers; i++)
		n += strlen(ri->http_headers[i].name) + strlen(ri->http_headers[i].value) + 4;
	if (n <= s->max_head)
		return 0;
	api_http_closing(c);
	api_send_problem(c, "other", 431, HEAD_TOO_LARGE);
	return 1;
}

/*
 * civetweb's own errors (before any handler runs), as problem JSON.  A
 * head too large even for civetweb's buffer comes as a 400 "malformed"
 * (or 413) that cannot be told apart from garbage: say both.
 */
static int
on_http_error(struct mg_connection *c, int status, const char *msg)
{
	if (status == 413)
		api_send_problem(c, "other", 431, HEAD_TOO_LARGE);
	else if (status == 400 && msg && strstr(msg, "Malformed"))
		api_send_problem(c, "other", 400, "malformed request, or headers far larger than this "
						 "server accepts (PPRL_MAX_HEADER_BYTES)");
	else
		api_send_problem(c, "other", status, msg && *msg ? msg : "bad request");
	return 0;
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
		"max_request_size", "",	/* options[5]: set below */
		"request_timeout_ms", "600000",
		"enable_keep_alive", "yes",
		NULL
	};

	if (!s)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->max_head = strtoul(cfg->max_header_bytes, NULL, 10);
	snprintf(s->buf_size, sizeof(s->buf_size), "%zu", s->max_head + 65536);
	options[5] = s->buf_size;
	s->ctx.db = cfg->db;
	s->ctx.store = cfg->store;
	s->ctx.queue = cfg->queue;
	s->ctx.limits = cfg->limits;
	atomic_init(&s->ctx.uploads, 0);
	memset(&cbs, 0, sizeof(cbs));
	cbs.http_error = on_http_error;
	cbs.begin_request = on_begin_request;
	mg_init_library(0);
	s->mg = mg_start(&cbs, s, options);
	if (!s->mg)
	{
		snprintf(err, errlen, "cannot listen on %s", cfg->listen);
		free(s);
		return NULL;
	}
	mg_set_request_handler(s->mg, "/healthz$", route_healthz, s);
	mg_set_request_handler(s->mg, "/readyz$", route_readyz, s);
	mg_set_request_handler(s->mg, "/metrics$", route_metrics, s);
	mg_set_request_handler(s->mg, "/api/v1/status$", route_status, s);
	mg_set_request_handler(s->mg, "/api/v1/version$", route_version, s);
	mg_set_request_handler(s->mg, "/api/v1/projects$", api_route_projects, &s->ctx);
	mg_set_request_handler(s->mg, "/api/v1/projects/", api_route_project, &s->ctx);
	mg_set_request_handler(s->mg, "/", route_not_found, s);
	return s;
}

/* Stop serving (waits for requests in flight). */
void
api_server_stop(ApiServer *s)
{
	if (!s)
		return;
	mg_stop(s->mg);
	mg_exit_library();
	free(s);
}
