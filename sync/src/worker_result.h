/*
 * worker_result.h
 *	  A run's result objects: written under a fresh attempt prefix, then
 *	  recorded on the primary with the run's completion, only if it is still
 *	  running (a losing attempt removes its objects).
 */
#ifndef WORKER_RESULT_H
#define WORKER_RESULT_H

#include "service/keys.h"
#include "worker.h"
#include "worker_out.h"

#define RESULT_MAX_OBJECTS 8

/* A result object written by this attempt. */
typedef struct ResultObject
{
	const char *kind;
	int			dp_index;
	char		key[KEYS_MAX];
	long long	bytes;
} ResultObject;

/* This attempt's results. */
typedef struct WorkerResults
{
	Worker	   *w;
	WorkerRun  *run;
	char		prefix[KEYS_MAX];	/* results/<pid>/<rid>/<attempt>/ */
	ResultObject objects[RESULT_MAX_OBJECTS];
	int			nobjects;
	long long	comparisons;
} WorkerResults;

extern void worker_results_init(WorkerResults *res, Worker *w, WorkerRun *run);
extern WorkerOut *worker_results_begin(WorkerResults *res, int slot, const char *kind,
									   int dp_index, const char *name);
extern int	worker_results_commit(WorkerResults *res, WorkerOut *out);
extern void worker_results_discard(WorkerResults *res);
extern int	worker_results_record(WorkerResults *res, double seconds);

#endif							/* WORKER_RESULT_H */
