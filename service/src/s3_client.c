/*
 * s3_client.c
 *	  One signed S3 request with retries.  libcurl signs it (CURLOPT_AWS_SIGV4);
 *	  we send x-amz-content-sha256 ourselves: the SHA-256 of the in-memory
 *	  body, so the store verifies what arrives.  Connections are shared
 *	  between threads through a locked CURLSH, so parts of an upload and
 *	  concurrent requests reuse them.  Secrets never enter error messages.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "service/s3_client.h"
#include "service/s3_xml.h"

#define CAPTURE_MAX (4 << 20)	/* XML answers; a list page is ~300 kB */
#define BACKOFF_CAP_MS 10000

struct S3Client
{
	char	   *base;			/* URL before the key: scheme://host/bucket or scheme://bucket.host */
	char	   *sigv4;			/* "aws:amz:<region>:s3" */
	char	   *endpoint;		/* scheme://host[:port] */
	char	   *region;
	char	   *bucket;
	char	   *access;
	char	   *secret;
	char	   *token_header;	/* "x-amz-security-token: ..." or NULL */
	int			attempts;
	int			backoff_ms;
	CURLSH	   *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

/* What one transfer has done so far (kept across retries for resuming). */
typedef struct Xfer
{
	S3Client   *c;
	S3Request  *r;
	CURL	   *h;
	size_t		sent;			/* body bytes handed to curl this attempt */
	uint64_t	delivered;		/* body bytes handed to the sink, all attempts */
	uint64_t	skip;			/* bytes to drop (a resume the server ignored) */
	uint64_t	resume_from;	/* Range start asked for this attempt */
	bool		first_write;
	bool		stopped;		/* the sink asked to stop */
	bool		overflow;		/* captured body over CAPTURE_MAX */
	char	   *cap;
	size_t		cap_len;
} Xfer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init, once per process (it is not thread-safe itself). */
static void
init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* CURLSH lock callback. */
static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	S3Client   *c = arg;

	(void) h;
	(void) access;
	pthread_mutex_lock(&c->locks[data]);
}

/* CURLSH unlock callback. */
static void
share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	S3Client   *c = arg;

	(void) h;
	pthread_mutex_unlock(&c->locks[data]);
}

/* Percent-encode for SigV4 (all but unreserved; '/' kept if asked). */
char *
s3_escape(const char *s, int keep_slash)
{
	size_t		n = strlen(s);
	char	   *out = malloc(3 * n + 1),
			   *o = out;

	if (!out)
		return NULL;
	for (; *s; s++)
	{
		unsigned char ch = (unsigned char) *s;

		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
			(keep_slash && ch == '/'))
			*o++ = (char) ch;
		else
			o += sprintf(o, "%%%02X", ch);
	}
	*o = '\0';
	return out;
}

/* Split "http[s]://host[:port]" (no path) into scheme and authority. */
static int
parse_endpoint(const char *ep, char *scheme, size_t slen, char *auth, size_t alen)
{
	const char *p = strstr(ep, "://");
	size_t		n;

	if (!p || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0))
		return -1;
	snprintf(scheme, slen, "%.*s", (int) (p - ep), ep);
	p += 3;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || n >= alen || memchr(p, '/', n) || memchr(p, '@', n))
		return -1;
	snprintf(auth, alen, "%.*s", (int) n, p);
	return 0;
}

/* A client for one bucket; NULL with err on a bad configuration. */
S3Client *
s3_client_new(const S3Config *cfg, char *err, size_t errlen)
{
	S3Client   *c;
	char		scheme[8],
				auth[256],
				ep[300];
	size_t		n;

	pthread_once(&curl_once, init_curl);
	if (cfg->endpoint[0])
		snprintf(ep, sizeof(ep), "%s", cfg->endpoint);
	else
		snprintf(ep, sizeof(ep), "https://s3.%s.amazonaws.com", cfg->region);
	if (parse_endpoint(ep, scheme, sizeof(scheme), auth, sizeof(auth)) != 0)
	{
		snprintf(err, errlen, "S3_ENDPOINT must be http[s]://host[:port] without a path");
		return NULL;
	}
	if (!cfg->access_key[0] || !cfg->secret_key[0])
	{
		snprintf(err, errlen, "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set for an s3:// store");
		return NULL;
	}
	if (!(c = calloc(1, sizeof(S3Client))))
		goto oom;
	n = strlen(ep) + strlen(cfg->bucket) + 8;
	if (!(c->base = malloc(n)))
		goto oom;
	if (cfg->virtual_host)
		snprintf(c->base, n, "%s://%s.%s", scheme, cfg->bucket, auth);
	else
		snprintf(c->base, n, "%s://%s/%s", scheme, auth, cfg->bucket);
	n = strlen(cfg->region) + 16;
	if (!(c->sigv4 = malloc(n)))
		goto oom;
	snprintf(c->sigv4, n, "aws:amz:%s:s3", cfg->region);
	if (!(c->endpoint = malloc(strlen(scheme) + strlen(auth) + 4)))
		goto oom;
	sprintf(c->endpoint, "%s://%s", scheme, auth);
	if (!(c->region = strdup(cfg->region)) || !(c->bucket = strdup(cfg->bucket)))
		goto oom;
	if (!(c->access = strdup(cfg->access_key)) || !(c->secret = strdup(cfg->secret_key)))
		goto oom;
	if (cfg->session_token && cfg->session_token[0])
	{
		n = strlen(cfg->session_token) + 32;
		if (!(c->token_header = malloc(n)))
			goto oom;
		snprintf(c->token_header, n, "x-amz-security-token: %s", cfg->session_token);
	}
	c->attempts = cfg->attempts > 0 ? cfg->attempts : 1;
	c->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 200;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	if (!(c->share = curl_share_init()))
		goto oom;
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return c;
oom:
	snprintf(err, errlen, "out of memory");
	s3_client_free(c);
	return NULL;
}

/* Free a client (no request may be in flight). */
void
s3_client_free(S3Client *c)
{
	if (!c)
		return;
	if (c->share)
	{
		curl_share_cleanup(c->share);
		for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_destroy(&c->locks[i]);
	}
	free(c->base);
	free(c->sigv4);
	free(c->endpoint);
	free(c->region);
	free(c->bucket);
	free(c->access);
	if (c->secret)
		memset(c->secret, 0, strlen(c->secret));
	free(c->secret);
	free(c->token_header);
	free(c);
}

/* Free what a request captured. */
void
s3_request_done(S3Request *r)
{
	free(r->resp);
	r->resp = NULL;
	r->resp_len = 0;
}

/* curl read callback: the in-memory body. */
static size_t
read_body(char *buf, size_t size, size_t nmemb, void *arg)
{
	Xfer	   *x = arg;
	size_t		left = x->r->body_len - x->sent;
	size_t		n = size * nmemb < left ? size * nmemb : left;

	memcpy(buf, (const char *) x->r->body + x->sent, n);
	x->sent += n;
	return n;
}

/* curl seek callback: rewind the in-memory body (curl may resend it). */
static int
seek_body(void *arg, curl_off_t offset, int origin)
{
	Xfer	   *x = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t) offset > x->r->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->sent = (size_t) offset;
	return CURL_SEEKFUNC_OK;
}

/* curl write callback: 2xx bodies to the sink, others captured. */
static size_t
write_body(char *data, size_t size, size_t nmemb, void *arg)
{
	Xfer	   *x = arg;
	size_t		n = size * nmemb;
	long		status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (x->first_write)
	{
		/* a resume the server answered whole: drop what the sink has */
		x->first_write = false;
		if (x->resume_from && status == 200)
			x->skip = x->resume_from;
	}
	if (x->r->sink && status >= 200 && status < 300)
	{
		size_t		drop = x->skip < n ? (size_t) x->skip : n;

		x->skip -= drop;
		if (n > drop && x->r->sink(x->r->sink_arg, data + drop, n - drop) != 0)
		{
			x->stopped = true;
			return 0;
		}
		x->delivered += n - drop;
		return n;
	}
	if (x->cap_len + n > CAPTURE_MAX)
	{
		x->overflow = true;
		return 0;
	}
	{
		char	   *p = realloc(x->cap, x->cap_len + n + 1);

		if (!p)
			return 0;
		x->cap = p;
	}
	memcpy(x->cap + x->cap_len, data, n);
	x->cap_len += n;
	x->cap[x->cap_len] = '\0';
	return n;
}

/* curl header callback: keep the ETag and the x-amz-meta-* headers. */
static size_t
read_header(char *line, size_t size, size_t nmemb, void *arg)
{
	Xfer	   *x = arg;
	size_t		n = size * nmemb;

	if (n > 11 && strncasecmp(line, "x-amz-meta-", 11) == 0)
	{
		size_t		have = strlen(x->r->meta),
					len = n;

		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
			len--;
		/* a header that does not fit whole is left out, never cut */
		if (have + len - 11 + 2 <= sizeof(x->r->meta))
			snprintf(x->r->meta + have, sizeof(x->r->meta) - have, "%.*s\n",
					 (int) (len - 11), line + 11);
	}

	if (n > 5 && strncasecmp(line, "etag:", 5) == 0)
	{
		const char *v = line + 5;
		size_t		len = n - 5;

		while (len > 0 && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(x->r->etag))
			snprintf(x->r->etag, sizeof(x->r->etag), "%.*s", (int) len, v);
	}
	return n;
}

/* Hex SHA-256 of the body (of nothing when there is none). */
static void
body_sha256(const S3Request *r, char hex[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256(r->body ? r->body : (const void *) "", r->body ? r->body_len : 0, d);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

/* The request URL: base + "/" + escaped key + "?" + query. */
static char *
request_url(const S3Client *c, const S3Request *r)
{
	char	   *key;
	size_t		n;
	char	   *url;

	if (r->url)
		return strdup(r->url);
	if (!(key = s3_escape(r->key ? r->key : "", 1)))
		return NULL;
	n = strlen(c->base) + strlen(key) + (r->query ? strlen(r->query) : 0) + 4;
	if ((url = malloc(n)))
		snprintf(url, n, "%s/%s%s%s", c->base, key, r->query ? "?" : "", r->query ? r->query : "");
	free(key);
	return url;
}

/* Whether a failed attempt may succeed if repeated. */
static bool
retryable(CURLcode rc, long status, const char *code)
{
	switch (rc)
	{
		case CURLE_OK:
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			return true;
		default:
			return false;
	}
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504 ||
		(status == 400 && strcmp(code, "RequestTimeout") == 0);
}

/* Sleep before retry number n (1-based): doubling delay with jitter. */
static void
backoff(const S3Client *c, int n)
{
	long		ms = (long) c->backoff_ms << (n - 1 < 16 ? n - 1 : 16);
	struct timespec ts;
	unsigned	seed;

	if (ms > BACKOFF_CAP_MS)
		ms = BACKOFF_CAP_MS;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (unsigned) ts.tv_nsec;
	ms = ms / 2 + rand_r(&seed) % (ms / 2 + 1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* One attempt of the request; the curl result, the status in *status. */
static CURLcode
attempt(Xfer *x, const char *url, const char *sha, long *status, char *curlerr)
{
	S3Client   *c = x->c;
	S3Request  *r = x->r;
	struct curl_slist *hl = NULL;
	char		line[256],
				sigv4[128];
	CURLcode	rc;

	r->meta[0] = '\0';
	if (r->service)
		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", c->region, r->service);

	x->sent = 0;
	x->skip = 0;
	free(x->cap);
	x->cap = NULL;
	x->cap_len = 0;
	x->resume_from = r->sink ? x->delivered : 0;
	x->first_write = true;
	if (!x->resume_from)
		r->etag[0] = '\0';
	if (!(x->h = curl_easy_init()))
		return CURLE_OUT_OF_MEMORY;
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
	hl = curl_slist_append(hl, line);
	if (c->token_header)
		hl = curl_slist_append(hl, c->token_header);
	for (const char *const *h = r->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	if (x->resume_from)
	{
		/* resume a broken download where it stopped, from the same object */
		snprintf(line, sizeof(line), "Range: bytes=%llu-", (unsigned long long) x->delivered);
		hl = curl_slist_append(hl, line);
		if (r->etag[0])
		{
			snprintf(line, sizeof(line), "If-Match: %s", r->etag);
			hl = curl_slist_append(hl, line);
		}
	}
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_AWS_SIGV4, r->service ? sigv4 : c->sigv4);
	curl_easy_setopt(x->h, CURLOPT_USERNAME, c->access);
	curl_easy_setopt(x->h, CURLOPT_PASSWORD, c->secret);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, read_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0)
	{
		curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(x->h, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(x->h, CURLOPT_READDATA, x);
		curl_easy_setopt(x->h, CURLOPT_SEEKFUNCTION, seek_body);
		curl_easy_setopt(x->h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) (r->body ? r->body_len : 0));
		if (strcmp(r->method, "POST") == 0)
			curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, "POST");
	}
	else if (strcmp(r->method, "GET") != 0)
		curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, r->method);
	curlerr[0] = '\0';
	rc = curl_easy_perform(x->h);
	*status = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, status);
	{
		curl_off_t	len = -1;

		curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		r->length = (long long) len;
	}
	curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(hl);
	return rc;
}

/*
 * Perform a request, retrying transient failures with backoff.  0 when
 * the final answer is 2xx; otherwise -1 with r->err (and r->code from an
 * S3 error body).  r->resp holds a captured body either way.
 */
int
s3_perform(S3Client *c, S3Request *r)
{
	Xfer		x;
	char		sha[65],
				curlerr[CURL_ERROR_SIZE];
	char	   *url = request_url(c, r);
	CURLcode	rc = CURLE_OK;
	int			n,
				attempts = r->attempts > 0 ? r->attempts : c->attempts;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.r = r;
	r->status = 0;
	r->resp = NULL;
	r->resp_len = 0;
	r->etag[0] = r->code[0] = r->err[0] = '\0';
	if (!url)
	{
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	body_sha256(r, sha);
	for (n = 1;; n++)
	{
		rc = attempt(&x, url, sha, &r->status, curlerr);
		r->code[0] = '\0';
		if (x.cap && r->status >= 300)
			s3_xml_get(x.cap, "Code", r->code, sizeof(r->code));
		if (rc == CURLE_OK && r->status >= 200 && r->status < 300)
			break;
		if (x.stopped || x.overflow || n >= attempts || !retryable(rc, r->status, r->code))
			break;
		backoff(c, n);
	}
	r->resp = x.cap;
	r->resp_len = x.cap_len;
	free(url);
	if (rc == CURLE_OK && r->status >= 200 && r->status < 300)
		return 0;
	if (x.stopped)
		snprintf(r->err, sizeof(r->err), "S3 %s %s: stopped by the reader", r->method,
				 r->key ? r->key : "(bucket)");
	else if (rc != CURLE_OK)
		snprintf(r->err, sizeof(r->err), "S3 %s %s: %s (after %d attempt%s)", r->method,
				 r->key ? r->key : "(bucket)", curlerr[0] ? curlerr : curl_easy_strerror(rc),
				 n, n == 1 ? "" : "s");
	else
		snprintf(r->err, sizeof(r->err), "S3 %s %s: HTTP %ld%s%s", r->method,
				 r->key ? r->key : "(bucket)", r->status, r->code[0] ? " " : "", r->code);
	return -1;
}

/* The endpoint as scheme://host[:port] (AWS's regional one when unset). */
const char *
s3_client_endpoint(const S3Client *c)
{
	return c->endpoint;
}

/* The signing region. */
const char *
s3_client_region(const S3Client *c)
{
	return c->region;
}

/* The bucket. */
const char *
s3_client_bucket(const S3Client *c)
{
	return c->bucket;
}

