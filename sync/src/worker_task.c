/*
 * worker_task.c
 *	  A task job: one part of a planned run.  The worker waits until its
 *	  replica has replayed the job's WAL position, computes the part's
 *	  candidates there (pprl_candidates_part, binary rows, in anonlink's
 *	  order) and streams them to the object store in anonlink's binary
 *	  candidate format under a fresh key.  Then, under the run's row lock on
 *	  the primary, the task is marked done only if it is still pending; the
 *	  completion that leaves no task pending queues the merge.  A duplicated
 *	  or retried task therefore counts once, and a losing attempt removes
 *	  its object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pprl/candfmt.h"
#include "service/keys.h"
#include "service/token.h"
#include "worker.h"
#include "worker_out.h"

/* The part's candidates on their way to the object store. */
typedef struct PartOut
{
	WorkerOut  *out;
	long long	n;
	int			bad;			/* a row id outside 0 .. 2^32-1 */
} PartOut;

/* A big-endian integer of n bytes at p. */
static uint64_t
get_be(const char *p, int n)
{
	uint64_t	v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | (unsigned char) p[i];
	return v;
}

/*
 * One binary row (score float8, ds_a int4, row_a int8, ds_b int4, row_b
 * int8, big-endian as PostgreSQL sends them) as a record of anonlink's
 * candidate format.
 */
static void
part_row(void *arg, PGresult *r)
{
	PartOut    *po = arg;
	unsigned char e[CANDFMT_RECORD_BYTES];
	uint64_t	bits = get_be(PQgetvalue(r, 0, 0), 8),
				row_a = get_be(PQgetvalue(r, 0, 2), 8),
				row_b = get_be(PQgetvalue(r, 0, 4), 8);
	double		score;

	if (PQgetlength(r, 0, 0) != 8 || PQgetlength(r, 0, 2) != 8 || row_a > UINT32_MAX || row_b > UINT32_MAX)
	{
		po->bad = 1;
		return;
	}
	memcpy(&score, &bits, sizeof(score));
	candfmt_pack(score, (uint32_t) get_be(PQgetvalue(r, 0, 1), 4), (uint32_t) get_be(PQgetvalue(r, 0, 3), 4),
				 (uint32_t) row_a, (uint32_t) row_b, e);
	worker_out_bytes(po->out, e, sizeof(e));
	po->n++;
}

/* The task's state: 1 pending (its comparisons in *cmp), 0 done or gone, -1 failure. */
static int
task_pending(Worker *w, WorkerRun *run, char *part, long long *cmp)
{
	const char *p[2] = {run->job->run_id, part};
	PGresult   *r = worker_db_query(run, w->primary, "SELECT state, comparisons FROM run_tasks "
									"WHERE run_id = $1 AND part = $2::int", 2, p, PGRES_TUPLES_OK);
	int			pending;

	if (!r)
		return -1;
	pending = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "pending") == 0;
	if (pending)
		*cmp = atoll(PQgetvalue(r, 0, 1));
	PQclear(r);
	return pending;
}

/* Do one task job; DONE means acknowledge it. */
WorkerOutcome
worker_task(Worker *w, WorkerRun *run)
{
	const Job *job = run->job;
	char		part[16],
				parts[16],
				attempt[SVC_TOKEN_HEX + 1],
				key[KEYS_MAX];
	long long	cmp = 0,
				bytes = 0;
	PartOut		po = {NULL, 0, 0};
	struct timespec t0,
				t1;
	int			got,
				won;

	if ((got = worker_db_load_run(w, run)) <= 0)
		return got == 0 ? WORKER_DONE : WORKER_RETRY;
	if (strcmp(run->state, "running") != 0 || run->parts <= 0 || job->part >= run->parts)
		return WORKER_DONE;
	snprintf(part, sizeof(part), "%d", job->part);
	snprintf(parts, sizeof(parts), "%d", run->parts);
	if ((got = task_pending(w, run, part, &cmp)) <= 0)
		return got == 0 && worker_run_queue_rest(w, run, 0) == 0 ? WORKER_DONE : WORKER_RETRY;
	if (worker_db_wait_replay(w, run) != 0)
		return WORKER_RETRY;
	svc_token_new(attempt);
	keys_part(key, sizeof(key), job->project_id, job->run_id, job->part, attempt);
	if (!(po.out = worker_out_begin(w->store, key)))
	{
		snprintf(run->error, sizeof(run->error), "object store unavailable");
		run->lost = 1;
		return WORKER_RETRY;
	}
	worker_out_bytes(po.out, candfmt_header, CANDFMT_HEADER_BYTES);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (worker_db_stream(run, w->read, "SELECT score, ds_a, row_a, ds_b, row_b FROM "
						 "pprl_candidates_part($1::regclass[], $2::float8, $3::int, $4::int)", 4,
						 (const char *const[]) {run->datasets, run->threshold_text, part, parts},
						 1, part_row, &po) != 0 || po.bad)
	{
		worker_out_abort(po.out);
		if (run->lost || worker_stopping)
			return WORKER_RETRY;
		if (po.bad)
			snprintf(run->error, sizeof(run->error), "a record index is outside 0 .. 4294967295");
		return worker_state_fail(w, run) == 0 ? WORKER_DONE : WORKER_RETRY;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (worker_out_commit(po.out, &bytes, run->error, sizeof(run->error)) != 0)
	{
		run->lost = 1;
		return WORKER_RETRY;
	}
	won = worker_state_task_done(w, run, job->part, key, po.n, bytes,
								 (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (won != 1)
	{
		char		err[256];

		store_remove_prefix(w->store, key, err, sizeof(err));
		if (won < 0)
			return WORKER_RETRY;
		return WORKER_DONE;
	}
	worker_queue_progress(w, job->run_id, "comparisons", cmp, 1);
	worker_queue_progress(w, job->run_id, "candidates", po.n, 1);
	return worker_run_queue_rest(w, run, 0) == 0 ? WORKER_DONE : WORKER_RETRY;
}
