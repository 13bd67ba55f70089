/*
 * worker_db.c
 *	  The worker's database side: queries whose failure lands in the run's
 *	  error (and marks it lost when the connection went, so the job is
 *	  retried rather than the run failed), rows streamed in single-row mode,
 *	  the run's record on the primary, and the bounded wait for the replica
 *	  to replay a WAL position.  A run's state changes are worker_state.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/db.h"
#include "worker.h"

/* Note that the connection went, if it did: not the run's fault, the job is retried. */
static void
note_lost(WorkerRun *run, PGconn *c)
{
	if (PQstatus(c) != CONNECTION_OK)
		run->lost = 1;
}

/* Run a statement; NULL unless it gave `want` (message into run->error). */
PGresult *
worker_db_query(WorkerRun *run, PGconn *c, const char *sql, int n, const char *const *p,
				ExecStatusType want)
{
	PGresult   *r = svc_db_exec_err(c, sql, n, p, want, run->error, sizeof(run->error));

	if (!r)
		note_lost(run, c);
	return r;
}

/* Run a statement that returns no rows; 0 when it worked. */
int
worker_db_command(WorkerRun *run, PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult   *r = worker_db_query(run, c, sql, n, p, PGRES_COMMAND_OK);

	PQclear(r);
	return r ? 0 : -1;
}

/*
 * Stream a query's rows (single-row mode, text or binary) to fn; -1 with
 * run->error on failure.
 */
int
worker_db_stream(WorkerRun *run, PGconn *c, const char *sql, int n, const char *const *p,
				 int binary, void (*fn) (void *arg, PGresult *row), void *arg)
{
	PGresult   *r;
	int			ok = 1;

	if (!PQsendQueryParams(c, sql, n, NULL, p, NULL, NULL, binary) || !PQsetSingleRowMode(c))
	{
		snprintf(run->error, sizeof(run->error), "%s", PQerrorMessage(c));
		note_lost(run, c);
		return -1;
	}
	while ((r = PQgetResult(c)) != NULL)
	{
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE)
			fn(arg, r);
		else if (PQresultStatus(r) != PGRES_TUPLES_OK && ok)
		{
			const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

			ok = 0;
			snprintf(run->error, sizeof(run->error), "%s", msg ? msg : PQerrorMessage(c));
			note_lost(run, c);
		}
		PQclear(r);
	}
	return ok ? 0 : -1;
}

/*
 * Read the run from the primary: 1 when it exists (its project not being
 * deleted), 0 when it is gone, -1 on failure.  Fills the dataset list
 * {enc_<pid>_0,...} that the matching functions take.
 */
int
worker_db_load_run(Worker *w, WorkerRun *run)
{
	const char *p[1] = {run->job->run_id};
	PGresult   *r = worker_db_query(run, w->primary,
									"SELECT r.state, r.threshold::text, p.result_type, p.parties, "
									"CASE WHEN r.type = 'no_mapping' THEN 2 ELSE 3 END, "
									"coalesce(r.parts, 0) FROM runs r JOIN projects p USING (project_id) "
									"WHERE r.run_id = $1 AND NOT p.marked_for_deletion",
									1, p, PGRES_TUPLES_OK);
	size_t		off;
	int			got;

	if (!r)
		return -1;
	got = PQntuples(r) == 1;
	if (got)
	{
		snprintf(run->state, sizeof(run->state), "%s", PQgetvalue(r, 0, 0));
		snprintf(run->threshold_text, sizeof(run->threshold_text), "%s", PQgetvalue(r, 0, 1));
		run->threshold = atof(run->threshold_text);
		snprintf(run->result_type, sizeof(run->result_type), "%s", PQgetvalue(r, 0, 2));
		run->parties = atoi(PQgetvalue(r, 0, 3));
		run->stages = atoi(PQgetvalue(r, 0, 4));
		run->parts = atoi(PQgetvalue(r, 0, 5));
	}
	PQclear(r);
	if (run->parties > WORKER_MAX_PARTIES)
		run->parties = WORKER_MAX_PARTIES;
	off = (size_t) snprintf(run->datasets, sizeof(run->datasets), "{");
	for (int i = 0; i < run->parties; i++)
		off += (size_t) snprintf(run->datasets + off, sizeof(run->datasets) - off, "%senc_%s_%d",
								 i ? "," : "", run->job->project_id, i);
	snprintf(run->datasets + off, sizeof(run->datasets) - off, "}");
	return got;
}

/*
 * Wait (bounded) until the database matched on has replayed the primary's
 * WAL position from the job; at once on the primary itself.  A replica
 * that stays behind is not the run's fault: the job is left for a retry
 * (perhaps by a worker whose replica is current).
 */
int
worker_db_wait_replay(Worker *w, WorkerRun *run)
{
	const char *p[1] = {run->job->lsn[0] ? run->job->lsn : "0/0"};
	time_t		deadline = time(NULL) + w->replay_wait_s;

	for (;;)
	{
		PGresult   *r = worker_db_query(run, w->read, "SELECT NOT pg_is_in_recovery() OR "
										"coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", 1, p,
										PGRES_TUPLES_OK);
		int			caught_up;

		if (!r)
			return -1;
		caught_up = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (caught_up)
			return 0;
		if (time(NULL) >= deadline || worker_stopping)
		{
			snprintf(run->error, sizeof(run->error), "the replica did not replay WAL position %s "
					 "within %d s", p[0], w->replay_wait_s);
			run->lost = 1;
			return -1;
		}
		usleep(100 * 1000);
	}
}
