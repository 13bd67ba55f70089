/*
 * api_db.c
 *	  Connection pool: `size` connections opened at start (waiting a bounded
 *	  time for the database, so a pod started before its database comes up
 *	  instead of crash-looping), handed out to request threads under a mutex
 *	  and condition variable, for at most API_DB_WAIT_MS of waiting: a
 *	  request that finds them all busy for longer is answered 503 rather
 *	  than queued without end.  Handlers hold one only for their queries,
 *	  never while a client sends or reads.  A connection found broken is
 *	  reset before use.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_db.h"
#include "service/db.h"

struct ApiDb
{
	pthread_mutex_t lock;
	pthread_cond_t freed;
	PGconn	  **conns;
	int		   *busy;
	int			size;
	char	   *conninfo;		/* for dedicated connections */
};

/* Open the pool; waits up to wait_seconds for the database. */
ApiDb *
api_db_open(const char *conninfo, int size, int wait_seconds, char *err, size_t errlen)
{
	ApiDb	   *db = calloc(1, sizeof(ApiDb));
	time_t		deadline = time(NULL) + wait_seconds;
	time_t		now;

	if (!db || !(db->conns = calloc((size_t) size, sizeof(PGconn *))) ||
		!(db->busy = calloc((size_t) size, sizeof(int))))
	{
		snprintf(err, errlen, "out of memory");
		api_db_close(db);
		return NULL;
	}
	db->size = size;
	if (!(db->conninfo = strdup(conninfo)))
	{
		snprintf(err, errlen, "out of memory");
		api_db_close(db);
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->freed, NULL);
	for (int i = 0; i < size; i++)
	{
		/* the whole pool within one wait: each connection gets what is left */
		now = time(NULL);
		db->conns[i] = svc_db_connect_wait(conninfo, deadline > now ? (int) (deadline - now) : 0, err, errlen);
		if (!db->conns[i])
		{
			api_db_close(db);
			return NULL;
		}
	}
	return db;
}

/* Take a connection, waiting up to API_DB_WAIT_MS for one; NULL when none. */
PGconn *
api_db_get(ApiDb *db)
{
	PGconn	   *c = NULL;
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += API_DB_WAIT_MS / 1000;
	deadline.tv_nsec += (API_DB_WAIT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&db->lock);
	while (!c)
	{
		for (int i = 0; i < db->size && !c; i++)
			if (!db->busy[i])
			{
				db->busy[i] = 1;
				c = db->conns[i];
			}
		if (!c && pthread_cond_timedwait(&db->freed, &db->lock, &deadline) != 0)
			break;
	}
	pthread_mutex_unlock(&db->lock);
	if (c && PQstatus(c) != CONNECTION_OK)
		PQreset(c);
	return c;
}

/* Give a connection back (NULL: nothing). */
void
api_db_put(ApiDb *db, PGconn *conn)
{
	if (!conn)
		return;
	pthread_mutex_lock(&db->lock);
	for (int i = 0; i < db->size; i++)
		if (db->conns[i] == conn)
			db->busy[i] = 0;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->lock);
}

/* Close every connection and the pool. */
void
api_db_close(ApiDb *db)
{
	if (!db)
		return;
	for (int i = 0; db->conns && i < db->size; i++)
		if (db->conns[i])
			PQfinish(db->conns[i]);
	free(db->conns);
	free(db->busy);
	free(db->conninfo);
	free(db);
}

/*
 * A connection of its own, outside the pool, for long work (an upload's
 * COPY) that must not hold a pooled connection for minutes.  NULL when the
 * database cannot be reached now; the caller PQfinish()es it.
 */
PGconn *
api_db_connect(ApiDb *db)
{
	PGconn	   *c = PQconnectdb(db->conninfo);

	if (PQstatus(c) != CONNECTION_OK)
	{
		PQfinish(c);
		return NULL;
	}
	return c;
}
