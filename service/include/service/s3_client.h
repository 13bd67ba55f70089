/*
 * s3_client.h
 *	  Signed S3 requests over libcurl (its built-in SigV4), path-style or
 *	  virtual-host addressing, with retries and exponential backoff for
 *	  transient failures (connection errors, 5xx, 429, RequestTimeout).
 *	  Bodies sent are in memory (so a retry can resend them and the payload
 *	  hash is signed); bodies received are either captured (bounded, for
 *	  XML answers) or streamed to a sink, resuming with a Range request
 *	  after a broken transfer.
 */
#ifndef S3_CLIENT_H
#define S3_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct S3Client S3Client;

typedef struct S3Config
{
	const char *endpoint;		/* "http[s]://host[:port]"; "" = AWS for region */
	const char *region;
	const char *bucket;
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* "" when none */
	int			virtual_host;	/* 1: bucket.host/key, 0: host/bucket/key */
	int			attempts;		/* tries per request, first included */
	int			backoff_ms;		/* first retry delay; doubles, capped */
} S3Config;

/* Sink for a streamed response body; non-zero stops the transfer. */
typedef int (*S3SinkFn) (void *arg, const void *data, size_t len);

typedef struct S3Request
{
	/* in */
	const char *method;			/* GET PUT POST DELETE HEAD */
	const char *key;			/* full object key, or NULL for the bucket */
	const char *query;			/* canonical query (sorted, escaped) or NULL */
	const void *body;			/* request body in memory, or NULL */
	size_t		body_len;
	const char *const *headers; /* extra "Name: value" lines, NULL-ended */
	S3SinkFn	sink;			/* stream a 2xx body here; NULL: capture */
	void	   *sink_arg;
	int			attempts;		/* 0: the client's setting */
	const char *url;			/* absolute URL instead of bucket + key (STS) */
	const char *service;		/* SigV4 service instead of "s3" (STS: "sts") */
	/* out */
	long		status;			/* last HTTP status, 0 if none */
	char	   *resp;			/* captured body (NUL-terminated), free() it */
	size_t		resp_len;
	long long	length;			/* Content-Length of the answer, -1 unknown */
	char		etag[128];		/* ETag response header, quotes kept */
	char		meta[1024];		/* x-amz-meta-* answer headers: "name: value\n" each */
	char		code[64];		/* S3 error code from an error body */
	char		err[320];		/* what failed, for logs and clients */
} S3Request;

extern S3Client *s3_client_new(const S3Config *cfg, char *err, size_t errlen);
extern void s3_client_free(S3Client *c);
extern int	s3_perform(S3Client *c, S3Request *r);
extern void s3_request_done(S3Request *r);
extern char *s3_escape(const char *s, int keep_slash);
extern const char *s3_client_endpoint(const S3Client *c);
extern const char *s3_client_region(const S3Client *c);
extern const char *s3_client_bucket(const S3Client *c);

#endif							/* S3_CLIENT_H */
