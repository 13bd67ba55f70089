/*
 * match_gen.c
 *	  Candidate generation: every pair of records from two datasets whose
 *	  Dice coefficient is at or above the threshold.
 *
 * Both datasets are sorted by popcount (a counting sort) and copied into
 * contiguous popcount-ordered blocks.  Queries are taken in tiles of
 * consecutive popcounts; for each tile only the targets whose popcount can
 * reach the threshold with some query of the tile are compared (the
 * popcount bound, exact: derived from the same min_c table as the test),
 * in cache-sized target blocks through the active kernel's tiled
 * and_count_block.  The threshold test is an integer compare against
 * min_c[|A| + |B|], which is exactly anonlink's double-precision rule.
 */
#include <string.h>

#include "pprl/match.h"
#include "pprl/clk_kernels.h"

#define TILE_QUERIES 16
#define TILE_TARGETS 512

/* Dice exactly as anonlink computes it (two empty CLKs give 0). */
double
match_score(uint32_t c, uint32_t pa, uint32_t pb)
{
	uint64_t	denom = (uint64_t) pa + pb;

	return denom == 0 ? 0.0 : (double) (2 * (uint64_t) c) / (double) denom;
}

/* Order-preserving key: ascending keys are descending scores (0 <= s <= 1). */
uint64_t
match_score_key(double score)
{
	uint64_t	bits;

	memcpy(&bits, &score, sizeof(bits));
	return ~bits;
}

/* The score a key stands for. */
double
match_key_score(uint64_t key)
{
	uint64_t	bits = ~key;
	double		score;

	memcpy(&score, &bits, sizeof(score));
	return score;
}

/*
 * Build min_c[s] for s = |A| + |B| in 0..2*nbits: the least count c whose
 * Dice score 2c/s, computed in double as anonlink does, is >= t (for s = 0,
 * where Dice is 0, a count no pair has).  The table is nondecreasing in s
 * (a count that reaches t for s + 1 reaches it for s), which lets a block of
 * popcount-sorted targets be rejected against its first target's bound.
 * Counts above min(|A|, |B|) cannot occur, so no cap is needed.
 */
bool
match_threshold_init(MatchThreshold *mt, double t, uint32_t nbits, const MatchAlloc *ma)
{
	mt->t = t;
	mt->nbits = nbits;
	mt->min_c = ma->alloc(sizeof(uint32_t) * (2 * (size_t) nbits + 1));
	if (!mt->min_c)
		return false;
	mt->min_c[0] = 1;
	for (uint32_t s = 1; s <= 2 * nbits; s++)
	{
		uint32_t	c = (uint32_t) (t * s / 2);

		c = c > 2 ? c - 2 : 0;
		while (match_score(c, s - s / 2, s / 2) < t)
			c++;
		mt->min_c[s] = c;
	}
	return true;
}

/* Release the tables. */
void
match_threshold_free(MatchThreshold *mt, const MatchAlloc *ma)
{
	ma->free(mt->min_c);
	mt->min_c = NULL;
}

/* Append a pair, growing the array geometrically. */
bool
match_pairs_push(MatchPairs *ps, uint64_t key, uint32_t a, uint32_t b, const MatchAlloc *ma)
{
	if (ps->len == ps->cap)
	{
		size_t		cap = ps->cap ? ps->cap * 2 : 1024;
		MatchPair  *p = ps->items ? ma->realloc(ps->items, cap * sizeof(MatchPair))
			: ma->alloc(cap * sizeof(MatchPair));

		if (!p)
			return false;
		ps->items = p;
		ps->cap = cap;
	}
	ps->items[ps->len].key = key;
	ps->items[ps->len].a = a;
	ps->items[ps->len].b = b;
	ps->len++;
	return true;
}

/* A dataset copied into popcount order (MatchSorted in match.h). */
typedef struct MatchSorted
{
	uint32_t	n;
	uint8_t    *clks;			/* popcount-ordered copy */
	uint32_t   *pop;			/* popcounts, ascending */
	uint32_t   *index;			/* record index of each position */
	uint32_t   *start;			/* start[p]: first position with popcount >= p */
} Sorted;

/* Counting sort of a dataset (or its selected records) by popcount into a contiguous copy. */
static bool
sort_by_popcount(const MatchDataset *d, size_t nbytes, uint32_t nbits, Sorted *s,
				 const MatchAlloc *ma)
{
	s->n = d->n;
	s->clks = ma->alloc(nbytes * (d->n ? d->n : 1));
	s->pop = ma->alloc(sizeof(uint32_t) * (d->n ? d->n : 1));
	s->index = ma->alloc(sizeof(uint32_t) * (d->n ? d->n : 1));
	s->start = ma->alloc(sizeof(uint32_t) * (nbits + 2));
	if (!s->clks || !s->pop || !s->index || !s->start)
		return false;
	memset(s->start, 0, sizeof(uint32_t) * (nbits + 2));
	for (uint32_t i = 0; i < d->n; i++)
		s->start[d->popcounts[d->select ? d->select[i] : i] + 1]++;
	for (uint32_t p = 1; p <= nbits + 1; p++)
		s->start[p] += s->start[p - 1];
	for (uint32_t i = 0; i < d->n; i++)
	{
		uint32_t	r = d->select ? d->select[i] : i;
		uint32_t	pos = s->start[d->popcounts[r]]++;

		memcpy(s->clks + (size_t) pos * nbytes, d->clks + (size_t) r * nbytes, nbytes);
		s->pop[pos] = d->popcounts[r];
		s->index[pos] = r;
	}
	/* The increments shifted each start to the next bucket: shift back. */
	for (uint32_t p = nbits + 1; p > 0; p--)
		s->start[p] = s->start[p - 1];
	s->start[0] = 0;
	return true;
}

/* Free a sorted copy. */
static void
sorted_free(Sorted *s, const MatchAlloc *ma)
{
	ma->free(s->clks);
	ma->free(s->pop);
	ma->free(s->index);
	ma->free(s->start);
}

/*
 * A popcount range [lo, hi] of targets that includes every target able to
 * reach the threshold with some query whose popcount is in [qmin, qmax]:
 * Dice >= t needs |A| t/(2-t) <= |B| <= |A| (2-t)/t; the bounds widen by 2
 * to absorb double rounding (the exact test runs on every pair anyway).
 */
static void
target_range(const MatchThreshold *mt, uint32_t qmin, uint32_t qmax,
			 uint32_t *lo, uint32_t *hi)
{
	double		t = mt->t;
	double		l = qmin * t / (2.0 - t) - 2.0;
	double		h = qmax * (2.0 - t) / t + 2.0;

	*lo = l <= 0 ? 0 : (uint32_t) l;
	*hi = h >= mt->nbits ? mt->nbits : (uint32_t) h;
}

/*
 * The targets of a comparison in popcount order, to be reused by several
 * calls of match_generate_sorted (NULL on allocation failure).
 */
MatchSorted *
match_sorted_build(const MatchDataset *y, size_t nbytes, uint32_t nbits, const MatchAlloc *ma)
{
	Sorted	   *sy = ma->alloc(sizeof(Sorted));

	if (!sy)
		return NULL;
	memset(sy, 0, sizeof(*sy));
	if (!sort_by_popcount(y, nbytes, nbits, sy, ma))
	{
		match_sorted_free(sy, ma);
		return NULL;
	}
	return sy;
}

/* Release sorted targets. */
void
match_sorted_free(MatchSorted *sy, const MatchAlloc *ma)
{
	if (!sy)
		return;
	sorted_free(sy, ma);
	ma->free(sy);
}

/* Compare x with y: match_generate_sorted on a one-off sorted copy of y. */
bool
match_generate(const MatchDataset *x, const MatchDataset *y, size_t nbytes,
			   const MatchThreshold *mt, MatchPairs *out, const MatchAlloc *ma,
			   const MatchHooks *hooks)
{
	MatchSorted *sy;
	bool		ok;

	if (x->n == 0 || y->n == 0)
		return true;
	sy = match_sorted_build(y, nbytes, mt->nbits, ma);
	if (!sy)
		return false;
	ok = match_generate_sorted(x, sy, nbytes, mt, out, ma, hooks);
	match_sorted_free(sy, ma);
	return ok;
}

/*
 * Compare every record of x with every record of the sorted targets sy
 * (popcount bound permitting) and append the pairs at or above the
 * threshold to out, with a indexing x and b indexing y.  With hooks,
 * cancel() is asked between query tiles, and flush() takes out's pairs
 * there once it holds flush_at or more, and at the end: a record of x
 * never has its pairs split across two flushes.  Returns false on
 * allocation failure or when a hook said stop.
 */
bool
match_generate_sorted(const MatchDataset *x, const MatchSorted *syp, size_t nbytes,
					  const MatchThreshold *mt, MatchPairs *out, const MatchAlloc *ma,
					  const MatchHooks *hooks)
{
	Sorted		sx = {0};
	const Sorted sy = *syp;
	uint32_t	counts[TILE_QUERIES * TILE_TARGETS];
	bool		ok = false;

	if (x->n == 0 || sy.n == 0)
		return true;
	if (!sort_by_popcount(x, nbytes, mt->nbits, &sx, ma))
		goto done;
	for (uint32_t q0 = 0; q0 < sx.n; q0 += TILE_QUERIES)
	{
		uint32_t	nq = sx.n - q0 < TILE_QUERIES ? sx.n - q0 : TILE_QUERIES;
		uint32_t	plo,
					phi,
					t_begin,
					t_end;

		/* Between query tiles: every pair of the tiles so far is in out. */
		if (hooks && hooks->cancel && hooks->cancel(hooks->arg))
			goto done;
		if (hooks && hooks->flush && out->len >= hooks->flush_at &&
			!hooks->flush(hooks->arg, out))
			goto done;
		target_range(mt, sx.pop[q0], sx.pop[q0 + nq - 1], &plo, &phi);
		if (plo > phi)
			continue;
		t_begin = sy.start[plo];
		t_end = sy.start[phi + 1];
		for (uint32_t t0 = t_begin; t0 < t_end; t0 += TILE_TARGETS)
		{
			uint32_t	nt = t_end - t0 < TILE_TARGETS ? t_end - t0 : TILE_TARGETS;

			clk_kern->and_count_block(sx.clks + (size_t) q0 * nbytes, nq, nbytes,
									  sy.clks + (size_t) t0 * nbytes, nt, nbytes,
									  nbytes, counts);
			for (uint32_t i = 0; i < nq; i++)
			{
				uint32_t	pa = sx.pop[q0 + i];
				const uint32_t *row = counts + (size_t) i * nt;
				/* Targets ascend in popcount, so the block's first has the lowest bound. */
				uint32_t	cmin = mt->min_c[pa + sy.pop[t0]];

				for (uint32_t j0 = 0; j0 < nt; j0 += 16)
				{
					uint32_t	jend = nt - j0 < 16 ? nt : j0 + 16;
					uint32_t	best = 0;

					/* Branch-free maximum of 16 counts: almost always below cmin. */
					for (uint32_t j = j0; j < jend; j++)
						best = row[j] > best ? row[j] : best;
					if (best < cmin)
						continue;
					for (uint32_t j = j0; j < jend; j++)
					{
						uint32_t	pb = sy.pop[t0 + j];

						if (row[j] < mt->min_c[pa + pb])
							continue;
						if (!match_pairs_push(out, match_score_key(match_score(row[j], pa, pb)),
											  sx.index[q0 + i], sy.index[t0 + j], ma))
							goto done;
					}
				}
			}
		}
	}
	ok = !(hooks && hooks->flush && out->len > 0 && !hooks->flush(hooks->arg, out));
done:
	sorted_free(&sx, ma);
	return ok;
}
