/*
 * http_internal.h
 *	  What the HTTP server's files share: the server, a connection (the
 *	  socket's deadlines, for the sweeper) and a request (its copied head,
 *	  its body as buffer or pipe, its answer).  Not for route handlers,
 *	  which see http_server.h only.
 *
 *	  Threads: a request is created and driven by its connection's I/O
 *	  thread (libmicrohttpd's access handler, which alone may queue
 *	  answers, suspend and be resumed); its handler runs on another
 *	  thread.  The fields below `lock` are shared between the two under
 *	  it; the head is written before the handler starts and only read
 *	  after.  A request is freed when both sides let go (refs).
 */
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>

#include "http_pool.h"
#include "http_server.h"

#define HTTP_MAX_PARAMS 2
#define HTTP_MAX_HEADERS 100
#define HTTP_PIPE_BYTES (256 * 1024)	/* streamed body in flight to the handler */
#define HTTP_RING_BYTES (512 * 1024)	/* streamed answer in flight to the client */

/* A connection's phase, for its deadlines. */
typedef enum HttpPhase
{
	PHASE_IDLE,					/* between requests (keep-alive), or before the first */
	PHASE_HEAD,					/* request line in, head arriving */
	PHASE_BODY,					/* body arriving */
	PHASE_STREAM_BODY,			/* streamed body arriving (minimum rate) */
	PHASE_SERVER,				/* the server's turn: handler, or answer being sent */
} HttpPhase;

/* One TCP connection (libmicrohttpd's socket context). */
typedef struct HttpConn
{
	int			fd;
	_Atomic int phase;
	_Atomic int64_t since_ms;	/* when the phase began */
	_Atomic uint64_t body_bytes;	/* of the current request */
	_Atomic uint64_t window_bytes;	/* body_bytes when the rate window began */
	_Atomic int64_t window_ms;	/* 0: start a window at the next sweep */
	int			cut;			/* the sweeper shut it down */
	int			requests;		/* requests seen on it */
	char		peer[48];
	struct HttpConn *prev,
			   *next;
} HttpConn;

typedef struct HttpHeader
{
	const char *name;
	const char *value;
} HttpHeader;

/* Request states, as the I/O thread drives them. */
typedef enum HttpState
{
	REQ_NEW,					/* head not yet seen by the access handler */
	REQ_BODY,					/* reading a buffered body */
	REQ_RUNNING,				/* the handler has it */
	REQ_ANSWERED				/* the answer is queued */
} HttpState;

struct HttpRequest
{
	HttpServer *srv;
	struct MHD_Connection *mc;
	HttpConn   *conn;
	HttpState	state;
	const HttpRoute *route;
	char		route_name[96];
	char		method[16];
	unsigned	method_bit;
	char	   *uri;
	char		params[HTTP_MAX_PARAMS][80];
	HttpHeader	headers[HTTP_MAX_HEADERS];
	int			nheaders;
	char	   *arena;			/* the head's copied strings */
	long long	content_length; /* -1 when not given (chunked) */
	char		client[48];
	char		id[80];
	int64_t		t0_ms;
	int			logged;
	int			go_ahead;		/* I/O thread: told libmicrohttpd to read the streamed body */
	/* buffered body (I/O thread only until the handler starts) */
	char	   *body;
	size_t		body_len,
				body_cap;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	int			refs;
	int			suspended;		/* the I/O thread suspended the connection */
	int			gone;			/* the connection is finished: never resume */
	/* streamed body: the pipe from the I/O thread to the handler */
	char	   *pipe;
	size_t		pipe_off,
				pipe_len;
	int			pipe_eof;
	int			pipe_wanted;	/* the handler asked for the body (100 Continue may go) */
	/* the answer */
	int			answered;		/* set by the handler side */
	int			status;
	char	   *resp_body;
	size_t		resp_len;
	char		ctype[96];
	char	   *extra;			/* "Name\0Value\0" pairs */
	size_t		extra_len;
	int			must_close;
	/* streamed answer: the ring from the producer to the I/O thread */
	HttpProducer producer;
	void	   *producer_arg;
	uint64_t	stream_length;
	char	   *ring;
	size_t		ring_off,
				ring_len;
	int			stream_done;	/* the producer finished (stream_failed: badly) */
	int			stream_failed;
	int			reader_waiting; /* suspended in the content reader */
	int			holds_stream;	/* counts against max_streams */
};

struct HttpServer
{
	HttpConfig	cfg;
	struct MHD_Daemon *d;
	HttpPool   *pool;
	_Atomic int streams;
	_Atomic int running;		/* handlers and producers not finished */
	_Atomic int stopping;
	pthread_t	sweeper;
	pthread_mutex_t conns_lock;
	HttpConn   *conns;
	int			nconns;
};

/* http_conn.c: the connection registry and the sweeper */
extern int64_t http_now_ms(void);
extern void http_conn_phase(HttpConn *c, HttpPhase p);
extern void *http_conn_notify(HttpServer *s, struct MHD_Connection *mc, int started, void *ctx);
extern int	http_conn_sweeper_start(HttpServer *s);
extern void http_conn_sweeper_stop(HttpServer *s);

/* http_route.c */
extern const HttpRoute *http_route_match(const HttpConfig *cfg, const char *path, HttpRequest *r,
										 unsigned *allowed);
extern unsigned http_method_bit(const char *method);
extern void http_allow_header(unsigned methods, char *out, size_t outlen);

/* http_request.c: the request's two sides */
extern HttpRequest *http_request_new(HttpServer *s, struct MHD_Connection *mc, const char *uri);
extern void http_request_release(HttpRequest *r);
extern int	http_request_copy_head(HttpRequest *r);
extern void http_request_resume(HttpRequest *r);
extern size_t http_pipe_push(HttpRequest *r, const char *data, size_t n);
extern void http_pipe_end(HttpRequest *r);
extern void http_request_gone(HttpRequest *r);
extern void http_request_log(HttpRequest *r, int status);
extern struct MHD_Response *http_request_answer(HttpRequest *r);

#endif							/* HTTP_INTERNAL_H */
