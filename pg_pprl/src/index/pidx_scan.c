/*
 * pidx_scan.c
 *	  Index scans: WHERE clk % q (bitmap or plain) and ORDER BY clk <-> q.
 *
 * A scan first plans which buckets to read: those whose popcount can reach
 * pprl.dice_threshold for every % key (pidx_min_common), and for each the
 * smallest intersection that passes.  Each page's entries are then counted
 * against the query by the SIMD kernel, and an entry passes when its
 * intersection reaches that minimum: the same decision as the % operator,
 * so results are exact and never rechecked.
 *
 * An ORDER BY scan reads the planned buckets best bound first and returns
 * an entry only when no unread bucket could hold a closer one.  NULL CLKs
 * come last, as ORDER BY puts them; % never matches them.
 */
#include "postgres.h"

#include "access/relscan.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "clk.h"
#include "index/pidx.h"
#include "index/pidx_queue.h"
#include "match/match.h"

/* One bucket to read, with its minimum intersection per % key. */
typedef struct ScanBucket
{
	uint32		bucket;
	double		best;			/* best Dice against the first ORDER BY key */
	int32	   *cmin;			/* nq of them */
} ScanBucket;

typedef struct PidxScanOpaqueData
{
	MemoryContext ctx;			/* reset by every rescan */
	bool		started;
	bool		empty;			/* a NULL % argument: nothing matches */
	PidxLayout	layout;
	/* % keys and ORDER BY keys: query bits and popcounts */
	int			nq;
	const uint8 **qbits;
	uint32	   *qpop;
	int			nord;
	const uint8 **obits;
	uint32	   *opop;
	int		   *oshare;			/* % key with the same query, or -1 */
	bool		ord_null;		/* an ORDER BY argument is NULL */
	/* the plan, and where the scan is in it */
	ScanBucket *plan;
	int			nplan;
	int			nextplan;
	bool		want_nulls;		/* read the NULL chain after the plan */
	bool		nulls_started;
	BlockNumber cur;			/* next page of the current chain */
	ScanBucket *curbucket;		/* NULL while in the NULL chain */
	/* work space */
	uint32	   *counts;			/* per entry of a page, per % key */
	double	   *dist;
	ItemPointerData *items;		/* matches of the last page (unordered) */
	int			nitems;
	int			itempos;
	PidxQueue  *queue;			/* ORDER BY scans */
} PidxScanOpaqueData;

typedef PidxScanOpaqueData *PidxScanOpaque;

/* Order the plan by best reachable Dice, best first. */
static int
plan_cmp(const void *a, const void *b)
{
	double		x = ((const ScanBucket *) a)->best;
	double		y = ((const ScanBucket *) b)->best;

	return x > y ? -1 : x < y ? 1 : 0;
}

/* A query CLK from a scan key, copied into the scan's memory. */
static const uint8 *
key_clk(IndexScanDesc scan, ScanKey key, uint32 *popcount)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	Clk		   *c = DatumGetClkP(key->sk_argument);

	if (so->layout.nbytes != 0)
		pidx_check_length(scan->indexRelation, so->layout.nbytes, CLK_NBYTES(c));
	*popcount = c->popcount;
	return memcpy(palloc(CLK_NBYTES(c)), c->data, CLK_NBYTES(c));
}

/* Read the layout and the keys, and plan the buckets to read. */
static void
start_scan(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);
	double		t = pprl_dice_threshold;
	int			nbytes;

	so->started = true;
	pidx_read_layout(scan->indexRelation, &so->layout);
	nbytes = so->layout.nbytes;

	so->qbits = palloc0(sizeof(uint8 *) * Max(scan->numberOfKeys, 1));
	so->qpop = palloc0(sizeof(uint32) * Max(scan->numberOfKeys, 1));
	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		key = &scan->keyData[i];

		if (key->sk_flags & SK_ISNULL)
			so->empty = true;
		else
		{
			so->qbits[so->nq] = key_clk(scan, key, &so->qpop[so->nq]);
			so->nq++;
		}
	}
	so->obits = palloc0(sizeof(uint8 *) * Max(scan->numberOfOrderBys, 1));
	so->opop = palloc0(sizeof(uint32) * Max(scan->numberOfOrderBys, 1));
	so->oshare = palloc(sizeof(int) * Max(scan->numberOfOrderBys, 1));
	for (int j = 0; j < scan->numberOfOrderBys; j++)
	{
		ScanKey		key = &scan->orderByData[j];

		so->oshare[j] = -1;
		if (key->sk_flags & SK_ISNULL)
		{
			so->ord_null = true;
			continue;
		}
		so->obits[j] = key_clk(scan, key, &so->opop[j]);
		for (int k = 0; k < so->nq && nbytes > 0; k++)
			if (so->qpop[k] == so->opop[j] && memcmp(so->qbits[k], so->obits[j], nbytes) == 0)
				so->oshare[j] = k;
	}
	so->nord = so->ord_null ? 0 : scan->numberOfOrderBys;

	/* the buckets that can hold a match, best first for ORDER BY */
	so->plan = palloc(sizeof(ScanBucket) * Max(so->layout.nbuckets, 1));
	for (uint32 b = 0; b < so->layout.nbuckets && !so->empty; b++)
	{
		ScanBucket *sb = &so->plan[so->nplan];
		bool		ok = so->layout.buckets[b].head != InvalidBlockNumber;

		sb->bucket = b;
		sb->cmin = so->nq ? palloc(sizeof(int32) * so->nq) : NULL;
		for (int k = 0; k < so->nq && ok; k++)
			ok = (sb->cmin[k] = pidx_min_common(so->qpop[k], b, t)) >= 0;
		if (!ok)
			continue;
		sb->best = so->nord ? pidx_best_dice(so->opop[0], b) : 0;
		so->nplan++;
	}
	if (so->nord)
		qsort(so->plan, so->nplan, sizeof(ScanBucket), plan_cmp);
	so->want_nulls = so->nq == 0 && !so->empty && so->layout.nulls.head != InvalidBlockNumber;
	so->cur = InvalidBlockNumber;

	so->counts = palloc(sizeof(uint32) * PidxCapacity(0) * Max(so->nq, 1));
	so->items = palloc(sizeof(ItemPointerData) * PidxCapacity(0));
	so->dist = palloc(sizeof(double) * Max(scan->numberOfOrderBys, 1));
	if (so->nord)
	{
		so->queue = palloc(sizeof(PidxQueue));
		pidx_queue_init(so->queue, so->nord, so->ctx);
	}
	MemoryContextSwitchTo(old);
}

/*
 * Score a data page of the current bucket: matches go to items (or, for
 * ORDER BY scans, with their distances to the queue).
 */
static void
score_page(PidxScanOpaque so, Page page)
{
	ScanBucket *sb = so->curbucket;
	int			nbytes = sb ? so->layout.nbytes : 0;
	int			n = PidxPageGetOpaque(page)->nentries;
	const uint8 *base = PidxEntry(page, 0, nbytes);
	size_t		stride = PidxStride(nbytes);

	so->nitems = so->itempos = 0;
	if (sb == NULL)
	{
		/* NULL entries: returned as they are, after everything else */
		for (int i = 0; i < n; i++)
			so->items[so->nitems++] = *PidxEntryTid(PidxEntry(page, i, 0), 0);
		return;
	}
	for (int k = 0; k < so->nq; k++)
		clk_kern->and_count_block(so->qbits[k], 1, nbytes, base, n, stride, nbytes,
								  so->counts + (size_t) k * n);
	for (int i = 0; i < n; i++)
	{
		const uint8 *entry = base + (size_t) i * stride;
		bool		ok = true;

		for (int k = 0; k < so->nq && ok; k++)
			ok = (int64) so->counts[(size_t) k * n + i] >= sb->cmin[k];
		if (!ok)
			continue;
		if (so->nord == 0)
		{
			so->items[so->nitems++] = *PidxEntryTid(entry, nbytes);
			continue;
		}
		for (int j = 0; j < so->nord; j++)
		{
			uint32		c = so->oshare[j] >= 0
				? so->counts[(size_t) so->oshare[j] * n + i]
				: (uint32) clk_kern->and_count(so->obits[j], entry, nbytes);

			so->dist[j] = 1.0 - match_score(c, so->opop[j], sb->bucket);
		}
		pidx_queue_push(so->queue, so->dist, PidxEntryTid(entry, nbytes));
	}
}

/* Read and score the next page of the plan; false when all are read. */
static bool
next_page(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	Buffer		buf;
	Page		page;
	PidxPageOpaque opaque;
	uint32		want;

	while (so->cur == InvalidBlockNumber)
	{
		if (so->nextplan < so->nplan)
		{
			so->curbucket = &so->plan[so->nextplan++];
			so->cur = so->layout.buckets[so->curbucket->bucket].head;
		}
		else if (so->want_nulls && !so->nulls_started)
		{
			so->nulls_started = true;
			so->curbucket = NULL;
			so->cur = so->layout.nulls.head;
		}
		else
			return false;
	}

	CHECK_FOR_INTERRUPTS();
	buf = ReadBuffer(scan->indexRelation, so->cur);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	opaque = PidxPageGetOpaque(page);
	want = so->curbucket ? so->curbucket->bucket : PIDX_NULL_BUCKET;
	if (!(opaque->flags & PIDX_DATA) || opaque->bucket != want)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("pprl index \"%s\" block %u is not a page of bucket %u",
						RelationGetRelationName(scan->indexRelation), so->cur, want)));
	so->cur = opaque->next;
	if (so->cur != InvalidBlockNumber)
		PrefetchBuffer(scan->indexRelation, MAIN_FORKNUM, so->cur);
	score_page(so, page);
	UnlockReleaseBuffer(buf);
	return true;
}

/* The smallest distance an unread non-NULL entry could still have. */
static double
unread_bound(PidxScanOpaque so)
{
	if (so->cur != InvalidBlockNumber && so->curbucket != NULL)
		return 1.0 - so->curbucket->best;
	if (so->nextplan < so->nplan)
		return 1.0 - so->plan[so->nextplan].best;
	return get_float8_infinity();
}

/* The next entry of an ORDER BY scan, nearest first, then the NULLs. */
static bool
next_ordered(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;

	for (;;)
	{
		const double *top;

		if (so->itempos < so->nitems)
		{
			scan->xs_heaptid = so->items[so->itempos++];
			for (int j = 0; j < scan->numberOfOrderBys; j++)
				scan->xs_orderbynulls[j] = true;
			return true;
		}
		top = pidx_queue_peek(so->queue);
		if (top != NULL)
		{
			double		bound = unread_bound(so);

			/* with one key a tie is safe; with more, later keys decide */
			if (top[0] < bound || (so->nord == 1 && top[0] <= bound))
			{
				scan->xs_heaptid = *pidx_queue_tid(so->queue, top);
				for (int j = 0; j < so->nord; j++)
				{
					scan->xs_orderbyvals[j] = Float8GetDatum(top[j]);
					scan->xs_orderbynulls[j] = false;
				}
				pidx_queue_pop(so->queue);
				return true;
			}
		}
		if (!next_page(scan))
			return false;
	}
}

/* ambeginscan */
IndexScanDesc
pidx_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	PidxScanOpaque so = palloc0(sizeof(PidxScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "pprl index scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	if (norderbys > 0)
	{
		scan->xs_orderbyvals = palloc0(sizeof(Datum) * norderbys);
		scan->xs_orderbynulls = palloc(sizeof(bool) * norderbys);
		memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
	}
	return scan;
}

/* amrescan: take the new keys; the scan starts on the next fetch. */
void
pidx_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
			int norderbys)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	MemoryContext ctx = so->ctx;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, sizeof(ScanKeyData) * nkeys);
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, sizeof(ScanKeyData) * norderbys);
	MemoryContextReset(ctx);
	memset(so, 0, sizeof(PidxScanOpaqueData));
	so->ctx = ctx;
}

/* amgettuple: the next match (or the next nearest entry). */
bool
pidx_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;

	if (dir != ForwardScanDirection)
		elog(ERROR, "pprl index scans only go forward");
	if (!so->started)
	{
		start_scan(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	if (so->empty)
		return false;
	if (so->nord > 0)
		return next_ordered(scan);
	while (so->itempos >= so->nitems)
		if (!next_page(scan))
			return false;
	scan->xs_heaptid = so->items[so->itempos++];
	for (int j = 0; j < scan->numberOfOrderBys; j++)
		scan->xs_orderbynulls[j] = true;
	return true;
}

/* amgetbitmap: every match, page by page, exact (no recheck). */
int64
pidx_getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	int64		ntids = 0;

	if (!so->started)
	{
		start_scan(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}
	if (so->empty)
		return 0;
	while (next_page(scan))
	{
		tbm_add_tuples(tbm, so->items, so->nitems, false);
		ntids += so->nitems;
	}
	return ntids;
}

/* amendscan */
void
pidx_endscan(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
}
