/*
 * candfmt.c
 *	  anonlink's binary candidate-pair format (see pprl/candfmt.h).
 */
#include <string.h>

#include "pprl/candfmt.h"

const unsigned char candfmt_header[CANDFMT_HEADER_BYTES] = {1, 8, 4, 4};

/* Little-endian bytes of v (n of them) at p. */
static void
put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char) (v >> (8 * i));
}

/* A little-endian integer of n bytes at p. */
static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t	v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Whether h is the header of this format (version 1, widths 8, 4, 4). */
bool
candfmt_header_ok(const unsigned char *h)
{
	return memcmp(h, candfmt_header, CANDFMT_HEADER_BYTES) == 0;
}

/* One pair as its CANDFMT_RECORD_BYTES bytes at out. */
void
candfmt_pack(double score, uint32_t ds_a, uint32_t ds_b, uint32_t a, uint32_t b, unsigned char *out)
{
	uint64_t	bits;

	memcpy(&bits, &score, sizeof(bits));
	put_le(out, bits, 8);
	put_le(out + 8, ds_a, 4);
	put_le(out + 12, ds_b, 4);
	put_le(out + 16, a, 4);
	put_le(out + 20, b, 4);
}

/* The pair at in: into c (its key in anonlink's order); returns the score. */
double
candfmt_unpack(const unsigned char *in, MatchCand *c)
{
	uint64_t	bits = get_le(in, 8);
	double		score;

	memcpy(&score, &bits, sizeof(score));
	c->key = match_score_key(score);
	c->ds_a = (uint32_t) get_le(in + 8, 4);
	c->ds_b = (uint32_t) get_le(in + 12, 4);
	c->a = (uint32_t) get_le(in + 16, 4);
	c->b = (uint32_t) get_le(in + 20, 4);
	return score;
}
