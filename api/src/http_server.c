/*
 * http_server.c
 *	  The server on libmicrohttpd: a few I/O threads on epoll drive every
 *	  connection; the access handler below turns libmicrohttpd's calls
 *	  into a request's states (http_internal.h):
 *
 *	    first call (head in)   copy the head, check framing and size,
 *	                           route (404, 405 with Allow), then buffer
 *	                           the body or start the streamed handler
 *	    body calls             append to the buffer, or push into the pipe
 *	                           (suspending while it is full)
 *	    final call             run the handler (inline, or on the pool,
 *	                           suspended until it answers); queue the answer
 *
 *	  libmicrohttpd can queue an answer only before the body is read or
 *	  after all of it: an answer given in the middle (a bad piece of an
 *	  upload) goes out once the rest of the body has been read and thrown
 *	  away, up to HTTP_DISCARD_MAX bytes; beyond that the connection is
 *	  closed without one.  Every request is logged and counted when
 *	  libmicrohttpd reports it finished.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_problem.h"
#include "service/settings.h"
#include "http_internal.h"

#define HTTP_DISCARD_MAX (64ull * 1024 * 1024)

/*
 * The request on this I/O thread whose head libmicrohttpd is reading (its
 * URI callback ran, the access handler not yet): an error libmicrohttpd
 * answers now is that request's, logged when it completes; one with no such
 * request (a request line it could not parse) is logged from its message.
 */
static _Thread_local HttpRequest *head_reading;

/* The request's id: the client's X-Request-Id if a short token, else ours. */
static void
set_request_id(HttpRequest *r)
{
	static atomic_ulong counter;
	const char *h = http_header(r, "X-Request-Id");
	size_t		n = h ? strlen(h) : 0;
	int			ok = n > 0 && n <= 64;

	for (size_t i = 0; ok && i < n; i++)
		ok = (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'z') ||
			(h[i] >= 'A' && h[i] <= 'Z') || h[i] == '-';
	if (ok)
		snprintf(r->id, sizeof(r->id), "%s", h);
	else
		snprintf(r->id, sizeof(r->id), "%x-%lu", (unsigned) getpid(), atomic_fetch_add(&counter, 1) + 1);
}

/*
 * The client's name for per-client limits and logs: the peer address, or
 * with client_header set (behind a proxy that writes it) the last
 * address in that header, which the proxy appended.
 */
static void
set_client(HttpRequest *r)
{
	const char *h = r->srv->cfg.client_header[0] ? http_header(r, r->srv->cfg.client_header) : NULL;

	snprintf(r->client, sizeof(r->client), "%s", r->conn ? r->conn->peer : "unknown");
	if (h && *h)
	{
		const char *last = strrchr(h, ',');
		size_t		n;

		last = last ? last + 1 : h;
		while (*last == ' ')
			last++;
		n = strcspn(last, " ");
		if (n > 0 && n < sizeof(r->client))
		{
			memcpy(r->client, last, n);
			r->client[n] = '\0';
		}
	}
}

/* Queue the answer the request holds; the state becomes ANSWERED. */
static enum MHD_Result
queue(HttpRequest *r)
{
	struct MHD_Response *resp = http_request_answer(r);
	enum MHD_Result rc;

	r->state = REQ_ANSWERED;
	http_conn_phase(r->conn, PHASE_SERVER);
	if (!resp)
		return MHD_NO;
	rc = MHD_queue_response(r->mc, (unsigned) r->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Answer a problem of the server's own (framing, routing, limits) at once. */
static enum MHD_Result
problem_now(HttpRequest *r, int status, const char *detail, int close)
{
	char	   *p = api_problem_json(status, detail, r->uri);

	r->must_close = r->must_close || close;
	http_respond(r, status, "application/problem+json", p ? p : "", p ? strlen(p) : 0);
	free(p);
	return queue(r);
}

/* Suspend the connection (r->lock held) until the handler side resumes it. */
static void
suspend_locked(HttpRequest *r)
{
	r->suspended = 1;
	MHD_suspend_connection(r->mc);
	http_conn_phase(r->conn, PHASE_SERVER);
}

/*
 * Framing: one Content-Length (repeats must agree), or Transfer-Encoding
 * chunked alone.  Anything else could be read two ways by a proxy in front
 * (request smuggling): 400, or 501 for codings other than chunked.
 */
static int
check_framing(HttpRequest *r, const char **why)
{
	int			ncl = 0,
				nte = 0;
	const char *te = NULL;

	for (int i = 0; i < r->nheaders; i++)
	{
		const char *v = r->headers[i].value;

		if (strcasecmp(r->headers[i].name, "Content-Length") == 0)
		{
			char	   *end;
			long long	n;

			errno = 0;
			n = strtoll(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || errno || n < 0)
				return *why = "malformed Content-Length", 400;
			if (ncl++ && n != r->content_length)
				return *why = "conflicting Content-Length headers", 400;
			r->content_length = n;
		}
		else if (strcasecmp(r->headers[i].name, "Transfer-Encoding") == 0)
		{
			nte++;
			te = v;
		}
	}
	if (nte && ncl)
		return *why = "Content-Length together with Transfer-Encoding", 400;
	if (nte > 1)
		return *why = "more than one Transfer-Encoding header", 400;
	if (nte && strcasecmp(te, "chunked") != 0)
		return *why = "only the chunked transfer coding is supported", 501;
	return 0;
}

/* The thread of a streamed or pooled handler: run it, answer if it did not. */
static void
run_handler(void *arg)
{
	HttpRequest *r = arg;

	r->route->handler(r);
	if (!r->answered)
	{
		char	   *p = api_problem_json(500, "the request was not answered", r->uri);

		http_respond(r, 500, "application/problem+json", p ? p : "", p ? strlen(p) : 0);
		free(p);
	}
	if (r->route->mode == HTTP_STREAMED)
		atomic_fetch_sub(&r->srv->streams, 1);
	atomic_fetch_sub(&r->srv->running, 1);
	http_request_release(r);
}

/*
 * Hand the request to its handler's thread (the handler side's reference)
 * and suspend the connection until the handler reads or answers.  Called
 * with r->lock held, so the handler cannot resume before the suspension.
 * -1 (not suspended) when no thread could take it.
 */
static int
dispatch_locked(HttpServer *s, HttpRequest *r)
{
	int			rc;

	r->refs++;
	atomic_fetch_add(&s->running, 1);
	r->state = REQ_RUNNING;
	rc = r->route->mode == HTTP_STREAMED ? http_thread_spawn(run_handler, r)
		: http_pool_submit(s->pool, run_handler, r);
	if (rc != 0)
	{
		atomic_fetch_sub(&s->running, 1);
		r->refs--;
		r->state = REQ_BODY;
		return -1;
	}
	suspend_locked(r);
	return 0;
}

/* Dispatch, or answer 503 at once when no thread could take the request. */
static enum MHD_Result
dispatch(HttpServer *s, HttpRequest *r)
{
	int			rc;

	pthread_mutex_lock(&r->lock);
	rc = dispatch_locked(s, r);
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		return MHD_YES;
	if (r->route->mode == HTTP_STREAMED)
		atomic_fetch_sub(&s->streams, 1);
	http_add_header(r, "Retry-After", "1");
	return problem_now(r, 503, "the server is overloaded; retry later", 1);
}

/* The first call: head checks, routing, then the body's way in. */
static enum MHD_Result
first_call(HttpServer *s, HttpRequest *r, const char *method)
{
	const union MHD_ConnectionInfo *hs = MHD_get_connection_info(r->mc, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	const char *why = NULL;
	unsigned	allowed;
	int			status;
	char		allow[96];

	if (head_reading == r)
		head_reading = NULL;
	snprintf(r->method, sizeof(r->method), "%s", method);
	r->method_bit = http_method_bit(method);
	if (http_request_copy_head(r) < 0)
		return problem_now(r, 431, "too many request headers", 1);
	set_request_id(r);
	set_client(r);
	if (hs && hs->header_size > s->cfg.max_head)
		return problem_now(r, 431, "the request's headers are larger than this server accepts "
						   "(PPRL_MAX_HEADER_BYTES)", 1);
	if ((status = check_framing(r, &why)) != 0)
		return problem_now(r, status, why, 1);
	r->route = http_route_match(&s->cfg, r->uri, r, &allowed);
	if (!r->route)
	{
		if (!allowed)
			return problem_now(r, 404, "no such resource", 0);
		http_allow_header(allowed, allow, sizeof(allow));
		http_add_header(r, "Allow", allow);
		return problem_now(r, 405, "method not allowed here; see the Allow header", 0);
	}
	snprintf(r->route_name, sizeof(r->route_name), "%s",
			 strncmp(r->route->path, "/api/v1/", 8) == 0 ? r->route->path + 7 : r->route->path);
	if (r->route->mode != HTTP_STREAMED)
	{
		if (r->content_length > 0 && (size_t) r->content_length > r->route->max_body)
			return problem_now(r, 413, "request body larger than this route accepts", 1);
		r->state = REQ_BODY;
		http_conn_phase(r->conn, PHASE_BODY);
		return MHD_YES;
	}
	if (atomic_fetch_add(&s->streams, 1) >= s->cfg.max_streams || !(r->pipe = malloc(HTTP_PIPE_BYTES)))
	{
		atomic_fetch_sub(&s->streams, 1);
		http_add_header(r, "Retry-After", "5");
		return problem_now(r, 503, "too many transfers in progress; retry later", 1);
	}
	return dispatch(s, r);		/* suspended until the handler reads (or answers) */
}

/* A buffered body's piece (size > 0) or its end (size 0). */
static enum MHD_Result
body_call(HttpServer *s, HttpRequest *r, const char *data, size_t *size)
{
	if (*size > 0)
	{
		size_t		n = *size;

		atomic_fetch_add(&r->conn->body_bytes, n);
		*size = 0;
		if (r->answered)
			return atomic_load(&r->conn->body_bytes) > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
		if (r->body_len + n > r->route->max_body)
		{
			char	   *p = api_problem_json(413, "request body larger than this route accepts", r->uri);

			r->must_close = 1;
			http_respond(r, 413, "application/problem+json", p ? p : "", p ? strlen(p) : 0);
			free(p);
			return MHD_YES;		/* thrown away until the end, then answered */
		}
		if (r->body_len + n > r->body_cap)
		{
			size_t		cap = r->body_cap ? r->body_cap : 4096;
			char	   *b;

			while (cap < r->body_len + n)
				cap *= 2;
			if (!(b = realloc(r->body, cap)))
				return MHD_NO;
			r->body = b;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, data, n);
		r->body_len += n;
		return MHD_YES;
	}
	if (r->answered)
		return queue(r);
	if (r->route->mode == HTTP_INLINE)
	{
		r->state = REQ_RUNNING;
		r->route->handler(r);
		return queue(r);
	}
	return dispatch(s, r);		/* suspended until the handler answers */
}

/* A call while the handler has the request: body into the pipe, or the answer out. */
static enum MHD_Result
running_call(HttpRequest *r, const char *data, size_t *size)
{
	pthread_mutex_lock(&r->lock);
	if (r->answered)
	{
		pthread_mutex_unlock(&r->lock);
		if (*size == 0)
			return queue(r);
		atomic_fetch_add(&r->conn->body_bytes, *size);
		*size = 0;
		r->must_close = 1;
		return atomic_load(&r->conn->body_bytes) > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (r->route->mode != HTTP_STREAMED)
	{
		/* a pooled handler still at work: wait for its answer */
		suspend_locked(r);
		pthread_mutex_unlock(&r->lock);
		return MHD_YES;
	}
	if (!r->pipe_wanted)
	{
		suspend_locked(r);		/* resumed early (not by the handler): wait on */
		pthread_mutex_unlock(&r->lock);
		return MHD_YES;
	}
	pthread_mutex_unlock(&r->lock);
	if (*size == 0 && !r->go_ahead)
	{
		/* the first call again, resumed by the handler's first read: let the body come */
		r->go_ahead = 1;
		http_conn_phase(r->conn, PHASE_STREAM_BODY);
		return MHD_YES;
	}
	if (*size > 0)
	{
		http_conn_phase(r->conn, PHASE_STREAM_BODY);
		while (*size > 0)
		{
			size_t		took = http_pipe_push(r, data, *size);
			int			wait;

			atomic_fetch_add(&r->conn->body_bytes, took);
			data += took;
			*size -= took;
			if (*size == 0)
				break;
			/*
			 * Not all of it fitted.  libmicrohttpd must then be suspended
			 * (else the connection may hang): while the pipe is full, until
			 * the handler reads; if it drained meanwhile, push again.
			 */
			pthread_mutex_lock(&r->lock);
			if (r->answered)
			{
				pthread_mutex_unlock(&r->lock);
				*size = 0;
				r->must_close = 1;
				break;
			}
			wait = r->pipe_len == HTTP_PIPE_BYTES;
			if (wait)
				suspend_locked(r);
			pthread_mutex_unlock(&r->lock);
			if (wait)
				break;
		}
		return MHD_YES;
	}
	/* the final call: the body is complete; wait for the answer */
	http_pipe_end(r);
	pthread_mutex_lock(&r->lock);
	if (r->answered)
	{
		pthread_mutex_unlock(&r->lock);
		return queue(r);
	}
	suspend_locked(r);
	pthread_mutex_unlock(&r->lock);
	return MHD_YES;
}

/* libmicrohttpd's access handler. */
static enum MHD_Result
on_access(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
		  const char *version, const char *data, size_t *size, void **con_cls)
{
	HttpServer *s = cls;
	HttpRequest *r = *con_cls;

	(void) url;
	(void) version;
	if (!r)
		return MHD_NO;			/* out of memory at the request line */
	switch (r->state)
	{
		case REQ_NEW:
			return first_call(s, r, method);
		case REQ_BODY:
			return body_call(s, r, data, size);
		case REQ_RUNNING:
			return running_call(r, data, size);
		case REQ_ANSWERED:
			*size = 0;
			return MHD_YES;
	}
	(void) mc;
	return MHD_NO;
}

/* libmicrohttpd's URI callback: a request line is in, the request begins. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	return head_reading = http_request_new(cls, mc, uri);
}

/* libmicrohttpd's completion callback: log the request, let go of it. */
static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	HttpRequest *r = *con_cls;
	const union MHD_ConnectionInfo *st;
	int			status;

	(void) cls;
	if (!r)
		return;
	if (head_reading == r)
		head_reading = NULL;
	*con_cls = NULL;
	st = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_HTTP_STATUS);
	status = st ? (int) st->http_status : 499;	/* 499: the client left before an answer */
	if (r->stream_failed || (r->producer && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && status == 200))
		status = 500;			/* a streamed answer cut short */
	http_request_log(r, status);
	http_request_gone(r);
	http_conn_phase(r->conn, PHASE_IDLE);
	http_request_release(r);
}

/* libmicrohttpd's connection callback: register and unregister sockets. */
static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	*socket_context = http_conn_notify(cls, mc, toe == MHD_CONNECTION_NOTIFY_STARTED, *socket_context);
}

/*
 * libmicrohttpd's own messages.  Its error answers (a request line or
 * header it could not parse, a chunk too large) are logged as requests
 * here, with the status it sent; the rest is dropped.
 */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void) cls;
	if (strncmp(fmt, "Error processing request (HTTP response code is %u", 50) != 0)
		return;
	if (head_reading)
		head_reading = NULL;	/* that request's: logged when it completes */
	else
	{
		unsigned	status = va_arg(ap, unsigned);

		svc_log("info", "request", json_pack("{s:s,s:s,s:i,s:s}", "method", "-", "route", "other",
											 "status", (int) status, "detail", "rejected by the HTTP layer"));
	}
}

/* The listening address: host:port, [v6]:port or port. */
static int
resolve_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char		host[256] = "",
				port[16];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints,
			   *ai = NULL;

	if (!colon)
		snprintf(port, sizeof(port), "%s", listen);
	else
	{
		size_t		hl = (size_t) (colon - listen);

		if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']')
		{
			listen++;
			hl -= 2;
		}
		snprintf(host, sizeof(host), "%.*s", (int) hl, listen);
		snprintf(port, sizeof(port), "%s", colon + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0 || !ai)
	{
		snprintf(err, errlen, "cannot resolve the listening address %s", listen);
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

/*
 * Raise the open-file limit to what the connection limit needs, as far as
 * the hard limit lets it; lower the connection limit to fit otherwise.
 */
static void
fit_file_limit(HttpConfig *cfg)
{
	struct rlimit rl;
	rlim_t		want = (rlim_t) cfg->max_connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want)
	{
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
	{
		cfg->max_connections = rl.rlim_cur > 512 ? (int) rl.rlim_cur - 256 : 256;
		svc_log("warning", "open-file limit too low for PPRL_MAX_CONNECTIONS; lowered",
				json_pack("{s:i}", "max_connections", cfg->max_connections));
	}
}

/* Start serving; NULL with a message when the server cannot start. */
HttpServer *
http_server_start(const HttpConfig *cfg, char *err, size_t errlen)
{
	HttpServer *s = calloc(1, sizeof(HttpServer));
	struct sockaddr_storage ss;
	unsigned	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
		MHD_USE_ITC;

	if (!s)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	pthread_mutex_init(&s->conns_lock, NULL);
	fit_file_limit(&s->cfg);
	if (resolve_listen(cfg->listen, &ss, err, errlen) != 0 ||
		!(s->pool = http_pool_start(cfg->pool_threads)))
	{
		if (!err[0])
			snprintf(err, errlen, "cannot start %d request threads", cfg->pool_threads);
		free(s);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s,
							MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
							MHD_OPTION_THREAD_POOL_SIZE, (unsigned) cfg->io_threads,
							MHD_OPTION_THREAD_STACK_SIZE, (size_t) HTTP_THREAD_STACK,
							MHD_OPTION_CONNECTION_LIMIT, (unsigned) s->cfg.max_connections,
							MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) cfg->max_per_client,
							MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) cfg->io_s,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (cfg->max_head * 2 + 65536),
							MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
							MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
							MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
							MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
							MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
							MHD_OPTION_END);
	if (!s->d || http_conn_sweeper_start(s) != 0)
	{
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, strerror(errno));
		if (s->d)
			MHD_stop_daemon(s->d);
		http_pool_stop(s->pool);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Stop: no new connections; requests whose handlers run are let finish
 * (they resume their connections), then the daemon and the pool stop.
 */
void
http_server_stop(HttpServer *s)
{
	if (!s)
		return;
	MHD_quiesce_daemon(s->d);
	for (int i = 0; i < 600 && atomic_load(&s->running) > 0; i++)
		usleep(100 * 1000);
	http_conn_sweeper_stop(s);
	MHD_stop_daemon(s->d);
	http_pool_stop(s->pool);
	free(s);
}
