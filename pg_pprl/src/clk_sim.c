/*
 * clk_sim.c
 *	  Similarity functions and operators on CLKs.
 *
 * Dice is 2|A AND B| / (|A| + |B|) in double precision, computed exactly
 * as the anonlink library computes it (integer numerator and denominator
 * converted to double, one division), so scores match bit for bit.  The
 * operands' own popcounts are cached in the values; only the intersection
 * is counted, by the active SIMD kernel.
 */
#include "postgres.h"

#include "clk.h"
#include "pprl/match.h"

PG_FUNCTION_INFO_V1(clk_popcount);
PG_FUNCTION_INFO_V1(clk_length);
PG_FUNCTION_INFO_V1(clk_dice);
PG_FUNCTION_INFO_V1(clk_tanimoto);
PG_FUNCTION_INFO_V1(clk_hamming);
PG_FUNCTION_INFO_V1(clk_dice_match);
PG_FUNCTION_INFO_V1(clk_dice_distance);

/* |A AND B| of two CLKs of the same length (checked here). */
uint32
clk_and_count(const Clk *a, const Clk *b)
{
	clk_check_same_length(a, b);
	return (uint32) clk_kern->and_count(a->data, b->data, CLK_NBYTES(a));
}

/* Dice coefficient as anonlink computes it (match_score); two empty CLKs give 0. */
double
clk_dice_value(const Clk *a, const Clk *b)
{
	return match_score(clk_and_count(a, b), a->popcount, b->popcount);
}

/* Number of set bits (cached, no counting). */
Datum
clk_popcount(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);

	PG_RETURN_INT32((int32) c->popcount);
}

/* Length in bits. */
Datum
clk_length(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);

	PG_RETURN_INT32(CLK_NBITS(c));
}

/* dice(a, b): the Sørensen-Dice coefficient. */
Datum
clk_dice(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(clk_dice_value(PG_GETARG_CLK_P(0), PG_GETARG_CLK_P(1)));
}

/* tanimoto(a, b): Jaccard index |A AND B| / |A OR B|; two empty CLKs give 0. */
Datum
clk_tanimoto(PG_FUNCTION_ARGS)
{
	Clk		   *a = PG_GETARG_CLK_P(0);
	Clk		   *b = PG_GETARG_CLK_P(1);
	uint64		c = clk_and_count(a, b);
	uint64		uni = (uint64) a->popcount + b->popcount - c;

	if (uni == 0)
		PG_RETURN_FLOAT8(0.0);
	PG_RETURN_FLOAT8((double) c / (double) uni);
}

/* hamming(a, b): number of differing bits, |A| + |B| - 2|A AND B|. */
Datum
clk_hamming(PG_FUNCTION_ARGS)
{
	Clk		   *a = PG_GETARG_CLK_P(0);
	Clk		   *b = PG_GETARG_CLK_P(1);
	uint64		c = clk_and_count(a, b);

	PG_RETURN_INT32((int32) ((uint64) a->popcount + b->popcount - 2 * c));
}

/* a % b: Dice at or above pprl.dice_threshold (hence STABLE, not IMMUTABLE). */
Datum
clk_dice_match(PG_FUNCTION_ARGS)
{
	double		d = clk_dice_value(PG_GETARG_CLK_P(0), PG_GETARG_CLK_P(1));

	PG_RETURN_BOOL(d >= pprl_dice_threshold);
}

/* a <-> b: Dice distance 1 - dice(a, b), for ORDER BY ... LIMIT k. */
Datum
clk_dice_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(1.0 - clk_dice_value(PG_GETARG_CLK_P(0), PG_GETARG_CLK_P(1)));
}
