/*
 * match_sort.c
 *	  LSD radix sort of candidate pairs into anonlink's order.
 *
 * Pairs sort by (key, a, b) ascending, which is score descending, then
 * record a, then record b.  One read pass builds the histograms of all 16
 * bytes; each byte whose values are all equal (high bytes of small record
 * indices, the exponent bytes of scores in [0.5, 1]) is skipped, so a
 * typical sort takes 8 to 11 stable counting passes over 16-byte records,
 * with no comparator calls.
 */
#include <string.h>

#include "pprl/match.h"

#define NBYTES_KEY 16

/* Byte `d` of a pair's 128-bit sort key (0 = least significant). */
static inline unsigned
key_byte(const MatchPair *p, int d)
{
	if (d < 4)
		return (p->b >> (8 * d)) & 0xff;
	if (d < 8)
		return (p->a >> (8 * (d - 4))) & 0xff;
	return (unsigned) (p->key >> (8 * (d - 8))) & 0xff;
}

/* Sort the pairs in place; false when the scratch buffer cannot be had. */
bool
match_sort_pairs(MatchPairs *ps, const MatchAlloc *ma)
{
	size_t		hist[NBYTES_KEY][256];
	MatchPair  *src = ps->items,
			   *dst;
	size_t		n = ps->len;

	if (n < 2)
		return true;
	dst = ma->alloc(n * sizeof(MatchPair));
	if (!dst)
		return false;
	memset(hist, 0, sizeof(hist));
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < NBYTES_KEY; d++)
			hist[d][key_byte(&src[i], d)]++;
	for (int d = 0; d < NBYTES_KEY; d++)
	{
		size_t		offset = 0;

		/* All records share this byte: the pass would change nothing. */
		if (hist[d][key_byte(&src[0], d)] == n)
			continue;
		for (int v = 0; v < 256; v++)
		{
			size_t		c = hist[d][v];

			hist[d][v] = offset;
			offset += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[hist[d][key_byte(&src[i], d)]++] = src[i];
		{
			MatchPair  *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != ps->items)
	{
		memcpy(ps->items, src, n * sizeof(MatchPair));
		dst = src;
	}
	ma->free(dst);
	return true;
}
