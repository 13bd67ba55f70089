/*
 * clk_cast.c
 *	  Casts between clk and bytea, bit and varbit.
 *
 * All three share clkhash's bit order (first bit = most significant bit of
 * the first byte), so every cast is a byte copy plus a size check.
 */
#include "postgres.h"

#include "utils/varbit.h"

#include "clk.h"

PG_FUNCTION_INFO_V1(clk_to_bytea);
PG_FUNCTION_INFO_V1(clk_from_bytea);
PG_FUNCTION_INFO_V1(clk_to_varbit);
PG_FUNCTION_INFO_V1(clk_from_varbit);

/* clk -> bytea: the raw bytes. */
Datum
clk_to_bytea(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);
	int			n = CLK_NBYTES(c);
	bytea	   *b = (bytea *) palloc(VARHDRSZ + n);

	SET_VARSIZE(b, VARHDRSZ + n);
	memcpy(VARDATA(b), c->data, n);
	PG_RETURN_BYTEA_P(b);
}

/* bytea -> clk: 1 to 8192 bytes. */
Datum
clk_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_CLK_P(clk_from_bytes((const uint8 *) VARDATA_ANY(b),
								   (int) VARSIZE_ANY_EXHDR(b)));
}

/*
 * clk -> bit(n) / varbit.  Both types share this layout; the cast to a
 * shorter bit(n) is then handled by the bit type's own length coercion.
 */
Datum
clk_to_varbit(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);
	int			n = CLK_NBYTES(c);
	VarBit	   *v = (VarBit *) palloc0(VARBITTOTALLEN(n * 8));

	SET_VARSIZE(v, VARBITTOTALLEN(n * 8));
	VARBITLEN(v) = n * 8;
	memcpy(VARBITS(v), c->data, n);
	PG_RETURN_VARBIT_P(v);
}

/* bit / varbit -> clk: the bit length must be a multiple of 8 in range. */
Datum
clk_from_varbit(PG_FUNCTION_ARGS)
{
	VarBit	   *v = PG_GETARG_VARBIT_P(0);
	ClkCodecError err;

	if (clk_check_bits(VARBITLEN(v), &err) != CLK_CODEC_OK)
		clk_report_codec_error(&err, ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	PG_RETURN_CLK_P(clk_from_bytes(VARBITS(v), VARBITBYTES(v)));
}
