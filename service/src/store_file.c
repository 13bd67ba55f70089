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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

#define CHUNK 65536

typedef struct FileStore
{
	char	   *root;
} FileStore;

typedef struct FileWriter
{
	int			fd;
	char	   *tmp;
	char	   *final;
	bool		failed;
	int			err;
} FileWriter;

/* root + "/" + key, malloc'ed. */
static char *
path_of(const FileStore *s, const char *key)
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
static void *
file_open(const StoreOptions *opts, char *err, size_t errlen)
{
	FileStore  *s;
	const char *url = opts->url;
	const char *path;

	if (strncmp(url, "file://", 7) != 0 || url[7] != '/')
	{
		snprintf(err, errlen, "unsupported object store URL (expected file:///absolute/path)");
		return NULL;
	}
	path = url + 7;
	s = calloc(1, sizeof(FileStore));
	if (!s || !(s->root = strdup(path)))
	{
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mkdir(s->root, 0750) != 0 && errno != EEXIST)
	{
		snprintf(err, errlen, "cannot create object store root %s: %s", s->root, strerror(errno));
		free(s->root);
		free(s);
		return NULL;
	}
	return s;
}

/* Close a store. */
static void
file_close(void *impl)
{
	FileStore  *s = impl;

	free(s->root);
	free(s);
}

/* Start writing an object; nothing is visible until store_put_commit. */
static void *
file_put_begin(void *impl, const char *key, char *err, size_t errlen)
{
	FileStore  *s = impl;
	FileWriter *w;
	unsigned char rnd[8];
	size_t		n;

	w = calloc(1, sizeof(FileWriter));
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
static int
file_put_write(void *impl, const void *data, size_t len)
{
	FileWriter *w = impl;
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
writer_free(FileWriter *w)
{
	free(w->tmp);
	free(w->final);
	free(w);
}

/* Make the object visible, whole (fsync, then rename over the key). */
static int
file_put_commit(void *impl, char *err, size_t errlen)
{
	FileWriter *w = impl;
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
static void
file_put_abort(void *impl)
{
	FileWriter *w = impl;

	close(w->fd);
	unlink(w->tmp);
	writer_free(w);
}

/* Read an object, handing it to fn in chunks; fn returning non-zero stops. */
static int
file_get(void *impl, const char *key, StoreChunkFn fn, void *arg, char *err, size_t errlen)
{
	FileStore  *s = impl;
	char	   *path;
	char	   *buf;
	int			fd,
				rc = 0;

	if (!(path = path_of(s, key)))
	{
		snprintf(err, errlen, "out of memory");
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

/* List the files under path (key its name relative to the root), depth first. */
static int
walk(const char *path, const char *key, StoreListFn fn, void *arg, int depth)
{
	struct stat st;
	DIR		   *d;
	struct dirent *e;
	int			rc = 0;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode))
		return fn(arg, key, (unsigned long long) st.st_size) != 0 ? 1 : 0;
	if (!S_ISDIR(st.st_mode) || depth > 64 || !(d = opendir(path)))
		return S_ISDIR(st.st_mode) && depth <= 64 ? -1 : 0;
	while (rc == 0 && (e = readdir(d)))
	{
		size_t		pn = strlen(path) + strlen(e->d_name) + 2,
					kn = strlen(key) + strlen(e->d_name) + 2;
		char	   *p2,
				   *k2;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p2 = malloc(pn);
		k2 = malloc(kn);
		if (p2 && k2)
		{
			snprintf(p2, pn, "%s/%s", path, e->d_name);
			snprintf(k2, kn, "%s/%s", key, e->d_name);
			rc = walk(p2, k2, fn, arg, depth + 1);
		}
		else
			rc = -1;
		free(p2);
		free(k2);
	}
	closedir(d);
	return rc;
}

/* List the object at key and everything under key + "/". */
static int
file_list(void *impl, const char *key, StoreListFn fn, void *arg, char *err, size_t errlen)
{
	FileStore  *s = impl;
	char	   *path = path_of(s, key);
	int			rc;

	if (!path)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = walk(path, key, fn, arg, 0);
	if (rc < 0)
		snprintf(err, errlen, "cannot list objects under %s: %s", key, strerror(errno));
	else if (rc > 0)
		snprintf(err, errlen, "listing %s was stopped", key);
	free(path);
	return rc == 0 ? 0 : -1;
}

/*
 * Remove the unfinished writes of the object at path (path.tmp-*), as S3
 * aborts a key's unfinished multipart uploads; 0 unless one cannot go.
 */
static int
remove_unfinished(const char *path)
{
	size_t		n = strlen(path) + 8;
	char	   *pattern = malloc(n);
	glob_t		g;
	int			rc = 0;

	if (!pattern)
		return -1;
	snprintf(pattern, n, "%s.tmp-*", path);
	if (glob(pattern, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &g) == 0)
	{
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (unlink(g.gl_pathv[i]) != 0 && errno != ENOENT)
				rc = -1;
		globfree(&g);
	}
	free(pattern);
	return rc;
}

/*
 * Remove the object at key, everything under key + "/", and unfinished
 * writes of the object at key (left by a writer that died).
 */
static int
file_remove_prefix(void *impl, const char *key, char *err, size_t errlen)
{
	FileStore  *s = impl;
	char	   *path;
	int			rc;

	if (!(path = path_of(s, key)))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc != 0 && errno == ENOENT)
		rc = 0;
	if (rc == 0)
		rc = remove_unfinished(path);
	if (rc != 0)
		snprintf(err, errlen, "cannot remove objects under %s: %s", key, strerror(errno));
	free(path);
	return rc == 0 ? 0 : -1;
}

/* Whether the store can take writes now (for /readyz). */
static int
file_ping(void *impl, char *err, size_t errlen)
{
	FileStore  *s = impl;

	if (access(s->root, W_OK | X_OK) != 0)
	{
		snprintf(err, errlen, "object store root %s is not writable: %s", s->root, strerror(errno));
		return -1;
	}
	return 0;
}

/* Size of an object (files carry no user metadata): 0, 1 if missing, -1. */
static int
file_head(void *impl, const char *key, StoreHead *h, char *err, size_t errlen)
{
	FileStore  *s = impl;
	char	   *path = path_of(s, key);
	struct stat st;
	int			rc;

	if (!path)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = stat(path, &st);
	free(path);
	if (rc == 0 && S_ISREG(st.st_mode))
	{
		h->size = (unsigned long long) st.st_size;
		return 0;
	}
	if (rc == 0 || errno == ENOENT || errno == ENOTDIR)
		return 1;
	snprintf(err, errlen, "object %s: %s", key, strerror(errno));
	return -1;
}

/* Clients cannot reach a local directory: no credentials to give. */
static int
file_grant(void *impl, const char *key, StoreGrantKind kind, const char *who,
		   StoreGrant *g, char *err, size_t errlen)
{
	(void) impl, (void) key, (void) kind, (void) who, (void) g;
	snprintf(err, errlen, "the file object store cannot give clients access");
	return 1;
}

/* No bucket is this store. */
static int
file_locate(void *impl, const char *bucket, const char *path, char *key, size_t keylen)
{
	(void) impl, (void) bucket, (void) path, (void) key, (void) keylen;
	return -1;
}

const StoreOps store_file_ops = {
	file_open, file_close, file_put_begin, file_put_write, file_put_commit, file_put_abort,
	file_get, file_list, file_remove_prefix, file_ping, file_head, file_grant, file_locate
};
