/*
 * encode_sql.c
 *	  SQL entry points of the clkhash-compatible encoder:
 *
 *	    pprl_encode(record jsonb, schema jsonb, secret text) -> clk
 *	    pprl_encode(record text[], schema jsonb, secret text) -> clk
 *
 *	  A jsonb record gives each feature's value by its identifier (strings
 *	  as they are, numbers and booleans as their text, null as the empty
 *	  string; ignored features may be absent); a text[] gives every
 *	  feature's value in schema order.  The schema is parsed and the keys
 *	  derived once per call site (kept in fn_extra with a token cache, freed
 *	  with the function's memory context), so INSERT ... SELECT over a
 *	  table costs one parse.  The secret never appears in an error message.
 *	  Both are PARALLEL SAFE: every parallel worker keeps its own copy.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "clk.h"
#include "pprl/encode.h"

PG_FUNCTION_INFO_V1(pprl_encode_jsonb);
PG_FUNCTION_INFO_V1(pprl_encode_array);

/* What a call site keeps between rows. */
typedef struct EncodeState
{
	char	   *schema_text;	/* the schema and secret it was built from */
	char	   *secret;
	size_t		secret_len;
	EncSchema  *schema;
	EncCache   *cache;
	MemoryContextCallback cb;
} EncodeState;

/* Free the encoder's own (malloc'd) state with the function's memory. */
static void
state_free(void *arg)
{
	EncodeState *st = arg;

	enc_schema_free(st->schema);
	enc_cache_free(st->cache);
	st->schema = NULL;
	st->cache = NULL;
	if (st->secret)
		explicit_bzero(st->secret, st->secret_len);
}

/* The call site's encoder for this schema and secret, built when they change. */
static EncodeState *
get_state(FunctionCallInfo fcinfo, Jsonb *schema, text *secret)
{
	EncodeState *st = fcinfo->flinfo->fn_extra;
	char	   *stext = JsonbToCString(NULL, &schema->root, VARSIZE(schema));
	size_t		slen = VARSIZE_ANY_EXHDR(secret);
	char		err[512];

	if (st && st->schema && strcmp(st->schema_text, stext) == 0 && st->secret_len == slen &&
		memcmp(st->secret, VARDATA_ANY(secret), slen) == 0)
	{
		pfree(stext);
		return st;
	}
	if (!st)
	{
		st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(EncodeState));
		st->cb.func = state_free;
		st->cb.arg = st;
		MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, &st->cb);
		fcinfo->flinfo->fn_extra = st;
	}
	state_free(st);
	if (st->schema_text)
		pfree(st->schema_text);
	if (st->secret)
		pfree(st->secret);
	st->schema_text = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, stext);
	st->secret = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, slen + 1);
	memcpy(st->secret, VARDATA_ANY(secret), slen);
	st->secret_len = slen;
	pfree(stext);
	st->schema = enc_schema_parse(st->schema_text, strlen(st->schema_text), (const uint8_t *) st->secret,
								  slen, err, sizeof(err));
	if (!st->schema)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid linkage schema: %s", err)));
	st->cache = enc_cache_new();	/* NULL only slows it down */
	return st;
}

/* Encode the values and return the CLK (an error names the feature). */
static Datum
encode_values(EncodeState *st, const char **vals, size_t *lens)
{
	int			nbytes = enc_schema_bytes(st->schema);
	Clk		   *c = clk_alloc(nbytes);
	EncError	e;

	if (enc_record(st->schema, vals, lens, c->data, st->cache, &e) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("cannot encode the record: %s", e.msg),
				 e.feature >= 0 ? errdetail("Feature %d (%s).", e.feature + 1,
											enc_schema_identifier(st->schema, e.feature)) : 0));
	clk_finish(c);
	PG_RETURN_CLK_P(c);
}

/* A jsonb scalar as the text clkhash would read from a CSV field. */
static char *
scalar_text(JsonbValue *v, const char *identifier)
{
	switch (v->type)
	{
		case jbvNull:
			return pstrdup("");
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" must be a string, number, boolean or null", identifier)));
	}
	return NULL;
}

/* pprl_encode(record jsonb, schema jsonb, secret text): one record's CLK. */
Datum
pprl_encode_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *rec = PG_GETARG_JSONB_P(0);
	EncodeState *st = get_state(fcinfo, PG_GETARG_JSONB_P(1), PG_GETARG_TEXT_PP(2));
	int			nf = enc_schema_features(st->schema);
	const char **vals = palloc(sizeof(char *) * nf);
	size_t	   *lens = palloc(sizeof(size_t) * nf);

	if (!JB_ROOT_IS_OBJECT(rec))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the record must be a JSON object of feature values")));
	for (int i = 0; i < nf; i++)
	{
		const char *id = enc_schema_identifier(st->schema, i);
		JsonbValue	key,
				   *v;

		key.type = jbvString;
		key.val.string.val = (char *) id;
		key.val.string.len = strlen(id);
		v = findJsonbValueFromContainer(&rec->root, JB_FOBJECT, &key);
		if (!v)
		{
			/* an ignored feature needs no value */
			if (!enc_schema_ignored(st->schema, i))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the record has no value for feature \"%s\"", id)));
			vals[i] = "";
			lens[i] = 0;
			continue;
		}
		vals[i] = scalar_text(v, id);
		lens[i] = strlen(vals[i]);
	}
	return encode_values(st, vals, lens);
}

/* pprl_encode(record text[], schema jsonb, secret text): values in schema order. */
Datum
pprl_encode_array(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	EncodeState *st = get_state(fcinfo, PG_GETARG_JSONB_P(1), PG_GETARG_TEXT_PP(2));
	int			nf = enc_schema_features(st->schema),
				n;
	Datum	   *elems;
	bool	   *nulls;
	const char **vals;
	size_t	   *lens;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (ARR_NDIM(arr) > 1 || n != nf)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the record has %d values, the schema %d features", n, nf)));
	vals = palloc(sizeof(char *) * nf);
	lens = palloc(sizeof(size_t) * nf);
	for (int i = 0; i < nf; i++)
	{
		vals[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
		lens[i] = strlen(vals[i]);
	}
	return encode_values(st, vals, lens);
}
