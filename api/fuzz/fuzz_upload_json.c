/*
 * fuzz_upload_json.c
 *	  libFuzzer harness for the streaming upload parser (upload_json.c).
 *
 * Properties on every input: no memory error or undefined behaviour (ASan,
 * UBSan); the outcome (success, encodings counted, error text) is the same
 * whether the body arrives whole, split at a point taken from the input, or
 * byte by byte; a failed parse has a non-empty message; encodings handed to
 * the sink are 1 to 8192 bytes, all the same size, numbered 0, 1, 2, ...
 * Each input is parsed both as an upload body and as the blocks file of a
 * pointer upload (upload_json_blocks_only), where no encoding may arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload_json.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one parse produced. */
typedef struct Outcome
{
	int			ok;
	uint64_t	count;
	uint64_t	next;			/* index the sink expects next */
	size_t		nbytes;
	char		err[320];
} Outcome;

/* Abort (so libFuzzer keeps the input) when a property fails. */
static void
require(int cond, const char *what)
{
	if (!cond)
	{
		fprintf(stderr, "property violated: %s\n", what);
		abort();
	}
}

/* Sink: encodings arrive in order, 1..8192 bytes, all one size. */
static int
on_encoding(void *arg, uint64_t index, const uint8_t *clk, size_t n)
{
	Outcome    *o = arg;

	(void) clk;
	require(index == o->next, "encodings numbered in order");
	require(n >= 1 && n <= 8192, "encoding size in range");
	require(o->nbytes == 0 || n == o->nbytes, "encodings of one size");
	o->nbytes = n;
	o->next++;
	return 0;
}

/* Sink: block ids are bounded. */
static int
on_block(void *arg, uint64_t index, const char *id, size_t len)
{
	(void) arg;
	(void) index;
	(void) id;
	require(len <= 64, "block id bounded");
	return 0;
}

/* Parse the input with the given split step (0 = whole), as a blocks file if asked. */
static Outcome
run(const uint8_t *data, size_t size, size_t step, int blocks_file)
{
	Outcome		o = {0};
	UploadSink	sink = {on_encoding, on_block, &o};
	UploadLimits lim = {100000, 64, 16};
	UploadJson *u = upload_json_new(&sink, &lim);
	int			rc = 0;

	require(u != NULL, "parser allocated");
	if (blocks_file)
		upload_json_blocks_only(u, 1000);
	for (size_t off = 0; off < size && rc == 0; off += step ? step : size)
		rc = upload_json_feed(u, (const char *) data + off,
							  step && size - off > step ? step : size - off);
	if (rc == 0)
		rc = upload_json_finish(u);
	o.ok = rc == 0;
	o.count = upload_json_count(u);
	snprintf(o.err, sizeof(o.err), "%s", upload_json_error(u));
	require(o.ok || o.err[0] != '\0', "failure has a message");
	require(!blocks_file || o.next == 0, "a blocks file yields no encodings");
	upload_json_free(u);
	return o;
}

/* Compare whole, split and byte-by-byte parses, in both modes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int mode = 0; mode < 2; mode++)
	{
		Outcome		a = run(data, size, 0, mode),
					b = run(data, size, size > 2 ? 1 + data[0] % (size - 1) : 1, mode),
					c = run(data, size, 1, mode);

		require(a.ok == b.ok && a.ok == c.ok, "same outcome however split");
		require(a.count == b.count && a.count == c.count, "same count however split");
		require(strcmp(a.err, b.err) == 0 && strcmp(a.err, c.err) == 0, "same error however split");
	}
	return 0;
}
