/*
 * jobs.h
 *	  The job queue's protocol between the API and the workers, its one
 *	  home: the Redis stream and consumer group, a job's fields, the run
 *	  progress hash, the epoch key (gone: Redis lost its data) and the set
 *	  of live workers with its heartbeat and death times.  The API appends
 *	  run jobs and reads progress; the workers append every kind, take
 *	  jobs, count progress and beat.
 */
#ifndef SVC_JOBS_H
#define SVC_JOBS_H

#include <stddef.h>

#include "service/redis_url.h"

#define JOBS_STREAM "pprl:jobs"
#define JOBS_GROUP "workers"
#define JOBS_EPOCH "pprl:epoch"		/* set once Redis is seen; gone: Redis lost its data */
#define JOBS_ALIVE "pprl:workers"	/* worker name -> last heartbeat (seconds) */
#define JOBS_BEAT_S 2
#define JOBS_DEAD_S 10				/* not seen this long: its jobs are taken over */

/* Fields of the progress hash run:<id>. */
#define JOBS_PROGRESS_COMPARISONS "comparisons"
#define JOBS_PROGRESS_TOTAL "total"
#define JOBS_PROGRESS_CANDIDATES "candidates"
#define JOBS_PROGRESS_FAILURES "failures"

typedef enum JobKind
{
	JOB_RUN,					/* plan a run and queue its tasks */
	JOB_TASK,					/* compute one part's candidates */
	JOB_MERGE					/* merge the parts, solve, write results */
} JobKind;

/* One job: what an entry of the stream carries. */
typedef struct Job
{
	char		id[64];			/* stream entry id (set when read) */
	JobKind		kind;
	char		run_id[49];
	char		project_id[49];
	char		lsn[32];		/* primary WAL position a replica must have replayed */
	int			part;			/* JOB_TASK */
} Job;

extern const char *jobs_kind_name(JobKind kind);
extern int	jobs_append(const RedisUrl *u, redisContext **rc, int timeout_ms, const Job *job);
extern int	jobs_parse(const redisReply *entry, Job *job);
extern void jobs_progress_key(const char *run_id, char *out, size_t outlen);
extern int	jobs_progress_read(const RedisUrl *u, redisContext **rc, int timeout_ms, const char *run_id,
							   long long *comparisons, long long *total, long long *candidates);
extern long long jobs_progress_update(const RedisUrl *u, redisContext **rc, int timeout_ms,
									  const char *run_id, const char *field, long long value, int add);

#endif							/* SVC_JOBS_H */
