/*
 * upload_bin_test.c
 *	  Binary uploads: header validation, records however the body is split,
 *	  short and long bodies, and the service's own test files when present.
 *	  Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "upload_bin.h"

static const UploadLimits lim = {1000000, 64, 16};

/* Sink: count records and fold their bytes into a checksum. */
static int
on_encoding(void *arg, uint64_t index, const uint8_t *clk, size_t n)
{
	uint64_t   *sum = arg;

	for (size_t i = 0; i < n; i++)
		*sum = *sum * 31 + clk[i] + index;
	sum[1]++;
	return 0;
}

/* Read a body in pieces of step bytes; returns rc, fills sums. */
static int
read_body(const char *body, size_t len, uint64_t count, size_t size, size_t step,
		  uint64_t sums[2], char *err, size_t errlen)
{
	UploadSink	sink = {on_encoding, NULL, sums};
	UploadBin  *b = upload_bin_new(count, size, &sink);
	int			rc = 0;

	sums[0] = sums[1] = 0;
	for (size_t off = 0; off < len && rc == 0; off += step)
		rc = upload_bin_feed(b, body + off, len - off < step ? len - off : step);
	if (rc == 0)
		rc = upload_bin_finish(b);
	snprintf(err, errlen, "%s", upload_bin_error(b));
	upload_bin_free(b);
	return rc;
}

/* A file of records, read whole and in odd pieces. */
static void
file_case(const char *path, uint64_t count, size_t size)
{
	FILE	   *f = fopen(path, "rb");
	char	   *body,
				err[256];
	size_t		len;
	uint64_t	a[2],
				b[2];

	if (!f)
	{
		printf("skip %s (not present)\n", path);
		return;
	}
	body = malloc(count * size + 1);
	len = fread(body, 1, count * size + 1, f);
	fclose(f);
	check(len == count * size, "file has count x size bytes");
	check(read_body(body, len, count, size, len, a, err, sizeof(err)) == 0 &&
		  read_body(body, len, count, size, 77, b, err, sizeof(err)) == 0 &&
		  a[0] == b[0] && a[1] == count && b[1] == count, path);
	check(read_body(body, len, count + 1, size, 77, b, err, sizeof(err)) != 0 &&
		  strstr(err, "did not match") != NULL, "file short of a larger Hash-Count");
	free(body);
}

/* All cases. */
int
main(int argc, char **argv)
{
	const char *data = argc > 1 ? argv[1] : "../shared/data";
	char		err[256],
				path[512];
	uint64_t	count,
				sums[2],
				s1[2];
	size_t		size;
	const char	body[] = "0123456789abcdefghij";	/* 4 records of 5 */

	check(upload_bin_headers("4", "5", &lim, &count, &size, err, sizeof(err)) == 0 &&
		  count == 4 && size == 5, "valid headers");
	check(upload_bin_headers(NULL, "5", &lim, &count, &size, err, sizeof(err)) != 0 &&
		  strstr(err, "Hash-Count and Hash-Size"), "missing header");
	check(upload_bin_headers("0", "5", &lim, &count, &size, err, sizeof(err)) != 0 &&
		  strstr(err, "Hash-Count"), "zero count");
	check(upload_bin_headers("-1", "5", &lim, &count, &size, err, sizeof(err)) != 0, "negative count");
	check(upload_bin_headers("4x", "5", &lim, &count, &size, err, sizeof(err)) != 0, "junk count");
	check(upload_bin_headers("4", "8193", &lim, &count, &size, err, sizeof(err)) != 0 &&
		  strstr(err, "Hash-Size"), "size too large");
	check(upload_bin_headers("99999999999999999999", "5", &lim, &count, &size, err, sizeof(err)) != 0,
		  "huge count");
	check(upload_bin_headers("2000000", "5", &lim, &count, &size, err, sizeof(err)) != 0,
		  "count over the limit");

	check(read_body(body, 20, 4, 5, 20, sums, err, sizeof(err)) == 0 && sums[1] == 4, "whole body");
	check(read_body(body, 20, 4, 5, 1, s1, err, sizeof(err)) == 0 && s1[0] == sums[0],
		  "byte by byte gives the same records");
	check(read_body(body, 20, 4, 5, 3, s1, err, sizeof(err)) == 0 && s1[0] == sums[0],
		  "3-byte pieces give the same records");
	check(read_body(body, 19, 4, 5, 4, s1, err, sizeof(err)) != 0 &&
		  strstr(err, "got 19 of 20 bytes") != NULL && s1[1] == 3, "truncated body");
	check(read_body(body, 20, 3, 5, 7, s1, err, sizeof(err)) != 0 &&
		  strstr(err, "longer than") != NULL, "body too long");

	snprintf(path, sizeof(path), "%s/entity-service/clks_128B_1k.bin", data);
	file_case(path, 1000, 128);
	snprintf(path, sizeof(path), "%s/entity-service/single_clk.bin", data);
	file_case(path, 1, 128);

	return test_summary();
}
