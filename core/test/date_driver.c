/*
 * date_driver.c
 *	  enc_date's dates for scripts/test_dates.py, which compares them with
 *	  CPython's datetime.strptime.
 *
 * Reads lines "FORMAT<TAB>VALUE" on stdin (the value is the rest of the
 * line: any UTF-8 but a newline) and prints "OK yyyymmdd" or "ERR reason"
 * for each.  `--bench N` instead times N parses of a few %Y-%m-%d dates
 * against glibc's strptime (alone, and with strftime('%Y%m%d') as the
 * encoder had it) and prints nanoseconds per parse of each.
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/encode/enc_date.h"

/* Nanoseconds since an arbitrary start. */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Time n parses with enc_date and with strptime; 0 on success. */
static int
bench(long n)
{
	static const char *const values[] = {"2001-02-03", "1999-12-31", "2020-02-29", "1970-01-01"};
	EncDateFormat *f = enc_date_compile("%Y-%m-%d");
	char		out[32],
				err[256];
	long		sum = 0;
	double		t0,
				t1,
				t[2];

	if (!f)
		return 1;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
	{
		const char *v = values[i & 3];

		if (enc_date_parse(f, v, strlen(v), out, sizeof(out), err, sizeof(err)) != 0)
			return 1;
		sum += out[7];
	}
	t1 = now_ns();
	for (int with_strftime = 0; with_strftime < 2; with_strftime++)
	{
		for (long i = 0; i < n; i++)
		{
			struct tm	tm;
			const char *v = values[i & 3],
					   *end;

			memset(&tm, 0, sizeof(tm));
			end = strptime(v, "%Y-%m-%d", &tm);
			if (!end || *end)
				return 1;
			if (with_strftime)
				strftime(out, sizeof(out), "%Y%m%d", &tm);
			else
				out[7] = (char) tm.tm_mday;
			sum += out[7];
		}
		t[with_strftime] = now_ns();
	}
	printf("ns per parse of %%Y-%%m-%%d: enc_date_parse %.1f, strptime %.1f, strptime+strftime %.1f (%ld)\n",
		   (t1 - t0) / n, (t[0] - t1) / n, (t[1] - t[0]) / n, sum);
	enc_date_free(f);
	return 0;
}

/* Answer each "FORMAT<TAB>VALUE" line of stdin. */
int
main(int argc, char **argv)
{
	EncDateFormat *f = NULL;
	char	   *last = NULL,
			   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;

	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		return bench(atol(argv[2]));
	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		char	   *tab,
					out[64],
					err[1024];

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!(tab = memchr(line, '\t', (size_t) len)))
		{
			printf("ERR driver: no tab\n");
			continue;
		}
		*tab = '\0';
		if (!last || strcmp(last, line) != 0)
		{
			enc_date_free(f);
			free(last);
			if (!(f = enc_date_compile(line)) || !(last = strdup(line)))
			{
				fprintf(stderr, "date_driver: out of memory\n");
				return 1;
			}
		}
		if (enc_date_parse(f, tab + 1, (size_t) (line + len - tab - 1), out, sizeof(out), err, sizeof(err)) == 0)
			printf("OK %s\n", out);
		else
		{
			for (char *p = err; *p; p++)
				if (*p == '\n')
					*p = ' ';
			printf("ERR %s\n", err);
		}
	}
	enc_date_free(f);
	free(last);
	free(line);
	return 0;
}
