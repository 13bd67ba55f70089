/*
 * fuzz_encode.c
 *	  libFuzzer harness for the encoder (../src/encode): the schema parser
 *	  and the record encoder take bytes from SQL users.  The input is a
 *	  schema (JSON) and a record (fields separated by 0x1f) split at the
 *	  first NUL byte.  Properties: nothing crashes or leaks; a schema either
 *	  parses or fails with a message; a record either encodes into exactly
 *	  l/8 bytes or fails naming a feature in range with a message; encoding
 *	  is deterministic, and the token cache never changes a CLK.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/encode.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "property violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Split the record into at most 64 fields and encode it three ways. */
static void
encode_record(EncSchema *s, const char *rec, size_t len)
{
	int			nf = enc_schema_features(s),
				bytes = enc_schema_bytes(s);
	const char *vals[64];
	size_t		lens[64];
	char	   *copy = malloc(len + 1);
	uint8_t    *a = calloc((size_t) bytes, 1),
			   *b = calloc((size_t) bytes, 1),
			   *c = calloc((size_t) bytes, 1);
	EncCache   *cache = enc_cache_new();
	EncError	e1,
				e2,
				e3;
	size_t		start = 0;
	int			n = 0,
				r1,
				r2,
				r3;

	CHECK(copy && a && b && c && cache && nf <= 1024);
	memcpy(copy, rec, len);
	copy[len] = '\0';
	for (size_t i = 0; i <= len && n < 64; i++)
		if (i == len || copy[i] == 0x1f)
		{
			copy[i] = '\0';
			vals[n] = copy + start;
			lens[n++] = i - start;
			start = i + 1;
		}
	while (n < nf && n < 64)
	{
		vals[n] = "";
		lens[n++] = 0;
	}
	if (nf <= 64)
	{
		e1.feature = e2.feature = e3.feature = -3;
		r1 = enc_record(s, vals, lens, a, NULL, &e1);
		r2 = enc_record(s, vals, lens, b, cache, &e2);
		r3 = enc_record(s, vals, lens, c, cache, &e3);	/* now from the cache */
		CHECK(r1 == r2 && r2 == r3);
		if (r1 == 0)
			CHECK(memcmp(a, b, (size_t) bytes) == 0 && memcmp(b, c, (size_t) bytes) == 0);
		else
			CHECK(e1.feature >= -1 && e1.feature < nf && e1.msg[0] != '\0');
	}
	enc_cache_free(cache);
	free(copy);
	free(a);
	free(b);
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t		slen = nul ? (size_t) (nul - data) : size;
	char		err[512] = "";
	EncSchema  *s = enc_schema_parse((const char *) data, slen, (const uint8_t *) "fuzz-secret", 11,
									 err, sizeof(err));

	if (!s)
	{
		CHECK(err[0] != '\0');
		return 0;
	}
	if (nul)
		encode_record(s, (const char *) nul + 1, size - slen - 1);
	enc_schema_free(s);
	return 0;
}
