/*
 * pprl_store.c
 *	  pprl-store: look into the service's object store with the service's
 *	  own settings (OBJECT_STORE_URL, S3_*; NAME or NAME_FILE), whichever
 *	  backend it is.  For operators, and for the tests that check what an
 *	  upload or a deletion left behind.
 *
 *	  pprl-store ls PREFIX     "KEY SIZE" per object under PREFIX
 *	  pprl-store cat KEY       the object to stdout
 *	  pprl-store put KEY       stdin to the object (all or nothing)
 *	  pprl-store rm PREFIX     remove the objects under PREFIX
 *
 *	  Exit status 0 on success, 1 on a store error, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/store_settings.h"

static SvcSetting settings[STORE_SETTING_COUNT] = {STORE_SETTING_ROWS};

/* ls: one line per object. */
static int
print_entry(void *arg, const char *key, unsigned long long size)
{
	(void) arg;
	printf("%s %llu\n", key, size);
	return 0;
}

/* cat: copy a chunk to stdout. */
static int
write_chunk(void *arg, const void *data, size_t len)
{
	(void) arg;
	return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

/* put: stdin through a writer, committed only at a clean end of input. */
static int
put_stdin(ObjectStore *s, const char *key, char *err, size_t errlen)
{
	StoreWriter *w = store_put_begin(s, key, err, errlen);
	char	   *buf = malloc(65536);
	size_t		n;

	if (!w || !buf)
	{
		free(buf);
		if (w)
			store_put_abort(w);
		return -1;
	}
	while ((n = fread(buf, 1, 65536, stdin)) > 0)
		if (store_put_write(w, buf, n) != 0)
			break;
	free(buf);
	if (ferror(stdin) || !feof(stdin))
	{
		store_put_abort(w);
		snprintf(err, errlen, "reading stdin or writing %s failed", key);
		return -1;
	}
	return store_put_commit(w, err, errlen);
}

/* Parse the command, open the store, run it. */
int
main(int argc, char **argv)
{
	StoreOptions o;
	ObjectStore *s;
	char		err[512];
	int			rc;

	if (argc != 3 || (strcmp(argv[1], "ls") != 0 && strcmp(argv[1], "cat") != 0 &&
					  strcmp(argv[1], "put") != 0 && strcmp(argv[1], "rm") != 0))
	{
		fprintf(stderr, "usage: pprl-store ls PREFIX | cat KEY | put KEY | rm PREFIX\n");
		return 2;
	}
	svc_settings_resolve(settings, STORE_SETTING_COUNT, 1);
	store_options_from_settings(settings, &o);
	if (!(s = store_open(&o, err, sizeof(err))))
	{
		fprintf(stderr, "pprl-store: %s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "ls") == 0)
		rc = store_list(s, argv[2], print_entry, NULL, err, sizeof(err));
	else if (strcmp(argv[1], "cat") == 0)
		rc = store_get(s, argv[2], write_chunk, NULL, err, sizeof(err));
	else if (strcmp(argv[1], "put") == 0)
		rc = put_stdin(s, argv[2], err, sizeof(err));
	else
		rc = store_remove_prefix(s, argv[2], err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "pprl-store: %s\n", err);
	store_close(s);
	svc_settings_free(settings, STORE_SETTING_COUNT);
	return rc == 0 ? 0 : 1;
}
