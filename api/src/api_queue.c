/*
 * api_queue.c
 *	  Redis for the API: one connection shared under a mutex (every command
 *	  is short), reconnected on the next use after any failure, with
 *	  connect and command timeouts so a dead Redis fails requests quickly
 *	  instead of hanging them.  What goes over it is the job protocol of
 *	  service/jobs.h, shared with the workers.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queue.h"
#include "service/db.h"
#include "service/jobs.h"
#include "service/redis_url.h"

struct ApiQueue
{
	pthread_mutex_t lock;
	redisContext *rc;
	RedisUrl	url;
};

/* Run one command; NULL when Redis fails or answers an error. */
static redisReply *
command(ApiQueue *q, int argc, const char **argv)
{
	redisReply *r = redis_url_command(&q->url, &q->rc, 2000, argc, argv);

	if (r && r->type == REDIS_REPLY_ERROR)
	{
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Set up the queue (connects lazily; /readyz reports whether Redis answers). */
ApiQueue *
api_queue_open(const char *url, char *err, size_t errlen)
{
	ApiQueue   *q = calloc(1, sizeof(ApiQueue));

	if (!q)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (redis_url_parse(url, &q->url, err, errlen) != 0)
	{
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

/* Close the connection and free the queue. */
void
api_queue_close(ApiQueue *q)
{
	if (!q)
		return;
	if (q->rc)
		redisFree(q->rc);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Append a run job to the stream; -1 with a message when Redis fails. */
int
api_queue_push_run(ApiQueue *q, const char *run_id, const char *project_id, const char *lsn,
				   char *err, size_t errlen)
{
	Job			job;
	int			rc;

	memset(&job, 0, sizeof(job));
	job.kind = JOB_RUN;
	snprintf(job.run_id, sizeof(job.run_id), "%s", run_id);
	snprintf(job.project_id, sizeof(job.project_id), "%s", project_id);
	snprintf(job.lsn, sizeof(job.lsn), "%s", lsn);
	pthread_mutex_lock(&q->lock);
	rc = jobs_append(&q->url, &q->rc, 2000, &job);
	pthread_mutex_unlock(&q->lock);
	if (rc != 0)
		snprintf(err, errlen, "job queue (Redis) unavailable");
	return rc;
}

/* Whether Redis answers PING now. */
int
api_queue_ping(ApiQueue *q)
{
	const char *argv[] = {"PING"};
	redisReply *r;

	pthread_mutex_lock(&q->lock);
	r = command(q, 1, argv);
	pthread_mutex_unlock(&q->lock);
	freeReplyObject(r);
	return r != NULL;
}

/* A run's progress as the workers count it; 0s when Redis has none, -1 when it fails. */
int
api_queue_progress(ApiQueue *q, const char *run_id, long long *comparisons, long long *total,
				   long long *candidates)
{
	int			rc;

	pthread_mutex_lock(&q->lock);
	rc = jobs_progress_read(&q->url, &q->rc, 2000, run_id, comparisons, total, candidates);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/*
 * Queue the project's runs whose data is complete (after an upload, a run
 * post or a run's deletion): the database moves them to 'queued' (or fails
 * them on bad encoding sizes) and this appends the one that may go now
 * (a project's runs go one at a time) to Redis with the primary's WAL position, which the worker's replica
 * must have replayed before it reads.  A job Redis refused is marked not
 * enqueued, to be handed over again by the next call.
 */
void
api_queue_ready_runs(ApiQueue *q, PGconn *pg, const char *pid, int min_size, int max_size)
{
	char		mn[16],
				mx[16],
				err[128];
	const char *p[3] = {pid, mn, mx};
	PGresult   *r,
			   *lsn;

	snprintf(mn, sizeof(mn), "%d", min_size);
	snprintf(mx, sizeof(mx), "%d", max_size);
	r = svc_db_exec(pg, "SELECT * FROM service_queue_ready_runs($1, $2::int, $3::int)", 3, p,
					PGRES_TUPLES_OK);
	if (!r || PQntuples(r) == 0)
	{
		PQclear(r);
		return;
	}
	lsn = svc_db_exec(pg, "SELECT pg_current_wal_lsn()::text", 0, NULL, PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(r); i++)
	{
		const char *rid = PQgetvalue(r, i, 0);

		if (api_queue_push_run(q, rid, pid, lsn ? PQgetvalue(lsn, 0, 0) : "0/0",
							   err, sizeof(err)) != 0)
		{
			const char *one[1] = {rid};

			PQclear(svc_db_exec(pg, "UPDATE runs SET enqueued = false WHERE run_id = $1", 1, one,
								PGRES_COMMAND_OK));
		}
	}
	PQclear(lsn);
	PQclear(r);
}
