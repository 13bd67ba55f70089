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
#include "pprl/match.h"

/* Remove pairs equal to their predecessor (same score and records). */
void
match_dedupe(MatchPairs *ps)
{
	size_t		w = 0;

	for (size_t r = 0; r < ps->len; r++)
	{
		if (w > 0 && match_pair_equal(&ps->items[w - 1], &ps->items[r]))
			continue;
		ps->items[w++] = ps->items[r];
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
 * anonlink's _enforce_k for the next pair in order: count it for both of
 * its records, kept or not, and keep it when both counts are within k.
 * This one rule serves the array filter below and the streaming merge of
 * spilled candidates (match_store.c).
 */
bool
match_enforce_k_pair(const MatchPair *p, uint32_t k, uint32_t *count_a, uint32_t *count_b)
{
	uint32_t	ca = ++count_a[p->a];
	uint32_t	cb = ++count_b[p->b];

	return ca <= k && cb <= k;
}

/*
 * anonlink's _enforce_k over a sorted array.  count_a and count_b: zeroed,
 * one slot per record of each side; the caller zeroes them again.
 */
void
match_enforce_k(MatchPairs *ps, uint32_t k, uint32_t *count_a, uint32_t *count_b)
{
	size_t		w = 0;

	for (size_t r = 0; r < ps->len; r++)
		if (match_enforce_k_pair(&ps->items[r], k, count_a, count_b))
			ps->items[w++] = ps->items[r];
	ps->len = w;
}
