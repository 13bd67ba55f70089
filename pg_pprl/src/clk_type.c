/*
 * clk_type.c
 *	  Construction and validation helpers shared by the clk functions.
 */
#include "postgres.h"

#include "clk.h"

/* Allocate a zeroed clk of nbytes bytes (the caller checked the size). */
Clk *
clk_alloc(int nbytes)
{
	Clk		   *c = (Clk *) palloc0(CLK_HDRSZ + nbytes);

	SET_VARSIZE(c, CLK_HDRSZ + nbytes);
	return c;
}

/* Recompute the cached popcount after the bytes were written. */
void
clk_finish(Clk *c)
{
	c->popcount = (uint32) clk_kern->popcount(c->data, CLK_NBYTES(c));
}

/* Build a clk from raw bytes, validating the size. */
Clk *
clk_from_bytes(const uint8 *bytes, int nbytes)
{
	ClkCodecError err;
	Clk		   *c;

	if (clk_check_bits((int64) nbytes * 8, &err) != CLK_CODEC_OK)
		clk_report_codec_error(&err, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	c = clk_alloc(nbytes);
	memcpy(c->data, bytes, nbytes);
	clk_finish(c);
	return c;
}

/* Raise an error when a value's length does not match a clk(n) typmod. */
void
clk_check_typmod(int nbits, int32 typmod)
{
	if (typmod >= 0 && nbits != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_LENGTH_MISMATCH),
				 errmsg("clk length %d bits does not match type clk(%d)",
						nbits, typmod)));
}

/* Raise an error when two operands (compared or combined) differ in length. */
void
clk_check_same_length(const Clk *a, const Clk *b)
{
	if (VARSIZE(a) != VARSIZE(b))
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_LENGTH_MISMATCH),
				 errmsg("CLK lengths differ: %d and %d bits",
						CLK_NBITS(a), CLK_NBITS(b)),
				 errhint("CLKs compared or combined must have the same length.")));
}

/*
 * Turn a codec error into an ereport with the given SQLSTATE; text input is
 * quoted (shortened) so the user sees which value failed.
 */
void
clk_report_codec_error(const ClkCodecError *err, int sqlstate, const char *input)
{
	char		msg[256];

	clk_codec_strerror(err, msg, sizeof(msg));
	if (input && input[0] != '\0')
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid input syntax for type clk: %s", msg),
				 errdetail("Input starts with \"%.40s\"%s.", input,
						   strlen(input) > 40 ? "..." : "")));
	if (input)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid input syntax for type clk: %s", msg)));
	ereport(ERROR, (errcode(sqlstate), errmsg("invalid clk: %s", msg)));
}
