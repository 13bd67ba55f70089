/*
 * worker_run.c
 *	  A run job: claim the run (queued/running -> running, worker_state.c; a
 *	  run that is gone, completed or failed is simply acknowledged), plan
 *	  it once, and queue what is left of it.  Planning waits until the
 *	  replica has replayed the job's WAL position, counts the comparisons,
 *	  cuts them into parts of about PPRL_TASK_COMPARISONS each
 *	  (pprl_parts, the same cut on every replica) and records the parts as
 *	  tasks on the primary, only if no plan exists yet.  Then task jobs are
 *	  queued for pending tasks, as many as there are live workers (each
 *	  finished task queues the next, so other projects' jobs interleave),
 *	  or the merge when none is pending: a retried or re-queued run job
 *	  resumes where the run stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

/* Comparisons the run makes: over common blocks, every pair of parties. */
static long long
count_comparisons(Worker *w, WorkerRun *run)
{
	PGresult   *r = worker_db_query(run, w->read, "SELECT comparisons FROM pprl_parts($1::regclass[], 1)",
									1, (const char *const[]) {run->datasets}, PGRES_TUPLES_OK);
	long long	n = r && PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	return n;
}

/*
 * Plan the run: cut it into parts on the replica, record the parts as
 * tasks on the primary unless another attempt already did.  0 when a plan
 * exists afterwards.
 */
static int
plan(Worker *w, WorkerRun *run)
{
	long long	total;
	int			parts;
	char		nparts[16],
				sum[32];
	char	   *cmp;
	size_t		off = 0;
	PGresult   *r;
	int			rc = -1;

	if (worker_db_wait_replay(w, run) != 0 || (total = count_comparisons(w, run)) < 0)
		return -1;
	parts = (int) ((total + w->task_comparisons - 1) / w->task_comparisons);
	parts = parts < 1 ? 1 : parts > w->max_tasks ? w->max_tasks : parts;
	snprintf(nparts, sizeof(nparts), "%d", parts);
	r = worker_db_query(run, w->read, "SELECT comparisons FROM pprl_parts($1::regclass[], $2::int) "
						"ORDER BY part", 2, (const char *const[]) {run->datasets, nparts}, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	/* {c0,c1,...} for the primary: at most 20 digits and a comma per part */
	cmp = malloc((size_t) PQntuples(r) * 21 + 3);
	if (!cmp)
	{
		PQclear(r);
		return -1;
	}
	total = 0;
	off += (size_t) sprintf(cmp, "{");
	for (int i = 0; i < PQntuples(r); i++)
	{
		off += (size_t) sprintf(cmp + off, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
		total += atoll(PQgetvalue(r, i, 0));
	}
	sprintf(cmp + off, "}");
	PQclear(r);
	snprintf(sum, sizeof(sum), "%lld", total);
	if (worker_db_command(run, w->primary, "BEGIN", 0, NULL) == 0)
	{
		const char *p[4] = {run->job->run_id, nparts, sum, cmp};

		r = worker_db_query(run, w->primary, "UPDATE runs SET parts = $2::int, total_comparisons = $3::bigint "
							"WHERE run_id = $1 AND parts IS NULL AND state = 'running'",
							3, p, PGRES_COMMAND_OK);
		if (r && strcmp(PQcmdTuples(r), "1") == 0)
		{
			rc = worker_db_command(run, w->primary, "INSERT INTO run_tasks (run_id, part, comparisons) "
								   "SELECT $1, t.n - 1, t.c FROM unnest($2::bigint[]) WITH ORDINALITY t(c, n)",
								   2, (const char *const[]) {run->job->run_id, cmp});
			if (rc == 0)
			{
				worker_queue_progress(w, run->job->run_id, "total", total, 0);
				worker_queue_progress(w, run->job->run_id, "comparisons", 0, 0);
				worker_queue_progress(w, run->job->run_id, "candidates", 0, 0);
			}
		}
		else if (r)
			rc = 0;				/* planned by another attempt */
		PQclear(r);
		if (worker_db_command(run, w->primary, rc == 0 ? "COMMIT" : "ROLLBACK", 0, NULL) != 0)
			rc = -1;
	}
	free(cmp);
	return rc;
}

/*
 * Queue what is left of a planned run: task jobs for pending tasks not in
 * the stream yet, up to as many in the stream as there are live workers,
 * or the merge when every task is done.  With `again` (a run job: the
 * stream may have lost them) the pending tasks count as not in the
 * stream; a duplicate task job only computes a part twice, recorded once.
 * 0 when queued.
 */
int
worker_run_queue_rest(Worker *w, WorkerRun *run, int again)
{
	char		room[16];
	const char *p[2] = {run->job->run_id, room};
	PGresult   *r;
	int			rc = 0;

	snprintf(room, sizeof(room), "%d", worker_alive_count(w));
	if (again && worker_db_command(run, w->primary, "UPDATE run_tasks SET queued = false "
								   "WHERE run_id = $1 AND state = 'pending'", 1, p) != 0)
		return -1;
	r = worker_db_query(run, w->primary,
						"WITH open AS (SELECT count(*) FILTER (WHERE queued) AS q, count(*) AS n FROM run_tasks "
						"WHERE run_id = $1 AND state = 'pending'), "
						"pick AS (SELECT part FROM run_tasks WHERE run_id = $1 AND state = 'pending' AND NOT queued "
						"ORDER BY part LIMIT greatest($2::int - (SELECT q FROM open), 0) FOR UPDATE SKIP LOCKED), "
						"upd AS (UPDATE run_tasks t SET queued = true FROM pick WHERE t.run_id = $1 "
						"AND t.part = pick.part RETURNING t.part) "
						"SELECT (SELECT n FROM open), part FROM upd RIGHT JOIN (SELECT 1) one ON true ORDER BY part",
						2, p, PGRES_TUPLES_OK);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++)
		if (!PQgetisnull(r, i, 1))
			rc = worker_queue_push(w, JOB_TASK, run->job, atoi(PQgetvalue(r, i, 1)));
	if (rc == 0 && PQntuples(r) > 0 && atoll(PQgetvalue(r, 0, 0)) == 0)
		rc = worker_queue_push(w, JOB_MERGE, run->job, 0);
	PQclear(r);
	if (rc != 0)
	{
		/* not in the stream after all: the next top-up or the sweep queues them */
		worker_db_command(run, w->primary, "UPDATE run_tasks SET queued = false WHERE run_id = $1 "
						  "AND state = 'pending'", 1, p);
		snprintf(run->error, sizeof(run->error), "job queue (Redis) unavailable");
		run->lost = 1;
	}
	return rc;
}

/* Do one run job; DONE means acknowledge it. */
WorkerOutcome
worker_run(Worker *w, WorkerRun *run)
{
	int			claimed = worker_state_claim(w, run);

	if (claimed <= 0)
		return claimed == 0 ? WORKER_DONE : WORKER_RETRY;
	if (run->parts == 0 && plan(w, run) != 0)
	{
		if (run->lost || worker_stopping)
			return WORKER_RETRY;
		/* the data cannot be matched (for example CLKs of mixed lengths) */
		return worker_state_fail(w, run) == 0 ? WORKER_DONE : WORKER_RETRY;
	}
	return worker_run_queue_rest(w, run, 1) == 0 ? WORKER_DONE : WORKER_RETRY;
}
