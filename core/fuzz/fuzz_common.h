/*
 * fuzz_common.h
 *	  Property checks shared by the libFuzzer harnesses: a CHECK macro that
 *	  aborts (so libFuzzer keeps the input) and the checks every codec error
 *	  must pass.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/clk_codec.h"

/* Room for any codec message, and a deliberately short buffer. */
#define MSG_BUFLEN 256
#define SHORT_BUFLEN 12

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			check_failed(#cond, __FILE__, __LINE__); \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a violated property and abort, so libFuzzer saves the input. */
static inline void
check_failed(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
	abort();
}

/*
 * Check an error as a caller would use it: a known non-OK status and a
 * non-empty message that fits MSG_BUFLEN and truncates cleanly.
 */
static inline void
check_error(ClkCodecStatus st, const ClkCodecError *err)
{
	char		msg[MSG_BUFLEN];
	char		shortmsg[SHORT_BUFLEN];
	int			n;
	int			n2;

	CHECK(st != CLK_CODEC_OK);
	CHECK(st == err->status);
	CHECK(st > CLK_CODEC_OK && st <= CLK_CODEC_TEXT_TOO_LONG);

	memset(msg, 0x7f, sizeof(msg));
	n = clk_codec_strerror(err, msg, sizeof(msg));
	CHECK(n > 0 && (size_t) n < sizeof(msg));
	CHECK(memchr(msg, '\0', sizeof(msg)) != NULL);
	CHECK(strlen(msg) == (size_t) n);

	memset(shortmsg, 0x7f, sizeof(shortmsg));
	n2 = clk_codec_strerror(err, shortmsg, sizeof(shortmsg));
	CHECK(n2 == n);
	CHECK(memchr(shortmsg, '\0', sizeof(shortmsg)) != NULL);
	CHECK(strncmp(shortmsg, msg, strlen(shortmsg)) == 0);
}

#endif							/* FUZZ_COMMON_H */
