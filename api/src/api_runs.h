/*
 * api_runs.h
 *	  Queueing the runs whose data is complete (the routes of
 *	  /api/v1/projects/{pid}/runs are in api_routes.h).
 */
#ifndef API_RUNS_H
#define API_RUNS_H

#include <libpq-fe.h>

#include "api_ctx.h"

extern void api_runs_queue_ready(ApiCtx *ctx, PGconn *pg, const char *pid);

#endif							/* API_RUNS_H */
