/*
 * worker_result.c
 *	  A run's result objects and its completion: objects are written under
 *	  results/<pid>/<rid>/<attempt>/ (a fresh random attempt, so two
 *	  attempts never write the same key), then the run is completed with
 *	  them in one call on the primary (service_complete_run), only if it is
 *	  still running.  A retried or duplicated merge therefore completes a run
 *	  exactly once, and a losing attempt removes its own objects.
 */
#include <stdio.h>
#include <string.h>

#include "service/keys.h"
#include "service/token.h"
#include "worker_result.h"

/* Start this attempt's results: a fresh attempt prefix. */
void
worker_results_init(WorkerResults *res, Worker *w, WorkerRun *run)
{
	char		attempt[SVC_TOKEN_HEX + 1];

	memset(res, 0, sizeof(*res));
	res->w = w;
	res->run = run;
	svc_token_new(attempt);
	keys_attempt(res->prefix, sizeof(res->prefix), run->job->project_id, run->job->run_id, attempt);
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

/*
 * Complete the run with this attempt's objects, only if it is still
 * running (worker_state_complete); 0 when the outcome is recorded (or
 * another attempt's is), after which a losing attempt's objects are gone.
 */
int
worker_results_record(WorkerResults *res, double seconds)
{
	const char *kinds[RESULT_MAX_OBJECTS],
			   *keys[RESULT_MAX_OBJECTS];
	int			parties[RESULT_MAX_OBJECTS];
	long long	sizes[RESULT_MAX_OBJECTS];
	int			won;

	for (int i = 0; i < res->nobjects; i++)
	{
		kinds[i] = res->objects[i].kind;
		keys[i] = res->objects[i].key;
		parties[i] = res->objects[i].dp_index;
		sizes[i] = res->objects[i].bytes;
	}
	won = worker_state_complete(res->w, res->run, res->comparisons, res->nobjects, kinds, parties, keys,
								sizes, seconds);
	if (won != 1)
		worker_results_discard(res);
	/* another attempt's completion is an outcome too; a failed write is not */
	return won >= 0 && !res->run->lost ? 0 : -1;
}
