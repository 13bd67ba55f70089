/*
 * worker_out.c
 *	  Buffered write-through of a result object.  Write errors are sticky:
 *	  the object then fails at commit, and nothing partial is ever stored
 *	  (the store's commit is atomic).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/keys.h"
#include "worker.h"
#include "worker_out.h"

#define OUT_BUF (1024 * 1024)

struct WorkerOut
{
	StoreWriter *w;
	char	   *buf;
	size_t		len;
	long long	bytes;
	int			failed;
};

/* Send the buffer on. */
static void
drain(WorkerOut *o)
{
	if (o->len && !o->failed && store_put_write(o->w, o->buf, o->len) != 0)
		o->failed = 1;
	o->bytes += (long long) o->len;
	o->len = 0;
}

/* Start an object; NULL when the store refuses. */
WorkerOut *
worker_out_begin(ObjectStore *s, const char *key)
{
	WorkerOut  *o = calloc(1, sizeof(WorkerOut));
	char		err[256];

	if (!o || !(o->buf = malloc(OUT_BUF)) || !(o->w = store_put_begin(s, key, err, sizeof(err))))
	{
		if (o)
			free(o->buf);
		free(o);
		return NULL;
	}
	return o;
}

/* Append a string. */
void
worker_out_str(WorkerOut *o, const char *s)
{
	worker_out_bytes(o, s, strlen(s));
}

/* Append n bytes. */
void
worker_out_bytes(WorkerOut *o, const void *data, size_t n)
{
	const char *s = data;

	while (n)
	{
		size_t		k = n < OUT_BUF - o->len ? n : OUT_BUF - o->len;

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == OUT_BUF)
			drain(o);
	}
}

/* Append formatted text (short pieces: one record at a time). */
void
worker_out_fmt(WorkerOut *o, const char *fmt, ...)
{
	char		piece[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	worker_out_str(o, piece);
}

/* Finish the object; its size in *bytes.  -1 with a message on failure. */
int
worker_out_commit(WorkerOut *o, long long *bytes, char *err, size_t errlen)
{
	int			rc;

	drain(o);
	*bytes = o->bytes;
	if (o->failed)
	{
		store_put_abort(o->w);
		snprintf(err, errlen, "object store write failed");
		rc = -1;
	}
	else
		rc = store_put_commit(o->w, err, errlen);
	free(o->buf);
	free(o);
	return rc;
}

/* Drop the object. */
void
worker_out_abort(WorkerOut *o)
{
	if (!o)
		return;
	store_put_abort(o->w);
	free(o->buf);
	free(o);
}

/* Remove a run's objects under results/<pid>/<rid>/<sub> (best effort). */
void
worker_remove_objects(Worker *w, const Job *job, const char *sub)
{
	char		prefix[KEYS_MAX],
				err[256];

	keys_run(prefix, sizeof(prefix), job->project_id, job->run_id, sub);
	store_remove_prefix(w->store, prefix, err, sizeof(err));
}
