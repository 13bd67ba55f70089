/*
 * http_request.c
 *	  A request's two sides: what its handler reads (the copied head, the
 *	  buffered body, or the streamed body through a bounded pipe) and
 *	  writes (an answer in memory, or a stream through a bounded ring that
 *	  a producer fills and libmicrohttpd's content reader drains), and
 *	  what the I/O thread does with them.  Whichever side waits for the
 *	  other does so on the request's condition variable; the I/O side
 *	  suspends the connection instead of waiting (a full pipe, an empty
 *	  ring, an answer not ready) and the handler side resumes it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_metrics.h"
#include "api_problem.h"
#include "service/settings.h"
#include "http_internal.h"

/* A new request for a connection whose request line is in. */
HttpRequest *
http_request_new(HttpServer *s, struct MHD_Connection *mc, const char *uri)
{
	HttpRequest *r = calloc(1, sizeof(HttpRequest));
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (!r || !(r->uri = strdup(uri ? uri : "")))
	{
		free(r);
		return NULL;
	}
	r->srv = s;
	r->mc = mc;
	r->conn = ci ? ci->socket_context : NULL;
	r->refs = 1;
	r->content_length = -1;
	r->t0_ms = http_now_ms();
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	snprintf(r->route_name, sizeof(r->route_name), "other");
	if (r->conn)
	{
		r->conn->requests++;
		atomic_store(&r->conn->body_bytes, 0);
		http_conn_phase(r->conn, PHASE_HEAD);
	}
	return r;
}

/* Let go of one side's reference; the last frees the request. */
void
http_request_release(HttpRequest *r)
{
	int			last;

	pthread_mutex_lock(&r->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r->uri);
	free(r->arena);
	free(r->body);
	free(r->pipe);
	free(r->resp_body);
	free(r->extra);
	free(r->ring);
	free(r);
}

typedef struct HeadCopy
{
	HttpRequest *r;
	size_t		need,
				used;
	int			pass;			/* 0: measure, 1: copy */
} HeadCopy;

/* libmicrohttpd's header iterator: measure, then copy into the arena. */
static enum MHD_Result
copy_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	HeadCopy   *hc = cls;
	HttpRequest *r = hc->r;
	size_t		kl = strlen(key),
				vl = value ? strlen(value) : 0;

	(void) kind;
	if (hc->pass == 0)
	{
		hc->need += kl + vl + 2;
		return MHD_YES;
	}
	if (r->nheaders >= HTTP_MAX_HEADERS)
		return MHD_NO;
	memcpy(r->arena + hc->used, key, kl + 1);
	r->headers[r->nheaders].name = r->arena + hc->used;
	hc->used += kl + 1;
	memcpy(r->arena + hc->used, value ? value : "", vl + 1);
	r->headers[r->nheaders++].value = r->arena + hc->used;
	hc->used += vl + 1;
	return MHD_YES;
}

/*
 * Copy the request's headers (libmicrohttpd's list may grow with trailers
 * while the handler runs elsewhere).  The number of headers, or -1 when
 * there are more than HTTP_MAX_HEADERS.
 */
int
http_request_copy_head(HttpRequest *r)
{
	HeadCopy	hc = {r, 0, 0, 0};
	int			n = MHD_get_connection_values(r->mc, MHD_HEADER_KIND, copy_header, &hc);

	if (n > HTTP_MAX_HEADERS)
		return -1;
	if (!(r->arena = malloc(hc.need + 1)))
		return -1;
	hc.pass = 1;
	MHD_get_connection_values(r->mc, MHD_HEADER_KIND, copy_header, &hc);
	return r->nheaders;
}

/*
 * Resume the connection if the I/O thread suspended it (r->lock held:
 * libmicrohttpd never calls this server back while holding its own lock,
 * so suspend and resume are ordered by r->lock alone).
 */
static void
resume_locked(HttpRequest *r)
{
	if (r->suspended && !r->gone)
	{
		r->suspended = 0;
		MHD_resume_connection(r->mc);
	}
}

/* Resume the connection if the I/O thread suspended it. */
void
http_request_resume(HttpRequest *r)
{
	pthread_mutex_lock(&r->lock);
	resume_locked(r);
	pthread_mutex_unlock(&r->lock);
}

/* I/O thread: put streamed body bytes into the pipe; how many fit. */
size_t
http_pipe_push(HttpRequest *r, const char *data, size_t n)
{
	size_t		room;

	pthread_mutex_lock(&r->lock);
	if (r->pipe_off > 0 && r->pipe_len + n > HTTP_PIPE_BYTES)
	{
		memmove(r->pipe, r->pipe + r->pipe_off, r->pipe_len);
		r->pipe_off = 0;
	}
	room = HTTP_PIPE_BYTES - r->pipe_off - r->pipe_len;
	if (n > room)
		n = room;
	memcpy(r->pipe + r->pipe_off + r->pipe_len, data, n);
	r->pipe_len += n;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* I/O thread: the streamed body is complete. */
void
http_pipe_end(HttpRequest *r)
{
	pthread_mutex_lock(&r->lock);
	r->pipe_eof = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* I/O thread: the connection is finished; wake whoever waits on it. */
void
http_request_gone(HttpRequest *r)
{
	pthread_mutex_lock(&r->lock);
	r->gone = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Count and log a finished request (once): method, route, status, time. */
void
http_request_log(HttpRequest *r, int status)
{
	if (r->logged)
		return;
	r->logged = 1;
	api_metrics_request(r->route_name, status);
	svc_log(status >= 500 ? "error" : "info", "request",
			json_pack("{s:s,s:s,s:i,s:s,s:I}", "method", r->method[0] ? r->method : "-",
					  "route", r->route_name, "status", status, "request_id", r->id,
					  "ms", (json_int_t) (http_now_ms() - r->t0_ms)));
}

/* libmicrohttpd's content reader of a streamed answer: drain the ring. */
static ssize_t
read_ring(void *cls, uint64_t pos, char *buf, size_t max)
{
	HttpRequest *r = cls;
	size_t		n;

	(void) pos;
	pthread_mutex_lock(&r->lock);
	if (r->ring_len == 0)
	{
		ssize_t		rc = r->stream_failed ? MHD_CONTENT_READER_END_WITH_ERROR
			: MHD_CONTENT_READER_END_OF_STREAM;

		if (!r->stream_done)
		{
			/* nothing yet: wait for the producer without holding the thread */
			r->suspended = 1;
			r->reader_waiting = 1;
			MHD_suspend_connection(r->mc);
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
		pthread_mutex_unlock(&r->lock);
		return rc;
	}
	n = r->ring_len < max ? r->ring_len : max;
	memcpy(buf, r->ring + r->ring_off, n);
	r->ring_off += n;
	r->ring_len -= n;
	if (r->ring_len == 0)
		r->ring_off = 0;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return (ssize_t) n;
}

/* The streamed answer is done with: the I/O side's hold on it ends. */
static void
free_ring(void *cls)
{
	HttpRequest *r = cls;

	http_request_gone(r);
	http_request_release(r);
}

/* Add the handler's extra headers and the common ones to a response. */
static void
add_headers(HttpRequest *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Type", r->ctype[0] ? r->ctype : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	for (size_t off = 0; off < r->extra_len;)
	{
		const char *name = r->extra + off,
				   *value = name + strlen(name) + 1;

		MHD_add_response_header(resp, name, value);
		off = (size_t) (value - r->extra) + strlen(value) + 1;
	}
	if (r->must_close)
		MHD_add_response_header(resp, "Connection", "close");
}

/* I/O thread: the libmicrohttpd response for the handler's answer. */
struct MHD_Response *
http_request_answer(HttpRequest *r)
{
	struct MHD_Response *resp;

	if (r->producer)
	{
		resp = MHD_create_response_from_callback(r->stream_length, 64 * 1024, read_ring, r, free_ring);
		if (resp)
		{
			pthread_mutex_lock(&r->lock);
			r->refs++;
			pthread_mutex_unlock(&r->lock);
		}
	}
	else
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body, MHD_RESPMEM_MUST_COPY);
	if (resp)
		add_headers(r, resp);
	return resp;
}

/* ---- the handler's side (http_server.h) ---- */

/* The request's method ("HEAD" requests run GET routes and see "GET"). */
const char *
http_method(const HttpRequest *r)
{
	return r->method_bit == HTTP_HEAD ? "GET" : r->method;
}

/* The i-th {name} segment of the route's path. */
const char *
http_param(const HttpRequest *r, int i)
{
	return i >= 0 && i < HTTP_MAX_PARAMS ? r->params[i] : "";
}

/* A request header's value (case-insensitive name), NULL when absent. */
const char *
http_header(const HttpRequest *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* The declared Content-Length; -1 when there is none (a chunked body). */
long long
http_content_length(const HttpRequest *r)
{
	return r->content_length;
}

/* The client's address (per-client limits and logs). */
const char *
http_client(const HttpRequest *r)
{
	return r->client;
}

/* The request's path, for a problem's "instance". */
const char *
http_uri(const HttpRequest *r)
{
	return r->uri;
}

/* The route's template ("/projects/{pid}"), for logs and metrics. */
const char *
http_route_name(const HttpRequest *r)
{
	return r->route_name;
}

/* What the server was started with in HttpConfig.app. */
void *
http_app(const HttpRequest *r)
{
	return r->srv->cfg.app;
}

/* The whole body of an HTTP_POOLED request (never NULL). */
const char *
http_body(const HttpRequest *r, size_t *len)
{
	*len = r->body_len;
	return r->body ? r->body : "";
}

/*
 * An HTTP_STREAMED handler's read of its body: up to n bytes (> 0), 0 at
 * its end, -1 when the client went away or was cut for being too slow.
 * The first call lets the body come (a client waiting for 100 Continue
 * gets it only then).
 */
long
http_read(HttpRequest *r, void *buf, size_t n)
{
	long		got = -1;

	pthread_mutex_lock(&r->lock);
	r->pipe_wanted = 1;
	for (;;)
	{
		if (r->pipe_len > 0)
		{
			got = (long) (r->pipe_len < n ? r->pipe_len : n);
			memcpy(buf, r->pipe + r->pipe_off, (size_t) got);
			r->pipe_off += (size_t) got;
			r->pipe_len -= (size_t) got;
			if (r->pipe_len == 0)
				r->pipe_off = 0;
			break;
		}
		if (r->pipe_eof)
		{
			got = 0;
			break;
		}
		if (r->gone)
			break;
		/* the I/O thread may wait for room, or for the go-ahead */
		resume_locked(r);
		pthread_cond_wait(&r->cond, &r->lock);
	}
	resume_locked(r);
	pthread_mutex_unlock(&r->lock);
	return got;
}

/* Add a header to the answer (before http_respond). */
void
http_add_header(HttpRequest *r, const char *name, const char *value)
{
	size_t		nl = strlen(name),
				vl = strlen(value);
	char	   *e = realloc(r->extra, r->extra_len + nl + vl + 2);

	if (!e)
		return;
	r->extra = e;
	memcpy(e + r->extra_len, name, nl + 1);
	memcpy(e + r->extra_len + nl + 1, value, vl + 1);
	r->extra_len += nl + vl + 2;
}

/* Hand the answer over to the I/O side (resuming it if it waits). */
static void
answer(HttpRequest *r)
{
	pthread_mutex_lock(&r->lock);
	r->answered = 1;
	pthread_cond_broadcast(&r->cond);
	resume_locked(r);
	pthread_mutex_unlock(&r->lock);
}

/* Answer with a body in memory (copied); the first answer counts. */
void
http_respond(HttpRequest *r, int status, const char *ctype, const char *body, size_t len)
{
	if (r->answered)
		return;
	r->status = status;
	snprintf(r->ctype, sizeof(r->ctype), "%s", ctype ? ctype : "application/json");
	r->resp_len = len;
	if (len && (r->resp_body = malloc(len)))
		memcpy(r->resp_body, body, len);
	else
		r->resp_len = 0;
	answer(r);
}

/* A producer's thread: run it, then let the reader finish the answer. */
static void
produce(void *arg)
{
	HttpRequest *r = arg;
	int			rc = r->producer(r, r->producer_arg);

	pthread_mutex_lock(&r->lock);
	r->stream_done = 1;
	r->stream_failed = rc != 0;
	pthread_cond_broadcast(&r->cond);
	resume_locked(r);
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_sub(&r->srv->streams, 1);
	atomic_fetch_sub(&r->srv->running, 1);
	http_request_release(r);
}

/*
 * Answer 200 with `length` bytes that fn(r, arg) writes with http_write on
 * a thread of its own (fn frees arg).  -1 when no stream can start now
 * (max_streams, or no thread): the answer is then a 503 already, and fn
 * never runs.
 */
int
http_respond_stream(HttpRequest *r, const char *ctype, uint64_t length, HttpProducer fn, void *arg)
{
	HttpServer *s = r->srv;

	if (r->answered)
		return -1;
	if (atomic_fetch_add(&s->streams, 1) >= s->cfg.max_streams || !(r->ring = malloc(HTTP_RING_BYTES)))
	{
		char	   *p = api_problem_json(503, "too many transfers in progress; retry later", r->uri);

		atomic_fetch_sub(&s->streams, 1);
		http_add_header(r, "Retry-After", "5");
		http_respond(r, 503, "application/problem+json", p ? p : "", p ? strlen(p) : 0);
		free(p);
		return -1;
	}
	r->producer = fn;
	r->producer_arg = arg;
	r->stream_length = length;
	r->status = 200;
	snprintf(r->ctype, sizeof(r->ctype), "%s", ctype);
	pthread_mutex_lock(&r->lock);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_add(&s->running, 1);
	if (http_thread_spawn(produce, r) != 0)
	{
		atomic_fetch_sub(&s->running, 1);
		r->stream_done = r->stream_failed = 1;
		atomic_fetch_sub(&s->streams, 1);
		http_request_release(r);
	}
	answer(r);
	return 0;
}

/*
 * A producer's write: copy into the ring, waiting while it is full.  -1
 * when the client went away (or stopped reading for io_s seconds).
 */
int
http_write(HttpRequest *r, const void *data, size_t n)
{
	const char *p = data;
	int64_t		stalled = http_now_ms();
	int			rc = 0;

	pthread_mutex_lock(&r->lock);
	while (n > 0)
	{
		size_t		room;

		if (r->gone)
		{
			rc = -1;
			break;
		}
		if (r->ring_off > 0 && r->ring_len + n > HTTP_RING_BYTES)
		{
			memmove(r->ring, r->ring + r->ring_off, r->ring_len);
			r->ring_off = 0;
		}
		room = HTTP_RING_BYTES - r->ring_off - r->ring_len;
		if (room == 0)
		{
			struct timespec ts;

			if (http_now_ms() - stalled > (int64_t) r->srv->cfg.io_s * 1000)
			{
				rc = -1;
				break;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&r->cond, &r->lock, &ts);
			continue;
		}
		room = room < n ? room : n;
		memcpy(r->ring + r->ring_off + r->ring_len, p, room);
		r->ring_len += room;
		p += room;
		n -= room;
		stalled = http_now_ms();
		if (r->reader_waiting)
		{
			r->reader_waiting = 0;
			resume_locked(r);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
