/*
 * store_s3.c
 *	  The S3 object store (s3://bucket[/prefix]), over s3_client.c.
 *
 * A put buffers one part at a time (S3_PART_SIZE_MB, 8 MiB by default):
 * an object that fits in one part is one PutObject at commit; a larger one
 * becomes a multipart upload, each full part sent as it fills and the
 * upload completed at commit, so memory per upload is one part whatever
 * the object's size.  Each part is sent from memory, so a transient
 * failure is retried with the same bytes and their signed SHA-256.  An
 * abort (or a failed commit) aborts the multipart upload: nothing becomes
 * visible.  Reads stream to the caller and resume after a broken transfer.
 * Removal lists the prefix (ListObjectsV2) and deletes each object, and
 * aborts multipart uploads left under it by a crashed writer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/s3_xml.h"
#include "s3store_common.h"

#define MIN_PART (5u << 20)		/* S3's minimum for all but the last part */
#define MAX_PARTS 10000
#define FIRST_BUF 65536


typedef struct S3Writer
{
	S3Store    *s;
	char	   *key;			/* full key, prefix included */
	char	   *buf;
	size_t		len;
	size_t		cap;
	char	   *upload_id;		/* escaped, once a multipart upload began */
	int			parts;
	char	  (*etags)[128];
	bool		failed;
	char		err[320];
} S3Writer;

/* Whether a bucket name is one S3 accepts (3-63 of [a-z0-9.-]). */
static bool
bucket_valid(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
			  b[i] == '.' || b[i] == '-'))
			return false;
	return true;
}

/* Open s3://bucket[/prefix] with the S3 options. */
static void *
s3_open(const StoreOptions *o, char *err, size_t errlen)
{
	const char *p = o->url + 5;
	const char *slash = strchr(p, '/');
	size_t		blen = slash ? (size_t) (slash - p) : strlen(p);
	char		bucket[64];
	S3Config	cfg;
	S3Store    *s;

	if (!bucket_valid(p, blen))
	{
		snprintf(err, errlen, "object store URL: bad bucket name (expected s3://bucket[/prefix])");
		return NULL;
	}
	snprintf(bucket, sizeof(bucket), "%.*s", (int) blen, p);
	if (!(s = calloc(1, sizeof(S3Store))))
		goto oom;
	if (slash && slash[1])
	{
		size_t		n = strlen(slash + 1);
		char	   *pre = malloc(n + 2);

		if (!pre)
			goto oom;
		memcpy(pre, slash + 1, n + 1);
		while (n > 0 && pre[n - 1] == '/')
			pre[--n] = '\0';
		if (!store_key_valid(pre))
		{
			free(pre);
			free(s);
			snprintf(err, errlen, "object store URL: bad prefix");
			return NULL;
		}
		strcat(pre, "/");
		s->prefix = pre;
	}
	else if (!(s->prefix = strdup("")))
		goto oom;
	if (o->s3_part_bytes < MIN_PART || o->s3_part_bytes > (size_t) 5 << 30)
	{
		snprintf(err, errlen, "S3 part size must be between 5 MiB and 5 GiB");
		goto fail;
	}
	s->part_bytes = o->s3_part_bytes;
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = o->s3_endpoint;
	cfg.region = o->s3_region;
	cfg.bucket = bucket;
	cfg.access_key = o->s3_access_key;
	cfg.secret_key = o->s3_secret_key;
	cfg.session_token = o->s3_session_token;
	cfg.attempts = o->s3_attempts;
	cfg.backoff_ms = o->s3_backoff_ms;
	if (strcmp(o->s3_addressing, "virtual") == 0)
		cfg.virtual_host = 1;
	else if (strcmp(o->s3_addressing, "auto") == 0)
		cfg.virtual_host = o->s3_endpoint[0] == '\0';	/* AWS: virtual; others: path */
	else if (strcmp(o->s3_addressing, "path") != 0)
	{
		snprintf(err, errlen, "S3_ADDRESSING must be path, virtual or auto");
		goto fail;
	}
	if (!(s->c = s3_client_new(&cfg, err, errlen)))
		goto fail;
	if (s3_grant_setup(s, o, err, errlen) != 0)
		goto fail;
	return s;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (s)
	{
		s3_client_free(s->c);
		free(s->prefix);
		s3_grant_free(s);
	}
	free(s);
	return NULL;
}

/* Close the store. */
static void
s3_close(void *impl)
{
	S3Store    *s = impl;

	s3_client_free(s->c);
	free(s->prefix);
	s3_grant_free(s);
	free(s);
}

/* Run a request with no body to keep; -1 with err copied on failure. */
static int
simple(S3Store *s, const char *method, const char *key, const char *query,
	   char *err, size_t errlen)
{
	S3Request	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.key = key;
	r.query = query;
	rc = s3_perform(s->c, &r);
	if (rc != 0)
		snprintf(err, errlen, "%s", r.err);
	s3_request_done(&r);
	return rc;
}

/* Start an object: nothing is sent until a part fills or commit. */
static void *
s3_put_begin(void *impl, const char *key, char *err, size_t errlen)
{
	S3Store    *s = impl;
	S3Writer   *w = calloc(1, sizeof(S3Writer));

	if (!w || !(w->key = s3_full_key(s, key)))
	{
		free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->s = s;
	return w;
}

/* Begin the multipart upload (on the first full part). */
static int
initiate(S3Writer *w)
{
	S3Request	r;
	char		id[512];
	int			rc;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.key = w->key;
	r.query = "uploads=";		/* "uploads" with "=": the form SigV4 signs */
	rc = s3_perform(w->s->c, &r);
	if (rc != 0)
		snprintf(w->err, sizeof(w->err), "%s", r.err);
	else if (s3_xml_get(r.resp ? r.resp : "", "UploadId", id, sizeof(id)) != 1 ||
			 !(w->upload_id = s3_escape(id, 0)))
	{
		snprintf(w->err, sizeof(w->err), "S3 POST %s?uploads: no UploadId in the answer", w->key);
		rc = -1;
	}
	s3_request_done(&r);
	return rc;
}

/* Send the buffered bytes as the next part. */
static int
send_part(S3Writer *w)
{
	S3Request	r;
	char		query[640];
	int			rc;

	if (!w->upload_id && initiate(w) != 0)
		return -1;
	if (w->parts >= MAX_PARTS)
	{
		snprintf(w->err, sizeof(w->err), "object %s is over %d parts; raise S3_PART_SIZE_MB",
				 w->key, MAX_PARTS);
		return -1;
	}
	if (w->parts % 64 == 0)
	{
		char		(*e)[128] = realloc(w->etags, (size_t) (w->parts + 64) * sizeof(*e));

		if (!e)
		{
			snprintf(w->err, sizeof(w->err), "out of memory");
			return -1;
		}
		w->etags = e;
	}
	snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", w->parts + 1, w->upload_id);
	memset(&r, 0, sizeof(r));
	r.method = "PUT";
	r.key = w->key;
	r.query = query;
	r.body = w->buf;
	r.body_len = w->len;
	rc = s3_perform(w->s->c, &r);
	if (rc != 0)
		snprintf(w->err, sizeof(w->err), "%s", r.err);
	else if (!r.etag[0])
	{
		snprintf(w->err, sizeof(w->err), "S3 PUT %s part %d: no ETag", w->key, w->parts + 1);
		rc = -1;
	}
	else
	{
		memcpy(w->etags[w->parts], r.etag, sizeof(r.etag));
		w->parts++;
		w->len = 0;
	}
	s3_request_done(&r);
	return rc;
}

/* Append data; full parts go out as they fill.  -1 after any failure. */
static int
s3_put_write(void *impl, const void *data, size_t len)
{
	S3Writer   *w = impl;
	const char *p = data;

	while (len > 0 && !w->failed)
	{
		size_t		part = w->s->part_bytes;
		size_t		n;

		if (w->len == part && send_part(w) != 0)
		{
			w->failed = true;
			break;
		}
		if (w->len == w->cap)
		{
			size_t		cap = w->cap ? w->cap * 2 : FIRST_BUF;
			char	   *b = realloc(w->buf, cap < part ? cap : part);

			if (!b)
			{
				snprintf(w->err, sizeof(w->err), "out of memory");
				w->failed = true;
				break;
			}
			w->buf = b;
			w->cap = cap < part ? cap : part;
		}
		n = w->cap - w->len < len ? w->cap - w->len : len;
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
	}
	return w->failed ? -1 : 0;
}

/* Free a writer's memory. */
static void
writer_free(S3Writer *w)
{
	free(w->key);
	free(w->buf);
	free(w->upload_id);
	free(w->etags);
	free(w);
}

/* Abort the multipart upload, if one began (best effort). */
static void
abort_multipart(S3Writer *w)
{
	char		query[600],
				err[320];

	if (!w->upload_id)
		return;
	snprintf(query, sizeof(query), "uploadId=%s", w->upload_id);
	simple(w->s, "DELETE", w->key, query, err, sizeof(err));
}

/* Complete the multipart upload with the parts' ETags. */
static int
complete(S3Writer *w)
{
	size_t		cap = (size_t) w->parts * 200 + 128;
	char	   *xml = malloc(cap);
	char		query[600];
	size_t		n;
	S3Request	r;
	int			rc;

	if (!xml)
	{
		snprintf(w->err, sizeof(w->err), "out of memory");
		return -1;
	}
	n = (size_t) snprintf(xml, cap, "<CompleteMultipartUpload>");
	for (int i = 0; i < w->parts; i++)
		n += (size_t) snprintf(xml + n, cap - n, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
							   i + 1, w->etags[i]);
	n += (size_t) snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
	snprintf(query, sizeof(query), "uploadId=%s", w->upload_id);
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.key = w->key;
	r.query = query;
	r.body = xml;
	r.body_len = n;
	rc = s3_perform(w->s->c, &r);
	if (rc != 0)
		snprintf(w->err, sizeof(w->err), "%s", r.err);
	else if (r.resp && strstr(r.resp, "<Error>"))
	{
		/* S3 may answer 200 and put the error in the body */
		char		code[64] = "";

		s3_xml_get(r.resp, "Code", code, sizeof(code));
		snprintf(w->err, sizeof(w->err), "S3 complete %s: %s", w->key, code);
		rc = -1;
	}
	s3_request_done(&r);
	free(xml);
	return rc;
}

/* Make the object visible, whole: one PUT, or the last part + complete. */
static int
s3_put_commit(void *impl, char *err, size_t errlen)
{
	S3Writer   *w = impl;
	int			rc = w->failed ? -1 : 0;

	if (rc == 0 && !w->upload_id)
	{
		S3Request	r;

		memset(&r, 0, sizeof(r));
		r.method = "PUT";
		r.key = w->key;
		r.body = w->buf ? w->buf : "";
		r.body_len = w->len;
		if ((rc = s3_perform(w->s->c, &r)) != 0)
			snprintf(w->err, sizeof(w->err), "%s", r.err);
		s3_request_done(&r);
	}
	else if (rc == 0)
	{
		if (w->len > 0)
			rc = send_part(w);
		if (rc == 0)
			rc = complete(w);
	}
	if (rc != 0)
	{
		abort_multipart(w);
		snprintf(err, errlen, "cannot store object: %s", w->err);
	}
	writer_free(w);
	return rc;
}

/* Abandon an object: nothing becomes visible. */
static void
s3_put_abort(void *impl)
{
	S3Writer   *w = impl;

	abort_multipart(w);
	writer_free(w);
}

/* Read an object, streaming it to fn; resumes after a broken transfer. */
static int
s3_get(void *impl, const char *key, StoreChunkFn fn, void *arg, char *err, size_t errlen)
{
	S3Store    *s = impl;
	S3Request	r;
	char	   *k = s3_full_key(s, key);
	int			rc;

	if (!k)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.key = k;
	r.sink = fn;
	r.sink_arg = arg;
	rc = s3_perform(s->c, &r);
	if (rc != 0 && r.status == 404)
		snprintf(err, errlen, "object %s: not found", key);
	else if (rc != 0)
		snprintf(err, errlen, "%s", r.err);
	s3_request_done(&r);
	free(k);
	return rc;
}

/* Called with each full key (and size, or the upload id) a listing names. */
typedef int (*PageFn) (void *arg, const char *key, unsigned long long size, const char *upload_id);

/*
 * Every object under prefix (ListObjectsV2, page by page), or every open
 * multipart upload under it (ListMultipartUploads), handed to fn.  The
 * uploads listing is re-read from the start, since fn aborts what it sees.
 */
static int
list_all(S3Store *s, const char *prefix, bool uploads, PageFn fn, void *arg, char *err, size_t errlen)
{
	char	   *ep = s3_escape(prefix, 0);
	char		token[1024] = "",
				query[2048],
				key[1024],
				block[4096],
				id[512],
				num[32];
	bool		more = true;
	int			rc = 0;

	if (!ep)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (rc == 0 && more)
	{
		char	   *et = s3_escape(token, 0);
		const char *cur = NULL;
		S3Request	r;
		int			found;

		if (uploads)
			snprintf(query, sizeof(query), "prefix=%s&uploads=", ep);
		else
			snprintf(query, sizeof(query), "%s%s%slist-type=2&prefix=%s",
					 token[0] ? "continuation-token=" : "", token[0] && et ? et : "",
					 token[0] ? "&" : "", ep);
		free(et);
		memset(&r, 0, sizeof(r));
		r.method = "GET";
		r.query = query;
		if (s3_perform(s->c, &r) != 0)
		{
			snprintf(err, errlen, "%s", r.err);
			s3_request_done(&r);
			rc = -1;
			break;
		}
		more = s3_xml_get(r.resp ? r.resp : "", "IsTruncated", num, sizeof(num)) == 1 &&
			strcmp(num, "true") == 0;
		if (more && !uploads &&
			s3_xml_get(r.resp, "NextContinuationToken", token, sizeof(token)) != 1)
			more = false;
		while (rc == 0 && (found = s3_xml_next(r.resp ? r.resp : "", uploads ? "Upload" : "Contents",
											   &cur, block, sizeof(block))) != 0)
		{
			if (found < 0 || s3_xml_get(block, "Key", key, sizeof(key)) != 1)
				continue;
			if (uploads && s3_xml_get(block, "UploadId", id, sizeof(id)) != 1)
				continue;
			if (uploads)
				rc = fn(arg, key, 0, id);
			else
				rc = fn(arg, key, s3_xml_get(block, "Size", num, sizeof(num)) == 1 ?
						strtoull(num, NULL, 10) : 0, NULL);
			if (rc != 0)
				snprintf(err, errlen, "listing %s was stopped", prefix);
		}
		s3_request_done(&r);
	}
	free(ep);
	return rc;
}

/* What a listing for the caller needs: its callback and our prefix length. */
typedef struct ListArg
{
	StoreListFn fn;
	void	   *arg;
	size_t		strip;
} ListArg;

/* PageFn for store_list: keys relative to the store's prefix. */
static int
list_one(void *arg, const char *key, unsigned long long size, const char *upload_id)
{
	ListArg    *l = arg;

	(void) upload_id;
	return strlen(key) > l->strip ? l->fn(l->arg, key + l->strip, size) : 0;
}

/* Size and user metadata of an object: 0, 1 if there is none, -1. */
static int
s3_head(void *impl, const char *key, StoreHead *h, char *err, size_t errlen)
{
	S3Store    *s = impl;
	char	   *k = s3_full_key(s, key);
	S3Request	r;
	int			rc;

	if (!k)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.method = "HEAD";
	r.key = k;
	rc = s3_perform(s->c, &r);
	if (rc == 0)
	{
		h->size = r.length > 0 ? (unsigned long long) r.length : 0;
		memcpy(h->meta, r.meta, sizeof(h->meta));
	}
	else if (r.status == 404)
		rc = 1;
	else
		snprintf(err, errlen, "%s", r.err);
	s3_request_done(&r);
	free(k);
	return rc;
}

/* List the object at key and everything under key + "/". */
static int
s3_list(void *impl, const char *key, StoreListFn fn, void *arg, char *err, size_t errlen)
{
	S3Store    *s = impl;
	ListArg		l = {fn, arg, strlen(s->prefix)};
	char	   *k = s3_full_key(s, key);
	char		prefix[1100];
	StoreHead	h;

	if (!k)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the exact key first (HEAD), then the folder */
	memset(&h, 0, sizeof(h));
	if (s3_head(s, key, &h, err, errlen) == 0 && list_one(&l, k, h.size, NULL) != 0)
	{
		free(k);
		snprintf(err, errlen, "listing %s was stopped", key);
		return -1;
	}
	snprintf(prefix, sizeof(prefix), "%s/", k);
	free(k);
	return list_all(s, prefix, false, list_one, &l, err, errlen);
}

/* What a removal needs per key: the store and where to put an error. */
typedef struct RemoveArg
{
	S3Store    *s;
	char	   *err;
	size_t		errlen;
} RemoveArg;

/* PageFn for removal: delete the object, or abort the upload. */
static int
remove_one(void *arg, const char *key, unsigned long long size, const char *upload_id)
{
	RemoveArg  *a = arg;
	char		q[600];

	(void) size;
	if (!upload_id)
		return simple(a->s, "DELETE", key, NULL, a->err, a->errlen);
	{
		char	   *eid = s3_escape(upload_id, 0);

		snprintf(q, sizeof(q), "uploadId=%s", eid ? eid : "");
		free(eid);
	}
	return simple(a->s, "DELETE", key, q, a->err, a->errlen);
}

/* Remove the object at key and everything under key + "/", open uploads too. */
static int
s3_remove_prefix(void *impl, const char *key, char *err, size_t errlen)
{
	S3Store    *s = impl;
	RemoveArg	a = {s, err, errlen};
	char	   *k = s3_full_key(s, key);
	char		prefix[1100];
	int			rc;

	if (!k)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(prefix, sizeof(prefix), "%s/", k);
	rc = simple(s, "DELETE", k, NULL, err, errlen);
	if (rc == 0)
		rc = list_all(s, prefix, false, remove_one, &a, err, errlen);
	if (rc == 0)
		rc = list_all(s, prefix, true, remove_one, &a, err, errlen);
	free(k);
	return rc;
}

/* Whether the bucket answers to our credentials (for /readyz): one try. */
static int
s3_ping(void *impl, char *err, size_t errlen)
{
	S3Store    *s = impl;
	S3Request	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	r.method = "HEAD";
	r.attempts = 1;
	rc = s3_perform(s->c, &r);
	if (rc != 0)
		snprintf(err, errlen, "%s", r.err);
	s3_request_done(&r);
	return rc;
}

const StoreOps store_s3_ops = {
	s3_open, s3_close, s3_put_begin, s3_put_write, s3_put_commit, s3_put_abort,
	s3_get, s3_list, s3_remove_prefix, s3_ping, s3_head, s3_grant, s3_locate
};
