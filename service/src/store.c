/*
 * store.c
 *	  The object store's front: pick the backend by URL scheme, validate
 *	  every key once (a safe alphabet, no climbing out of the root), and
 *	  dispatch.  Callers never see which backend they use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_impl.h"

#define KEY_MAX 512

struct ObjectStore
{
	const StoreOps *ops;
	void	   *impl;
};

struct StoreWriter
{
	const StoreOps *ops;
	void	   *impl;
};

/* Whether a key is safe: [A-Za-z0-9._-] segments separated by '/', no "..". */
int
store_key_valid(const char *key)
{
	size_t		n = strlen(key);

	if (n == 0 || n > KEY_MAX || key[0] == '/' || key[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++)
	{
		char		c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-' || c == '/'))
			return 0;
		if (c == '/' && key[i + 1] == '/')
			return 0;
	}
	/* No segment may be "." or "..". */
	for (const char *p = key; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
		if ((p[0] == '.' && (p[1] == '/' || p[1] == '\0')) ||
			(p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')))
			return 0;
	return 1;
}

/* Open the store its URL names (file:// or s3://). */
ObjectStore *
store_open(const StoreOptions *opts, char *err, size_t errlen)
{
	const StoreOps *ops;
	ObjectStore *s;

	if (strncmp(opts->url, "file://", 7) == 0)
		ops = &store_file_ops;
	else if (strncmp(opts->url, "s3://", 5) == 0)
		ops = &store_s3_ops;
	else
	{
		snprintf(err, errlen, "unsupported object store URL (expected file:///path or s3://bucket[/prefix])");
		return NULL;
	}
	if (!(s = calloc(1, sizeof(ObjectStore))))
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = ops;
	if (!(s->impl = ops->open(opts, err, errlen)))
	{
		free(s);
		return NULL;
	}
	return s;
}

/* Open a store from its URL alone, with default S3 options (tests, tools). */
ObjectStore *
store_open_url(const char *url, char *err, size_t errlen)
{
	StoreOptions o = {url, "", "us-east-1", "", "", "", "auto", 6, 200, 8u << 20, "", "", 3600, ""};

	return store_open(&o, err, errlen);
}

/* Close a store. */
void
store_close(ObjectStore *s)
{
	if (!s)
		return;
	s->ops->close(s->impl);
	free(s);
}

/* Start writing an object; nothing is visible until store_put_commit. */
StoreWriter *
store_put_begin(ObjectStore *s, const char *key, char *err, size_t errlen)
{
	StoreWriter *w;

	if (!store_key_valid(key))
	{
		snprintf(err, errlen, "invalid object key");
		return NULL;
	}
	if (!(w = calloc(1, sizeof(StoreWriter))))
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->ops = s->ops;
	if (!(w->impl = s->ops->put_begin(s->impl, key, err, errlen)))
	{
		free(w);
		return NULL;
	}
	return w;
}

/* Append data to an object being written; -1 after any failure. */
int
store_put_write(StoreWriter *w, const void *data, size_t len)
{
	return w->ops->put_write(w->impl, data, len);
}

/* Make the object visible, whole; -1 with err if it could not be stored. */
int
store_put_commit(StoreWriter *w, char *err, size_t errlen)
{
	int			rc = w->ops->put_commit(w->impl, err, errlen);

	free(w);
	return rc;
}

/* Abandon an object: nothing is stored, any previous version stays. */
void
store_put_abort(StoreWriter *w)
{
	w->ops->put_abort(w->impl);
	free(w);
}

/* Read an object, handing it to fn in chunks; fn returning non-zero stops. */
int
store_get(ObjectStore *s, const char *key, StoreChunkFn fn, void *arg, char *err, size_t errlen)
{
	if (!store_key_valid(key))
	{
		snprintf(err, errlen, "invalid object key");
		return -1;
	}
	return s->ops->get(s->impl, key, fn, arg, err, errlen);
}

/* Normalise a folder-like prefix into key (no trailing '/'); -1 if invalid. */
static int
prefix_key(const char *prefix, char key[KEY_MAX + 1], char *err, size_t errlen)
{
	size_t		n = strlen(prefix);

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (n == 0 || n > KEY_MAX)
	{
		snprintf(err, errlen, "invalid object key prefix");
		return -1;
	}
	memcpy(key, prefix, n);
	key[n] = '\0';
	if (!store_key_valid(key))
	{
		snprintf(err, errlen, "invalid object key prefix");
		return -1;
	}
	return 0;
}

/*
 * List the objects under a folder-like prefix (or the object with that
 * exact key), calling fn with each key and size; fn non-zero stops.
 */
int
store_list(ObjectStore *s, const char *prefix, StoreListFn fn, void *arg, char *err, size_t errlen)
{
	char		key[KEY_MAX + 1];

	if (prefix_key(prefix, key, err, errlen) != 0)
		return -1;
	return s->ops->list(s->impl, key, fn, arg, err, errlen);
}

/*
 * Remove every object under a folder-like prefix ("uploads/<pid>/", with
 * or without the final slash), or one object by its full key.
 */
int
store_remove_prefix(ObjectStore *s, const char *prefix, char *err, size_t errlen)
{
	char		key[KEY_MAX + 1];

	if (prefix_key(prefix, key, err, errlen) != 0)
		return -1;
	return s->ops->remove_prefix(s->impl, key, err, errlen);
}

/* Whether the store can take writes now (for /readyz). */
int
store_ping(ObjectStore *s, char *err, size_t errlen)
{
	return s->ops->ping(s->impl, err, errlen);
}

/*
 * Size and user metadata of an object: 0, 1 when there is none, -1 on
 * an error (err says what).
 */
int
store_head(ObjectStore *s, const char *key, StoreHead *h, char *err, size_t errlen)
{
	if (!store_key_valid(key))
	{
		snprintf(err, errlen, "invalid object key");
		return -1;
	}
	memset(h, 0, sizeof(*h));
	return s->ops->head(s->impl, key, h, err, errlen);
}

/* One user metadata value of a StoreHead (case-blind name): 0, or -1 if absent. */
int
store_head_meta(const StoreHead *h, const char *name, char *out, size_t outlen)
{
	size_t		n = strlen(name);

	for (const char *p = h->meta; *p;)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
		{
			const char *v = p + n + 1;
			size_t		vl = len - n - 1;

			while (vl > 0 && *v == ' ')
				v++, vl--;
			snprintf(out, outlen, "%.*s", (int) vl, v);
			return 0;
		}
		p += len + (eol ? 1 : 0);
	}
	return -1;
}

/*
 * Temporary credentials for a client to write under key/ or read key
 * itself (who names the holder, for the store's audit log): 0, 1 when
 * this store cannot issue them (the file store, or no STS role set), -1
 * on an error.
 */
int
store_grant(ObjectStore *s, const char *key, StoreGrantKind kind, const char *who,
			StoreGrant *g, char *err, size_t errlen)
{
	if (!store_key_valid(key))
	{
		snprintf(err, errlen, "invalid object key");
		return -1;
	}
	memset(g, 0, sizeof(*g));
	return s->ops->grant(s->impl, key, kind, who, g, err, errlen);
}

/*
 * The key of the object a client names by bucket and path (as a grant
 * gave them): 0 with the key, -1 when it is not in this store or not a
 * valid key.
 */
int
store_locate(ObjectStore *s, const char *bucket, const char *path, char *key, size_t keylen)
{
	if (s->ops->locate(s->impl, bucket, path, key, keylen) != 0)
		return -1;
	return store_key_valid(key) ? 0 : -1;
}

/* Whether the store is the local filesystem (clients cannot reach it). */
int
store_is_local(const ObjectStore *s)
{
	return s->ops == &store_file_ops;
}
