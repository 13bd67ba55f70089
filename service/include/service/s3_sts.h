/*
 * s3_sts.h
 *	  Temporary credentials from STS AssumeRole (AWS, Ceph radosgw, MinIO),
 *	  narrowed by a session policy, for clients that read or write one
 *	  place in the bucket themselves.
 */
#ifndef S3_STS_H
#define S3_STS_H

#include <stddef.h>

#include "service/s3_client.h"

typedef struct S3Credentials
{
	char		access_key[128];
	char		secret_key[128];
	char		session_token[4096];
	char		expiration[64];	/* ISO 8601, as STS gives it */
} S3Credentials;

extern int	s3_assume_role(S3Client *c, const char *sts_endpoint, const char *role_arn,
						   const char *session_name, const char *policy, int seconds,
						   S3Credentials *out, char *err, size_t errlen);

#endif							/* S3_STS_H */
