/*
 * s3store_common.h
 *	  What the S3 backend's files share: the store itself, and the grant
 *	  half (store_s3_grant.c: temporary credentials for clients, and
 *	  mapping a client's bucket and path back to a key).
 */
#ifndef S3STORE_COMMON_H
#define S3STORE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stddef.h>

#include "service/s3_client.h"
#include "store_impl.h"

typedef struct S3Store
{
	S3Client   *c;
	char	   *prefix;			/* "" or "some/prefix/" */
	size_t		part_bytes;
	/* grants to clients (store_s3_grant.c) */
	char	   *sts_role;		/* NULL: none are given */
	char	   *sts_endpoint;
	int			sts_seconds;
	char	   *public_host;	/* host[:port] clients connect to */
	int			public_secure;
} S3Store;

/* The store's prefix + key, malloc'ed (NULL when out of memory). */
static inline char *
s3_full_key(const S3Store *s, const char *key)
{
	size_t		n = strlen(s->prefix) + strlen(key) + 1;
	char	   *k = malloc(n);

	if (k)
		snprintf(k, n, "%s%s", s->prefix, key);
	return k;
}
extern int	s3_grant_setup(S3Store *s, const StoreOptions *o, char *err, size_t errlen);
extern void s3_grant_free(S3Store *s);
extern int	s3_grant(void *impl, const char *key, StoreGrantKind kind, const char *who,
					 StoreGrant *g, char *err, size_t errlen);
extern int	s3_locate(void *impl, const char *bucket, const char *path, char *key, size_t keylen);

#endif							/* S3STORE_COMMON_H */
