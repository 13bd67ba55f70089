/*
 * match_sql.c
 *	  SQL entry points of the matching engine: pprl_candidates() and
 *	  pprl_greedy_groups() (pprl_permutations() is SQL on top of the latter).
 *
 * Each dataset is a table or view with columns row_id bigint, clk clk and
 * optionally blocks text[]; its dataset index is its position in the array.
 * Datasets are read once through SPI, ordered by row_id (the record index is
 * the position in that order, so anonlink's record-index order is row_id
 * order).  The job is cut into work units (match_units.c) run by this
 * backend and parallel workers; each dataset pair's candidates collect in a
 * store that spills sorted runs beyond its share of work_mem
 * (match_store.c), and are merged here into anonlink's global order, for
 * the output tuplestore or the greedy solver.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "clk.h"
#include "match/match.h"
#include "match_units.h"

PG_FUNCTION_INFO_V1(pprl_candidates);
PG_FUNCTION_INFO_V1(pprl_greedy_groups);
PG_FUNCTION_INFO_V1(pprl_candidates_part);
PG_FUNCTION_INFO_V1(pprl_parts);

/*
 * One loaded dataset: rows in row_id order; its CLKs and popcounts are
 * records off .. off+n-1 of the input's shared arrays.
 */
typedef struct LoadedDataset
{
	uint32		n;
	uint64		off;
	int64	   *row_id;
} LoadedDataset;

/* One (block key, dataset, record) membership, for grouping by key. */
typedef struct BlockEntry
{
	char	   *key;
	uint32		ds;
	uint32		rec;
} BlockEntry;

/* All block memberships, sorted by key, then dataset, then record. */
typedef struct BlockIndex
{
	BlockEntry *entries;
	uint32	   *recs;			/* entries[i].rec, as a plain array */
	size_t		n;
	size_t		cap;
} BlockIndex;

/* The whole input of a match call. */
typedef struct MatchInput
{
	int			nds;
	int			nbytes;
	bool		blocking;
	int			k;				/* 0: no top-k */
	LoadedDataset *ds;
	uint8	   *clks;			/* all datasets' CLKs, one after the other */
	uint32	   *pops;			/* and their popcounts */
	uint64		nrec;
	uint64		cap;
	BlockIndex	blocks;
	PairStore  *stores;			/* one per dataset pair (i < j), in order */
	int		   *pair_i;
	int		   *pair_j;
	int			npairs;
} MatchInput;

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

/* Order block entries by key, then dataset, then record. */
static int
block_entry_cmp(const void *x, const void *y)
{
	const BlockEntry *a = x,
			   *b = y;
	int			c = strcmp(a->key, b->key);

	if (c != 0)
		return c;
	if (a->ds != b->ds)
		return a->ds < b->ds ? -1 : 1;
	return a->rec < b->rec ? -1 : (a->rec > b->rec);
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

/* Below this many comparisons, starting workers costs more than it saves. */
#define PARALLEL_MIN_COMPARISONS 4000000.0
/* Candidates handed to the solver at a time. */
#define SOLVER_BATCH 1024
/* Comparisons per unit at most (each unit re-sorts its targets). */
#define UNIT_MAX_COMPARISONS 200000000.0
/* Units per dataset pair and part, when a job is cut into parts. */
#define PART_SLICES 8
/* Parts a job can be cut into at most. */
#define MATCH_MAX_PARTS 65536

/* Append a unit to a growable array. */
static void
add_unit(MatchUnit **units, uint32 *n, uint32 *cap, MatchUnit u)
{
	if (*n == *cap)
	{
		*cap = *cap ? *cap * 2 : 64;
		*units = *units ? repalloc_huge(*units, sizeof(MatchUnit) * *cap)
			: palloc_extended(sizeof(MatchUnit) * *cap, MCXT_ALLOC_HUGE);
	}
	(*units)[(*n)++] = u;
}

/*
 * Split every unit that compares more than max_cost pairs into slices of
 * its first dataset's records (so one large block cannot hold up a part
 * or a process; each record of the first dataset stays in one unit, which
 * keeps per-record top-k exact).
 */
static void
split_units(MatchUnit **units, uint32 *n, uint32 *cap, double max_cost)
{
	uint32		old_n = *n;
	MatchUnit  *old = *units;

	*units = NULL;
	*n = *cap = 0;
	for (uint32 u = 0; u < old_n; u++)
	{
		double		cost = (double) old[u].x_n * old[u].y_n;
		uint32		pieces = cost > max_cost ? (uint32) Min(ceil(cost / max_cost), old[u].x_n) : 1;
		uint32		slice = pieces > 1 ? Max(16, (old[u].x_n + pieces - 1) / pieces) : old[u].x_n;

		for (uint32 lo = 0; lo < old[u].x_n; lo += slice)
		{
			MatchUnit	piece = old[u];

			piece.x_off = old[u].x_off + lo;
			piece.x_n = Min(slice, old[u].x_n - lo);
			add_unit(units, n, cap, piece);
		}
	}
	if (old)
		pfree(old);
}

/*
 * Cut the job into units: without blocking, each dataset pair's first
 * dataset in `slices` slices; with blocking, one unit per block and
 * dataset pair that both have members.  Then units above 1/slices of all
 * comparisons (or UNIT_MAX_COMPARISONS) are split.  The cut depends only
 * on the data and `slices`, never on the local configuration, so every
 * server computing part p of a partitioned job cuts it the same way.
 */
static void
build_units(MatchInput *in, MatchJob *job, uint32 slices, double *comparisons)
{
	MatchUnit  *units = NULL;
	uint32		n = 0,
				cap = 0;
	int			p = 0;

	*comparisons = 0;
	if (!in->blocking)
	{
		uint32		maxn = 0;
		uint32	   *ident;

		for (int d = 0; d < in->nds; d++)
			maxn = Max(maxn, in->ds[d].n);
		ident = palloc_extended(sizeof(uint32) * (maxn + 1), MCXT_ALLOC_HUGE);
		for (uint32 r = 0; r < maxn; r++)
			ident[r] = r;
		job->sel = ident;
		job->nsel = maxn;
		for (int i = 0; i < in->nds; i++)
			for (int j = i + 1; j < in->nds; j++, p++)
			{
				uint32		ni = in->ds[i].n,
							nj = in->ds[j].n;
				uint32		slice = Max(64, (ni + slices - 1) / slices);

				if (nj == 0)
					continue;
				for (uint32 lo = 0; lo < ni; lo += slice)
				{
					MatchUnit	u = {p, i, j, Min(slice, ni - lo), nj, lo, 0};

					add_unit(&units, &n, &cap, u);
				}
				*comparisons += (double) ni * nj;
			}
	}
	else
	{
		BlockIndex *bi = &in->blocks;
		size_t		g = 0;

		qsort(bi->entries, bi->n, sizeof(BlockEntry), block_entry_cmp);
		bi->recs = palloc_extended(sizeof(uint32) * (bi->n + 1), MCXT_ALLOC_HUGE);
		for (size_t e = 0; e < bi->n; e++)
			bi->recs[e] = bi->entries[e].rec;
		job->sel = bi->recs;
		job->nsel = bi->n;
		while (g < bi->n)
		{
			size_t		end = g,
						run_start[MATCH_MAX_DATASETS];
			uint32		run_len[MATCH_MAX_DATASETS];
			int			run_ds[MATCH_MAX_DATASETS];
			int			nruns = 0;

			while (end < bi->n && strcmp(bi->entries[end].key, bi->entries[g].key) == 0)
				end++;
			/* The key's members, one run per dataset. */
			for (size_t e = g; e < end; e++)
			{
				if (nruns == 0 || run_ds[nruns - 1] != (int) bi->entries[e].ds)
				{
					run_ds[nruns] = (int) bi->entries[e].ds;
					run_start[nruns] = e;
					run_len[nruns] = 0;
					nruns++;
				}
				run_len[nruns - 1]++;
			}
			for (int ri = 0; ri < nruns; ri++)
				for (int rj = ri + 1; rj < nruns; rj++)
				{
					int			i = run_ds[ri],
								j = run_ds[rj];
					MatchUnit	u = {(uint32) (i * in->nds - i * (i + 1) / 2 + (j - i - 1)),
						(uint32) i, (uint32) j, run_len[ri], run_len[rj],
					run_start[ri], run_start[rj]};

					add_unit(&units, &n, &cap, u);
					*comparisons += (double) run_len[ri] * run_len[rj];
				}
			g = end;
		}
	}
	/* Bound a unit's work, and so its unsorted output buffer. */
	split_units(&units, &n, &cap, Min(UNIT_MAX_COMPARISONS, Max(*comparisons / slices, 65536.0)));
	job->units = units;
	job->nunits = n;
}

/*
 * The part a unit belongs to: parts are runs of consecutive units, cut
 * where the running comparison count crosses each 1/parts of the total
 * (a unit goes to the part holding its midpoint; `before` counts the
 * comparisons of the units ahead of it).
 */
static int
unit_part(double before, const MatchUnit *u, int parts, double comparisons)
{
	double		cost = (double) u->x_n * u->y_n;

	if (comparisons <= 0)
		return 0;
	return (int) Min((before + cost / 2) * parts / comparisons, (double) (parts - 1));
}

/* Keep only the units of part `part` of `parts`. */
static void
select_part(MatchJob *job, int part, int parts, double comparisons)
{
	double		before = 0;
	uint32		first = job->nunits,
				last = 0;

	for (uint32 u = 0; u < job->nunits; u++)
	{
		if (unit_part(before, &job->units[u], parts, comparisons) == part)
		{
			first = Min(first, u);
			last = u + 1;
		}
		before += (double) job->units[u].x_n * job->units[u].y_n;
	}
	job->units = first < last ? job->units + first : job->units;
	job->nunits = first < last ? last - first : 0;
}

/* Describe the loaded input as a job (the arrays are shared, not copied). */
static void
build_job(MatchInput *in, MatchJob *job, double t)
{
	memset(job, 0, sizeof(*job));
	job->nds = in->nds;
	job->nbytes = in->nbytes;
	job->k = in->k;
	job->threshold = t;
	for (int d = 0; d < in->nds; d++)
	{
		job->ds_n[d] = in->ds[d].n;
		job->ds_off[d] = in->ds[d].off;
	}
	job->clks = in->clks;
	job->pops = in->pops;
}

/* The threshold argument, validated. */
static double
threshold_arg(FunctionCallInfo fcinfo, int argno)
{
	double		t;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("datasets and threshold must not be NULL")));
	t = PG_GETARG_FLOAT8(argno);
	if (!(t > 0.0 && t <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be greater than 0 and at most 1, not %g", t)));
	return t;
}

/* The part and parts arguments, validated (0 <= part < parts <= 65536). */
static void
part_args(FunctionCallInfo fcinfo, int argno, int *part, int *parts)
{
	if (PG_ARGISNULL(argno) || PG_ARGISNULL(argno + 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("part and parts must not be NULL")));
	*part = PG_GETARG_INT32(argno);
	*parts = PG_GETARG_INT32(argno + 1);
	if (*parts < 1 || *parts > MATCH_MAX_PARTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parts must be between 1 and %d, not %d", MATCH_MAX_PARTS, *parts)));
	if (*part < 0 || *part >= *parts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("part must be between 0 and %d, not %d", *parts - 1, *part)));
}

/*
 * Validate the datasets argument (argument 0) and load every dataset;
 * then set up one candidate store per dataset pair.
 */
static void
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

/*
 * Generate the sorted candidates of the whole job (parts = 0) or of part
 * `part` of `parts`, into the stores, ready to be read in order.
 */
static void
match_execute(MatchInput *in, double t, int part, int parts)
{
	MatchJob	job;
	double		comparisons;

	build_job(in, &job, t);
	build_units(in, &job, parts > 0 ? (uint32) (PART_SLICES * parts)
				: (uint32) (4 * (max_parallel_workers_per_gather + 1)), &comparisons);
	if (parts > 0)
		select_part(&job, part, parts, comparisons);
	match_units_run(&job, in->stores,
					comparisons >= PARALLEL_MIN_COMPARISONS * (parts > 0 ? parts : 1)
					? max_parallel_workers_per_gather : 0);
	for (int p = 0; p < in->npairs; p++)
		pair_store_begin_read(&in->stores[p], in->blocking, (uint32) in->k,
							  in->ds[in->pair_i[p]].n, in->ds[in->pair_j[p]].n);
}

/* Validate arguments, load every dataset and generate sorted candidates. */
static void
match_run(FunctionCallInfo fcinfo, MatchInput *in)
{
	double		t = threshold_arg(fcinfo, 1);

	in->k = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	if (!PG_ARGISNULL(2) && in->k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at least 1, not %d", in->k)));
	match_load(fcinfo, in);
	match_execute(in, t, 0, 0);
}

/*
 * Next candidate in anonlink's global order: the smallest key among the
 * partitions' heads; partitions are in (ds_a, ds_b) order, so a tie goes
 * to the earlier one.  Returns the partition (its pair in *mp, consumed),
 * or -1 when all are done (and the stores' temporary files are closed).
 */
static int
next_candidate(MatchInput *in, MatchPair *mp)
{
	int			best = -1;
	MatchPair	head;

	for (int p = 0; p < in->npairs; p++)
		if (pair_store_peek(&in->stores[p], &head) && (best < 0 || head.key < mp->key))
		{
			best = p;
			*mp = head;
		}
	if (best >= 0)
		pair_store_skip(&in->stores[best]);
	else
		for (int p = 0; p < in->npairs; p++)
			pair_store_end(&in->stores[p]);
	return best;
}

/* Put every candidate of the stores, in order, into the output tuplestore. */
static void
emit_candidates(ReturnSetInfo *rsinfo, MatchInput *in)
{
	MatchPair	mp;
	int			p;

	while ((p = next_candidate(in, &mp)) >= 0)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = Float8GetDatum(match_key_score(mp.key));
		values[1] = Int32GetDatum(in->pair_i[p]);
		values[2] = Int64GetDatum(in->ds[in->pair_i[p]].row_id[mp.a]);
		values[3] = Int32GetDatum(in->pair_j[p]);
		values[4] = Int64GetDatum(in->ds[in->pair_j[p]].row_id[mp.b]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* pprl_candidates(datasets, threshold, k): every pair at or above threshold. */
Datum
pprl_candidates(PG_FUNCTION_ARGS)
{
	MatchInput	in = {0};

	SetSingleFuncCall(fcinfo, 0);
	match_run(fcinfo, &in);
	emit_candidates((ReturnSetInfo *) fcinfo->resultinfo, &in);
	return (Datum) 0;
}

/*
 * pprl_candidates_part(datasets, threshold, part, parts): the candidates
 * of one part of the job cut into `parts` of roughly equal comparison
 * counts, in anonlink's order.  The parts together hold every candidate
 * (with blocking, a pair sharing blocks in two parts is in both: merging
 * the sorted parts puts the copies side by side).  Servers holding the
 * same data cut a job the same way, so parts can run on different replicas.
 */
Datum
pprl_candidates_part(PG_FUNCTION_ARGS)
{
	MatchInput	in = {0};
	double		t = threshold_arg(fcinfo, 1);
	int			part,
				parts;

	SetSingleFuncCall(fcinfo, 0);
	part_args(fcinfo, 2, &part, &parts);
	match_load(fcinfo, &in);
	match_execute(&in, t, part, parts);
	emit_candidates((ReturnSetInfo *) fcinfo->resultinfo, &in);
	return (Datum) 0;
}

/*
 * pprl_parts(datasets, parts): how a job is cut into parts, one row per
 * part with its work units and comparisons (before the popcount filter),
 * for planning and to show the balance.
 */
Datum
pprl_parts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MatchInput	in = {0};
	MatchJob	job;
	double		comparisons,
				before = 0;
	int			parts;
	int64	   *cmp;
	int32	   *units;

	SetSingleFuncCall(fcinfo, 0);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parts must not be NULL")));
	parts = PG_GETARG_INT32(1);
	if (parts < 1 || parts > MATCH_MAX_PARTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parts must be between 1 and %d, not %d", MATCH_MAX_PARTS, parts)));
	match_load(fcinfo, &in);
	build_job(&in, &job, 1.0);
	build_units(&in, &job, (uint32) (PART_SLICES * parts), &comparisons);
	cmp = palloc0(sizeof(int64) * parts);
	units = palloc0(sizeof(int32) * parts);
	for (uint32 u = 0; u < job.nunits; u++)
	{
		int			owner = unit_part(before, &job.units[u], parts, comparisons);
		int64		cost = (int64) job.units[u].x_n * job.units[u].y_n;

		cmp[owner] += cost;
		units[owner]++;
		before += (double) cost;
	}
	for (int p = 0; p < parts; p++)
	{
		Datum		values[3] = {Int32GetDatum(p), Int32GetDatum(units[p]), Int64GetDatum(cmp[p])};
		bool		nulls[3] = {false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* pprl_greedy_groups(datasets, threshold, k): anonlink's greedy solution. */
Datum
pprl_greedy_groups(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MatchInput	in = {0};
	MatchSolver *solver;
	MatchMember *members;
	size_t		nmembers;
	uint32	   *sizes;
	MatchPair	mp;
	MatchEdge  *batch;
	int			p;

	SetSingleFuncCall(fcinfo, 0);
	match_run(fcinfo, &in);
	sizes = palloc(sizeof(uint32) * in.nds);
	for (int i = 0; i < in.nds; i++)
		sizes[i] = in.ds[i].n;
	solver = match_solver_create((uint32) in.nds, sizes, &match_pg_alloc);
	/* Candidates reach the solver in batches, so it can prefetch ahead. */
	batch = palloc(sizeof(MatchEdge) * SOLVER_BATCH);
	for (;;)
	{
		size_t		nb = 0;

		while (nb < SOLVER_BATCH && (p = next_candidate(&in, &mp)) >= 0)
		{
			batch[nb].ds_a = (uint32) in.pair_i[p];
			batch[nb].a = mp.a;
			batch[nb].ds_b = (uint32) in.pair_j[p];
			batch[nb].b = mp.b;
			nb++;
		}
		if (nb == 0)
			break;
		if (!match_solver_add_many(solver, batch, nb))
			elog(ERROR, "out of memory");
		CHECK_FOR_INTERRUPTS();
	}
	if (!match_solver_groups(solver, &members, &nmembers))
		elog(ERROR, "out of memory");
	for (size_t i = 0; i < nmembers; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int64GetDatum((int64) members[i].group);
		values[1] = Int32GetDatum((int32) members[i].ds);
		values[2] = Int64GetDatum(in.ds[members[i].ds].row_id[members[i].rec]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
