/*
 * worker_db.c
 *	  The worker's database side: connections (re-made when lost), queries
 *	  whose failure lands in the run's error (and marks it lost when the
 *	  connection went, so the job is retried rather than the run failed),
 *	  rows streamed in single-row mode, the run's record on the primary,
 *	  the bounded wait for the replica to replay a WAL position, and the
 *	  sweep that hands stalled runs to the queue again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../api/src/api_settings.h"
#include "worker.h"

/* A usable connection to url in *c (reconnecting); 0 when there is one. */
int
worker_db_connect(PGconn **c, const char *url)
{
	if (*c && PQstatus(*c) == CONNECTION_OK)
		return 0;
	if (*c)
		PQfinish(*c);
	*c = PQconnectdb(url);
	return PQstatus(*c) == CONNECTION_OK ? 0 : -1;
}

/* Note a failed statement's message in the run (lost: the connection went). */
static void
note_error(WorkerRun *run, PGconn *c, const PGresult *r)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	snprintf(run->error, sizeof(run->error), "%s", msg ? msg : PQerrorMessage(c));
	if (PQstatus(c) != CONNECTION_OK)
		run->lost = 1;
}

/* Run a statement; NULL unless it gave `want` (message into run->error). */
PGresult *
worker_db_query(WorkerRun *run, PGconn *c, const char *sql, int n, const char *const *p,
				ExecStatusType want)
{
	PGresult   *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) == want)
		return r;
	note_error(run, c, r);
	PQclear(r);
	return NULL;
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
		note_error(run, c, NULL);
		return -1;
	}
	while ((r = PQgetResult(c)) != NULL)
	{
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE)
			fn(arg, r);
		else if (PQresultStatus(r) != PGRES_TUPLES_OK && ok)
		{
			ok = 0;
			note_error(run, c, r);
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

/*
 * Hand the project's next queued run to the queue, now that run->job's run
 * has ended (service_next_run: a project's runs go one at a time).  Best
 * effort: a hand-over lost here is found by the sweep.
 */
void
worker_db_next_run(Worker *w, WorkerRun *run)
{
	const char *p[1] = {run->job->project_id};
	PGresult   *r = worker_db_query(run, w->primary, "SELECT n, pg_current_wal_lsn()::text "
									"FROM service_next_run($1) n", 1, p, PGRES_TUPLES_OK);
	WorkerJob	next;

	for (int i = 0; r && i < PQntuples(r); i++)
	{
		memset(&next, 0, sizeof(next));
		snprintf(next.run_id, sizeof(next.run_id), "%s", PQgetvalue(r, i, 0));
		snprintf(next.project_id, sizeof(next.project_id), "%s", run->job->project_id);
		snprintf(next.lsn, sizeof(next.lsn), "%s", PQgetvalue(r, i, 1));
		worker_queue_push(w, JOB_RUN, &next, 0);
	}
	PQclear(r);
}

/*
 * Record the run's failure (with run->error) if it is still queued or
 * running, remove whatever objects its jobs wrote, and hand the project's
 * next run over.  0 when recorded (or the run had already ended).
 */
int
worker_db_fail_run(Worker *w, WorkerRun *run)
{
	const char *p[2] = {run->job->run_id, run->error};
	int			rc = worker_db_command(run, w->primary,
									   "UPDATE runs SET state = 'error', error_msg = $2, "
									   "time_completed = now() WHERE run_id = $1 "
									   "AND state IN ('queued', 'running')", 2, p);

	if (rc == 0)
	{
		worker_remove_objects(w, run->job, "");
		worker_db_next_run(w, run);
	}
	return rc;
}

/*
 * Hand runs to the queue again (service_requeue_runs): those without a
 * sign of work for stall_s seconds (0: every one in flight, after Redis
 * lost its data), and the next run of projects whose hand-over was lost.
 * Taking the rows with UPDATE ... RETURNING means one worker re-queues
 * each; a re-queued run resumes where it stopped (its plan and finished
 * tasks are kept).
 */
void
worker_db_sweep(Worker *w, int stall_s)
{
	WorkerJob	job;
	WorkerRun	run;
	char		secs[16];
	const char *p[1] = {secs};
	PGresult   *r;

	memset(&run, 0, sizeof(run));
	memset(&job, 0, sizeof(job));
	run.job = &job;
	snprintf(secs, sizeof(secs), "%d", stall_s);
	if (worker_db_connect(&w->primary, w->primary_url) != 0)
		return;
	r = worker_db_query(&run, w->primary, "SELECT run_id, project_id, lsn FROM service_requeue_runs($1::int)",
						1, p, PGRES_TUPLES_OK);
	for (int i = 0; r && i < PQntuples(r); i++)
	{
		snprintf(job.run_id, sizeof(job.run_id), "%s", PQgetvalue(r, i, 0));
		snprintf(job.project_id, sizeof(job.project_id), "%s", PQgetvalue(r, i, 1));
		snprintf(job.lsn, sizeof(job.lsn), "%s", PQgetvalue(r, i, 2));
		worker_queue_push(w, JOB_RUN, &job, 0);
	}
	if (r && PQntuples(r) > 0)
		api_log("info", "queued runs again", json_pack("{s:i,s:i}", "runs", PQntuples(r), "stall_seconds", stall_s));
	PQclear(r);
}
