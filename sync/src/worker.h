/*
 * worker.h
 *	  pprl-worker: takes jobs from the Redis stream (consumer group,
 *	  at-least-once) and computes runs with pg_pprl on its database (a hot
 *	  standby replica, or the primary).  A run is planned into tasks of
 *	  roughly equal comparison counts (job "run"), the tasks are shared by
 *	  all workers (jobs "task": sorted candidates to the object store), and
 *	  the last one queues the merge (job "merge": merge the parts in order,
 *	  solve, write the results, record completion on the primary once).
 */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "service/db.h"
#include "service/jobs.h"
#include "service/redis_url.h"
#include "service/store.h"

#define WORKER_MAX_PARTIES 64

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
	long long	task_comparisons;	/* a task's size to aim for */
	int			max_tasks;		/* tasks a run is cut into at most */
	int			stall_s;		/* re-queue runs without activity this long */
	const char *tmpdir;			/* scratch files of the merge */
} Worker;

/* A run as the primary records it, and the error of the job working on it. */
typedef struct WorkerRun
{
	const Job *job;
	char		state[16];
	double		threshold;
	char		threshold_text[32];
	char		result_type[24];
	int			parties;
	int			stages;
	int			parts;			/* 0: not planned yet */
	char		datasets[WORKER_MAX_PARTIES * 60];	/* {enc_<pid>_0,...} */
	char		error[512];
	int			lost;			/* not the run's fault (connection, store): retry */
} WorkerRun;

typedef enum WorkerOutcome
{
	WORKER_DONE,				/* finished (or nothing to do): ack */
	WORKER_RETRY				/* could not work now (lost a connection, stopping): leave it */
} WorkerOutcome;

/* worker_alive.c: the process's liveness (stop flag, heartbeat file, heartbeats in Redis) */
extern volatile sig_atomic_t worker_stopping;
extern void worker_heartbeat(void);
extern void worker_heartbeat_file(const char *path);

extern int	worker_alive_start(Worker *w);
extern void worker_alive_stop(Worker *w);
extern int	worker_alive_count(Worker *w);
extern int	worker_alive_dead(Worker *w, const char *name);

/* worker_queue.c */
extern int	worker_queue_setup(Worker *w);
extern int	worker_queue_lost(Worker *w);
extern int	worker_queue_next(Worker *w, Job *job, int block_ms);
extern int	worker_queue_ack(Worker *w, const Job *job);
extern void worker_queue_touch(Worker *w, const Job *job);
extern int	worker_queue_push(Worker *w, JobKind kind, const Job *like, int part);
extern long long worker_queue_progress(Worker *w, const char *run_id, const char *field, long long value, int add);

/* worker_db.c */
extern PGresult *worker_db_query(WorkerRun *run, PGconn *c, const char *sql, int n,
								 const char *const *p, ExecStatusType want);
extern int	worker_db_command(WorkerRun *run, PGconn *c, const char *sql, int n, const char *const *p);
extern int	worker_db_stream(WorkerRun *run, PGconn *c, const char *sql, int n, const char *const *p,
							 int binary, void (*fn) (void *arg, PGresult *row), void *arg);
extern int	worker_db_load_run(Worker *w, WorkerRun *run);
extern int	worker_db_wait_replay(Worker *w, WorkerRun *run);

/* worker_state.c: a run's state changes (the functions of migration 007) */
extern int	worker_state_claim(Worker *w, WorkerRun *run);
extern int	worker_state_fail(Worker *w, WorkerRun *run);
extern int	worker_state_task_done(Worker *w, WorkerRun *run, int part, const char *key, long long candidates,
								   long long bytes, double seconds);
extern int	worker_state_complete(Worker *w, WorkerRun *run, long long comparisons, int nobjects,
								  const char *const *kinds, const int *parties, const char *const *keys,
								  const long long *sizes, double seconds);
extern void worker_state_stage(Worker *w, WorkerRun *run, const char *stage);
extern void worker_state_next_run(Worker *w, WorkerRun *run);
extern void worker_state_sweep(Worker *w, int stall_s);

/* worker_run.c, worker_task.c, worker_merge.c: one job each */
extern WorkerOutcome worker_run(Worker *w, WorkerRun *run);
extern WorkerOutcome worker_task(Worker *w, WorkerRun *run);
extern WorkerOutcome worker_merge(Worker *w, WorkerRun *run);
extern int	worker_run_queue_rest(Worker *w, WorkerRun *run, int again);

/* worker_out.c: remove a run's objects under results/<pid>/<rid>/<sub> (best effort) */
extern void worker_remove_objects(Worker *w, const Job *job, const char *sub);

#endif							/* WORKER_H */
