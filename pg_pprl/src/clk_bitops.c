/*
 * clk_bitops.c
 *	  Bitwise AND/OR of CLKs (functions, operators, aggregates), equality,
 *	  ordering and hashing (so clk works in DISTINCT, GROUP BY, hash joins).
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "clk.h"

PG_FUNCTION_INFO_V1(clk_and);
PG_FUNCTION_INFO_V1(clk_or);
PG_FUNCTION_INFO_V1(clk_eq);
PG_FUNCTION_INFO_V1(clk_ne);
PG_FUNCTION_INFO_V1(clk_cmp);
PG_FUNCTION_INFO_V1(clk_hash);
PG_FUNCTION_INFO_V1(clk_hash_extended);

/*
 * Combine b into a with AND or OR.  As an aggregate transition function a is
 * the transition value, owned by the aggregate, and is updated in place;
 * otherwise the result is a new value.
 */
static Datum
clk_combine(FunctionCallInfo fcinfo, bool is_or)
{
	Clk		   *a = PG_GETARG_CLK_P(0);
	Clk		   *b = PG_GETARG_CLK_P(1);
	Clk		   *r;
	int			n;

	clk_check_same_length(a, b);
	n = CLK_NBYTES(a);
	if (AggCheckCallContext(fcinfo, NULL))
		r = a;
	else
	{
		r = clk_alloc(n);
		memcpy(r->data, a->data, n);
	}
	for (int i = 0; i < n; i++)
		r->data[i] = is_or ? (r->data[i] | b->data[i]) : (r->data[i] & b->data[i]);
	clk_finish(r);
	PG_RETURN_CLK_P(r);
}

/* a & b: bits set in both; also the bit_and(clk) aggregate step. */
Datum
clk_and(PG_FUNCTION_ARGS)
{
	return clk_combine(fcinfo, false);
}

/* a | b: bits set in either; also the bit_or(clk) aggregate step. */
Datum
clk_or(PG_FUNCTION_ARGS)
{
	return clk_combine(fcinfo, true);
}

/* Total order: shorter CLKs first, then bytewise (bit order) comparison. */
static int
clk_compare(const Clk *a, const Clk *b)
{
	if (VARSIZE(a) != VARSIZE(b))
		return VARSIZE(a) < VARSIZE(b) ? -1 : 1;
	return memcmp(a->data, b->data, CLK_NBYTES(a));
}

/* a = b: same length and same bits. */
Datum
clk_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clk_compare(PG_GETARG_CLK_P(0), PG_GETARG_CLK_P(1)) == 0);
}

/* a <> b. */
Datum
clk_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clk_compare(PG_GETARG_CLK_P(0), PG_GETARG_CLK_P(1)) != 0);
}

/* B-tree support: -1, 0 or 1. */
Datum
clk_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(clk_compare(PG_GETARG_CLK_P(0), PG_GETARG_CLK_P(1)));
}

/* Hash support: hash of the bytes (the length is implied by them). */
Datum
clk_hash(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);

	return hash_any(c->data, CLK_NBYTES(c));
}

/* Extended (seeded, 64-bit) hash support, for hash partitioning. */
Datum
clk_hash_extended(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);

	return hash_any_extended(c->data, CLK_NBYTES(c), PG_GETARG_INT64(1));
}
