/*
 * clk_io.c
 *	  Text, binary and typmod input/output for the clk type.
 *
 * Text is standard base64 of the raw bytes, exactly as clkhash writes it in
 * {"clks": [...]}.  Binary (COPY BINARY, drivers) is a big-endian int32 bit
 * count followed by the bytes; the popcount is recomputed on input, never
 * taken from the client.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "clk.h"

PG_FUNCTION_INFO_V1(clk_in);
PG_FUNCTION_INFO_V1(clk_out);
PG_FUNCTION_INFO_V1(clk_recv);
PG_FUNCTION_INFO_V1(clk_send);
PG_FUNCTION_INFO_V1(clk_typmod_in);
PG_FUNCTION_INFO_V1(clk_typmod_out);
PG_FUNCTION_INFO_V1(clk_enforce_typmod);

/* Parse base64 text into a clk, checking the declared typmod. */
Datum
clk_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	size_t		len = strlen(str);
	ClkCodecError err;
	uint8	   *buf;
	size_t		nbytes;
	Clk		   *c;

	/* The decoder rejects over-long text before writing anything. */
	buf = palloc(clk_b64_max_decoded(Min(len, CLK_MAX_B64_LEN)));
	if (clk_b64_decode(str, len, buf, &nbytes, &err) != CLK_CODEC_OK)
		clk_report_codec_error(&err, ERRCODE_INVALID_TEXT_REPRESENTATION, str);
	clk_check_typmod((int) nbytes * 8, typmod);
	c = clk_alloc((int) nbytes);
	memcpy(c->data, buf, nbytes);
	pfree(buf);
	clk_finish(c);
	PG_RETURN_CLK_P(c);
}

/* Print a clk as padded standard base64. */
Datum
clk_out(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);
	int			nbytes = CLK_NBYTES(c);
	char	   *out = palloc(clk_b64_encoded_len(nbytes) + 1);
	size_t		n = clk_b64_encode(c->data, nbytes, out);

	out[n] = '\0';
	PG_RETURN_CSTRING(out);
}

/* Read the binary format: int32 bit count, then the bytes. */
Datum
clk_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	ClkCodecError err;
	size_t		nbytes;
	Clk		   *c;

	if (clk_bin_parse((const uint8 *) buf->data + buf->cursor,
					  (size_t) (buf->len - buf->cursor), &nbytes, &err) != CLK_CODEC_OK)
		clk_report_codec_error(&err, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL);
	clk_check_typmod((int) nbytes * 8, typmod);
	c = clk_alloc((int) nbytes);
	buf->cursor += CLK_BIN_HEADER;
	pq_copymsgbytes(buf, (char *) c->data, (int) nbytes);
	clk_finish(c);
	PG_RETURN_CLK_P(c);
}

/* Write the binary format. */
Datum
clk_send(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, CLK_NBITS(c));
	pq_sendbytes(&buf, (const char *) c->data, CLK_NBYTES(c));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Parse clk(n): one bit count, 8 to 65536, a multiple of 8. */
Datum
clk_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier: clk takes exactly one length in bits")));
	if (tl[0] < CLK_MIN_BITS || tl[0] > CLK_MAX_BITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("length for type clk must be between %d and %d bits",
						CLK_MIN_BITS, CLK_MAX_BITS)));
	if (tl[0] % 8 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("length for type clk must be a multiple of 8 bits, not %d",
						tl[0])));
	PG_RETURN_INT32(tl[0]);
}

/* Print a typmod as (n). */
Datum
clk_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	PG_RETURN_CSTRING(typmod >= 0 ? psprintf("(%d)", typmod) : pstrdup(""));
}

/* Length coercion cast clk -> clk(n): reject other lengths. */
Datum
clk_enforce_typmod(PG_FUNCTION_ARGS)
{
	Clk		   *c = PG_GETARG_CLK_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	clk_check_typmod(CLK_NBITS(c), typmod);
	PG_RETURN_CLK_P(c);
}
