/*
 * api_janitor.c
 *	  Housekeeping (see api_janitor.h).  A project is purged under a short
 *	  lock timeout: its uploads in progress are cancelled first, and if a
 *	  table is still busy the purge gives up at once and is tried again on
 *	  the next round, so a deletion never queues in front of other
 *	  requests' locks.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_janitor.h"
#include "service/settings.h"
#include "service/keys.h"

#define PURGE_LOCK_TIMEOUT_MS 500

struct ApiJanitor
{
	ApiCtx	   *ctx;
	int			every_s;
	atomic_int	stopping;
	pthread_t	thread;
};

/*
 * Purge a project marked for deletion: cancel its uploads, drop its
 * tables and rows in one transaction (lock_timeout bounded), then remove
 * its objects.  0 when purged, 1 when busy (try later), -1 on error.
 */
int
api_janitor_purge(ApiCtx *ctx, PGconn *pg, const char *pid)
{
	const char *p[1] = {pid};
	PGresult   *r;
	char		prefix[128],
				err[256];
	int			ok;

	PQclear(svc_db_exec(pg, "SELECT service_cancel_uploads($1)", 1, p, PGRES_TUPLES_OK));
	ok = svc_db_begin(pg, PURGE_LOCK_TIMEOUT_MS);
	r = ok ? svc_db_exec(pg, "SELECT service_drop_party_tables($1)", 1, p, PGRES_TUPLES_OK) : NULL;
	ok = r != NULL;
	PQclear(r);
	ok = ok && svc_db_run(pg, "DELETE FROM projects WHERE project_id = $1 AND marked_for_deletion", 1, p);
	if (!ok || !svc_db_command(pg, "COMMIT"))
	{
		svc_db_command(pg, "ROLLBACK");
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys_project_folders) / sizeof(keys_project_folders[0]); i++)
	{
		keys_project(prefix, sizeof(prefix), keys_project_folders[i], pid);
		if (store_remove_prefix(ctx->store, prefix, err, sizeof(err)) != 0)
			svc_log("warning", "cannot remove a deleted project's objects", json_pack("{s:s}", "error", err));
	}
	return 0;
}

/* Remove the objects of uploads whose importing backend is gone. */
void
api_janitor_sweep_uploads(ApiCtx *ctx, PGconn *pg)
{
	PGresult   *r = svc_db_exec(pg, "SELECT * FROM service_orphaned_uploads()", 0, NULL, PGRES_TUPLES_OK);
	char		err[256];

	for (int i = 0; r && i < PQntuples(r); i++)
	{
		if (store_remove_prefix(ctx->store, PQgetvalue(r, i, 0), err, sizeof(err)) != 0)
			svc_log("warning", "cannot remove an abandoned upload's object", json_pack("{s:s}", "error", err));
		else
			svc_log("info", "removed an abandoned upload's object", NULL);
	}
	PQclear(r);
}

/* One round: abandoned uploads, then projects left to purge. */
static void
round_once(ApiJanitor *j, PGconn *pg)
{
	PGresult   *r;

	api_janitor_sweep_uploads(j->ctx, pg);
	r = svc_db_exec(pg, "SELECT project_id FROM projects WHERE marked_for_deletion LIMIT 20", 0, NULL,
					PGRES_TUPLES_OK);
	for (int i = 0; r && i < PQntuples(r) && !atomic_load(&j->stopping); i++)
		api_janitor_purge(j->ctx, pg, PQgetvalue(r, i, 0));
	PQclear(r);
}

/* The janitor's thread, on a connection of its own. */
static void *
janitor(void *arg)
{
	ApiJanitor *j = arg;
	PGconn	   *pg = NULL;

	while (!atomic_load(&j->stopping))
	{
		if (!pg || PQstatus(pg) != CONNECTION_OK)
		{
			PQfinish(pg);
			pg = api_db_connect(j->ctx->db);
		}
		if (pg)
			round_once(j, pg);
		for (int i = 0; i < j->every_s * 10 && !atomic_load(&j->stopping); i++)
			usleep(100 * 1000);
	}
	PQfinish(pg);
	return NULL;
}

/* Start the janitor: a round every every_s seconds. */
ApiJanitor *
api_janitor_start(ApiCtx *ctx, int every_s)
{
	ApiJanitor *j = calloc(1, sizeof(ApiJanitor));

	if (!j)
		return NULL;
	j->ctx = ctx;
	j->every_s = every_s < 1 ? 1 : every_s;
	if (pthread_create(&j->thread, NULL, janitor, j) != 0)
	{
		free(j);
		return NULL;
	}
	return j;
}

/* Stop it (the round in progress finishes). */
void
api_janitor_stop(ApiJanitor *j)
{
	if (!j)
		return;
	atomic_store(&j->stopping, 1);
	pthread_join(j->thread, NULL);
	free(j);
}
