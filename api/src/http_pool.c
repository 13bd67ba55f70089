/*
 * http_pool.c
 *	  Worker threads for request handlers.  The pool runs short handlers
 *	  (a request whose body is already read, whose answer is built in
 *	  memory); a handler that moves a body of unbounded length (an upload,
 *	  a result download) gets a detached thread of its own instead, so
 *	  that slow transfers never take the pool's threads.  The number of
 *	  those is bounded by the caller (uploads and downloads in flight).
 */
#include <pthread.h>
#include <stdlib.h>

#include "http_pool.h"

typedef struct Job
{
	HttpJobFn	fn;
	void	   *arg;
	struct Job *next;
} Job;

struct HttpPool
{
	pthread_mutex_t lock;
	pthread_cond_t ready;
	Job		   *head,
			   *tail;
	int			stopping;
	int			nthreads;
	pthread_t  *threads;
};

/* Thread attributes with the handlers' stack size. */
static void
stack_attr(pthread_attr_t *a)
{
	pthread_attr_init(a);
	pthread_attr_setstacksize(a, HTTP_THREAD_STACK);
}

/* A pool thread: run jobs until the pool stops and the queue is empty. */
static void *
worker(void *arg)
{
	HttpPool   *p = arg;

	for (;;)
	{
		Job		   *j;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->ready, &p->lock);
		j = p->head;
		if (j)
		{
			p->head = j->next;
			if (!p->head)
				p->tail = NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		j->fn(j->arg);
		free(j);
	}
}

/* Start a pool of `threads` workers; NULL when threads cannot be made. */
HttpPool *
http_pool_start(int threads)
{
	HttpPool   *p = calloc(1, sizeof(HttpPool));
	pthread_attr_t a;

	if (!p || !(p->threads = calloc((size_t) threads, sizeof(pthread_t))))
	{
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	stack_attr(&a);
	for (; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], &a, worker, p) != 0)
			break;
	pthread_attr_destroy(&a);
	if (p->nthreads < threads)
	{
		http_pool_stop(p);
		return NULL;
	}
	return p;
}

/* Queue a job; -1 when out of memory or stopping. */
int
http_pool_submit(HttpPool *p, HttpJobFn fn, void *arg)
{
	Job		   *j = malloc(sizeof(Job));

	if (!j)
		return -1;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping)
	{
		pthread_mutex_unlock(&p->lock);
		free(j);
		return -1;
	}
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Finish the queued jobs, then join the threads and free the pool. */
void
http_pool_stop(HttpPool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	free(p);
}

/* A detached thread's body: run its one job. */
static void *
run_one(void *arg)
{
	Job		   *j = arg;

	j->fn(j->arg);
	free(j);
	return NULL;
}

/* A detached thread of its own for fn(arg); -1 when none can be made. */
int
http_thread_spawn(HttpJobFn fn, void *arg)
{
	Job		   *j = malloc(sizeof(Job));
	pthread_attr_t a;
	pthread_t	t;
	int			rc;

	if (!j)
		return -1;
	j->fn = fn;
	j->arg = arg;
	stack_attr(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &a, run_one, j);
	pthread_attr_destroy(&a);
	if (rc != 0)
		free(j);
	return rc == 0 ? 0 : -1;
}
