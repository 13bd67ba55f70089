/*
 * api_health.c
 *	  /healthz and /readyz, and the background readiness checks behind the
 *	  latter (see api_health.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "api_ctx.h"
#include "api_health.h"
#include "api_http.h"
#include "api_routes.h"

#define CHECK_EVERY_MS 1000
#define STALE_MS 5000			/* a check older than this: a dependency hangs */

struct ApiHealth
{
	ApiCtx	   *ctx;
	char	   *conninfo;
	PGconn	   *pg;
	pthread_t	thread;
	atomic_int	stopping;
	pthread_mutex_t lock;
	int			checked;		/* a check has completed */
	int64_t		at_ms;			/* when the last one completed */
	char		problem[160];	/* "" when ready */
	const char *checking;		/* what the round in progress asks now */
};

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the database answers on the checker's own connection. */
static int
database_ok(ApiHealth *h)
{
	PGresult   *r;
	int			ok;

	if (!h->pg || PQstatus(h->pg) != CONNECTION_OK)
	{
		PQfinish(h->pg);
		h->pg = PQconnectdb(h->conninfo);
		if (PQstatus(h->pg) != CONNECTION_OK)
			return 0;
		PQclear(PQexec(h->pg, "SET statement_timeout = '3s'"));
	}
	r = PQexec(h->pg, "SELECT 1");
	ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	return ok;
}

/* Note what the round asks now (named when it hangs). */
static void
asking(ApiHealth *h, const char *what)
{
	pthread_mutex_lock(&h->lock);
	h->checking = what;
	pthread_mutex_unlock(&h->lock);
}

/* One round of checks; the first failing dependency is the problem. */
static void
check_once(ApiHealth *h)
{
	char		err[256];
	const char *problem = "";

	asking(h, "database");
	if (!database_ok(h))
		problem = "database unreachable";
	else if (asking(h, "Redis"), !api_queue_ping(h->ctx->queue))
		problem = "Redis unreachable";
	else if (asking(h, "object store"), store_ping(h->ctx->store, err, sizeof(err)) != 0)
		problem = "object store unreachable";
	pthread_mutex_lock(&h->lock);
	snprintf(h->problem, sizeof(h->problem), "%s", problem);
	h->at_ms = now_ms();
	h->checked = 1;
	pthread_mutex_unlock(&h->lock);
}

/* The checker thread. */
static void *
checker(void *arg)
{
	ApiHealth  *h = arg;

	while (!atomic_load(&h->stopping))
	{
		check_once(h);
		for (int i = 0; i < CHECK_EVERY_MS / 50 && !atomic_load(&h->stopping); i++)
			usleep(50 * 1000);
	}
	return NULL;
}

/* Start the checks (the first runs before this returns). */
ApiHealth *
api_health_start(ApiCtx *ctx, const char *conninfo)
{
	ApiHealth  *h = calloc(1, sizeof(ApiHealth));

	if (!h || !(h->conninfo = strdup(conninfo)))
	{
		free(h);
		return NULL;
	}
	h->ctx = ctx;
	pthread_mutex_init(&h->lock, NULL);
	check_once(h);
	if (pthread_create(&h->thread, NULL, checker, h) != 0)
	{
		PQfinish(h->pg);
		free(h->conninfo);
		free(h);
		return NULL;
	}
	return h;
}

/* Stop the checks. */
void
api_health_stop(ApiHealth *h)
{
	if (!h)
		return;
	atomic_store(&h->stopping, 1);
	pthread_join(h->thread, NULL);
	PQfinish(h->pg);
	free(h->conninfo);
	free(h);
}

/* GET /healthz: the process is alive and serving. */
void
api_route_healthz(HttpRequest *r)
{
	api_send_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /readyz: database, Redis and object store reachable (last check). */
void
api_route_readyz(HttpRequest *r)
{
	ApiHealth  *h = ((ApiCtx *) http_app(r))->health;
	char		problem[160];
	const char *what;
	int64_t		age;

	pthread_mutex_lock(&h->lock);
	snprintf(problem, sizeof(problem), "%s", h->problem);
	age = now_ms() - h->at_ms;
	what = h->checking;
	pthread_mutex_unlock(&h->lock);
	if (age > STALE_MS)
		snprintf(problem, sizeof(problem), "%s unreachable: no answer to the readiness check for %lld ms",
				 what ? what : "a dependency", (long long) age);
	if (problem[0])
		api_send_problem(r, 503, problem);
	else
		api_send_json(r, 200, json_pack("{s:s}", "status", "ready"));
}
