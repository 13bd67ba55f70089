/*
 * clk_codec.h
 *	  Parsing and printing of CLKs from client bytes: base64 text and the
 *	  binary wire format.
 *
 * Plain C11 with no PostgreSQL dependency: the extension's input functions,
 * the REST server's upload validation and the libFuzzer harnesses all use
 * this one implementation.  Decoding is strict (RFC 4648 standard alphabet,
 * padding required, canonical trailing bits) so every accepted string maps
 * to exactly one CLK and prints back unchanged.
 */
#ifndef CLK_CODEC_H
#define CLK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CLK_MIN_BITS 8
#define CLK_MAX_BITS 65536
#define CLK_MAX_BYTES (CLK_MAX_BITS / 8)
/* Longest base64 text of a CLK: 4 characters per started 3 bytes. */
#define CLK_MAX_B64_LEN (((CLK_MAX_BYTES + 2) / 3) * 4)
/* Binary wire format: int32 bit count (network order), then the bytes. */
#define CLK_BIN_HEADER 4

typedef enum ClkCodecStatus
{
	CLK_CODEC_OK = 0,
	CLK_CODEC_EMPTY,			/* no characters at all */
	CLK_CODEC_BAD_CHAR,			/* pos, ch: not in the base64 alphabet */
	CLK_CODEC_BAD_PADDING,		/* pos: '=' where it cannot be */
	CLK_CODEC_BAD_LENGTH,		/* value: text length not a multiple of 4 */
	CLK_CODEC_NONCANONICAL,		/* pos: unused trailing bits are not zero */
	CLK_CODEC_SIZE_RANGE,		/* value: bits outside [8, 65536] */
	CLK_CODEC_SIZE_NOT_BYTES,	/* value: bits not a multiple of 8 */
	CLK_CODEC_TRUNCATED,		/* value: bytes missing from binary input */
	CLK_CODEC_TEXT_TOO_LONG		/* value: characters, more than any CLK needs */
} ClkCodecStatus;

/* What went wrong and where; positions are 1-based character offsets. */
typedef struct ClkCodecError
{
	ClkCodecStatus status;
	size_t		pos;
	unsigned char ch;
	int64_t		value;
} ClkCodecError;

/* Upper bound of the decoded size of `len` base64 characters. */
static inline size_t
clk_b64_max_decoded(size_t len)
{
	return (len / 4) * 3 + 3;
}

/* Exact encoded size of `n` bytes. */
static inline size_t
clk_b64_encoded_len(size_t n)
{
	return ((n + 2) / 3) * 4;
}

extern ClkCodecStatus clk_b64_decode(const char *s, size_t len, uint8_t *out,
									 size_t *outlen, ClkCodecError *err);
extern size_t clk_b64_encode(const uint8_t *in, size_t n, char *out);
extern ClkCodecStatus clk_check_bits(int64_t nbits, ClkCodecError *err);
extern ClkCodecStatus clk_bin_parse(const uint8_t *buf, size_t len,
									size_t *nbytes, ClkCodecError *err);
extern int	clk_codec_strerror(const ClkCodecError *err, char *buf, size_t buflen);

#endif							/* CLK_CODEC_H */
