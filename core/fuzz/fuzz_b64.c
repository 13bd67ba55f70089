/*
 * fuzz_b64.c
 *	  libFuzzer harness for the strict base64 codec of clk_codec.c
 *	  (clk_b64_decode, clk_b64_encode, clk_codec_strerror).
 *
 * Every input is used twice.
 *
 * 1. As base64 text for clk_b64_decode(), into a heap buffer of exactly
 *    clk_b64_max_decoded() bytes (for at most CLK_MAX_B64_LEN characters).
 *    On success:
 *    - the CLK is 1 to CLK_MAX_BYTES bytes and its bit count passes
 *      clk_check_bits();
 *    - clk_b64_encode() of the decoded bytes reproduces the input exactly
 *      (strict decoding is canonical, so the round trip is the identity).
 *    On failure:
 *    - the status is a known error, not CLK_CODEC_OK, and equals err.status;
 *    - clk_codec_strerror() gives a non-empty NUL-terminated message that
 *      fits its buffer, and truncates cleanly into a short buffer;
 *    - for BAD_CHAR, BAD_PADDING and NONCANONICAL the 1-based err.pos lies
 *      within 1..len; for BAD_CHAR, err.ch is the character at err.pos and
 *      is neither in the alphabet nor '='.
 *
 * 2. As raw bytes (the first CLK_MAX_BYTES of a non-empty input) for
 *    clk_b64_encode(): the text has clk_b64_encoded_len() characters and
 *    clk_b64_decode() turns it back into the same bytes.
 *
 * A violated property prints what failed and abort()s, so libFuzzer keeps
 * the input as a crash artifact; ASan and UBSan catch memory and undefined
 * behaviour errors in the codec, since all buffers are exactly sized.
 */
#include "fuzz_common.h"

/* malloc that treats exhaustion as a harness failure, never as a finding. */
static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "fuzz_b64: out of memory\n");
		exit(1);
	}
	return p;
}

/* Is c one of the 64 characters of the standard base64 alphabet? */
static int
is_b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Property 1: decode the input as text; check success or failure. */
static void
fuzz_decode(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	size_t		cap = clk_b64_max_decoded(size < CLK_MAX_B64_LEN ? size : CLK_MAX_B64_LEN);
	uint8_t    *out = xmalloc(cap);
	size_t		outlen = (size_t) -1;
	ClkCodecError err;
	ClkCodecStatus st;

	memset(&err, 0, sizeof(err));
	st = clk_b64_decode(s, size, out, &outlen, &err);
	if (st == CLK_CODEC_OK)
	{
		char	   *text;
		size_t		tlen;

		CHECK(outlen >= 1 && outlen <= CLK_MAX_BYTES);
		CHECK(outlen <= cap);
		CHECK(clk_check_bits((int64_t) outlen * 8, NULL) == CLK_CODEC_OK);
		CHECK(clk_b64_encoded_len(outlen) == size);

		text = xmalloc(clk_b64_encoded_len(outlen));
		tlen = clk_b64_encode(out, outlen, text);
		CHECK(tlen == size);
		CHECK(memcmp(text, s, size) == 0);
		free(text);
	}
	else
	{
		check_error(st, &err);
		if (st == CLK_CODEC_BAD_CHAR || st == CLK_CODEC_BAD_PADDING ||
			st == CLK_CODEC_NONCANONICAL)
			CHECK(err.pos >= 1 && err.pos <= size);
		if (st == CLK_CODEC_BAD_CHAR)
		{
			CHECK(err.ch == data[err.pos - 1]);
			CHECK(!is_b64_char(err.ch) && err.ch != '=');
		}
	}
	free(out);
}

/* Property 2: encode the input bytes and decode them back unchanged. */
static void
fuzz_encode(const uint8_t *data, size_t size)
{
	size_t		n = size < CLK_MAX_BYTES ? size : CLK_MAX_BYTES;
	size_t		elen = clk_b64_encoded_len(n);
	char	   *text;
	uint8_t    *back;
	size_t		tlen;
	size_t		blen = (size_t) -1;
	ClkCodecError err;
	ClkCodecStatus st;

	if (n == 0)
		return;
	text = xmalloc(elen);
	tlen = clk_b64_encode(data, n, text);
	CHECK(tlen == elen);

	back = xmalloc(clk_b64_max_decoded(tlen));
	memset(&err, 0, sizeof(err));
	st = clk_b64_decode(text, tlen, back, &blen, &err);
	if (st != CLK_CODEC_OK)
	{
		char		msg[MSG_BUFLEN];

		clk_codec_strerror(&err, msg, sizeof(msg));
		fprintf(stderr, "fuzz_b64: encoded %zu bytes do not decode: %s\n", n, msg);
	}
	CHECK(st == CLK_CODEC_OK);
	CHECK(blen == n);
	CHECK(memcmp(back, data, n) == 0);
	free(back);
	free(text);
}

/* libFuzzer entry point: run both properties on every input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode(data, size);
	fuzz_encode(data, size);
	return 0;
}
