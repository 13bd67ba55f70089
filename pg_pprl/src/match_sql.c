/*
 * match_sql.c
 *	  SQL entry points of the matching engine: pprl_candidates() and
 *	  pprl_greedy_groups() (pprl_permutations() is SQL on top of the latter).
 *
 * Each dataset is a table or view with columns row_id bigint, clk clk and
 * optionally blocks text[]; its dataset index is its position in the array.
 * Datasets are read once through SPI (match_load.c), the job is cut into
 * work units and parts (match_plan.c), and the units are run by this
 * backend and parallel workers (match_units.c); each dataset pair's candidates collect in a
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
#include "match_input.h"

PG_FUNCTION_INFO_V1(pprl_candidates);
PG_FUNCTION_INFO_V1(pprl_greedy_groups);
PG_FUNCTION_INFO_V1(pprl_candidates_part);
PG_FUNCTION_INFO_V1(pprl_parts);

/* Below this many comparisons, starting workers costs more than it saves. */
#define PARALLEL_MIN_COMPARISONS 4000000.0
/* Candidates handed to the solver at a time. */
#define SOLVER_BATCH 1024

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
 * Generate the sorted candidates of the whole job (parts = 0) or of part
 * `part` of `parts`, into the stores, ready to be read in order.
 */
static void
match_execute(MatchInput *in, double t, int part, int parts)
{
	MatchJob	job;
	double		comparisons;

	match_plan_job(in, &job, t);
	match_plan_units(in, &job, parts > 0 ? (uint32) (PART_SLICES * parts)
				: (uint32) (4 * (max_parallel_workers_per_gather + 1)), &comparisons);
	if (parts > 0)
		match_plan_select(&job, part, parts, comparisons);
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
	match_plan_job(&in, &job, 1.0);
	match_plan_units(&in, &job, (uint32) (PART_SLICES * parts), &comparisons);
	cmp = palloc0(sizeof(int64) * parts);
	units = palloc0(sizeof(int32) * parts);
	for (uint32 u = 0; u < job.nunits; u++)
	{
		int			owner = match_plan_part_of(before, &job.units[u], parts, comparisons);
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
