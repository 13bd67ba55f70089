/*
 * api_ctx.h
 *	  What every route handler needs: the database pool, the object store,
 *	  the job queue, readiness, per-client accounting and the request
 *	  limits resolved from configuration (docs/service.md, "Limits").
 */
#ifndef API_CTX_H
#define API_CTX_H

#include <stdatomic.h>
#include <stdint.h>

#include "api_clients.h"
#include "api_db.h"
#include "api_health.h"
#include "api_queue.h"
#include "service/store.h"

typedef struct ApiLimits
{
	uint64_t	max_body_bytes;		/* 413 above this */
	uint64_t	max_records;		/* encodings per upload */
	int			min_encoding_size;	/* bytes; runs fail outside the range */
	int			max_encoding_size;
	int			max_uploads;		/* concurrent uploads; 503 beyond */
	int			max_uploads_per_client; /* 429 beyond; 0: no bound */
	int			projects_per_minute;	/* per client; 429 beyond; 0: no bound */
	int			max_projects;		/* in all; 429 beyond; 0: no bound */
	int			max_runs_per_project;	/* kept runs of any state; 429 beyond */
	int			max_active_runs_per_project;	/* not yet completed or failed */
	int			max_active_runs;	/* queued or running in all; 429 beyond */
} ApiLimits;

typedef struct ApiCtx
{
	ApiDb	   *db;
	ObjectStore *store;
	ApiQueue   *queue;
	ApiHealth  *health;
	ApiClients *clients;
	ApiLimits	limits;
	atomic_int	uploads;		/* uploads in flight */
} ApiCtx;

#endif							/* API_CTX_H */
