/*
 * api_queue.c
 *	  Redis for the API: one connection shared under a mutex (every command
 *	  is short), reconnected on the next use after any failure, with
 *	  connect and command timeouts so a dead Redis fails requests quickly
 *	  instead of hanging them (URLs: redis_url.c).  Commands are built with
 *	  hiredis' argument vectors, never by formatting client data into a
 *	  command string.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_queue.h"
#include "redis_url.h"

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

/* Append a run to the job stream; -1 with a message when Redis fails. */
int
api_queue_push_run(ApiQueue *q, const char *run_id, const char *project_id, const char *lsn,
				   char *err, size_t errlen)
{
	const char *argv[] = {"XADD", API_QUEUE_STREAM, "*", "kind", "run", "run_id", run_id,
	"project_id", project_id, "lsn", lsn};
	redisReply *r;

	pthread_mutex_lock(&q->lock);
	r = command(q, 11, argv);
	pthread_mutex_unlock(&q->lock);
	if (!r)
	{
		snprintf(err, errlen, "job queue (Redis) unavailable");
		return -1;
	}
	freeReplyObject(r);
	return 0;
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

/* A decimal integer from a reply element (nil or garbage: 0). */
static long long
reply_number(const redisReply *e)
{
	return e && e->type == REDIS_REPLY_STRING ? atoll(e->str) : 0;
}

/*
 * A run's progress as the workers count it in the hash run:{id}
 * (comparisons done, total comparisons, candidates); 0 when Redis has none.
 */
int
api_queue_progress(ApiQueue *q, const char *run_id, long long *comparisons, long long *total,
				   long long *candidates)
{
	char		key[64];
	const char *argv[] = {"HMGET", key, "comparisons", "total", "candidates"};
	redisReply *r;

	snprintf(key, sizeof(key), "run:%s", run_id);
	pthread_mutex_lock(&q->lock);
	r = command(q, 5, argv);
	pthread_mutex_unlock(&q->lock);
	*comparisons = *total = *candidates = 0;
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3)
	{
		*comparisons = reply_number(r->element[0]);
		*total = reply_number(r->element[1]);
		*candidates = reply_number(r->element[2]);
	}
	freeReplyObject(r);
	return 0;
}
