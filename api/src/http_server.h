/*
 * http_server.h
 *	  The HTTP/1.1 server the REST API runs on (libmicrohttpd, event
 *	  driven), and what a route handler sees of a request.
 *
 *	  Connections are served by a few I/O threads on epoll, so an idle,
 *	  slow or hostile connection costs a socket and a little memory, never
 *	  a thread.  A handler runs only once the request's head is in (and,
 *	  for HTTP_POOLED routes, its whole body), on a pool thread, or on a
 *	  thread of its own for routes that stream a body in (HTTP_STREAMED).
 *	  Answers are built in memory, or streamed out by a producer on a
 *	  thread of its own, so no handler ever waits on a slow client while
 *	  it holds a database connection.  Deadlines (keep-alive, head, body,
 *	  minimum upload rate, idle I/O), connection limits (in all and per
 *	  client address) and strict framing (Content-Length with
 *	  Transfer-Encoding, conflicting Content-Lengths: 400) are enforced
 *	  here, before any handler; every request is logged once with its
 *	  method, route and status, and counted in the metrics.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct HttpServer HttpServer;
typedef struct HttpRequest HttpRequest;

/* Methods, as a mask in HttpRoute.methods; GET allows HEAD too. */
enum
{
	HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_DELETE = 8, HTTP_PATCH = 16,
	HTTP_OPTIONS = 32, HTTP_HEAD = 64
};

/* Where and when a route's handler runs. */
typedef enum HttpRunMode
{
	HTTP_INLINE,				/* on the I/O thread, at once: must not block */
	HTTP_POOLED,				/* on the pool, once the whole body is in */
	HTTP_STREAMED				/* on a thread of its own, reading the body with http_read */
} HttpRunMode;

typedef void (*HttpHandler) (HttpRequest *r);

/* One route: a path template of literal and {name} segments. */
typedef struct HttpRoute
{
	const char *path;
	unsigned	methods;
	HttpRunMode mode;
	size_t		max_body;		/* HTTP_INLINE/POOLED: a larger body is 413 */
	HttpHandler handler;
} HttpRoute;

/* What the server is started with (see docs/service.md for the settings). */
typedef struct HttpConfig
{
	const char *listen;			/* host:port, [v6]:port or port */
	int			io_threads;
	int			pool_threads;
	int			max_connections;
	int			max_per_client; /* 0: no per-client limit */
	int			keepalive_s;	/* idle between requests */
	int			header_s;		/* from the request line to the end of the head */
	int			body_s;			/* whole body of a non-streamed request */
	int			io_s;			/* no byte in either direction */
	size_t		max_head;		/* 431 above */
	int			max_streams;	/* streamed handlers and downloads at once; 503 beyond */
	uint64_t	min_rate;		/* bytes/s a streamed body must keep up (io_s / 2 windows) */
	const char *client_header;	/* "": the peer address names the client */
	const HttpRoute *routes;
	int			nroutes;
	void	   *app;			/* http_app() */
} HttpConfig;

extern HttpServer *http_server_start(const HttpConfig *cfg, char *err, size_t errlen);
extern void http_server_stop(HttpServer *s);

/* The request, from any thread running its handler. */
extern const char *http_method(const HttpRequest *r);
extern const char *http_param(const HttpRequest *r, int i);
extern const char *http_header(const HttpRequest *r, const char *name);
extern long long http_content_length(const HttpRequest *r);
extern const char *http_client(const HttpRequest *r);
extern const char *http_uri(const HttpRequest *r);
extern const char *http_route_name(const HttpRequest *r);
extern void *http_app(const HttpRequest *r);
extern const char *http_body(const HttpRequest *r, size_t *len);
extern long http_read(HttpRequest *r, void *buf, size_t n);

/* The answer: exactly one http_respond or http_respond_stream. */
typedef int (*HttpProducer) (HttpRequest *r, void *arg);

extern void http_add_header(HttpRequest *r, const char *name, const char *value);
extern void http_respond(HttpRequest *r, int status, const char *ctype, const char *body,
						 size_t len);
extern int	http_respond_stream(HttpRequest *r, const char *ctype, uint64_t length,
								HttpProducer fn, void *arg);
extern int	http_write(HttpRequest *r, const void *data, size_t n);

#endif							/* HTTP_SERVER_H */
