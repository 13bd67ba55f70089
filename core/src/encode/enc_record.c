/*
 * enc_record.c
 *	  One record into one CLK: every feature that is not ignored is
 *	  validated and formatted, tokenized, and its tokens hashed into a
 *	  filter of l * 2^xor_folds bits (bitsPerToken: k bits per token;
 *	  bitsPerFeature B: B / n bits per token, the first B mod n tokens one
 *	  more), the features' filters OR-ed together, then folded in halves
 *	  with XOR xor_folds times.  Bit order as clkhash writes it: bit i is
 *	  the high-first bit i % 8 of byte i / 8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enc_impl.h"

/* Validate and format one value of a feature, without hashing; 0 when valid. */
int
enc_validate(const EncSchema *s, int feature, const char *value, size_t len, EncError *e)
{
	char	   *out = NULL;
	size_t		outlen;
	int			rc;

	if (feature < 0 || feature >= s->nfeatures)
		return -1;
	if (s->f[feature].ignored)
		return 0;
	rc = enc_prepare(&s->f[feature], value, len, &out, &outlen, e, feature);
	free(out);
	return rc;
}

/*
 * Halve a filter of nbits with XOR, `folds` times, as clkhash's fold_xor
 * (bitarray halves, so a length that is not a whole number of bytes folds
 * bit by bit); bits past each new length are cleared.
 */
static void
fold(uint8_t *bits, size_t nbits, int folds)
{
	for (int i = 0; i < folds; i++)
	{
		size_t		half = nbits / 2;

		if (half % 8 == 0)
			for (size_t b = 0; b < half / 8; b++)
				bits[b] ^= bits[half / 8 + b];
		else
			for (size_t b = 0; b < half; b++)
				if (bits[(half + b) >> 3] & (0x80 >> ((half + b) & 7)))
					bits[b >> 3] ^= (uint8_t) (0x80 >> (b & 7));
		for (size_t b = half; b < nbits && b % 8 != 0; b++)
			bits[b >> 3] &= (uint8_t) ~(0x80 >> (b & 7));
		memset(bits + (half + 7) / 8, 0, (nbits + 7) / 8 - (half + 7) / 8);
		nbits = half;
	}
}

/*
 * Encode a record (values[i], lens[i] for feature i, in schema order) into
 * out (enc_schema_bytes(s) bytes), with an optional token cache of the
 * calling thread; 0, or -1 with e saying why.
 */
int
enc_record(const EncSchema *s, const char *const *values, const size_t *lens, uint8_t *out,
		   EncCache *cache, EncError *e)
{
	int			lh = s->l << s->xor_folds;
	size_t		nbytes = ((size_t) lh + 7) / 8;
	uint8_t    *bits = calloc(nbytes, 1);
	EncTokens	t = {0};
	char	   *enc = NULL;		/* a token in UTF-16 or UTF-32 */
	size_t		enc_cap = 0;
	int			rc = 0;

	if (!bits)
		return -1;
	for (int i = 0; i < s->nfeatures && rc == 0; i++)
	{
		const EncFeature *f = &s->f[i];
		char	   *v = NULL;
		size_t		vlen;

		if (f->ignored)
			continue;
		if (enc_prepare(f, values[i], lens[i], &v, &vlen, e, i) != 0)
		{
			rc = -1;
			break;
		}
		if ((f->lazy_error[0] && vlen > 0) || enc_tokenize(f, v, vlen, &t) != 0)
		{
			if (e)
			{
				e->feature = i;
				snprintf(e->msg, sizeof(e->msg), "%s", f->lazy_error[0] ? f->lazy_error :
						 f->comparison == CMP_NUMERIC ? "not a number" : "could not tokenize");
			}
			rc = -1;
		}
		for (int j = 0; rc == 0 && j < t.n; j++)
		{
			int			k = f->bits_per_token;

			if (f->bits_per_feature > 0)
				k = f->bits_per_feature / t.n + (j < f->bits_per_feature % t.n ? 1 : 0);
			size_t		blen;
			const char *tok = enc_token_bytes(f, t.buf + t.off[j], t.tlen[j], &enc, &enc_cap, &blen);

			if (!tok || enc_hash_token(s, i, tok, blen, k, bits, lh, cache) != 0)
			{
				if (e)
				{
					e->feature = i;
					strcpy(e->msg, "hashing failed");
				}
				rc = -1;
			}
		}
		free(v);
	}
	enc_tokens_free(&t);
	free(enc);
	if (rc == 0)
	{
		fold(bits, (size_t) lh, s->xor_folds);
		memcpy(out, bits, ((size_t) s->l + 7) / 8);
	}
	free(bits);
	return rc;
}
