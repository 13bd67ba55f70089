/*
 * clk_codec.c
 *	  Strict base64 and binary-format codec for CLKs (see clk_codec.h).
 *
 * Bit order is clkhash's: the most significant bit of each byte is the
 * first bit, so the bytes decoded here are exactly clkhash's bitarray bytes
 * and exactly PostgreSQL's bit(n) bytes.
 */
#include <stdio.h>
#include <string.h>

#include "pprl/clk_codec.h"

static const char b64_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1 when it is not in the alphabet. */
static inline int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Fill in an error and return its status. */
static ClkCodecStatus
fail(ClkCodecError *err, ClkCodecStatus st, size_t pos, unsigned char ch,
	 int64_t value)
{
	if (err)
	{
		err->status = st;
		err->pos = pos;
		err->ch = ch;
		err->value = value;
	}
	return st;
}

/*
 * Check the characters and padding of base64 text and return the number
 * of trailing '=' (0 to 2).  Reports the first offending character.
 */
static ClkCodecStatus
b64_scan(const char *s, size_t len, size_t *npad, ClkCodecError *err)
{
	size_t		p = 0;

	/* Everything before the first '=' must be in the alphabet. */
	for (; p < len && s[p] != '='; p++)
		if (b64_value((unsigned char) s[p]) < 0)
			return fail(err, CLK_CODEC_BAD_CHAR, p + 1, (unsigned char) s[p], 0);
	/* Padding: only '=' from there to the end, at most two of them. */
	for (size_t i = p; i < len; i++)
	{
		if (s[i] == '=')
			continue;
		if (b64_value((unsigned char) s[i]) < 0)
			return fail(err, CLK_CODEC_BAD_CHAR, i + 1, (unsigned char) s[i], 0);
		return fail(err, CLK_CODEC_BAD_PADDING, p + 1, '=', 0);
	}
	if (len - p > 2)
		return fail(err, CLK_CODEC_BAD_PADDING, p + 1, '=', 0);
	if (len % 4 != 0)
		return fail(err, CLK_CODEC_BAD_LENGTH, 0, 0, (int64_t) len);
	*npad = len - p;
	return CLK_CODEC_OK;
}

/*
 * Decode standard base64 into `out` (room for clk_b64_max_decoded(len)
 * bytes).  Rejects stray characters, misplaced or missing padding,
 * non-canonical trailing bits and sizes outside the CLK range; the error
 * names what and where.
 */
ClkCodecStatus
clk_b64_decode(const char *s, size_t len, uint8_t *out, size_t *outlen,
			   ClkCodecError *err)
{
	size_t		npad = 0,
				o = 0;
	ClkCodecStatus st;

	if (len == 0)
		return fail(err, CLK_CODEC_EMPTY, 0, 0, 0);
	if (len > CLK_MAX_B64_LEN)
		return fail(err, CLK_CODEC_TEXT_TOO_LONG, 0, 0, (int64_t) len);
	st = b64_scan(s, len, &npad, err);
	if (st != CLK_CODEC_OK)
		return st;
	for (size_t i = 0; i < len; i += 4)
	{
		int			v0 = b64_value((unsigned char) s[i]),
					v1 = b64_value((unsigned char) s[i + 1]);
		int			v2 = s[i + 2] == '=' ? 0 : b64_value((unsigned char) s[i + 2]);
		int			v3 = s[i + 3] == '=' ? 0 : b64_value((unsigned char) s[i + 3]);
		uint32_t	w = ((uint32_t) v0 << 18) | ((uint32_t) v1 << 12) |
			((uint32_t) v2 << 6) | (uint32_t) v3;

		out[o++] = (uint8_t) (w >> 16);
		if (i + 4 < len || npad < 2)
			out[o++] = (uint8_t) (w >> 8);
		if (i + 4 < len || npad < 1)
			out[o++] = (uint8_t) w;
		/* The bits that padding leaves unused must be zero. */
		if (i + 4 == len && ((npad == 1 && (v2 & 0x3)) || (npad == 2 && (v1 & 0xf))))
			return fail(err, CLK_CODEC_NONCANONICAL, len - npad, s[len - npad - 1], 0);
	}
	st = clk_check_bits((int64_t) o * 8, err);
	if (st != CLK_CODEC_OK)
		return st;
	*outlen = o;
	return CLK_CODEC_OK;
}

/* Encode n bytes as padded standard base64; returns the length written. */
size_t
clk_b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t		o = 0;

	for (size_t i = 0; i < n; i += 3)
	{
		uint32_t	w = (uint32_t) in[i] << 16;

		if (i + 1 < n)
			w |= (uint32_t) in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = b64_alphabet[(w >> 18) & 63];
		out[o++] = b64_alphabet[(w >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[w & 63] : '=';
	}
	return o;
}

/* Check that a bit count is a whole number of bytes within the CLK range. */
ClkCodecStatus
clk_check_bits(int64_t nbits, ClkCodecError *err)
{
	if (nbits < CLK_MIN_BITS || nbits > CLK_MAX_BITS)
		return fail(err, CLK_CODEC_SIZE_RANGE, 0, 0, nbits);
	if (nbits % 8 != 0)
		return fail(err, CLK_CODEC_SIZE_NOT_BYTES, 0, 0, nbits);
	return CLK_CODEC_OK;
}

/*
 * Parse the binary wire format: a big-endian int32 bit count, then the
 * bytes.  On success *nbytes is the payload size, which starts at
 * buf + CLK_BIN_HEADER; trailing bytes are left for the caller to judge.
 */
ClkCodecStatus
clk_bin_parse(const uint8_t *buf, size_t len, size_t *nbytes, ClkCodecError *err)
{
	int32_t		nbits;
	ClkCodecStatus st;

	if (len < CLK_BIN_HEADER)
		return fail(err, CLK_CODEC_TRUNCATED, 0, 0, (int64_t) (CLK_BIN_HEADER - len));
	nbits = (int32_t) (((uint32_t) buf[0] << 24) | ((uint32_t) buf[1] << 16) |
					   ((uint32_t) buf[2] << 8) | (uint32_t) buf[3]);
	st = clk_check_bits(nbits, err);
	if (st != CLK_CODEC_OK)
		return st;
	if (len - CLK_BIN_HEADER < (size_t) nbits / 8)
		return fail(err, CLK_CODEC_TRUNCATED, 0, 0,
					(int64_t) ((size_t) nbits / 8 - (len - CLK_BIN_HEADER)));
	*nbytes = (size_t) nbits / 8;
	return CLK_CODEC_OK;
}

/* Print a character for a message: itself when printable, else \xNN. */
static void
show_char(unsigned char c, char *buf, size_t n)
{
	if (c >= 0x20 && c < 0x7f && c != '"')
		snprintf(buf, n, "%c", c);
	else
		snprintf(buf, n, "\\x%02x", c);
}

/* Human-readable message for a codec error (what is wrong, and where). */
int
clk_codec_strerror(const ClkCodecError *err, char *buf, size_t buflen)
{
	char		c[8];

	switch (err->status)
	{
		case CLK_CODEC_OK:
			return snprintf(buf, buflen, "no error");
		case CLK_CODEC_EMPTY:
			return snprintf(buf, buflen, "empty input: a CLK needs at least %d bits",
							CLK_MIN_BITS);
		case CLK_CODEC_BAD_CHAR:
			show_char(err->ch, c, sizeof(c));
			return snprintf(buf, buflen,
							"invalid base64 character \"%s\" at position %zu", c, err->pos);
		case CLK_CODEC_BAD_PADDING:
			return snprintf(buf, buflen,
							"misplaced base64 padding at position %zu: \"=\" may only end the text, at most twice",
							err->pos);
		case CLK_CODEC_BAD_LENGTH:
			return snprintf(buf, buflen,
							"base64 length %lld is not a multiple of 4 (missing or extra padding)",
							(long long) err->value);
		case CLK_CODEC_NONCANONICAL:
			return snprintf(buf, buflen,
							"non-canonical base64 at position %zu: bits left over before the padding must be zero",
							err->pos);
		case CLK_CODEC_SIZE_RANGE:
			return snprintf(buf, buflen,
							"CLK length %lld bits is out of range (%d to %d bits)",
							(long long) err->value, CLK_MIN_BITS, CLK_MAX_BITS);
		case CLK_CODEC_SIZE_NOT_BYTES:
			return snprintf(buf, buflen,
							"CLK length %lld bits is not a multiple of 8",
							(long long) err->value);
		case CLK_CODEC_TEXT_TOO_LONG:
			return snprintf(buf, buflen,
							"base64 text of %lld characters is longer than the largest CLK (%d bits, %d characters)",
							(long long) err->value, CLK_MAX_BITS, (int) CLK_MAX_B64_LEN);
		case CLK_CODEC_TRUNCATED:
			return snprintf(buf, buflen,
							"truncated binary CLK: %lld bytes missing",
							(long long) err->value);
	}
	return snprintf(buf, buflen, "unknown CLK codec error");
}
