/*
 * pidx_insert.c
 *	  Adding one entry to a pprl index (INSERT, UPDATE, COPY).
 *
 * The entry goes into its bucket's newest page, else into the page VACUUM
 * left room in, else onto a new page pushed at the head of the chain.  The
 * bucket's directory page stays locked throughout, so inserts into one
 * bucket are serialised while other buckets proceed; each insert is one
 * generic WAL record covering the directory page and the data page.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "clk.h"
#include "index/pidx.h"

/*
 * Add an entry to the bucket whose slot lives on `holder` (locked
 * exclusively by the caller, who also releases it).
 */
static void
chain_add(Relation index, Buffer holder, uint32 bucket, const uint8 *bits,
		  int nbytes, ItemPointer tid)
{
	PidxBucket	slot = *pidx_bucket_slot(BufferGetPage(holder), bucket);
	int			enb = pidx_bucket_nbytes(bucket, nbytes);
	BlockNumber tries[2] = {slot.head, slot.hint};
	bool		hint_full = false;
	GenericXLogState *state;
	Buffer		buf;
	Page		hpage,
				dpage;
	PidxBucket *hb;

	for (int i = 0; i < 2; i++)
	{
		if (tries[i] == InvalidBlockNumber || (i == 1 && tries[1] == tries[0]))
			continue;
		buf = pidx_read_data_page(index, tries[i], bucket, BUFFER_LOCK_EXCLUSIVE, NULL);
		if (PidxPageGetOpaque(BufferGetPage(buf))->nentries < PidxCapacity(enb))
		{
			state = GenericXLogStart(index);
			hpage = GenericXLogRegisterBuffer(state, holder, 0);
			dpage = GenericXLogRegisterBuffer(state, buf, 0);
			pidx_page_add(dpage, bits, enb, tid);
			pidx_bucket_slot(hpage, bucket)->ntuples++;
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			return;
		}
		UnlockReleaseBuffer(buf);
		hint_full = (i == 1);
	}

	/* Every known page is full: push a new one. */
	buf = pidx_new_buffer(index);
	state = GenericXLogStart(index);
	hpage = GenericXLogRegisterBuffer(state, holder, 0);
	dpage = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	pidx_init_page(dpage, PIDX_DATA, bucket);
	PidxPageGetOpaque(dpage)->next = slot.head;
	pidx_page_add(dpage, bits, enb, tid);
	hb = pidx_bucket_slot(hpage, bucket);
	hb->head = BufferGetBlockNumber(buf);
	hb->npages++;
	hb->ntuples++;
	if (hint_full)
		hb->hint = InvalidBlockNumber;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Fix the index's CLK length and create its directory: one bucket per
 * popcount, on contiguous new pages.  The caller holds the metapage
 * exclusively, so no other backend can be doing the same.
 */
void
pidx_init_directory(Relation index, Buffer metabuf, int nbytes)
{
	uint32		nbuckets = (uint32) nbytes * 8 + 1;
	uint32		ndir = (nbuckets + PIDX_BUCKETS_PER_PAGE - 1) / PIDX_BUCKETS_PER_PAGE;
	bool		needlock = !RELATION_IS_LOCAL(index);
	BlockNumber dir_start = InvalidBlockNumber;
	GenericXLogState *state;
	PidxMetaPage meta;

	if (nbytes > PIDX_MAX_NBYTES)
		pidx_too_long(index, nbytes);
	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	for (uint32 d = 0; d < ndir; d += MAX_GENERIC_XLOG_PAGES)
	{
		Buffer		bufs[MAX_GENERIC_XLOG_PAGES];
		uint32		n = Min(MAX_GENERIC_XLOG_PAGES, ndir - d);

		state = GenericXLogStart(index);
		for (uint32 i = 0; i < n; i++)
		{
			Page		page;

			bufs[i] = ReadBuffer(index, P_NEW);
			LockBuffer(bufs[i], BUFFER_LOCK_EXCLUSIVE);
			if (d + i == 0)
				dir_start = BufferGetBlockNumber(bufs[i]);
			Assert(BufferGetBlockNumber(bufs[i]) == dir_start + d + i);
			page = GenericXLogRegisterBuffer(state, bufs[i], GENERIC_XLOG_FULL_IMAGE);
			(void) pidx_init_dir_page(page, (d + i) * PIDX_BUCKETS_PER_PAGE, nbuckets);
		}
		GenericXLogFinish(state);
		for (uint32 i = 0; i < n; i++)
			UnlockReleaseBuffer(bufs[i]);
	}
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);

	/* The metapage points at the directory only once it is in the WAL. */
	state = GenericXLogStart(index);
	meta = PidxPageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));
	meta->nbytes = nbytes;
	meta->nbuckets = nbuckets;
	meta->dir_start = dir_start;
	meta->ndir = ndir;
	GenericXLogFinish(state);
}

/* Add a non-NULL CLK to its popcount's bucket. */
static void
add_clk(Relation index, const Clk *c, ItemPointer tid)
{
	int			nbytes = CLK_NBYTES(c);
	Buffer		metabuf = ReadBuffer(index, PIDX_METAPAGE_BLKNO);
	PidxMetaPage meta;
	int			index_nbytes;
	BlockNumber dir_start;
	Buffer		dirbuf;

	if (nbytes > PIDX_MAX_NBYTES)
		pidx_too_long(index, nbytes);
	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = pidx_check_meta(index, BufferGetPage(metabuf));
	if (meta->nbytes == 0)
	{
		/* The first CLK fixes the length: retry under an exclusive lock. */
		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		meta = pidx_check_meta(index, BufferGetPage(metabuf));
		if (meta->nbytes == 0)
			pidx_init_directory(index, metabuf, nbytes);
	}
	index_nbytes = meta->nbytes;
	dir_start = meta->dir_start;
	UnlockReleaseBuffer(metabuf);
	pidx_check_length(index, index_nbytes, nbytes);

	dirbuf = ReadBuffer(index, dir_start + c->popcount / PIDX_BUCKETS_PER_PAGE);
	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	chain_add(index, dirbuf, c->popcount, c->data, nbytes, tid);
	UnlockReleaseBuffer(dirbuf);
}

/* Add a NULL entry: ordered scans return NULLs last, as a sort would. */
static void
add_null(Relation index, ItemPointer tid)
{
	Buffer		metabuf = ReadBuffer(index, PIDX_METAPAGE_BLKNO);

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	(void) pidx_check_meta(index, BufferGetPage(metabuf));
	chain_add(index, metabuf, PIDX_NULL_BUCKET, NULL, 0, tid);
	UnlockReleaseBuffer(metabuf);
}

/* aminsert: index one heap tuple's CLK (or its NULL). */
bool
pidx_insert(Relation index, Datum *values, bool *isnull, ItemPointer ht_ctid,
			Relation heapRel, IndexUniqueCheck checkUnique,
			bool indexUnchanged, struct IndexInfo *indexInfo)
{
	(void) heapRel;
	(void) checkUnique;
	(void) indexUnchanged;
	(void) indexInfo;

	if (isnull[0])
		add_null(index, ht_ctid);
	else
	{
		Clk		   *c = DatumGetClkP(values[0]);

		add_clk(index, c, ht_ctid);
		if ((Pointer) c != DatumGetPointer(values[0]))
			pfree(c);
	}
	return false;
}
