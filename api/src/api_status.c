/*
 * api_status.c
 *	  The service's own routes: /api/v1/status (project count and the
 *	  workers' comparison rate), /api/v1/version and /metrics (Prometheus
 *	  text; queue depth and rate read at scrape).
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "api_ctx.h"
#include "api_http.h"
#include "api_metrics.h"
#include "api_routes.h"

#define PPRL_VERSION "0.1.0"

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
void
api_route_metrics(HttpRequest *r)
{
	ApiCtx	   *ctx = http_app(r);
	PGconn	   *pg = api_db_get(ctx->db);
	char	   *text;

	if (pg)
	{
		long long	depth = query_number(pg, "SELECT count(*) FROM runs WHERE state = 'queued'"),
					rate = query_number(pg, "SELECT rate FROM metrics ORDER BY ts DESC LIMIT 1");

		api_db_put(ctx->db, pg);
		if (depth >= 0)
			api_metrics_set_queue_depth(depth);
		if (rate >= 0)
			api_metrics_set_comparison_rate((double) rate);
	}
	text = api_metrics_render();
	api_send_body(r, text ? 200 : 500, "text/plain; version=0.0.4", text ? text : "");
	free(text);
}

/* GET /api/v1/status: {"status", "project_count", "rate"}. */
void
api_route_status(HttpRequest *r)
{
	ApiCtx	   *ctx = http_app(r);
	PGconn	   *pg = api_db_get(ctx->db);
	long long	projects,
				rate;

	if (!pg)
	{
		api_send_busy(r, "every database connection is busy");
		return;
	}
	projects = query_number(pg, "SELECT count(*) FROM projects");
	rate = query_number(pg, "SELECT rate FROM metrics ORDER BY ts DESC LIMIT 1");
	api_db_put(ctx->db, pg);
	if (projects < 0)
	{
		api_send_problem(r, 503, "database not ready (schema missing?)");
		return;
	}
	api_send_json(r, 200, json_pack("{s:s,s:I,s:I}", "status", "ok", "project_count", (json_int_t) projects,
									"rate", (json_int_t) (rate < 0 ? 0 : rate)));
}

/* GET /api/v1/version. */
void
api_route_version(HttpRequest *r)
{
	api_send_json(r, 200, json_pack("{s:s,s:s,s:s}", "entityservice", "pg_pprl " PPRL_VERSION,
									"anonlink", "pg_pprl " PPRL_VERSION " (anonlink-compatible)",
									"python", "none"));
}
