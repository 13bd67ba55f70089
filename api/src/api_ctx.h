/*
 * api_ctx.h
 *	  What every route handler needs: the database pool, the object store,
 *	  the job queue and the request limits resolved from configuration.
 */
#ifndef API_CTX_H
#define API_CTX_H

#include <stdatomic.h>
#include <stdint.h>

#include "api_db.h"
#include "api_queue.h"
#include "store.h"

typedef struct ApiLimits
{
	uint64_t	max_body_bytes;		/* 413 above this */
	uint64_t	max_records;		/* encodings per upload */
	int			min_encoding_size;	/* bytes; runs fail outside the range */
	int			max_encoding_size;
	int			max_uploads;		/* concurrent uploads; 503 beyond */
} ApiLimits;

typedef struct ApiCtx
{
	ApiDb	   *db;
	ObjectStore *store;
	ApiQueue   *queue;
	ApiLimits	limits;
	atomic_int	uploads;		/* uploads in flight */
} ApiCtx;

#endif							/* API_CTX_H */
