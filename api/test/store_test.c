/*
 * store_test.c
 *	  The filesystem object store: write-through puts in many chunks, atomic
 *	  commit (a reader never sees a partial object), abort leaves nothing
 *	  and keeps the previous version, key validation, removal by prefix.
 *	  Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"
#include "../src/store.h"


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

/* Read a whole object; -1 when missing. */
static int
get_all(ObjectStore *s, const char *key, Buf *b)
{
	char		err[256];

	b->data = NULL;
	b->len = 0;
	return store_get(s, key, collect, b, err, sizeof(err));
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

/* All cases. */
int
main(void)
{
	char		root[] = "/tmp/pprl-store-XXXXXX",
				url[64],
				err[256];
	ObjectStore *s;
	StoreWriter *w;
	Buf			b;
	size_t		big = 3 * 65536 + 17;
	char	   *data = malloc(big);

	check(mkdtemp(root) != NULL, "temp root");
	snprintf(url, sizeof(url), "file://%s/objects", root);
	s = store_open(url, err, sizeof(err));
	check(s != NULL, "open creates the root");
	check(store_open("s4://x", err, sizeof(err)) == NULL && strstr(err, "unsupported"), "bad URL");
	check(store_ping(s, err, sizeof(err)) == 0, "ping");

	for (size_t i = 0; i < big; i++)
		data[i] = (char) (i * 7 + 3);
	w = store_put_begin(s, "p1/dp0/clks.json", err, sizeof(err));
	check(w != NULL, "put begins");
	for (size_t off = 0; off < big; off += 1000)
		store_put_write(w, data + off, big - off < 1000 ? big - off : 1000);
	check(get_all(s, "p1/dp0/clks.json", &b) != 0, "invisible before commit");
	check(store_put_commit(w, err, sizeof(err)) == 0, "commit");
	check(get_all(s, "p1/dp0/clks.json", &b) == 0 && b.len == big && memcmp(b.data, data, big) == 0,
		  "read back in chunks equals what was written");
	free(b.data);

	/* An aborted overwrite keeps the previous object and leaves no file behind. */
	w = store_put_begin(s, "p1/dp0/clks.json", err, sizeof(err));
	store_put_write(w, "partial", 7);
	store_put_abort(w);
	check(get_all(s, "p1/dp0/clks.json", &b) == 0 && b.len == big, "abort keeps the old object");
	free(b.data);
	snprintf(url, sizeof(url), "%s/objects", root);
	check(entries(url) == 1, "abort leaves no temporary file");

	/* A committed overwrite replaces it whole. */
	w = store_put_begin(s, "p1/dp0/clks.json", err, sizeof(err));
	store_put_write(w, "new", 3);
	check(store_put_commit(w, err, sizeof(err)) == 0 && get_all(s, "p1/dp0/clks.json", &b) == 0 &&
		  b.len == 3 && memcmp(b.data, "new", 3) == 0, "overwrite");
	free(b.data);

	check(!store_key_valid("../etc/passwd") && !store_key_valid("/abs") && !store_key_valid("a//b") &&
		  !store_key_valid("a/../b") && !store_key_valid("a/./b") && !store_key_valid("") &&
		  !store_key_valid("a b") && !store_key_valid("a/") && store_key_valid("p1/dp-0/x_1.bin"),
		  "key validation");
	check(store_put_begin(s, "../escape", err, sizeof(err)) == NULL, "escaping key refused");
	check(get_all(s, "missing/key", &b) != 0, "missing object is an error");

	w = store_put_begin(s, "p2/x", err, sizeof(err));
	store_put_write(w, "x", 1);
	store_put_commit(w, err, sizeof(err));
	check(store_remove_prefix(s, "p1", err, sizeof(err)) == 0 && get_all(s, "p1/dp0/clks.json", &b) != 0 &&
		  get_all(s, "p2/x", &b) == 0, "remove by prefix removes only that prefix");
	free(b.data);
	check(store_remove_prefix(s, "p1", err, sizeof(err)) == 0, "removing a missing prefix is fine");

	store_close(s);
	snprintf(url, sizeof(url), "rm -rf '%s'", root);
	check(system(url) == 0, "cleanup");
	free(data);
	return test_summary();
}
