/*
 * worker_out.h
 *	  A result object written through to the object store in pieces of
 *	  about 1 MB, so a result of any size streams out in constant memory.
 */
#ifndef WORKER_OUT_H
#define WORKER_OUT_H

#include <stddef.h>

#include "service/store.h"

typedef struct WorkerOut WorkerOut;

extern WorkerOut *worker_out_begin(ObjectStore *s, const char *key);
extern void worker_out_str(WorkerOut *o, const char *s);
extern void worker_out_bytes(WorkerOut *o, const void *data, size_t n);
extern void worker_out_fmt(WorkerOut *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int	worker_out_commit(WorkerOut *o, long long *bytes, char *err, size_t errlen);
extern void worker_out_abort(WorkerOut *o);

#endif							/* WORKER_OUT_H */
