/*
 * worker_state.c
 *	  Every change the worker makes to a run's state, each through the
 *	  primary's function for it (migrations 006 and 007, where the state
 *	  machine is written once): claiming a run, failing it, a task done,
 *	  completing it with its results, handing the project's next run to the
 *	  queue, and the sweep that queues again the runs whose jobs were lost.
 *	  Each returns whether this attempt's change took effect, so retried
 *	  and duplicated jobs change a run once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/db.h"
#include "service/settings.h"
#include "worker.h"

/* Run a state function returning boolean; 1 true, 0 false, -1 failure (run->error). */
static int
call_bool(Worker *w, WorkerRun *run, const char *sql, int n, const char *const *p)
{
	PGresult   *r = worker_db_query(run, w->primary, sql, n, p, PGRES_TUPLES_OK);
	int			rc;

	if (!r)
		return -1;
	rc = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return rc;
}

/*
 * Claim the run (queued or running -> running); 1 claimed (and read into
 * run), 0 nothing to do (gone, ended, its project being deleted), -1 failure.
 */
int
worker_state_claim(Worker *w, WorkerRun *run)
{
	const char *p[1] = {run->job->run_id};
	int			got = call_bool(w, run, "SELECT service_claim_run($1)", 1, p);

	return got == 1 ? worker_db_load_run(w, run) : got;
}

/*
 * Record the run's failure (with run->error) if it is still queued or
 * running, remove whatever objects its jobs wrote, and hand the project's
 * next run over.  0 when recorded (or the run had already ended).
 */
int
worker_state_fail(Worker *w, WorkerRun *run)
{
	const char *p[2] = {run->job->run_id, run->error};
	int			rc = call_bool(w, run, "SELECT service_fail_run($1, $2)", 2, p);

	if (rc < 0)
		return -1;
	worker_remove_objects(w, run->job, "");
	worker_state_next_run(w, run);
	return 0;
}

/*
 * Mark a task done with its object, only if the run is running and the
 * task pending (service_complete_task, under the run's row lock).  1 when
 * this attempt won, 0 when it did not, -1 on failure.
 */
int
worker_state_task_done(Worker *w, WorkerRun *run, int part, const char *key, long long candidates,
					   long long bytes, double seconds)
{
	char		pt[16],
				cand[32],
				size[32],
				secs[32];
	const char *p[7] = {run->job->run_id, pt, key, cand, size, w->name, secs};

	snprintf(pt, sizeof(pt), "%d", part);
	snprintf(cand, sizeof(cand), "%lld", candidates);
	snprintf(size, sizeof(size), "%lld", bytes);
	snprintf(secs, sizeof(secs), "%.3f", seconds);
	return call_bool(w, run, "SELECT service_complete_task($1, $2::int, $3, $4::bigint, $5::bigint, $6, $7::float8)",
					 7, p);
}

/* A PostgreSQL array literal {"a","b",...} of n strings (malloc'ed; NULL when out of memory). */
static char *
array_literal(int n, const char *const *items)
{
	size_t		len = 3;
	char	   *s,
			   *o;

	for (int i = 0; i < n; i++)
		len += 2 * strlen(items[i]) + 3;
	if (!(s = o = malloc(len)))
		return NULL;
	*o++ = '{';
	for (int i = 0; i < n; i++)
	{
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *c = items[i]; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				*o++ = '\\';
			*o++ = *c;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return s;
}

/*
 * Complete the run with its result objects (kind, party, key, size each)
 * and its comparison rate, only if it is still running
 * (service_complete_run).  1 when this attempt completed it, 0 when the
 * run was not running any more, -1 on failure.
 */
int
worker_state_complete(Worker *w, WorkerRun *run, long long comparisons, int nobjects,
					  const char *const *kinds, const int *parties, const char *const *keys,
					  const long long *sizes, double seconds)
{
	char		cmp[32],
				stage[8],
				rate[32];
	const char *pnum[64],
			   *psize[64];
	char		nbuf[64][24],
				sbuf[64][24];
	char	   *k,
			   *d,
			   *o,
			   *z;
	int			rc = -1;

	if (nobjects > 64)
		nobjects = 64;
	for (int i = 0; i < nobjects; i++)
	{
		snprintf(nbuf[i], sizeof(nbuf[i]), "%d", parties[i]);
		snprintf(sbuf[i], sizeof(sbuf[i]), "%lld", sizes[i]);
		pnum[i] = nbuf[i];
		psize[i] = sbuf[i];
	}
	snprintf(cmp, sizeof(cmp), "%lld", comparisons);
	snprintf(stage, sizeof(stage), "%d", run->stages);
	snprintf(rate, sizeof(rate), "%.0f", seconds > 0 ? (double) comparisons / seconds : 0.0);
	k = array_literal(nobjects, kinds);
	d = array_literal(nobjects, pnum);
	o = array_literal(nobjects, keys);
	z = array_literal(nobjects, psize);
	if (k && d && o && z)
	{
		const char *p[8] = {run->job->run_id, cmp, stage, k, d, o, z, seconds > 0 ? rate : NULL};

		rc = call_bool(w, run, "SELECT service_complete_run($1, $2::bigint, $3::smallint, $4::text[], "
					   "$5::smallint[], $6::text[], $7::bigint[], $8::bigint)", 8, p);
	}
	free(k);
	free(d);
	free(o);
	free(z);
	return rc;
}

/* Enter the run's last stage ("compute output": 3, or 2 without a mapping), still running. */
void
worker_state_stage(Worker *w, WorkerRun *run, const char *stage)
{
	const char *p[2] = {run->job->run_id, stage};

	worker_db_command(run, w->primary, "UPDATE runs SET stage = $2::smallint, last_activity = now() "
					  "WHERE run_id = $1 AND state = 'running'", 2, p);
}

/*
 * Hand the project's next queued run to the queue, now that run->job's run
 * has ended (service_next_run: a project's runs go one at a time).  Best
 * effort: a hand-over lost here is found by the sweep.
 */
void
worker_state_next_run(Worker *w, WorkerRun *run)
{
	const char *p[1] = {run->job->project_id};
	PGresult   *r = worker_db_query(run, w->primary, "SELECT n, pg_current_wal_lsn()::text "
									"FROM service_next_run($1) n", 1, p, PGRES_TUPLES_OK);
	Job			next;

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
 * Hand runs to the queue again (service_requeue_runs): those without a
 * sign of work for stall_s seconds (0: every one in flight, after Redis
 * lost its data), and the next run of projects whose hand-over was lost.
 * Taking the rows with UPDATE ... RETURNING means one worker re-queues
 * each; a re-queued run resumes where it stopped (its plan and finished
 * tasks are kept).
 */
void
worker_state_sweep(Worker *w, int stall_s)
{
	Job			job;
	WorkerRun	run;
	char		secs[16];
	const char *p[1] = {secs};
	PGresult   *r;

	memset(&run, 0, sizeof(run));
	memset(&job, 0, sizeof(job));
	run.job = &job;
	snprintf(secs, sizeof(secs), "%d", stall_s);
	if (svc_db_reconnect(&w->primary, w->primary_url) != 0)
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
		svc_log("info", "queued runs again", json_pack("{s:i,s:i}", "runs", PQntuples(r), "stall_seconds", stall_s));
	PQclear(r);
}
