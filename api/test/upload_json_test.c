/*
 * upload_json_test.c
 *	  The streaming upload parser: every form, fed whole and byte by byte
 *	  (the results must not depend on how the body is split), the errors a
 *	  client can cause, and real upload files when ../shared is present.
 *	  Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "upload_json.h"


/* What a parse produced, for comparison across feeding strategies. */
typedef struct Result
{
	int			ok;
	uint64_t	count;
	uint64_t	blocks;
	uint64_t	sum;			/* checksum of encodings, block records and ids */
	UploadForm	form;
	char		err[320];
} Result;

/* Sink: fold an encoding into the checksum. */
static int
on_encoding(void *arg, uint64_t index, const uint8_t *clk, size_t n)
{
	Result	   *r = arg;

	for (size_t i = 0; i < n; i++)
		r->sum = r->sum * 31 + clk[i] + index;
	return 0;
}

/* Sink: fold a block membership into the checksum. */
static int
on_block(void *arg, uint64_t index, const char *id, size_t len)
{
	Result	   *r = arg;

	r->blocks++;
	r->sum = r->sum * 17 + index;
	for (size_t i = 0; i < len; i++)
		r->sum = r->sum * 13 + (unsigned char) id[i];
	return 0;
}

/* Parse a body fed in pieces of `step` bytes (0: all at once). */
static Result
parse(const char *body, size_t len, size_t step)
{
	Result		r = {0};
	UploadSink	sink = {on_encoding, on_block, &r};
	UploadLimits lim = {1000000, 64, 16};
	UploadJson *u = upload_json_new(&sink, &lim);
	int			rc = 0;

	for (size_t off = 0; off < len && rc == 0; off += step ? step : len)
		rc = upload_json_feed(u, body + off, step && len - off > step ? step : len - off);
	if (rc == 0)
		rc = upload_json_finish(u);
	r.ok = rc == 0;
	r.count = upload_json_count(u);
	r.form = upload_json_form(u);
	snprintf(r.err, sizeof(r.err), "%s", upload_json_error(u));
	upload_json_free(u);
	return r;
}

/* Parse whole, in 7-byte pieces and byte by byte; all must agree. */
static Result
parse_all_ways(const char *body, const char *what)
{
	size_t		len = strlen(body);
	Result		a = parse(body, len, 0),
				b = parse(body, len, 7),
				c = parse(body, len, 1);

	check(a.ok == b.ok && a.ok == c.ok && a.count == c.count && a.sum == b.sum &&
		  a.sum == c.sum && a.blocks == c.blocks && strcmp(a.err, c.err) == 0, what);
	return a;
}

/* Expect success with n encodings and nb block memberships. */
static void
ok_case(const char *body, UploadForm form, uint64_t n, uint64_t nb, const char *what)
{
	Result		r = parse_all_ways(body, what);

	if (!(r.ok && r.form == form && r.count == n && r.blocks == nb))
		printf("  (%s: ok=%d form=%d count=%llu blocks=%llu err=%s)\n", what, r.ok, r.form,
			   (unsigned long long) r.count, (unsigned long long) r.blocks, r.err);
	check(r.ok && r.form == form && r.count == n && r.blocks == nb, what);
}

/* Expect failure with a message containing `needle`. */
static void
err_case(const char *body, const char *needle, const char *what)
{
	Result		r = parse_all_ways(body, what);

	if (r.ok || strstr(r.err, needle) == NULL)
		printf("  (%s: ok=%d err=%s)\n", what, r.ok, r.err);
	check(!r.ok && strstr(r.err, needle) != NULL, what);
}

/* A real upload file, parsed whole and in 4 KiB pieces. */
static void
file_case(const char *path, UploadForm form, uint64_t n)
{
	FILE	   *f = fopen(path, "rb");
	char	   *body;
	long		len;
	Result		a,
				b;

	if (!f)
	{
		printf("skip %s (not present)\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	body = malloc((size_t) len + 1);
	if (fread(body, 1, (size_t) len, f) != (size_t) len)
		len = 0;
	fclose(f);
	a = parse(body, (size_t) len, 0);
	b = parse(body, (size_t) len, 4096);
	check(a.ok && b.ok && a.form == form && a.count == n && a.sum == b.sum, path);
	free(body);
}

/* All cases. */
/* A blocks file for n records: 0 and the memberships seen, or -1 with err. */
static long
blocks_file(const char *body, uint64_t n, char *err, size_t errlen)
{
	Result		r = {0};
	UploadSink	sink = {on_encoding, on_block, &r};
	UploadLimits lim = {1000000, 64, 16};
	UploadJson *u = upload_json_new(&sink, &lim);
	int			rc;

	upload_json_blocks_only(u, n);
	rc = upload_json_feed(u, body, strlen(body));
	if (rc == 0)
		rc = upload_json_finish(u);
	snprintf(err, errlen, "%s", upload_json_error(u));
	rc = rc == 0 && upload_json_form(u) == UPLOAD_FORM_ENCODINGS ? (int) r.blocks : -1;
	upload_json_free(u);
	return rc;
}

/* The blocks file of a pointer upload: only "blocks", records in range. */
static void
blocks_file_cases(void)
{
	char		err[320];

	check(blocks_file("{\"blocks\": {\"0\": [\"a\", 2], \"2\": [\"b\"]}}", 3, err, sizeof(err)) == 3,
		  "blocks file: memberships of the records named");
	check(blocks_file("{\"blocks\": {\"3\": [\"a\"]}}", 3, err, sizeof(err)) == -1 &&
		  strstr(err, "only 3 encodings"), "blocks file: a record past the encodings is refused");
	check(blocks_file("{\"clks\": [\"AQI=\"]}", 3, err, sizeof(err)) == -1 && strstr(err, "only the key"),
		  "blocks file: encodings in it are refused");
	check(blocks_file("{}", 3, err, sizeof(err)) == -1 && strstr(err, "needs the key"),
		  "blocks file: an empty object is refused");
	check(blocks_file("{\"blocks\": {\"0\": [\"a\"]", 3, err, sizeof(err)) == -1,
		  "blocks file: a truncated one is refused");
}

int
main(int argc, char **argv)
{
	const char *data = argc > 1 ? argv[1] : "../shared/data";
	char		path[512];

	blocks_file_cases();
	ok_case("{\"clks\": [\"AQI=\", \"AwQ=\", \"//8=\"]}", UPLOAD_FORM_CLKS, 3, 0, "clks");
	ok_case(" { \"clks\" : [ \"AQI=\" ] } \n", UPLOAD_FORM_CLKS, 1, 0, "whitespace");
	ok_case("{\"clks\": [\"\\/\\/8=\"]}", UPLOAD_FORM_CLKS, 1, 0, "escaped slash");
	ok_case("{\"clknblocks\": [[\"AQI=\", \"b1\", 7], [\"AwQ=\"], [\"//8=\", \"b\\u00e9\"]]}",
			UPLOAD_FORM_CLKNBLOCKS, 3, 3, "clknblocks");
	ok_case("{\"encodings\": [\"AQI=\", \"AwQ=\"], \"blocks\": {\"0\": [\"x\", 1], \"1\": []}}",
			UPLOAD_FORM_ENCODINGS, 2, 2, "encodings with blocks");
	ok_case("{\"blocks\": {\"1\": [\"x\"]}, \"encodings\": [\"AQI=\", \"AwQ=\"]}",
			UPLOAD_FORM_ENCODINGS, 2, 1, "blocks before encodings");
	ok_case("{\"encodings\": [\"AQI=\"]}", UPLOAD_FORM_ENCODINGS, 1, 0, "encodings alone");
	ok_case("{\"encodings\": {\"file\": {\"bucket\": \"b\", \"path\": \"p\"}}}",
			UPLOAD_FORM_POINTER, 0, 0, "object-store pointer form");

	err_case("{\"clks\": [\"AQ!=\"]}", "encoding 0: invalid base64 character \"!\" at position 3", "bad base64");
	err_case("{\"clks\": [\"AQI=\", \"AQ==\"]}", "encoding 1 has 1 bytes, the first had 2", "mixed sizes");
	err_case("{\"clks\": []}", "no encodings", "empty clks");
	err_case("{}", "no encodings", "empty object");
	err_case("[\"AQI=\"]", "must be a JSON object", "not an object");
	err_case("{\"clkz\": [\"AQI=\"]}", "unknown key \"clkz\"", "unknown key");
	err_case("{\"clks\": [\"AQI=\"], \"clks\": [\"AQI=\"]}", "duplicate key", "duplicate key");
	err_case("{\"clks\": [\"AQI=\"], \"encodings\": [\"AQI=\"]}", "cannot be combined", "two forms");
	err_case("{\"clks\": [\"AQI=\"]} x", "unexpected character 'x'", "trailing garbage");
	err_case("{\"clks\": [\"AQI=\"]}{}", "after the end", "second object");
	err_case("{\"clks\": [\"AQI=\", \"AwQ", "ends inside a string", "truncated in a string");
	err_case("{\"clks\": [\"AQI=\", ", "truncated upload", "truncated between values");
	err_case("{\"clks\": [\"AQI=\",]}", "must be a base64 string", "trailing comma");
	err_case("{\"clks\": [true]}", "unexpected character 't'", "literal");
	err_case("{\"clks\": [\"AQ\\x\"]}", "invalid escape", "bad escape");
	err_case("{\"clks\": [\"A\nQ==\"]}", "control character", "raw newline in string");
	err_case("{\"encodings\": [\"AQI=\"], \"blocks\": {\"5\": [\"x\"]}}", "blocks name record 5", "block index beyond encodings");
	err_case("{\"encodings\": [\"AQI=\"], \"blocks\": {\"01\": [\"x\"]}}", "record indices", "leading zero index");
	err_case("{\"encodings\": [\"AQI=\"], \"blocks\": {\"a\": [\"x\"]}}", "record indices", "non-numeric index");
	err_case("{\"encodings\": [\"AQI=\"], \"blocks\": {\"18446744073709551616\": [\"x\"]}}", "out of range",
			 "index overflowing 64 bits (2^64, not record 0)");
	err_case("{\"encodings\": [\"AQI=\"], \"blocks\": {\"99999999999999999999\": [\"x\"]}}", "out of range",
			 "20-digit index above 2^64");
	err_case("{\"blocks\": {\"0\": [\"x\"]}}", "blocks without encodings", "blocks alone");
	err_case("{\"clknblocks\": [[\"AQI=\", 1.5]]}", "only integer", "float block id");
	err_case("{\"clknblocks\": [[\"AQI=\", [\"x\"]]]}", "string or an integer", "nested block id");
	err_case("{\"clknblocks\": [[\"AQI=\", \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]]}",
			 "longer than 64", "block id too long");
	err_case("{\"clknblocks\": [[\"AQI=\",1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]]}",
			 "more than 16 blocks", "too many blocks");
	err_case("{\"clks\": [\"\\ud800\"]}", "surrogates", "surrogate escape");
	{
		/* A string longer than any CLK is refused while it streams. */
		size_t		n = 12000;
		char	   *big = malloc(n + 32);

		strcpy(big, "{\"clks\": [\"");
		memset(big + strlen(big), 'A', n);
		strcpy(big + 11 + n, "\"]}");
		err_case(big, "longer than 10924", "string longer than any CLK");
		free(big);
	}

	snprintf(path, sizeof(path), "%s/entity-service/test_encoding.json", data);
	file_case(path, UPLOAD_FORM_CLKNBLOCKS, 4);
	snprintf(path, sizeof(path), "%s/febrl4-clks/clks_a.json", data);
	file_case(path, UPLOAD_FORM_CLKS, 1000);
	snprintf(path, sizeof(path), "%s/febrl4/clkhash/clks_b.json", data);
	file_case(path, UPLOAD_FORM_CLKS, 5000);

	return test_summary();
}
