/*
 * api_runs.h
 *	  /api/v1/projects/{pid}/runs[/{rid}[/status|/result]] and queueing the
 *	  runs whose data is complete.
 */
#ifndef API_RUNS_H
#define API_RUNS_H

#include <civetweb.h>
#include <libpq-fe.h>

#include "api_ctx.h"

extern int	api_runs_route(struct mg_connection *c, ApiCtx *ctx, const char *pid, const char *rest);
extern void api_runs_queue_ready(ApiCtx *ctx, PGconn *pg, const char *pid);

#endif							/* API_RUNS_H */
