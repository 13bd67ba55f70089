/*
 * match_filter.c
 *	  Filters over candidate pairs already in anonlink's order: duplicate
 *	  removal (a pair found in several blocks) and the two top-k rules of
 *	  anonlink's find_candidate_pairs.
 *
 * With k, anonlink first keeps, per block and per record of the first
 * dataset of a pair, its k best candidates (score descending, then lower
 * record index of the second dataset), then merges the blocks and walks the
 * sorted list with one counter per record on each side, incrementing both
 * counters before the check, so a pair rejected for one side still uses a
 * slot of the other.  Both rules are reproduced exactly.
 */
#include "match.h"

/* Remove pairs equal to their predecessor (same score and records). */
void
match_dedupe(MatchPairs *ps)
{
	size_t		w = 0;

	for (size_t r = 0; r < ps->len; r++)
	{
		MatchPair  *p = &ps->items[r];

		if (w > 0 && ps->items[w - 1].key == p->key &&
			ps->items[w - 1].a == p->a && ps->items[w - 1].b == p->b)
			continue;
		ps->items[w++] = *p;
	}
	ps->len = w;
}

/*
 * Keep at most k pairs per record a (the first k in order, which are its
 * best, ties to the lower b).  count_a: zeroed, one slot per record of a's
 * dataset; left zeroed again.
 */
void
match_topk_rows(MatchPairs *ps, uint32_t k, uint32_t *count_a)
{
	size_t		w = 0;

	for (size_t r = 0; r < ps->len; r++)
		if (++count_a[ps->items[r].a] <= k)
			ps->items[w++] = ps->items[r];
	for (size_t r = 0; r < ps->len; r++)
		count_a[ps->items[r].a] = 0;
	ps->len = w;
}

/*
 * anonlink's _enforce_k: walk in order, count the pair for both records,
 * keep it when both counts are within k.  count_a and count_b: zeroed, one
 * slot per record of each side; the caller zeroes them again.
 */
void
match_enforce_k(MatchPairs *ps, uint32_t k, uint32_t *count_a, uint32_t *count_b)
{
	size_t		w = 0;

	for (size_t r = 0; r < ps->len; r++)
	{
		MatchPair	p = ps->items[r];
		uint32_t	ca = ++count_a[p.a];
		uint32_t	cb = ++count_b[p.b];

		if (ca <= k && cb <= k)
			ps->items[w++] = p;
	}
	ps->len = w;
}
