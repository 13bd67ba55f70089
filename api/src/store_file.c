/*
 * store_file.c
 *	  The filesystem object store (file:///path).
 *
 * An object is a file under the root named by its key.  A put writes to a
 * temporary file beside it (created exclusively with a random name), fsyncs
 * it and renames it into place, so readers see either the old object or
 * the whole new one, never a partial upload; an aborted put unlinks the
 * temporary file.  Keys are restricted to a safe alphabet and may not climb
 * out of the root.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define CHUNK 65536
#define KEY_MAX 512

struct ObjectStore
{
	char	   *root;
};

struct StoreWriter
{
	int			fd;
	char	   *tmp;
	char	   *final;
	bool		failed;
	int			err;
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

/* root + "/" + key, malloc'ed. */
static char *
path_of(const ObjectStore *s, const char *key)
{
	size_t		n = strlen(s->root) + strlen(key) + 2;
	char	   *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", s->root, key);
	return p;
}

/* Create the directories leading to a file path (mkdir -p of its parent). */
static int
make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/'))
	{
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
		{
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Open the store named by a file:///absolute/path URL, creating the root. */
ObjectStore *
store_open(const char *url, char *err, size_t errlen)
{
	ObjectStore *s;
	const char *path;

	if (strncmp(url, "file://", 7) != 0 || url[7] != '/')
	{
		snprintf(err, errlen, "unsupported object store URL (expected file:///absolute/path)");
		return NULL;
	}
	path = url + 7;
	s = calloc(1, sizeof(ObjectStore));
	if (!s || !(s->root = strdup(path)))
	{
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mkdir(s->root, 0750) != 0 && errno != EEXIST)
	{
		snprintf(err, errlen, "cannot create object store root %s: %s", s->root, strerror(errno));
		store_close(s);
		return NULL;
	}
	return s;
}

/* Close a store. */
void
store_close(ObjectStore *s)
{
	if (!s)
		return;
	free(s->root);
	free(s);
}

/* Start writing an object; nothing is visible until store_put_commit. */
StoreWriter *
store_put_begin(ObjectStore *s, const char *key, char *err, size_t errlen)
{
	StoreWriter *w;
	unsigned char rnd[8];
	size_t		n;

	if (!store_key_valid(key))
	{
		snprintf(err, errlen, "invalid object key");
		return NULL;
	}
	w = calloc(1, sizeof(StoreWriter));
	if (!w || !(w->final = path_of(s, key)) || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		goto oom;
	n = strlen(w->final) + 32;
	if (!(w->tmp = malloc(n)))
		goto oom;
	snprintf(w->tmp, n, "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", w->final,
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (make_parents(w->tmp) != 0 ||
		(w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0)
	{
		snprintf(err, errlen, "cannot create object %s: %s", key, strerror(errno));
		free(w->tmp);
		free(w->final);
		free(w);
		return NULL;
	}
	return w;
oom:
	snprintf(err, errlen, "cannot start object %s", key);
	if (w)
	{
		free(w->final);
		free(w);
	}
	return NULL;
}

/* Append data to an object being written; -1 after any failure. */
int
store_put_write(StoreWriter *w, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0 && !w->failed)
	{
		ssize_t		n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			w->failed = true;
			w->err = errno;
			break;
		}
		p += n;
		len -= (size_t) n;
	}
	return w->failed ? -1 : 0;
}

/* Free a writer's memory. */
static void
writer_free(StoreWriter *w)
{
	free(w->tmp);
	free(w->final);
	free(w);
}

/* Make the object visible, whole (fsync, then rename over the key). */
int
store_put_commit(StoreWriter *w, char *err, size_t errlen)
{
	int			rc = 0;

	if (w->failed || fsync(w->fd) != 0 || close(w->fd) != 0 || rename(w->tmp, w->final) != 0)
	{
		snprintf(err, errlen, "cannot store object: %s", strerror(w->failed ? w->err : errno));
		unlink(w->tmp);
		rc = -1;
	}
	writer_free(w);
	return rc;
}

/* Abandon an object: nothing is stored, any previous version stays. */
void
store_put_abort(StoreWriter *w)
{
	close(w->fd);
	unlink(w->tmp);
	writer_free(w);
}

/* Read an object, handing it to fn in chunks; fn returning non-zero stops. */
int
store_get(ObjectStore *s, const char *key, StoreChunkFn fn, void *arg, char *err, size_t errlen)
{
	char	   *path;
	char	   *buf;
	int			fd,
				rc = 0;

	if (!store_key_valid(key) || !(path = path_of(s, key)))
	{
		snprintf(err, errlen, "invalid object key");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
	{
		snprintf(err, errlen, "object %s: %s", key, strerror(errno));
		return -1;
	}
	buf = malloc(CHUNK);
	for (;;)
	{
		ssize_t		n = buf ? read(fd, buf, CHUNK) : -1;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			snprintf(err, errlen, "reading object %s failed", key);
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (fn(arg, buf, (size_t) n) != 0)
		{
			snprintf(err, errlen, "reading object %s was stopped", key);
			rc = -1;
			break;
		}
	}
	free(buf);
	close(fd);
	return rc;
}

/* nftw callback: remove each entry, deepest first. */
static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

/*
 * Remove every object under a folder-like prefix ("uploads/<pid>/", with
 * or without the final slash), or one object by its full key.
 */
int
store_remove_prefix(ObjectStore *s, const char *prefix, char *err, size_t errlen)
{
	char		key[1024];
	char	   *path;
	size_t		n = strlen(prefix);
	int			rc;

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(key))
	{
		snprintf(err, errlen, "invalid object key prefix");
		return -1;
	}
	memcpy(key, prefix, n);
	key[n] = '\0';
	if (!store_key_valid(key) || !(path = path_of(s, key)))
	{
		snprintf(err, errlen, "invalid object key prefix");
		return -1;
	}
	rc = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc != 0 && errno == ENOENT)
		rc = 0;
	if (rc != 0)
		snprintf(err, errlen, "cannot remove objects under %s: %s", prefix, strerror(errno));
	free(path);
	return rc == 0 ? 0 : -1;
}

/* Whether the store can take writes now (for /readyz). */
int
store_ping(ObjectStore *s, char *err, size_t errlen)
{
	if (access(s->root, W_OK | X_OK) != 0)
	{
		snprintf(err, errlen, "object store root %s is not writable: %s", s->root, strerror(errno));
		return -1;
	}
	return 0;
}
