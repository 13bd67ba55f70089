/*
 * pidx_bound.c
 *	  The popcount bound, in the very arithmetic the % operator uses.
 *
 * A scan decides per entry with an integer compare: C >= cmin, where C is
 * |query AND entry| and cmin the smallest intersection that reaches the
 * threshold for the two popcounts.  cmin comes from match_score itself (the
 * function behind dice() and %), so the index and a sequential scan agree
 * bit for bit, even on scores that round to the threshold.
 */
#include "postgres.h"

#include "index/pidx.h"
#include "pprl/match.h"

/*
 * The smallest C with match_score(C, a, b) >= t, or -1 when even
 * C = min(a, b) falls short (then no CLK of popcount b can match a).
 */
int32
pidx_min_common(uint32 a, uint32 b, double t)
{
	uint32		lo = 0,
				hi = Min(a, b);

	if (!(match_score(hi, a, b) >= t))
		return -1;
	/* match_score grows with C: find the first C that passes. */
	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (match_score(mid, a, b) >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (int32) lo;
}

/* The best Dice any CLK of popcount b can reach against popcount a. */
double
pidx_best_dice(uint32 a, uint32 b)
{
	return match_score(Min(a, b), a, b);
}
