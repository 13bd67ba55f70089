/*
 * match_load.c
 *	  Loading a match call's input: the datasets argument validated, each
 *	  dataset (a table or view with row_id bigint, clk clk and optionally
 *	  blocks text[]) read once through SPI in row_id order (the record index
 *	  is the position in that order, so anonlink's record-index order is
 *	  row_id order), its CLKs and popcounts appended to shared arrays and its
 *	  block memberships to the block index; then one candidate store per
 *	  dataset pair.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "clk.h"
#include "match_input.h"

/* Record that a row belongs to each of the blocks in a text[] (NULLs skipped). */
static void
add_blocks(BlockIndex *bi, ArrayType *arr, uint32 ds, uint32 rec, MemoryContext keep)
{
	Datum	   *keys;
	bool	   *nulls;
	int			n;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &keys, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		if (bi->n == bi->cap)
		{
			bi->cap = bi->cap ? bi->cap * 2 : 1024;
			bi->entries = bi->entries
				? repalloc_huge(bi->entries, bi->cap * sizeof(BlockEntry))
				: MemoryContextAllocExtended(keep, bi->cap * sizeof(BlockEntry), MCXT_ALLOC_HUGE);
		}
		bi->entries[bi->n].key = MemoryContextStrdup(keep, TextDatumGetCString(keys[i]));
		bi->entries[bi->n].ds = ds;
		bi->entries[bi->n].rec = rec;
		bi->n++;
	}
}


/* Whether a relation (table or view) has a column of the given name. */
static bool
has_column(Oid relid, const char *name)
{
	return get_attnum(relid, name) != InvalidAttrNumber;
}

/* Rows fetched from a dataset's cursor at a time. */
#define LOAD_BATCH 10000

/* Grow an array allocated in `keep` to `n` elements of `elem` bytes. */
static void *
grow_array(void *p, Size n, Size elem, MemoryContext keep)
{
	return p ? repalloc_huge(p, n * elem) : MemoryContextAllocExtended(keep, n * elem, MCXT_ALLOC_HUGE);
}

/*
 * Make room for one more record: the dataset's row ids (rows_cap of them so
 * far) and the input's shared CLK and popcount arrays, doubling each.
 */
static void
reserve_record(MatchInput *in, LoadedDataset *out, uint64 *rows_cap, MemoryContext keep)
{
	if (out->n == *rows_cap)
	{
		*rows_cap = *rows_cap ? *rows_cap * 2 : LOAD_BATCH;
		out->row_id = grow_array(out->row_id, *rows_cap, sizeof(int64), keep);
	}
	if (in->nrec == in->cap)
	{
		in->cap = in->cap ? in->cap * 2 : LOAD_BATCH;
		in->clks = grow_array(in->clks, in->cap, in->nbytes, keep);
		in->pops = grow_array(in->pops, in->cap, sizeof(uint32), keep);
	}
}

/*
 * Read one dataset through an SPI cursor, a batch of rows at a time (so a
 * large table never sits in memory twice), validating rows and lengths, and
 * append its CLKs to the input's shared arrays; arrays are allocated in
 * `keep`, which outlives the SPI connection.
 */
static void
load_dataset(MatchInput *in, Oid relid, int index, MemoryContext keep, BlockIndex *blocks)
{
	LoadedDataset *out = &in->ds[index];
	char	   *relname;
	char	   *query;
	Portal		portal;
	SPIPlanPtr	plan;
	uint64		rows_cap = 0;

	relname = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
	query = psprintf("SELECT row_id::bigint, clk::clk%s FROM %s ORDER BY 1",
					 blocks ? ", blocks::text[]" : "", relname);
	plan = SPI_prepare(query, 0, NULL);
	if (!plan)
		elog(ERROR, "could not read dataset %d (%s)", index, relname);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	out->off = in->nrec;
	for (;;)
	{
		SPI_cursor_fetch(portal, true, LOAD_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			bool		isnull;
			Datum		v,
						clkd;
			int64		rid;
			Clk		   *c;

			if (out->n >= PG_UINT32_MAX / 2)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("dataset %d (%s) has too many rows", index, relname)));
			v = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull);
			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("dataset %d (%s) has a NULL row_id", index, relname)));
			rid = DatumGetInt64(v);
			clkd = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("dataset %d (%s) has a NULL clk at row_id " INT64_FORMAT,
								index, relname, rid)));
			c = DatumGetClkP(clkd);
			if (in->nbytes < 0)
				in->nbytes = CLK_NBYTES(c);
			else if (CLK_NBYTES(c) != in->nbytes)
				ereport(ERROR,
						(errcode(ERRCODE_STRING_DATA_LENGTH_MISMATCH),
						 errmsg("CLK lengths differ: %d and %d bits", in->nbytes * 8, CLK_NBITS(c)),
						 errdetail("Dataset %d (%s), row_id " INT64_FORMAT ".", index, relname, rid),
						 errhint("All CLKs of all datasets must have the same length.")));
			if (out->n > 0 && out->row_id[out->n - 1] == rid)
				ereport(ERROR,
						(errcode(ERRCODE_UNIQUE_VIOLATION),
						 errmsg("dataset %d (%s) has duplicate row_id " INT64_FORMAT,
								index, relname, rid)));
			reserve_record(in, out, &rows_cap, keep);
			out->row_id[out->n] = rid;
			memcpy(in->clks + (Size) in->nrec * in->nbytes, c->data, in->nbytes);
			in->pops[in->nrec++] = c->popcount;
			if (blocks)
			{
				v = SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull);
				if (!isnull)
					add_blocks(blocks, DatumGetArrayTypeP(v), (uint32) index, out->n, keep);
			}
			out->n++;
			/* A detoasted copy is freed at once; the batch's tuples go below. */
			if ((Pointer) c != DatumGetPointer(clkd))
				pfree(c);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
}


/*
 * Validate the datasets argument (argument 0) and load every dataset;
 * then set up one candidate store per dataset pair.
 */
void
match_load(FunctionCallInfo fcinfo, MatchInput *in)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			p = 0,
				with_blocks = 0;
	MemoryContext keep;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("datasets and threshold must not be NULL")));
	arr = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(arr, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elems, &nulls, &in->nds);
	if (in->nds < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least two datasets are needed, got %d", in->nds)));
	if (in->nds > MATCH_MAX_DATASETS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("at most %d datasets can be linked at once, got %d", MATCH_MAX_DATASETS, in->nds)));
	for (int i = 0; i < in->nds; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("dataset %d is NULL", i)));
		with_blocks += has_column(DatumGetObjectId(elems[i]), "blocks");
	}
	/* Blocking is on when the datasets carry blocks; all or none must. */
	if (with_blocks != 0 && with_blocks != in->nds)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d of %d datasets have a blocks column", with_blocks, in->nds),
				 errhint("For blocking, every dataset needs a blocks text[] column; for none, no dataset may have one.")));
	in->blocking = with_blocks > 0;
	in->nbytes = -1;
	in->ds = palloc0(sizeof(LoadedDataset) * in->nds);
	keep = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (int i = 0; i < in->nds; i++)
		load_dataset(in, DatumGetObjectId(elems[i]), i, keep,
					 in->blocking ? &in->blocks : NULL);
	SPI_finish();
	if (in->nbytes < 0)
		in->nbytes = 1;			/* all datasets empty: nothing to compare */
	in->npairs = in->nds * (in->nds - 1) / 2;
	in->stores = palloc0(sizeof(PairStore) * in->npairs);
	in->pair_i = palloc(sizeof(int) * in->npairs);
	in->pair_j = palloc(sizeof(int) * in->npairs);
	for (int i = 0; i < in->nds; i++)
		for (int j = i + 1; j < in->nds; j++, p++)
		{
			in->pair_i[p] = i;
			in->pair_j[p] = j;
			/* work_mem covers all partitions, pairs and their sort scratch. */
			pair_store_init(&in->stores[p],
							(size_t) work_mem * 1024 / (2 * sizeof(MatchPair)) / in->npairs);
		}
}
