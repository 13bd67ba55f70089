/*
 * store.h
 *	  The object store behind one small interface: uploads are written
 *	  through as they stream in (put_begin / put_write / put_commit, or
 *	  put_abort so that nothing is stored), objects are read back in chunks,
 *	  and a project's objects are removed by key prefix.  Backends: the local
 *	  filesystem (file:///path, the embedded default) and S3
 *	  (s3://bucket[/prefix], store_s3.c).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

typedef struct ObjectStore ObjectStore;
typedef struct StoreWriter StoreWriter;
typedef int (*StoreChunkFn) (void *arg, const void *data, size_t len);
typedef int (*StoreListFn) (void *arg, const char *key, unsigned long long size);

/* Where the objects live; the s3_* fields matter for s3:// URLs only. */
typedef struct StoreOptions
{
	const char *url;			/* file:///path or s3://bucket[/prefix] */
	const char *s3_endpoint;	/* http[s]://host[:port]; "" = AWS */
	const char *s3_region;
	const char *s3_access_key;
	const char *s3_secret_key;
	const char *s3_session_token;
	const char *s3_addressing;	/* "path", "virtual" or "auto" */
	int			s3_attempts;	/* tries per request */
	int			s3_backoff_ms;	/* first retry delay */
	size_t		s3_part_bytes;	/* multipart part size (>= 5 MiB) */
	const char *sts_role_arn;	/* role for clients' temporary credentials; "" = none */
	const char *sts_endpoint;	/* "" = the S3 endpoint (or AWS's regional STS) */
	int			sts_seconds;	/* lifetime of those credentials */
	const char *public_endpoint;	/* the S3 endpoint as clients reach it; "" = S3's */
} StoreOptions;

/* What a client needs to reach one place in the store itself. */
typedef enum StoreGrantKind
{
	STORE_GRANT_PUT_UNDER,		/* write objects under key + "/" */
	STORE_GRANT_GET				/* read the object key */
} StoreGrantKind;

typedef struct StoreGrant
{
	char		access_key[128];
	char		secret_key[128];
	char		session_token[4096];
	char		expiration[64];
	char		endpoint[256];	/* host[:port] */
	int			secure;			/* https */
	char		bucket[64];
	char		path[1100];		/* the key in the bucket, store prefix included */
} StoreGrant;

/* What a HEAD says about an object. */
typedef struct StoreHead
{
	unsigned long long size;
	char		meta[1024];		/* user metadata: "name: value\n" each */
} StoreHead;

extern ObjectStore *store_open(const StoreOptions *opts, char *err, size_t errlen);
extern ObjectStore *store_open_url(const char *url, char *err, size_t errlen);
extern void store_close(ObjectStore *s);
extern int	store_key_valid(const char *key);
extern StoreWriter *store_put_begin(ObjectStore *s, const char *key, char *err, size_t errlen);
extern int	store_put_write(StoreWriter *w, const void *data, size_t len);
extern int	store_put_commit(StoreWriter *w, char *err, size_t errlen);
extern void store_put_abort(StoreWriter *w);
extern int	store_get(ObjectStore *s, const char *key, StoreChunkFn fn, void *arg,
					  char *err, size_t errlen);
extern int	store_list(ObjectStore *s, const char *prefix, StoreListFn fn, void *arg,
					   char *err, size_t errlen);
extern int	store_remove_prefix(ObjectStore *s, const char *prefix, char *err, size_t errlen);
extern int	store_ping(ObjectStore *s, char *err, size_t errlen);
extern int	store_head(ObjectStore *s, const char *key, StoreHead *h, char *err, size_t errlen);
extern int	store_head_meta(const StoreHead *h, const char *name, char *out, size_t outlen);
extern int	store_grant(ObjectStore *s, const char *key, StoreGrantKind kind, const char *who,
						StoreGrant *g, char *err, size_t errlen);
extern int	store_is_local(const ObjectStore *s);
extern int	store_locate(ObjectStore *s, const char *bucket, const char *path,
						 char *key, size_t keylen);

#endif							/* STORE_H */
