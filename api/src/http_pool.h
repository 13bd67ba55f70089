/*
 * http_pool.h
 *	  A fixed pool of worker threads with a FIFO of jobs, and detached
 *	  threads of their own for long jobs (streamed uploads and downloads),
 *	  every thread with a stack sized for the request handlers' deepest
 *	  recursion (HTTP_THREAD_STACK).
 */
#ifndef HTTP_POOL_H
#define HTTP_POOL_H

#include <stddef.h>

/* Stack of every thread that runs a handler: jansson's recursion over
 * JSON nested API_JSON_MAX_DEPTH deep needs a few kB; this leaves room. */
#define HTTP_THREAD_STACK (2u * 1024 * 1024)

typedef struct HttpPool HttpPool;
typedef void (*HttpJobFn) (void *arg);

extern HttpPool *http_pool_start(int threads);
extern int	http_pool_submit(HttpPool *p, HttpJobFn fn, void *arg);
extern void http_pool_stop(HttpPool *p);
extern int	http_thread_spawn(HttpJobFn fn, void *arg);

#endif							/* HTTP_POOL_H */
