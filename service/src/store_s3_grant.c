/*
 * store_s3_grant.c
 *	  Temporary credentials for clients of the S3 store: STS AssumeRole on
 *	  the configured role, narrowed by a session policy to one place (write
 *	  under a folder, or read one object), so that a party can upload its
 *	  encodings straight to the bucket, or fetch a large result, without
 *	  ever holding the service's keys.  Also maps the bucket and path a
 *	  client names back to a store key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/s3_sts.h"
#include "s3store_common.h"

#define STS_MIN_SECONDS 900		/* AWS's bounds for AssumeRole */
#define STS_MAX_SECONDS 43200

/* Split http[s]://host[:port] into host[:port] and whether it is https. */
static int
split_endpoint(const char *ep, char **host, int *secure)
{
	const char *p;
	size_t		n;

	if (strncmp(ep, "https://", 8) == 0)
		*secure = 1, p = ep + 8;
	else if (strncmp(ep, "http://", 7) == 0)
		*secure = 0, p = ep + 7;
	else
		return -1;
	n = strcspn(p, "/");
	if (n == 0 || p[n + (p[n] == '/')] != '\0' || memchr(p, '@', n))
		return -1;
	*host = strndup(p, n);
	return *host ? 0 : -1;
}

/* Read the grant settings; with no role, grants are off (not an error). */
int
s3_grant_setup(S3Store *s, const StoreOptions *o, char *err, size_t errlen)
{
	const char *pub = o->public_endpoint && o->public_endpoint[0] ? o->public_endpoint
		: s3_client_endpoint(s->c);

	if (!o->sts_role_arn || !o->sts_role_arn[0])
		return 0;
	if (o->sts_seconds < STS_MIN_SECONDS || o->sts_seconds > STS_MAX_SECONDS)
	{
		snprintf(err, errlen, "S3_STS_DURATION_SECONDS must be between %d and %d",
				 STS_MIN_SECONDS, STS_MAX_SECONDS);
		return -1;
	}
	if (split_endpoint(pub, &s->public_host, &s->public_secure) != 0)
	{
		snprintf(err, errlen, "S3_PUBLIC_ENDPOINT must be http[s]://host[:port]");
		return -1;
	}
	if (o->sts_endpoint && o->sts_endpoint[0])
		s->sts_endpoint = strdup(o->sts_endpoint);
	else if (o->s3_endpoint && o->s3_endpoint[0])
		s->sts_endpoint = strdup(s3_client_endpoint(s->c));
	else if ((s->sts_endpoint = malloc(strlen(s3_client_region(s->c)) + 32)))
		sprintf(s->sts_endpoint, "https://sts.%s.amazonaws.com", s3_client_region(s->c));
	s->sts_role = strdup(o->sts_role_arn);
	s->sts_seconds = o->sts_seconds;
	if (!s->sts_endpoint || !s->sts_role)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Free what s3_grant_setup kept. */
void
s3_grant_free(S3Store *s)
{
	free(s->sts_role);
	free(s->sts_endpoint);
	free(s->public_host);
}

/* A role session name STS accepts ([\w+=,.@-], 2 to 64 characters). */
static void
session_name(const char *who, char out[65])
{
	size_t		n = 0;

	for (const char *p = who; *p && n < 64; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr("_+=,.@-", *p))
			out[n++] = *p;
	while (n < 2)
		out[n++] = '-';
	out[n] = '\0';
}

/*
 * Credentials for key (see store_grant): the session policy allows only
 * PutObject (and finishing or abandoning a multipart upload) under key/,
 * or only GetObject of key.  Keys are validated characters, safe in JSON.
 */
int
s3_grant(void *impl, const char *key, StoreGrantKind kind, const char *who,
		 StoreGrant *g, char *err, size_t errlen)
{
	S3Store    *s = impl;
	char	   *full;
	char		policy[2048],
				name[65];
	S3Credentials cr;
	int			n;

	if (!s->sts_role)
	{
		snprintf(err, errlen, "no STS role is configured (S3_STS_ROLE_ARN)");
		return 1;
	}
	if (!(full = s3_full_key(s, key)))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (kind == STORE_GRANT_PUT_UNDER)
		n = snprintf(policy, sizeof(policy),
					 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
					 "[\"s3:PutObject\",\"s3:AbortMultipartUpload\",\"s3:ListMultipartUploadParts\"],"
					 "\"Resource\":[\"arn:aws:s3:::%s/%s/*\"]}]}", s3_client_bucket(s->c), full);
	else
		n = snprintf(policy, sizeof(policy),
					 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
					 "[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::%s/%s\"]}]}",
					 s3_client_bucket(s->c), full);
	if (n < 0 || (size_t) n >= sizeof(policy) || strlen(full) >= sizeof(g->path))
	{
		free(full);
		snprintf(err, errlen, "object key too long for a grant");
		return -1;
	}
	session_name(who, name);
	if (s3_assume_role(s->c, s->sts_endpoint, s->sts_role, name, policy, s->sts_seconds,
					   &cr, err, errlen) != 0)
	{
		free(full);
		return -1;
	}
	memcpy(g->access_key, cr.access_key, sizeof(g->access_key));
	memcpy(g->secret_key, cr.secret_key, sizeof(g->secret_key));
	memcpy(g->session_token, cr.session_token, sizeof(g->session_token));
	memcpy(g->expiration, cr.expiration, sizeof(g->expiration));
	memset(&cr, 0, sizeof(cr));
	snprintf(g->endpoint, sizeof(g->endpoint), "%s", s->public_host);
	g->secure = s->public_secure;
	snprintf(g->bucket, sizeof(g->bucket), "%s", s3_client_bucket(s->c));
	snprintf(g->path, sizeof(g->path), "%s", full);
	free(full);
	return 0;
}

/* bucket/path -> key when it lies in this store (this bucket, under the prefix). */
int
s3_locate(void *impl, const char *bucket, const char *path, char *key, size_t keylen)
{
	S3Store    *s = impl;
	size_t		pl = strlen(s->prefix);

	if (strcmp(bucket, s3_client_bucket(s->c)) != 0 || strncmp(path, s->prefix, pl) != 0 ||
		strlen(path + pl) >= keylen)
		return -1;
	snprintf(key, keylen, "%s", path + pl);
	return 0;
}
