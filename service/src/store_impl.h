/*
 * store_impl.h
 *	  The backends' side of store.h: each backend fills a StoreOps table;
 *	  store.c validates keys once and dispatches through it.
 */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include "service/store.h"

typedef struct StoreOps
{
	void	   *(*open) (const StoreOptions *opts, char *err, size_t errlen);
	void		(*close) (void *impl);
	void	   *(*put_begin) (void *impl, const char *key, char *err, size_t errlen);
	int			(*put_write) (void *w, const void *data, size_t len);
	int			(*put_commit) (void *w, char *err, size_t errlen);
	void		(*put_abort) (void *w);
	int			(*get) (void *impl, const char *key, StoreChunkFn fn, void *arg,
						char *err, size_t errlen);
	int			(*list) (void *impl, const char *key, StoreListFn fn, void *arg,
						 char *err, size_t errlen);
	int			(*remove_prefix) (void *impl, const char *key, char *err, size_t errlen);
	int			(*ping) (void *impl, char *err, size_t errlen);
	int			(*head) (void *impl, const char *key, StoreHead *h, char *err, size_t errlen);
	int			(*grant) (void *impl, const char *key, StoreGrantKind kind, const char *who,
						  StoreGrant *g, char *err, size_t errlen);
	int			(*locate) (void *impl, const char *bucket, const char *path,
						   char *key, size_t keylen);
} StoreOps;

extern const StoreOps store_file_ops;
extern const StoreOps store_s3_ops;

#endif							/* STORE_IMPL_H */
