/*
 * store.h
 *	  The object store behind one small interface: uploads are written
 *	  through as they stream in (put_begin / put_write / put_commit, or
 *	  put_abort so that nothing is stored), objects are read back in chunks,
 *	  and a project's objects are removed by key prefix.  Backends: the local
 *	  filesystem (file:///path, the embedded default) now; S3 next.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

typedef struct ObjectStore ObjectStore;
typedef struct StoreWriter StoreWriter;
typedef int (*StoreChunkFn) (void *arg, const void *data, size_t len);

extern ObjectStore *store_open(const char *url, char *err, size_t errlen);
extern void store_close(ObjectStore *s);
extern int	store_key_valid(const char *key);
extern StoreWriter *store_put_begin(ObjectStore *s, const char *key, char *err, size_t errlen);
extern int	store_put_write(StoreWriter *w, const void *data, size_t len);
extern int	store_put_commit(StoreWriter *w, char *err, size_t errlen);
extern void store_put_abort(StoreWriter *w);
extern int	store_get(ObjectStore *s, const char *key, StoreChunkFn fn, void *arg,
					  char *err, size_t errlen);
extern int	store_remove_prefix(ObjectStore *s, const char *prefix, char *err, size_t errlen);
extern int	store_ping(ObjectStore *s, char *err, size_t errlen);

#endif							/* STORE_H */
