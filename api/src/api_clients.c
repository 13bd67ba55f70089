/*
 * api_clients.c
 *	  Per-client limits (see api_clients.h).  A linear table under a mutex:
 *	  it holds at most `capacity` clients (default 4096), each lookup is a
 *	  scan of short keys, far cheaper than the requests it guards.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_clients.h"

typedef struct Client
{
	char		key[48];
	double		tokens;			/* project creations left in the bucket */
	double		stamp;			/* when tokens was last refilled */
	int			uploads;		/* in flight */
	double		seen;
} Client;

struct ApiClients
{
	pthread_mutex_t lock;
	Client	   *c;
	int			n,
				cap;
};

/* Seconds on the monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A table for `capacity` clients. */
ApiClients *
api_clients_new(int capacity)
{
	ApiClients *t = calloc(1, sizeof(ApiClients));

	if (!t || !(t->c = calloc((size_t) capacity, sizeof(Client))))
	{
		free(t);
		return NULL;
	}
	t->cap = capacity;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

/* Free the table. */
void
api_clients_free(ApiClients *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->c);
	free(t);
}

/*
 * The client's entry (lock held), made when new: in a free slot, else in
 * place of the least recently seen client without uploads in flight.
 * NULL when every slot has uploads in flight.
 */
static Client *
find(ApiClients *t, const char *key, double now)
{
	Client	   *c = NULL;

	for (int i = 0; i < t->n; i++)
		if (strcmp(t->c[i].key, key) == 0)
		{
			t->c[i].seen = now;
			return &t->c[i];
		}
	if (t->n < t->cap)
		c = &t->c[t->n++];
	else
		for (int i = 0; i < t->n; i++)
			if (t->c[i].uploads == 0 && (!c || t->c[i].seen < c->seen))
				c = &t->c[i];
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	strncpy(c->key, key, sizeof(c->key) - 1);
	c->tokens = -1;				/* full, whatever the rate */
	c->stamp = c->seen = now;
	return c;
}

/*
 * Take one token of the client's bucket (per_minute tokens, refilled
 * evenly): 1 when taken, else 0 with the seconds until the next one.
 * per_minute 0: no limit.
 */
int
api_clients_take(ApiClients *t, const char *client, int per_minute, int *retry_after)
{
	double		now = now_s();
	Client	   *c;
	int			ok = 0;

	if (per_minute <= 0)
		return 1;
	pthread_mutex_lock(&t->lock);
	c = find(t, client, now);
	if (c)
	{
		if (c->tokens < 0)
			c->tokens = per_minute;
		c->tokens += (now - c->stamp) * per_minute / 60.0;
		if (c->tokens > per_minute)
			c->tokens = per_minute;
		c->stamp = now;
		ok = c->tokens >= 1.0;
		if (ok)
			c->tokens -= 1.0;
		else
			*retry_after = (int) ((1.0 - c->tokens) * 60.0 / per_minute) + 1;
	}
	else
		*retry_after = 1;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* Count an upload of the client in; 0 when it already has max in flight (max 0: no limit). */
int
api_clients_upload_begin(ApiClients *t, const char *client, int max)
{
	Client	   *c;
	int			ok = 0;

	pthread_mutex_lock(&t->lock);
	c = find(t, client, now_s());
	if (c && (max <= 0 || c->uploads < max))
	{
		c->uploads++;
		ok = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* Count an upload of the client out. */
void
api_clients_upload_end(ApiClients *t, const char *client)
{
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->c[i].key, client) == 0 && t->c[i].uploads > 0)
			t->c[i].uploads--;
	pthread_mutex_unlock(&t->lock);
}
