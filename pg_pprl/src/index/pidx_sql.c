/*
 * pidx_sql.c
 *	  pprl_index_stats(): what a pprl index holds and what a query reads.
 *
 * Users (and the docs' pruning figures) can see how much of an index the
 * popcount bound lets a query skip at the current pprl.dice_threshold,
 * without timing anything.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/index.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "clk.h"
#include "index/pidx.h"

PG_FUNCTION_INFO_V1(pprl_index_stats);

/* Open a pprl index the caller may read (SELECT on its table). */
static Relation
open_pprl_index(Oid indexoid)
{
	Relation	index = index_open(indexoid, AccessShareLock);
	Oid			heapoid = IndexGetRelation(indexoid, false);

	/* ours, whatever name the access method was given */
	if (index->rd_indam == NULL || index->rd_indam->ambuild != pidx_build)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a pprl index", RelationGetRelationName(index))));
	if (pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(heapoid))));
	return index;
}

/*
 * pprl_index_stats(index, query): entries, NULL entries, pages, and for
 * the query at pprl.dice_threshold the entries and pages a scan reads and
 * the fraction of entries it skips.  Without a query only the totals.
 */
Datum
pprl_index_stats(PG_FUNCTION_ARGS)
{
	Relation	index;
	PidxLayout	layout;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {0};
	uint64		entries = 0,
				read = 0,
				pages = 0,
				pages_read = 0;
	int			buckets = 0;
	double		t = pprl_dice_threshold;
	Clk		   *q = PG_ARGISNULL(1) ? NULL : PG_GETARG_CLK_P(1);

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	index = open_pprl_index(PG_GETARG_OID(0));
	pidx_read_layout(index, &layout);
	if (q != NULL)
		pidx_check_length(index, layout.nbytes, CLK_NBYTES(q));
	index_close(index, AccessShareLock);

	for (uint32 b = 0; b < layout.nbuckets; b++)
	{
		PidxBucket *bk = &layout.buckets[b];

		entries += bk->ntuples;
		pages += bk->npages;
		buckets += bk->ntuples > 0;
		if (q != NULL && pidx_min_common(q->popcount, b, t) >= 0)
		{
			read += bk->ntuples;
			pages_read += bk->npages;
		}
	}
	values[0] = Int64GetDatum((int64) entries);
	values[1] = Int64GetDatum((int64) layout.nulls.ntuples);
	values[2] = Int64GetDatum((int64) (pages + layout.nulls.npages));
	values[3] = Int32GetDatum(buckets);
	values[4] = Int32GetDatum(layout.nbytes * 8);
	values[5] = Int64GetDatum((int64) read);
	values[6] = Int64GetDatum((int64) pages_read);
	values[7] = Float8GetDatum(entries ? 1.0 - (double) read / (double) entries : 0.0);
	if (q == NULL)
		nulls[5] = nulls[6] = nulls[7] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
