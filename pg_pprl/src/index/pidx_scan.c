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
 * An ORDER BY scan runs in passes.  A pass reads the planned buckets best
 * bound first and keeps the k nearest entries in a bounded heap, stopping
 * at the first bucket that cannot beat the k-th; an entry is skipped by an
 * integer compare unless its intersection could.  The k entries are then
 * returned in order.  Should the query want more (LIMIT above k), the next
 * pass, with eight times k, resumes strictly after the last entry returned
 * in (distance, TID) order.  NULL CLKs come last, as ORDER BY puts them;
 * % never matches them.
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
#include "index/pidx_topk.h"
#include "pprl/match.h"

#define PIDX_FIRST_K		32	/* entries kept by the first ORDER BY pass */
#define PIDX_K_GROWTH		8

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
	uint32	   *ocounts;		/* per entry of a page, first ORDER BY key */
	double	   *dist;
	ItemPointerData *items;		/* matches of the last page (unordered) */
	int			nitems;
	int			itempos;
	/* ORDER BY passes */
	PidxTopK	topk;
	int			k;				/* capacity of the next pass */
	uint64		plan_entries;	/* entries in the planned buckets */
	bool		passed;			/* a pass has run; its items are sorted */
	int			readypos;		/* next of topk's sorted items to return */
	bool		complete;		/* that pass kept every entry it could */
	bool		resume;			/* entries must come after last/lasttid */
	double	   *last;
	ItemPointerData lasttid;
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
		so->plan_entries += so->layout.buckets[b].ntuples;
		so->nplan++;
	}
	if (so->nord)
		qsort(so->plan, so->nplan, sizeof(ScanBucket), plan_cmp);
	so->want_nulls = so->nq == 0 && !so->empty && so->layout.nulls.head != InvalidBlockNumber;
	so->cur = InvalidBlockNumber;

	so->counts = palloc(sizeof(uint32) * PidxCapacity(0) * Max(so->nq, 1));
	so->ocounts = palloc(sizeof(uint32) * PidxCapacity(0));
	so->items = palloc(sizeof(ItemPointerData) * PidxCapacity(0));
	so->dist = palloc(sizeof(double) * Max(scan->numberOfOrderBys, 1));
	so->last = palloc(sizeof(double) * Max(scan->numberOfOrderBys, 1));
	so->k = PIDX_FIRST_K;
	MemoryContextSwitchTo(old);
}

/* A page of a chain, share-locked, for a scan (which can be cancelled). */
static Buffer
read_page(Relation index, BlockNumber blk, uint32 bucket)
{
	CHECK_FOR_INTERRUPTS();
	return pidx_read_data_page(index, blk, bucket, BUFFER_LOCK_SHARE, NULL);
}

/* Whether entry i of a page passes every % key. */
static inline bool
passes(PidxScanOpaque so, const ScanBucket *sb, int n, int i)
{
	for (int k = 0; k < so->nq; k++)
		if ((int64) so->counts[(size_t) k * n + i] < sb->cmin[k])
			return false;
	return true;
}

/* Count every entry of a page against every % key. */
static void
count_keys(PidxScanOpaque so, const uint8 *base, int n, int nbytes)
{
	for (int k = 0; k < so->nq; k++)
		clk_kern->and_count_block(so->qbits[k], 1, nbytes, base, n, PidxStride(nbytes),
								  nbytes, so->counts + (size_t) k * n);
}

/* Score a data page of the current bucket: its matches go to items. */
static void
score_page(PidxScanOpaque so, Page page)
{
	ScanBucket *sb = so->curbucket;
	int			nbytes = sb ? so->layout.nbytes : 0;
	int			n = PidxPageGetOpaque(page)->nentries;
	const uint8 *base = PidxEntry(page, 0, nbytes);

	so->nitems = so->itempos = 0;
	if (sb != NULL)
		count_keys(so, base, n, nbytes);
	for (int i = 0; i < n; i++)
		if (sb == NULL || passes(so, sb, n, i))
			so->items[so->nitems++] = *PidxEntryTid(PidxEntry(page, i, nbytes), nbytes);
}

/* Read and score the next page of the plan; false when all are read. */
static bool
next_page(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	Buffer		buf;
	Page		page;

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

	buf = read_page(scan->indexRelation, so->cur, so->curbucket ? so->curbucket->bucket : PIDX_NULL_BUCKET);
	page = BufferGetPage(buf);
	so->cur = PidxPageGetOpaque(page)->next;
	score_page(so, page);
	UnlockReleaseBuffer(buf);
	return true;
}

/*
 * The smallest intersection with the first ORDER BY key by which an entry
 * of this bucket could still beat the full heap's worst (with a margin for
 * rounding: the exact distance decides), or -1 when none can.
 */
static int64
min_to_beat_worst(PidxScanOpaque so, const ScanBucket *sb)
{
	return pidx_min_common(so->opop[0], sb->bucket,
						   1.0 - pidx_topk_worst(&so->topk)[0] - 1e-9);
}

/*
 * Offer a page's entries to the pass's heap.  An entry is only scored in
 * full when its intersection with the first ORDER BY key could beat the
 * heap's worst; false when some entry could not be kept.
 */
static bool
offer_page(PidxScanOpaque so, const ScanBucket *sb, Page page)
{
	int			nbytes = so->layout.nbytes;
	int			n = PidxPageGetOpaque(page)->nentries;
	const uint8 *base = PidxEntry(page, 0, nbytes);
	bool		full = pidx_topk_worst(&so->topk) != NULL;
	int64		cneed = full ? min_to_beat_worst(so, sb) : 0;
	bool		all_kept = true;

	if (cneed < 0)
		return false;
	count_keys(so, base, n, nbytes);
	if (so->oshare[0] < 0)
		clk_kern->and_count_block(so->obits[0], 1, nbytes, base, n, PidxStride(nbytes),
								  nbytes, so->ocounts);
	for (int i = 0; i < n; i++)
	{
		const uint8 *entry = base + (size_t) i * PidxStride(nbytes);
		uint32		c0 = so->oshare[0] >= 0
			? so->counts[(size_t) so->oshare[0] * n + i] : so->ocounts[i];
		ItemPointer tid = PidxEntryTid(entry, nbytes);
		bool		evicted;

		if (!passes(so, sb, n, i))
			continue;
		if ((int64) c0 < cneed)
		{
			all_kept = false;
			continue;
		}
		so->dist[0] = 1.0 - match_score(c0, so->opop[0], sb->bucket);
		for (int j = 1; j < so->nord; j++)
		{
			uint32		c = so->oshare[j] >= 0
				? so->counts[(size_t) so->oshare[j] * n + i]
				: (uint32) clk_kern->and_count(so->obits[j], entry, nbytes);

			so->dist[j] = 1.0 - match_score(c, so->opop[j], sb->bucket);
		}
		if (so->resume &&
			pidx_topk_cmp(&so->topk, so->dist, tid, so->last, &so->lasttid) <= 0)
			continue;			/* returned by an earlier pass */
		if (!pidx_topk_offer(&so->topk, so->dist, tid, &evicted) || evicted)
			all_kept = false;
		if (!full && pidx_topk_worst(&so->topk) != NULL)
		{
			/* just filled up: from here on, only entries that could beat the worst */
			full = true;
			cneed = Max(0, min_to_beat_worst(so, sb));
		}
	}
	return all_kept;
}

/*
 * One ORDER BY pass: the k nearest entries after the last one returned,
 * sorted; complete when no entry beyond them remains.
 */
static void
run_pass(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);
	bool		complete = true;

	if (so->passed)
		pfree(so->topk.items);
	pidx_topk_init(&so->topk, so->k, so->nord);
	for (int p = 0; p < so->nplan; p++)
	{
		ScanBucket *sb = &so->plan[p];
		const double *worst = pidx_topk_worst(&so->topk);

		/* buckets come best bound first: none after this one can do better */
		if (worst != NULL && 1.0 - sb->best > worst[0])
		{
			complete = false;
			break;
		}
		for (BlockNumber blk = so->layout.buckets[sb->bucket].head; blk != InvalidBlockNumber;)
		{
			Buffer		buf = read_page(scan->indexRelation, blk, sb->bucket);
			Page		page = BufferGetPage(buf);

			if (!offer_page(so, sb, page))
				complete = false;
			blk = PidxPageGetOpaque(page)->next;
			UnlockReleaseBuffer(buf);
		}
	}
	pidx_topk_sort(&so->topk);
	so->passed = true;
	so->readypos = 0;
	so->complete = complete;
	/*
	 * Grow k, but not far past the entries there are: a pass that can hold
	 * them all completes (entries inserted since the scan began may still
	 * overflow it, so beyond that bound k keeps doubling).
	 */
	if ((uint64) so->k > so->plan_entries)
		so->k = so->k > INT_MAX / 2 ? INT_MAX : so->k * 2;
	else
		so->k = (int) Min((uint64) so->k * PIDX_K_GROWTH,
						  Min(so->plan_entries + 1, (uint64) INT_MAX));
	MemoryContextSwitchTo(old);
}

/* The next entry of an ORDER BY scan, nearest first, then the NULLs. */
static bool
next_ordered(IndexScanDesc scan)
{
	PidxScanOpaque so = (PidxScanOpaque) scan->opaque;

	for (;;)
	{
		if (so->passed && so->readypos < so->topk.n)
		{
			const double *item = pidx_topk_item(&so->topk, so->readypos++);

			scan->xs_heaptid = *pidx_topk_tid(&so->topk, item);
			for (int j = 0; j < so->nord; j++)
			{
				scan->xs_orderbyvals[j] = Float8GetDatum(item[j]);
				scan->xs_orderbynulls[j] = false;
			}
			memcpy(so->last, item, sizeof(double) * so->nord);
			so->lasttid = scan->xs_heaptid;
			so->resume = true;
			return true;
		}
		if (!so->passed || !so->complete)
		{
			run_pass(scan);
			continue;
		}
		/* every non-NULL entry is out: the NULLs, if wanted */
		if (so->itempos < so->nitems)
		{
			scan->xs_heaptid = so->items[so->itempos++];
			for (int j = 0; j < scan->numberOfOrderBys; j++)
				scan->xs_orderbynulls[j] = true;
			return true;
		}
		so->nextplan = so->nplan;
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
