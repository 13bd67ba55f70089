/*
 * pidx_cost.c
 *	  Planner cost of a pprl index scan.
 *
 * The cost follows what a scan does: it reads the chains of the buckets
 * the popcount bound allows (one random page per chain, then sequential
 * pages: builds write chains in runs) and counts one SIMD intersection per
 * entry read, about an operator call each.  Which buckets are read comes
 * from the directory's counts and the query CLK when it is a constant;
 * otherwise from a query of the median popcount.  An ORDER BY scan reads
 * its buckets before it returns the first row, so that is startup cost.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "clk.h"
#include "index/pidx.h"

#define MAX_QUERIES 16

/*
 * The popcount of a CLK argument known at plan time (a constant, or a
 * parameter with a bound value), or -1.
 */
static int64
const_popcount(PlannerInfo *root, Node *arg, int nbytes)
{
	Clk		   *c;

	if (arg != NULL)
		arg = estimate_expression_value(root, arg);
	if (arg == NULL || !IsA(arg, Const) || ((Const *) arg)->constisnull)
		return -1;
	c = DatumGetClkP(((Const *) arg)->constvalue);
	if (CLK_NBYTES(c) != nbytes)
		return -1;
	return c->popcount;
}

/* The median popcount of the index's entries (for unknown queries). */
static uint32
median_popcount(const PidxLayout *layout)
{
	uint64		total = 0,
				seen = 0;

	for (uint32 b = 0; b < layout->nbuckets; b++)
		total += layout->buckets[b].ntuples;
	for (uint32 b = 0; b < layout->nbuckets; b++)
	{
		seen += layout->buckets[b].ntuples;
		if (seen * 2 >= total)
			return b;
	}
	return layout->nbuckets / 2;
}

/* amcostestimate */
void
pidx_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	GenericCosts costs;
	Relation	rel;
	PidxLayout	layout;
	int64		query[MAX_QUERIES];
	int			nquery = 0;
	double		t = pprl_dice_threshold;
	double		tuples = 0,
				pages = 0,
				chains = 0,
				spc_random,
				spc_seq,
				io;
	ListCell   *lc;

	rel = index_open(index->indexoid, NoLock);
	pidx_read_layout(rel, &layout);
	index_close(rel, NoLock);

	/* the % queries: constants where known, else the median popcount */
	foreach(lc, path->indexclauses)
	{
		IndexClause *iclause = lfirst_node(IndexClause, lc);
		ListCell   *lc2;

		foreach(lc2, iclause->indexquals)
		{
			RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc2);
			Node	   *arg = IsA(rinfo->clause, OpExpr)
				? get_rightop(rinfo->clause) : NULL;

			if (nquery < MAX_QUERIES)
				query[nquery++] = const_popcount(root, arg, layout.nbytes);
		}
	}
	for (int i = 0; i < nquery; i++)
		if (query[i] < 0)
			query[i] = median_popcount(&layout);

	for (uint32 b = 0; b < layout.nbuckets; b++)
	{
		bool		read = layout.buckets[b].head != InvalidBlockNumber;

		for (int i = 0; i < nquery && read; i++)
			read = pidx_best_dice((uint32) query[i], b) >= t;
		if (!read)
			continue;
		tuples += (double) layout.buckets[b].ntuples;
		pages += layout.buckets[b].npages;
		chains++;
	}
	if (nquery == 0 && path->indexorderbys != NIL)
	{
		/* ORDER BY alone also returns the NULLs, last */
		tuples += (double) layout.nulls.ntuples;
		pages += layout.nulls.npages;
		chains += layout.nulls.npages > 0;
	}

	/* selectivity and heap-side figures from the generic estimator */
	memset(&costs, 0, sizeof(costs));
	costs.numIndexTuples = Max(tuples, 1.0);
	genericcostestimate(root, path, loop_count, &costs);

	get_tablespace_page_costs(index->reltablespace, &spc_random, &spc_seq);
	if (loop_count > 1)
	{
		/* repeated scans (a join): pages mostly cached, as genericcostestimate */
		double		fetched = index_pages_fetched(pages * loop_count, index->pages,
												  (double) index->pages, root);

		io = fetched * spc_random / loop_count;
	}
	else
		io = chains * spc_random + (pages - chains) * spc_seq;

	*indexTotalCost = io
		+ tuples * cpu_operator_cost * Max(1, nquery + list_length(path->indexorderbys))
		+ costs.indexSelectivity * index->rel->tuples * cpu_index_tuple_cost;
	if (path->indexorderbys != NIL)
	{
		/*
		 * The first pass reads the buckets before the first row; returning
		 * all rows takes about log8(rows / 32) more passes (pidx_scan.c).
		 */
		double		passes = 1 + ceil(log(Max(tuples / 32.0, 1.0)) / log(8.0));

		*indexStartupCost = *indexTotalCost;
		*indexTotalCost *= passes;
	}
	else
		*indexStartupCost = 0;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = pages;
}
