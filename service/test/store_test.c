/*
 * store_test.c
 *	  The object store, both backends, through store.h: write-through puts
 *	  in many chunks, atomic commit (a reader never sees a partial object),
 *	  abort leaves nothing and keeps the previous version, key validation,
 *	  removal by prefix.
 *
 *	  store_test                the filesystem backend (a temp directory)
 *	  store_test s3 RGWDIR      the S3 backend against the radosgw that
 *	                            scripts/rgwtmp.sh started in RGWDIR (its
 *	                            S3_* settings in the environment): the same
 *	                            cases in path and virtual-host addressing
 *	                            and under a URL prefix, plus multipart
 *	                            objects, aborted multipart uploads, a wrong
 *	                            secret, and the gateway going away (retries
 *	                            with backoff, then a clear error).
 *	  Prints "N passed, N failed" last.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "service/s3_client.h"
#include "service/store.h"

/* A growable byte buffer that store_get appends to. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
} Buf;

/* Chunk callback: append. */
static int
collect(void *arg, const void *data, size_t len)
{
	Buf		   *b = arg;

	b->data = realloc(b->data, b->len + len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/* Chunk callback that stops the read after the first chunk. */
static int
stop_early(void *arg, const void *data, size_t len)
{
	(void) arg;
	(void) data;
	(void) len;
	return 1;
}

/* Chunk callback that kills the gateway after the first chunk (resume test). */
typedef struct Breaker
{
	Buf			b;
	const char *cmd;
} Breaker;

static int
break_once(void *arg, const void *data, size_t len)
{
	Breaker    *k = arg;

	if (k->cmd && system(k->cmd) != 0)
		return 1;
	k->cmd = NULL;
	return collect(&k->b, data, len);
}

/* List callback: append "key=size;" to a string. */
static int
list_into(void *arg, const char *key, unsigned long long size)
{
	char	   *out = arg;

	snprintf(out + strlen(out), 1024 - strlen(out), "%s=%llu;", key, size);
	return 0;
}

/* The listing of prefix as "key=size;" items in sorted order ("" if none). */
static void
listing(ObjectStore *s, const char *prefix, char out[1024])
{
	char		err[512],
				items[32][128],
				tmp[1024] = "";
	int			n = 0;

	out[0] = '\0';
	if (store_list(s, prefix, list_into, tmp, err, sizeof(err)) != 0)
	{
		snprintf(out, 1024, "error: %s", err);
		return;
	}
	for (char *p = strtok(tmp, ";"); p && n < 32; p = strtok(NULL, ";"))
		snprintf(items[n++], sizeof(items[0]), "%s", p);
	qsort(items, (size_t) n, sizeof(items[0]), (int (*)(const void *, const void *)) strcmp);
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), 1024 - strlen(out), "%s;", items[i]);
}

/* Read a whole object; -1 when missing. */
static int
get_all(ObjectStore *s, const char *key, Buf *b)
{
	char		err[512];

	b->data = NULL;
	b->len = 0;
	return store_get(s, key, collect, b, err, sizeof(err));
}

/* Whether key reads back exactly as data[0..len). */
static int
same(ObjectStore *s, const char *key, const char *data, size_t len)
{
	Buf			b;
	int			ok = get_all(s, key, &b) == 0 && b.len == len && (len == 0 || memcmp(b.data, data, len) == 0);

	free(b.data);
	return ok;
}

/* Write data[0..len) to key in pieces of step bytes; 0 when committed. */
static int
put(ObjectStore *s, const char *key, const char *data, size_t len, size_t step)
{
	char		err[512];
	StoreWriter *w = store_put_begin(s, key, err, sizeof(err));

	if (!w)
		return -1;
	for (size_t off = 0; off < len; off += step)
		if (store_put_write(w, data + off, len - off < step ? len - off : step) != 0)
		{
			store_put_abort(w);
			return -1;
		}
	if (store_put_commit(w, err, sizeof(err)) != 0)
	{
		printf("  commit: %s\n", err);
		return -1;
	}
	return 0;
}

/* The cases every backend must pass, on an open store. */
static void
conformance(ObjectStore *s, const char *label, const char *data, size_t big)
{
	char		err[512],
				what[160],
				list[1024];
	StoreWriter *w;
	Buf			b;

#define CHECK(ok, name) (snprintf(what, sizeof(what), "%s: %s", label, name), check((ok), what))
	CHECK(store_ping(s, err, sizeof(err)) == 0, "ping");
	w = store_put_begin(s, "p1/dp0/clks.json", err, sizeof(err));
	CHECK(w != NULL, "put begins");
	for (size_t off = 0; w && off < big; off += 1000)
		store_put_write(w, data + off, big - off < 1000 ? big - off : 1000);
	CHECK(get_all(s, "p1/dp0/clks.json", &b) != 0, "invisible before commit");
	free(b.data);
	CHECK(w && store_put_commit(w, err, sizeof(err)) == 0, "commit");
	CHECK(same(s, "p1/dp0/clks.json", data, big), "read back in chunks equals what was written");
	CHECK(store_get(s, "p1/dp0/clks.json", stop_early, NULL, err, sizeof(err)) != 0,
		  "a reader that stops ends the read with an error");

	/* An aborted overwrite keeps the previous object. */
	w = store_put_begin(s, "p1/dp0/clks.json", err, sizeof(err));
	store_put_write(w, "partial", 7);
	store_put_abort(w);
	CHECK(same(s, "p1/dp0/clks.json", data, big), "abort keeps the old object");

	/* A committed overwrite replaces it whole; empty objects exist. */
	CHECK(put(s, "p1/dp0/clks.json", "new", 3, 1) == 0 && same(s, "p1/dp0/clks.json", "new", 3),
		  "overwrite");
	CHECK(put(s, "p1/empty", "", 0, 1) == 0 && same(s, "p1/empty", "", 0), "empty object");

	CHECK(store_put_begin(s, "../escape", err, sizeof(err)) == NULL, "escaping key refused");
	CHECK(get_all(s, "missing/key", &b) != 0, "missing object is an error");
	free(b.data);

	/* Removal: a prefix, exactly (p1 is not p10), or one key. */
	CHECK(put(s, "p2/x", "x", 1, 1) == 0 && put(s, "p10/y", "y", 1, 1) == 0 &&
		  put(s, "p3/one", "1", 1, 1) == 0, "more objects");
	listing(s, "p1", list);
	CHECK(strcmp(list, "p1/dp0/clks.json=3;p1/empty=0;") == 0, "list a prefix: keys and sizes");
	listing(s, "p1/empty", list);
	CHECK(strcmp(list, "p1/empty=0;") == 0, "list one key");
	listing(s, "p1/dp0/clks.json", list);
	CHECK(strcmp(list, "p1/dp0/clks.json=3;") == 0, "list one key with its size");
	listing(s, "p4", list);
	CHECK(strcmp(list, "") == 0, "list a missing prefix: nothing");
	CHECK(store_remove_prefix(s, "p1/", err, sizeof(err)) == 0, "remove p1/");
	CHECK(get_all(s, "p1/dp0/clks.json", &b) != 0 && same(s, "p2/x", "x", 1) &&
		  same(s, "p10/y", "y", 1), "remove by prefix removes only that prefix");
	free(b.data);
	CHECK(store_remove_prefix(s, "p1", err, sizeof(err)) == 0, "removing a missing prefix is fine");
	CHECK(store_remove_prefix(s, "p3/one", err, sizeof(err)) == 0 && !same(s, "p3/one", "1", 1),
		  "remove one object by its key");
	CHECK(store_remove_prefix(s, "p2", err, sizeof(err)) == 0 &&
		  store_remove_prefix(s, "p10", err, sizeof(err)) == 0, "cleanup");
#undef CHECK
}

/* Count entries left in a directory (temporary files included). */
static int
entries(const char *dir)
{
	char		cmd[512];
	FILE	   *p;
	int			n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

/* The filesystem backend. */
static void
file_cases(const char *data, size_t big)
{
	char		root[] = "/tmp/pprl-store-XXXXXX",
				url[64],
				err[256];
	ObjectStore *s;
	StoreWriter *w;

	check(mkdtemp(root) != NULL, "temp root");
	snprintf(url, sizeof(url), "file://%s/objects", root);
	s = store_open_url(url, err, sizeof(err));
	check(s != NULL, "open creates the root");
	check(store_open_url("s4://x", err, sizeof(err)) == NULL && strstr(err, "unsupported"), "bad URL");
	conformance(s, "file", data, big);

	/* An aborted put leaves no temporary file behind. */
	check(put(s, "k/a", "a", 1, 1) == 0, "put");
	w = store_put_begin(s, "k/a", err, sizeof(err));
	store_put_write(w, "partial", 7);
	store_put_abort(w);
	snprintf(url, sizeof(url), "%s/objects", root);
	check(entries(url) == 1, "abort leaves no temporary file");

	/* HEAD; no credentials for clients; no bucket is this store. */
	{
		StoreHead	h;
		StoreGrant	g;
		char		key[64];

		check(store_head(s, "k/a", &h, err, sizeof(err)) == 0 && h.size == 1 && h.meta[0] == '\0',
			  "head gives the size");
		check(store_head(s, "k/none", &h, err, sizeof(err)) == 1 &&
			  store_head(s, "k", &h, err, sizeof(err)) == 1, "head of a missing object (or a folder) is 1");
		check(store_grant(s, "k", STORE_GRANT_PUT_UNDER, "t", &g, err, sizeof(err)) == 1,
			  "the file store gives no grants");
		check(store_locate(s, "pprl", "k/a", key, sizeof(key)) != 0, "the file store locates nothing");
	}
	store_close(s);
	snprintf(url, sizeof(url), "rm -rf '%s'", root);
	check(system(url) == 0, "cleanup");
}

/* S3 options from the environment rgwtmp.sh describes. */
static StoreOptions
s3_options(const char *url, const char *addressing)
{
	StoreOptions o = {url, getenv("S3_ENDPOINT"), getenv("S3_REGION"), getenv("S3_ACCESS_KEY_ID"),
	getenv("S3_SECRET_ACCESS_KEY"), "", addressing, 6, 100, 5u << 20, getenv("S3_STS_ROLE_ARN"), "",
	3600, ""};

	return o;
}

/* Multipart uploads still open under the bucket (-1 on error). */
static int
open_uploads(void)
{
	S3Config	cfg = {getenv("S3_ENDPOINT"), getenv("S3_REGION"), "pprl", getenv("S3_ACCESS_KEY_ID"),
	getenv("S3_SECRET_ACCESS_KEY"), "", 0, 3, 100};
	char		err[256];
	S3Client   *c = s3_client_new(&cfg, err, sizeof(err));
	S3Request	r;
	int			n = -1;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.query = "uploads=";
	if (c && s3_perform(c, &r) == 0 && r.resp)
	{
		n = 0;
		for (const char *p = r.resp; (p = strstr(p, "<Upload>")); p++)
			n++;
	}
	s3_request_done(&r);
	s3_client_free(c);
	return n;
}

/* check() with a printf-style name. */
static void
checkf(int ok, const char *fmt, ...)
{
	char		what[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	check(ok, what);
}

/* A client of the store using granted credentials (our own S3 client). */
static S3Client *
grant_client(const StoreGrant *g)
{
	char		ep[300],
				err[256];
	S3Config	cfg = {ep, getenv("S3_REGION"), g->bucket, g->access_key, g->secret_key,
	g->session_token, 0, 2, 50};

	snprintf(ep, sizeof(ep), "%s://%s", g->secure ? "https" : "http", g->endpoint);
	return s3_client_new(&cfg, err, sizeof(err));
}

/* One request by a granted client: its HTTP status (0 if none). */
static long
grant_request(S3Client *c, const char *method, const char *key, const char *body)
{
	static const char *const meta[] = {"x-amz-meta-hash-count: 7", "X-Amz-Meta-Hash-Size: 128", NULL};
	S3Request	r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.key = key;
	r.body = body;
	r.body_len = body ? strlen(body) : 0;
	r.headers = meta;
	s3_perform(c, &r);
	s3_request_done(&r);
	return r.status;
}

/*
 * Grants: credentials that write only under one folder, or read only one
 * object, of a store (prefixed or not); HEAD with user metadata; locate.
 */
static void
grant_cases(ObjectStore *s, const char *label, const char *prefix)
{
	StoreGrant	g;
	StoreHead	h;
	S3Client   *c;
	char		err[512],
				key[256],
				path[300],
				v[32];

	checkf(store_grant(s, "ext/p1/0", STORE_GRANT_PUT_UNDER, "party 0!", &g, err, sizeof(err)) == 0,
		  "%s: an upload grant", label);
	if (!g.access_key[0])
		printf("  %s\n", err);
	snprintf(path, sizeof(path), "%sext/p1/0", prefix);
	checkf(strcmp(g.bucket, "pprl") == 0 && strcmp(g.path, path) == 0 && !g.secure &&
		  strncmp(g.endpoint, "127.0.0.1:", 10) == 0 && g.access_key[0] && g.secret_key[0] &&
		  g.session_token[0] && g.expiration[0], "%s: the grant names bucket, path, endpoint, credentials",
		  label);
	c = grant_client(&g);
	snprintf(path, sizeof(path), "%sext/p1/0/data.bin", prefix);
	checkf(c && grant_request(c, "PUT", path, "encodings") == 200, "%s: the grant writes under its path",
		  label);
	snprintf(path, sizeof(path), "%sext/p1/1/data.bin", prefix);
	checkf(c && grant_request(c, "PUT", path, "x") == 403, "%s: not under another party's path", label);
	snprintf(path, sizeof(path), "%sext/p1/0", prefix);
	checkf(c && grant_request(c, "PUT", path, "x") == 403, "%s: nor on the folder name itself", label);
	checkf(c && grant_request(c, "PUT", "elsewhere", "x") == 403, "%s: nor elsewhere", label);
	snprintf(path, sizeof(path), "%sext/p1/0/data.bin", prefix);
	checkf(c && grant_request(c, "GET", path, NULL) == 403, "%s: an upload grant cannot read", label);
	checkf(c && grant_request(c, "DELETE", path, NULL) == 403, "%s: nor delete", label);
	s3_client_free(c);

	checkf(store_head(s, "ext/p1/0/data.bin", &h, err, sizeof(err)) == 0 && h.size == 9 &&
		  store_head_meta(&h, "hash-count", v, sizeof(v)) == 0 && strcmp(v, "7") == 0 &&
		  store_head_meta(&h, "HASH-SIZE", v, sizeof(v)) == 0 && strcmp(v, "128") == 0 &&
		  store_head_meta(&h, "hash", v, sizeof(v)) != 0,
		  "%s: head gives size and the client's metadata", label);
	checkf(store_head(s, "ext/p1/1/data.bin", &h, err, sizeof(err)) == 1, "%s: head of a missing object",
		  label);
	snprintf(path, sizeof(path), "%sext/p1/0/data.bin", prefix);
	checkf(store_locate(s, "pprl", path, key, sizeof(key)) == 0 && strcmp(key, "ext/p1/0/data.bin") == 0,
		  "%s: locate maps bucket and path to the key", label);
	checkf(store_locate(s, "other", path, key, sizeof(key)) != 0 &&
		  store_locate(s, "pprl", "zzz/../x", key, sizeof(key)) != 0 &&
		  (!prefix[0] || store_locate(s, "pprl", "ext/p1/0/data.bin", key, sizeof(key)) != 0),
		  "%s: locate refuses another bucket, bad keys, paths outside the prefix", label);

	checkf(store_grant(s, "ext/p1/0/data.bin", STORE_GRANT_GET, "reader", &g, err, sizeof(err)) == 0,
		  "%s: a download grant", label);
	c = grant_client(&g);
	checkf(c && grant_request(c, "GET", g.path, NULL) == 200, "%s: it reads its object", label);
	snprintf(path, sizeof(path), "%sext/p1/0/other", prefix);
	checkf(put(s, "ext/p1/0/other", "secret", 6, 6) == 0, "%s: another object beside it", label);
	{
		long		other = c ? grant_request(c, "GET", path, NULL) : 0,
					write = c ? grant_request(c, "PUT", g.path, "x") : 0;

		checkf(other == 403 && write == 403, "%s: nothing else (%ld), and cannot write (%ld)", label,
			   other, write);
	}
	s3_client_free(c);
	checkf(store_remove_prefix(s, "ext", err, sizeof(err)) == 0, "%s: cleanup", label);
}

/* The S3 backend against the radosgw in rgwdir. */
static void
s3_cases(const char *rgwdir, const char *data, size_t big)
{
	char		err[512],
				cmd[1024];
	size_t		mp = 12 * (1u << 20) + 17;	/* three 5 MiB parts */
	char	   *mpdata = malloc(mp);
	StoreOptions o;
	ObjectStore *s,
			   *v,
			   *pre;
	StoreWriter *w;
	Buf			b;

	for (size_t i = 0; i < mp; i++)
		mpdata[i] = (char) (i * 13 + i / 4099);
	o = s3_options("s3://pprl", "path");
	s = store_open(&o, err, sizeof(err));
	check(s != NULL, "s3: open (path-style)");
	if (!s)
	{
		printf("  %s\n", err);
		return;
	}
	conformance(s, "s3 path-style", data, big);
	o = s3_options("s3://pprl", "virtual");
	o.s3_endpoint = getenv("S3_VIRTUAL_ENDPOINT");	/* http://localhost:PORT */
	v = store_open(&o, err, sizeof(err));
	check(v != NULL, "s3: open (virtual-host)");
	if (v)
		conformance(v, "s3 virtual-host", data, big);
	o = s3_options("s3://pprl/tenant/a/", "path");
	pre = store_open(&o, err, sizeof(err));
	check(pre != NULL, "s3: open under a prefix");
	if (pre)
		conformance(pre, "s3 prefixed", data, big);
	grant_cases(s, "s3 grants", "");
	if (pre)
		grant_cases(pre, "s3 prefixed grants", "tenant/a/");
	{
		StoreGrant	g;

		store_close(v);
		o = s3_options("s3://pprl", "path");
		o.sts_role_arn = "";
		v = store_open(&o, err, sizeof(err));
		check(v && store_grant(v, "ext", STORE_GRANT_GET, "x", &g, err, sizeof(err)) == 1,
			  "s3: no grants without a role");
		store_close(v);
		o.sts_role_arn = "arn:aws:iam:::role/no-such-role";
		v = store_open(&o, err, sizeof(err));
		check(v && store_grant(v, "ext", STORE_GRANT_GET, "x", &g, err, sizeof(err)) == -1 &&
			  strstr(err, "AssumeRole") && !strstr(err, getenv("S3_SECRET_ACCESS_KEY")),
			  "s3: an unknown role is a clear error");
		store_close(v);
		o.sts_role_arn = getenv("S3_STS_ROLE_ARN");
		o.sts_seconds = 60;
		check(store_open(&o, err, sizeof(err)) == NULL && strstr(err, "DURATION"),
			  "s3: a grant lifetime out of range is refused at open");
		o.sts_seconds = 3600;
		o.public_endpoint = "ftp://x";
		check(store_open(&o, err, sizeof(err)) == NULL && strstr(err, "PUBLIC"),
			  "s3: a bad public endpoint is refused at open");
		v = NULL;
	}

	/* A prefixed store writes under its prefix only. */
	check(pre && put(pre, "k", "p", 1, 1) == 0 && same(s, "tenant/a/k", "p", 1) && !same(s, "k", "p", 1),
		  "s3: prefixed keys land under the prefix");
	check(store_remove_prefix(s, "tenant", err, sizeof(err)) == 0, "s3: cleanup prefix");

	/* Multipart: parts sent as they fill, completed at commit, one reader. */
	check(put(s, "mp/obj", mpdata, mp, 65536) == 0 && same(s, "mp/obj", mpdata, mp),
		  "s3: a 12 MiB object goes up in parts and reads back equal");
	w = store_put_begin(s, "mp/obj", err, sizeof(err));
	store_put_write(w, mpdata, 11u << 20);	/* two parts sent */
	check(open_uploads() == 1, "s3: an unfinished multipart upload is open");
	store_put_abort(w);
	check(open_uploads() == 0 && same(s, "mp/obj", mpdata, mp),
		  "s3: abort ends the multipart upload and keeps the old object");
	w = store_put_begin(s, "mp/crashed", err, sizeof(err));
	store_put_write(w, mpdata, 6u << 20);
	/* a crashed writer leaves its upload open; removal cleans it */
	check(open_uploads() == 1, "s3: a crashed writer's upload is open");
	check(store_remove_prefix(s, "mp", err, sizeof(err)) == 0 && open_uploads() == 0 &&
		  !same(s, "mp/obj", mpdata, mp), "s3: removal deletes objects and aborts open uploads");
	store_put_abort(w);

	/* A wrong secret is refused by the signature check, clearly. */
	o = s3_options("s3://pprl", "path");
	o.s3_secret_key = "wrong-secret";
	v = store_open(&o, err, sizeof(err));
	check(v && put(v, "bad/x", "x", 1, 1) != 0 && !same(s, "bad/x", "x", 1), "s3: a wrong secret stores nothing");
	check(v && store_ping(v, err, sizeof(err)) != 0 && strstr(err, "403"), "s3: ping reports 403");
	check(v && store_get(v, "nope", collect, &b, err, sizeof(err)) != 0 &&
		  strstr(err, "HTTP 403 ") && (strstr(err, "SignatureDoesNotMatch") || strstr(err, "AccessDenied")) &&
		  !strstr(err, "wrong-secret"),
		  "s3: the error names the S3 code and never the secret");
	store_close(v);
	o.s3_secret_key = getenv("S3_SECRET_ACCESS_KEY");
	o.url = "s3://no-such-bucket";
	v = store_open(&o, err, sizeof(err));
	check(v && store_ping(v, err, sizeof(err)) != 0 && strstr(err, "404"), "s3: a missing bucket fails ping");
	store_close(v);
	o.url = "s3://Bad_Bucket";
	check(store_open(&o, err, sizeof(err)) == NULL && strstr(err, "bucket"), "s3: bad bucket name refused");
	o.url = "s3://pprl";
	o.s3_endpoint = "ftp://x";
	check(store_open(&o, err, sizeof(err)) == NULL && strstr(err, "S3_ENDPOINT"), "s3: bad endpoint refused");

	/* The gateway goes away for a few seconds: retries with backoff carry the put. */
	snprintf(cmd, sizeof(cmd), "../scripts/rgwtmp.sh pause '%s' && "
			 "(sleep 2; ../scripts/rgwtmp.sh resume '%s' >/dev/null 2>&1) &", rgwdir, rgwdir);
	o = s3_options("s3://pprl", "path");
	o.s3_attempts = 12;
	o.s3_backoff_ms = 250;
	v = store_open(&o, err, sizeof(err));
	check(system(cmd) == 0, "s3: gateway paused");
	check(put(v, "retry/obj", mpdata, mp, 65536) == 0, "s3: a put survives the gateway restarting");
	check(same(v, "retry/obj", mpdata, mp), "s3: and reads back equal");

	/* The gateway dies in the middle of a read: it resumes where it broke. */
	{
		Breaker		k;

		memset(&k, 0, sizeof(k));
		k.cmd = cmd;
		check(store_get(v, "retry/obj", break_once, &k, err, sizeof(err)) == 0 &&
			  k.b.len == mp && memcmp(k.b.data, mpdata, mp) == 0,
			  "s3: a read broken by the gateway dying resumes and delivers the object once");
		free(k.b.data);
	}
	store_close(v);

	/* Gone for longer than the retries last: a clear error, nothing stored. */
	snprintf(cmd, sizeof(cmd), "../scripts/rgwtmp.sh pause '%s'", rgwdir);
	check(system(cmd) == 0, "s3: gateway stopped");
	o.s3_attempts = 3;
	o.s3_backoff_ms = 50;
	v = store_open(&o, err, sizeof(err));
	check(put(v, "down/obj", "x", 1, 1) != 0, "s3: a put fails when the gateway stays down");
	check(store_get(v, "retry/obj", collect, &b, err, sizeof(err)) != 0 && strstr(err, "3 attempts"),
		  "s3: the error says how often it tried");
	check(store_ping(v, err, sizeof(err)) != 0, "s3: ping fails");
	snprintf(cmd, sizeof(cmd), "../scripts/rgwtmp.sh resume '%s' >/dev/null", rgwdir);
	check(system(cmd) == 0 && store_ping(v, err, sizeof(err)) == 0, "s3: back after resume");
	check(!same(v, "down/obj", "x", 1), "s3: the failed put stored nothing");
	check(store_remove_prefix(v, "retry", err, sizeof(err)) == 0, "s3: cleanup");
	store_close(v);
	store_close(pre);
	store_close(s);
	free(mpdata);
}

/* Run the file cases, or the S3 cases when asked. */
int
main(int argc, char **argv)
{
	size_t		big = 3 * 65536 + 17;
	char	   *data = malloc(big);

	for (size_t i = 0; i < big; i++)
		data[i] = (char) (i * 7 + 3);
	check(!store_key_valid("../etc/passwd") && !store_key_valid("/abs") && !store_key_valid("a//b") &&
		  !store_key_valid("a/../b") && !store_key_valid("a/./b") && !store_key_valid("") &&
		  !store_key_valid("a b") && !store_key_valid("a/") && store_key_valid("p1/dp-0/x_1.bin"),
		  "key validation");
	if (argc == 3 && strcmp(argv[1], "s3") == 0)
		s3_cases(argv[2], data, big);
	else
		file_cases(data, big);
	free(data);
	return test_summary();
}
