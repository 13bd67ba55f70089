/*
 * api_janitor.h
 *	  The API's housekeeping, on a thread of its own (every API replica
 *	  runs one; their work never overlaps, rows are taken with SKIP
 *	  LOCKED): objects of uploads that died with their importer are
 *	  removed, and deleted projects are purged (tables, rows, objects)
 *	  where the deleting request could not finish within its lock timeout.
 */
#ifndef API_JANITOR_H
#define API_JANITOR_H

#include <libpq-fe.h>

#include "api_ctx.h"

typedef struct ApiJanitor ApiJanitor;

extern ApiJanitor *api_janitor_start(ApiCtx *ctx, int every_s);
extern void api_janitor_stop(ApiJanitor *j);
extern int	api_janitor_purge(ApiCtx *ctx, PGconn *pg, const char *pid);
extern void api_janitor_sweep_uploads(ApiCtx *ctx, PGconn *pg);

#endif							/* API_JANITOR_H */
