/*
 * http_conn.c
 *	  Connections and their deadlines.  Every connection is registered
 *	  while it is open; a sweeper thread looks at each once a second and
 *	  shuts down (shutdown(2): the I/O thread then sees the peer gone and
 *	  closes it) those that overstay their phase:
 *
 *	    idle between requests    keepalive_s
 *	    head (request line in)   header_s
 *	    buffered body            body_s
 *	    streamed body            under min_rate bytes/s over a window of
 *	                             io_s / 2 seconds (30 s by default)
 *
 *	  libmicrohttpd's own timeout (io_s) covers a connection on which
 *	  nothing moves at all, answers included.  The server's own turn
 *	  (a handler running, an answer being produced) has no deadline here.
 *	  The registry entry is removed before libmicrohttpd closes the
 *	  socket, under the same lock the sweeper holds, so a descriptor is
 *	  never shut down after it was reused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"

/* Milliseconds on the monotonic clock. */
int64_t
http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Enter a phase (its deadline counts from now); staying in one changes nothing. */
void
http_conn_phase(HttpConn *c, HttpPhase p)
{
	if (!c || atomic_load(&c->phase) == (int) p)
		return;
	atomic_store(&c->since_ms, http_now_ms());
	atomic_store(&c->window_ms, 0);	/* the sweeper starts a new rate window */
	atomic_store(&c->phase, (int) p);
}

/* The peer's address as text. */
static void
peer_text(struct MHD_Connection *mc, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outlen, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) outlen);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out, (socklen_t) outlen);
}

/*
 * libmicrohttpd's connection notification: register a new connection
 * (returns its context) or remove a closing one (ctx).
 */
void *
http_conn_notify(HttpServer *s, struct MHD_Connection *mc, int started, void *ctx)
{
	HttpConn   *c = ctx;

	if (started)
	{
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!(c = calloc(1, sizeof(HttpConn))))
			return NULL;
		c->fd = fd ? fd->connect_fd : -1;
		peer_text(mc, c->peer, sizeof(c->peer));
		atomic_store(&c->phase, (int) PHASE_IDLE);
		atomic_store(&c->since_ms, http_now_ms());
		pthread_mutex_lock(&s->conns_lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		pthread_mutex_unlock(&s->conns_lock);
		return c;
	}
	if (!c)
		return NULL;
	pthread_mutex_lock(&s->conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	pthread_mutex_unlock(&s->conns_lock);
	free(c);
	return NULL;
}

/* Whether c has overstayed its phase at now (sweeper only). */
static const char *
overdue(const HttpServer *s, HttpConn *c, int64_t now)
{
	int64_t		age = now - atomic_load(&c->since_ms);
	uint64_t	bytes;

	switch ((HttpPhase) atomic_load(&c->phase))
	{
		case PHASE_IDLE:
			return age > (int64_t) s->cfg.keepalive_s * 1000 ? "idle" : NULL;
		case PHASE_HEAD:
			return age > (int64_t) s->cfg.header_s * 1000 ? "head" : NULL;
		case PHASE_BODY:
			return age > (int64_t) s->cfg.body_s * 1000 ? "body" : NULL;
		case PHASE_STREAM_BODY:
			bytes = atomic_load(&c->body_bytes);
			if (c->window_ms == 0)
			{
				c->window_ms = now;
				c->window_bytes = bytes;
				return NULL;
			}
			if (now - c->window_ms < (int64_t) s->cfg.io_s * 500)
				return NULL;
			if ((bytes - c->window_bytes) * 1000 / (uint64_t) (now - c->window_ms) < s->cfg.min_rate)
				return "rate";
			c->window_ms = now;
			c->window_bytes = bytes;
			return NULL;
		case PHASE_SERVER:
			return NULL;
	}
	return NULL;
}

/* The sweeper: once a second, cut connections past their deadlines. */
static void *
sweeper(void *arg)
{
	HttpServer *s = arg;

	while (!atomic_load(&s->stopping))
	{
		int64_t		now = http_now_ms();

		pthread_mutex_lock(&s->conns_lock);
		for (HttpConn *c = s->conns; c; c = c->next)
		{
			const char *why = c->cut ? NULL : overdue(s, c, now);

			if (why && c->fd >= 0)
			{
				c->cut = 1;
				shutdown(c->fd, SHUT_RDWR);
			}
		}
		pthread_mutex_unlock(&s->conns_lock);
		usleep(250 * 1000);
	}
	return NULL;
}

/* Start the sweeper thread; 0 on success. */
int
http_conn_sweeper_start(HttpServer *s)
{
	return pthread_create(&s->sweeper, NULL, sweeper, s) == 0 ? 0 : -1;
}

/* Stop and join the sweeper. */
void
http_conn_sweeper_stop(HttpServer *s)
{
	atomic_store(&s->stopping, 1);
	pthread_join(s->sweeper, NULL);
}
