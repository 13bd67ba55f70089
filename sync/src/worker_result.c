/*
 * worker_result.c
 *	  A run's result objects and its completion: objects are written under
 *	  results/<pid>/<rid>/<attempt>/ (a fresh random attempt, so two
 *	  attempts never write the same key), then one primary transaction
 *	  marks the run completed and records the objects, only if it is still
 *	  running.  A retried or duplicated merge therefore completes a run
 *	  exactly once, and a losing attempt removes its own objects.
 */
#include <stdio.h>
#include <string.h>

#include "../../api/src/api_token.h"
#include "worker_result.h"

/* Start this attempt's results: a fresh attempt prefix. */
void
worker_results_init(WorkerResults *res, Worker *w, WorkerRun *run)
{
	char		attempt[API_TOKEN_HEX + 1];

	memset(res, 0, sizeof(*res));
	res->w = w;
	res->run = run;
	api_token_new(attempt);
	snprintf(res->prefix, sizeof(res->prefix), "results/%s/%s/%.16s/", run->job->project_id,
			 run->job->run_id, attempt);
}

/*
 * Begin a result object; slot 1 begins a second one beside the one in
 * slot 0 (commit them in order: each commit takes slot 0).
 */
WorkerOut *
worker_results_begin(WorkerResults *res, int slot, const char *kind, int dp_index, const char *name)
{
	ResultObject *o;
	WorkerOut  *out;

	if (res->nobjects + slot >= RESULT_MAX_OBJECTS)
	{
		snprintf(res->run->error, sizeof(res->run->error), "too many result objects");
		return NULL;
	}
	o = &res->objects[res->nobjects + slot];
	snprintf(o->key, sizeof(o->key), "%s%s", res->prefix, name);
	o->kind = kind;
	o->dp_index = dp_index;
	out = worker_out_begin(res->w->store, o->key);
	if (!out)
	{
		snprintf(res->run->error, sizeof(res->run->error), "object store unavailable");
		res->run->lost = 1;
	}
	return out;
}

/* Commit the object in slot 0. */
int
worker_results_commit(WorkerResults *res, WorkerOut *out)
{
	ResultObject *o = &res->objects[res->nobjects];

	if (worker_out_commit(out, &o->bytes, res->run->error, sizeof(res->run->error)) != 0)
	{
		res->run->lost = 1;
		return -1;
	}
	res->nobjects++;
	return 0;
}

/* Remove this attempt's objects (it failed, or lost the race to another). */
void
worker_results_discard(WorkerResults *res)
{
	char		err[256];

	store_remove_prefix(res->w->store, res->prefix, err, sizeof(err));
}

/* Insert this attempt's objects into run_results; 0 when all went in. */
static int
insert_objects(WorkerResults *res)
{
	for (int i = 0; i < res->nobjects; i++)
	{
		char		idx[16],
					bytes[32];
		const char *q[5] = {res->run->job->run_id, res->objects[i].kind, idx, res->objects[i].key, bytes};

		snprintf(idx, sizeof(idx), "%d", res->objects[i].dp_index);
		snprintf(bytes, sizeof(bytes), "%lld", res->objects[i].bytes);
		if (worker_db_command(res->run, res->w->primary,
							  "INSERT INTO run_results (run_id, kind, dp_index, object_key, bytes) "
							  "VALUES ($1, $2, $3::smallint, $4, $5::bigint) ON CONFLICT (run_id, kind, dp_index) "
							  "DO UPDATE SET object_key = excluded.object_key, bytes = excluded.bytes",
							  5, q) != 0)
			return -1;
	}
	return 0;
}

/*
 * Complete the run with this attempt's objects, only if it is still
 * running; 0 when the outcome is recorded (or another attempt's is).
 */
int
worker_results_record(WorkerResults *res, double seconds)
{
	WorkerRun  *run = res->run;
	PGconn	   *c = res->w->primary;
	char		cmp[32],
				stage[8];
	const char *p[3] = {run->job->run_id, cmp, stage};
	PGresult   *r;
	int			won,
				inserted = 1,
				ok;

	snprintf(cmp, sizeof(cmp), "%lld", res->comparisons);
	snprintf(stage, sizeof(stage), "%d", run->stages);
	if (worker_db_command(run, c, "BEGIN", 0, NULL) != 0)
		return -1;
	r = worker_db_query(run, c, "UPDATE runs SET state = 'completed', stage = $3::smallint, "
						"time_completed = now(), total_comparisons = $2::bigint "
						"WHERE run_id = $1 AND state = 'running'", 3, p, PGRES_COMMAND_OK);
	won = r && strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (won)
		inserted = insert_objects(res) == 0;
	if (won && inserted && seconds > 0)
	{
		char		rate[32];
		const char *q[1] = {rate};

		snprintf(rate, sizeof(rate), "%.0f", (double) res->comparisons / seconds);
		inserted = worker_db_command(run, c, "INSERT INTO metrics (rate) VALUES ($1::bigint)", 1, q) == 0;
	}
	ok = worker_db_command(run, c, won && inserted ? "COMMIT" : "ROLLBACK", 0, NULL) == 0;
	if (!won || !inserted || !ok)
		worker_results_discard(res);
	/* another attempt's completion is an outcome too; a failed write is not */
	return ok && inserted && !run->lost ? 0 : -1;
}
