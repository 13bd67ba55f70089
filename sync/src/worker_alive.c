/*
 * worker_alive.c
 *	  The worker's liveness: the stop flag (set by SIGTERM and SIGINT), the
 *	  heartbeat file a liveness probe reads, and the heartbeats in Redis,
 *	  so that a dead worker's job is taken over
 *	  within seconds instead of after the long idle timeout.  A thread of
 *	  each worker (its own Redis connection, so a long job never delays
 *	  it) records the time every JOBS_BEAT_S seconds in the sorted set
 *	  pprl:workers; a worker not seen for JOBS_DEAD_S is dead, and the
 *	  others claim the jobs pending on it (worker_queue.c).  The same set
 *	  counts the live workers, which bounds a run's task jobs in flight.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

volatile sig_atomic_t worker_stopping = 0;
static const char *heartbeat_path = "";
static pthread_t beater;
static atomic_int beating;

/* Where worker_heartbeat writes ("": nowhere). */
void
worker_heartbeat_file(const char *path)
{
	heartbeat_path = path;
}

/*
 * Touch the heartbeat file (when one is configured), at most every few
 * seconds: a liveness probe sees the loop (or a long merge) is alive.
 */
void
worker_heartbeat(void)
{
	static time_t last;
	time_t		now = time(NULL);
	FILE	   *f;

	if (!heartbeat_path[0] || now - last < 5)
		return;
	last = now;
	if ((f = fopen(heartbeat_path, "w")))
	{
		fprintf(f, "%lld\n", (long long) now);
		fclose(f);
	}
}

/* Record this worker as alive now (its own connection). */
static void
beat(Worker *w, redisContext **rc)
{
	char		now[32];
	const char *argv[] = {"ZADD", JOBS_ALIVE, now, w->name};

	snprintf(now, sizeof(now), "%lld", (long long) time(NULL));
	freeReplyObject(redis_url_command(&w->redis_url, rc, 2000, 4, argv));
}

/* The heartbeat thread. */
static void *
beat_loop(void *arg)
{
	Worker	   *w = arg;
	redisContext *rc = NULL;
	sigset_t	sigs;

	/* SIGTERM and SIGINT are the main loop's (they cancel its query) */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	while (atomic_load(&beating))
	{
		beat(w, &rc);
		for (int i = 0; i < JOBS_BEAT_S * 10 && atomic_load(&beating); i++)
			usleep(100 * 1000);
	}
	if (rc)
		redisFree(rc);
	return NULL;
}

/* Start beating; 0 on success. */
int
worker_alive_start(Worker *w)
{
	atomic_store(&beating, 1);
	return pthread_create(&beater, NULL, beat_loop, w) == 0 ? 0 : -1;
}

/* Stop beating and leave the set (a clean stop is not a death). */
void
worker_alive_stop(Worker *w)
{
	const char *argv[] = {"ZREM", JOBS_ALIVE, w->name};

	atomic_store(&beating, 0);
	pthread_join(beater, NULL);
	freeReplyObject(redis_url_command(&w->redis_url, &w->redis, 2000, 3, argv));
}

/* Workers seen within JOBS_DEAD_S (at least 1: this one). */
int
worker_alive_count(Worker *w)
{
	char		since[32];
	const char *argv[] = {"ZCOUNT", JOBS_ALIVE, since, "+inf"};
	redisReply *r;
	long long	n = 1;

	snprintf(since, sizeof(since), "%lld", (long long) time(NULL) - JOBS_DEAD_S);
	r = redis_url_command(&w->redis_url, &w->redis, 10000, 4, argv);
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 1)
		n = r->integer;
	freeReplyObject(r);
	return (int) n;
}

/* Whether the named worker has not been seen for JOBS_DEAD_S. */
int
worker_alive_dead(Worker *w, const char *name)
{
	const char *argv[] = {"ZSCORE", JOBS_ALIVE, name};
	redisReply *r = redis_url_command(&w->redis_url, &w->redis, 10000, 3, argv);
	int			dead = 0;

	if (r && r->type == REDIS_REPLY_NIL)
		dead = 1;
	else if (r && r->type == REDIS_REPLY_STRING)
		dead = atoll(r->str) < (long long) time(NULL) - JOBS_DEAD_S;
	freeReplyObject(r);
	return dead;
}
