/*
 * s3_sts.c
 *	  STS AssumeRole over the S3 client: a form POST to the STS endpoint,
 *	  signed for the "sts" service with the store's own keys, retried like
 *	  every S3 request.  The answer's secrets go only to the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/s3_sts.h"
#include "service/s3_xml.h"

/* Append "&name=escaped(value)" to a growing form body; -1 on overflow. */
static int
form_add(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
	char	   *v = s3_escape(value, 0);
	int			n;

	if (!v)
		return -1;
	n = snprintf(buf + *len, cap - *len, "%s%s=%s", *len ? "&" : "", name, v);
	free(v);
	if (n < 0 || (size_t) n >= cap - *len)
		return -1;
	*len += (size_t) n;
	return 0;
}

/*
 * Assume role_arn for seconds, narrowed by the session policy (JSON).
 * 0 with the credentials in *out, or -1 with err (no secret in it).
 */
int
s3_assume_role(S3Client *c, const char *sts_endpoint, const char *role_arn,
			   const char *session_name, const char *policy, int seconds,
			   S3Credentials *out, char *err, size_t errlen)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL
	};
	char		body[8192],
				dur[16],
				url[512];
	size_t		len = 0;
	S3Request	r;
	int			rc;

	snprintf(dur, sizeof(dur), "%d", seconds);
	snprintf(url, sizeof(url), "%s/", sts_endpoint);
	if (form_add(body, sizeof(body), &len, "Action", "AssumeRole") != 0 ||
		form_add(body, sizeof(body), &len, "DurationSeconds", dur) != 0 ||
		form_add(body, sizeof(body), &len, "Policy", policy) != 0 ||
		form_add(body, sizeof(body), &len, "RoleArn", role_arn) != 0 ||
		form_add(body, sizeof(body), &len, "RoleSessionName", session_name) != 0 ||
		form_add(body, sizeof(body), &len, "Version", "2011-06-15") != 0)
	{
		snprintf(err, errlen, "STS request too large");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = url;
	r.service = "sts";
	r.body = body;
	r.body_len = len;
	r.headers = headers;
	rc = s3_perform(c, &r);
	if (rc != 0)
		snprintf(err, errlen, "STS AssumeRole: %s", r.err);
	else if (!r.resp ||
			 s3_xml_get(r.resp, "AccessKeyId", out->access_key, sizeof(out->access_key)) != 1 ||
			 s3_xml_get(r.resp, "SecretAccessKey", out->secret_key, sizeof(out->secret_key)) != 1 ||
			 s3_xml_get(r.resp, "SessionToken", out->session_token, sizeof(out->session_token)) != 1 ||
			 s3_xml_get(r.resp, "Expiration", out->expiration, sizeof(out->expiration)) != 1)
	{
		snprintf(err, errlen, "STS AssumeRole: the answer has no credentials");
		rc = -1;
	}
	if (r.resp)
		memset(r.resp, 0, r.resp_len);
	s3_request_done(&r);
	return rc;
}
