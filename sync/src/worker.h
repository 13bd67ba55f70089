/*
 * worker.h
 *	  pprl-worker: takes run jobs from the Redis stream (consumer group,
 *	  at-least-once), computes them with pg_pprl on its database (a hot
 *	  standby replica, or the primary), writes the results to the object
 *	  store and records completion on the primary exactly once.
 */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>
#include <stddef.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "../../api/src/redis_url.h"
#include "../../api/src/store.h"

#define WORKER_STREAM "pprl:jobs"
#define WORKER_GROUP "workers"

/* What a worker holds. */
typedef struct Worker
{
	const char *name;			/* consumer name in the group */
	const char *read_url;		/* conninfo of the database matched on */
	const char *primary_url;	/* conninfo of the primary (small writes) */
	PGconn	   *read;
	PGconn	   *primary;
	RedisUrl	redis_url;
	redisContext *redis;
	ObjectStore *store;
	int			claim_idle_ms;	/* reclaim jobs idle this long */
	int			replay_wait_s;	/* bounded wait for the replica */
} Worker;

/* One job taken from the stream. */
typedef struct WorkerJob
{
	char		id[64];			/* stream entry id */
	char		run_id[49];
	char		project_id[49];
	char		lsn[32];
} WorkerJob;

extern volatile sig_atomic_t worker_stopping;

/* worker_queue.c */
extern int	worker_queue_setup(Worker *w);
extern int	worker_queue_next(Worker *w, WorkerJob *job, int block_ms);
extern int	worker_queue_ack(Worker *w, const WorkerJob *job);
extern void worker_queue_progress(Worker *w, const char *run_id, const char *field, long long value);

/* worker_run.c */
typedef enum WorkerOutcome
{
	WORKER_DONE,				/* finished (completed, failed, or nothing to do): ack */
	WORKER_RETRY				/* could not work now (lost a connection, stopping): leave it */
} WorkerOutcome;

extern WorkerOutcome worker_run(Worker *w, const WorkerJob *job);

#endif							/* WORKER_H */
