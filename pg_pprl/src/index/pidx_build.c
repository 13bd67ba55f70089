/*
 * pidx_build.c
 *	  CREATE INDEX ... USING pprl: serial or with parallel workers.
 *
 * Every participant (the leader and each worker) scans its share of the
 * table and fills, per popcount, a run of page images in memory.  A full
 * run is written to contiguous new blocks, linked so that a chain is read
 * forward within a run, and pushed on the participant's chain for that
 * popcount.  At the end each participant splices its chains onto the
 * shared ones with one atomic exchange per bucket (it only ever edits its
 * own pages), the leader writes the directory and the metapage, and the
 * whole index is WAL-logged as full pages, as the core AMs do after a
 * build.  Memory stays at one run per active popcount per participant.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "storage/lmgr.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "clk.h"
#include "index/pidx.h"

#define PIDX_KEY_SHARED		UINT64CONST(0xA0C1C0DE00000001)
#define PIDX_KEY_BUCKETS	UINT64CONST(0xA0C1C0DE00000002)
#define PIDX_MAX_RUN		32	/* pages written at once per chain */

/* What participants share: the table scan, totals, the agreed length. */
typedef struct PidxBuildShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	uint32		maxbuckets;		/* popcount buckets the bucket array holds */
	int			nparticipants;
	slock_t		mutex;
	int			nbytes;			/* CLK length, 0 until a participant sees one */
	double		reltuples;
	double		indtuples;
	/* ParallelTableScanDescData follows */
} PidxBuildShared;

#define ParallelTableScanFromShared(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + MAXALIGN(sizeof(PidxBuildShared))))

/* A bucket's chain as the participants build it (NULLs at maxbuckets). */
typedef struct PidxSharedBucket
{
	pg_atomic_uint32 head;
	pg_atomic_uint32 npages;
	pg_atomic_uint64 ntuples;
} PidxSharedBucket;

/* One participant's chain for one bucket. */
typedef struct BuildChain
{
	Page	   *run;			/* page images being filled */
	int			nrun;			/* images in use (the last one is filling) */
	BlockNumber head;			/* this participant's chain on disk */
	BlockNumber tail;
	uint32		npages;
	uint64		ntuples;
} BuildChain;

/* One participant's state. */
typedef struct BuildState
{
	Relation	index;
	PidxBuildShared *shared;
	PidxSharedBucket *buckets;
	int			nbytes;			/* 0 until this participant sees a CLK */
	int			run_pages;
	BuildChain *chains;			/* nbytes * 8 + 1 of them */
	BuildChain	nulls;
	double		indtuples;
	MemoryContext ctx;			/* page images */
	MemoryContext tmpctx;		/* per tuple */
} BuildState;

/* Write a chain's run to contiguous new blocks and push it on the chain. */
static void
flush_run(BuildState *bs, BuildChain *ch)
{
	Buffer		bufs[PIDX_MAX_RUN];

	if (ch->nrun == 0)
		return;

	/*
	 * Always lock: the index is new in this transaction, which makes it
	 * "local" to the leader, but parallel workers extend it too.
	 */
	LockRelationForExtension(bs->index, ExclusiveLock);
	for (int i = 0; i < ch->nrun; i++)
	{
		bufs[i] = ReadBuffer(bs->index, P_NEW);
		LockBuffer(bufs[i], BUFFER_LOCK_EXCLUSIVE);
	}
	UnlockRelationForExtension(bs->index, ExclusiveLock);

	for (int i = 0; i < ch->nrun; i++)
	{
		PidxPageOpaque opaque = PidxPageGetOpaque(ch->run[i]);

		/* read forward through the run, then on to the older runs */
		opaque->next = i + 1 < ch->nrun ? BufferGetBlockNumber(bufs[i + 1]) : ch->head;
		memcpy(BufferGetPage(bufs[i]), ch->run[i], BLCKSZ);
		MarkBufferDirty(bufs[i]);
	}
	if (ch->tail == InvalidBlockNumber)
		ch->tail = BufferGetBlockNumber(bufs[ch->nrun - 1]);
	ch->head = BufferGetBlockNumber(bufs[0]);
	ch->npages += ch->nrun;
	for (int i = 0; i < ch->nrun; i++)
		UnlockReleaseBuffer(bufs[i]);
	ch->nrun = 0;
}

/* Add an entry to a chain's run, writing the run out when it is full. */
static void
chain_put(BuildState *bs, BuildChain *ch, uint32 bucket, const uint8 *bits,
		  int nbytes, ItemPointer tid)
{
	Page		page = ch->nrun > 0 ? ch->run[ch->nrun - 1] : NULL;

	if (page == NULL || PidxPageGetOpaque(page)->nentries >= PidxCapacity(nbytes))
	{
		if (ch->nrun == bs->run_pages)
			flush_run(bs, ch);
		if (ch->run == NULL)
			ch->run = MemoryContextAllocZero(bs->ctx, sizeof(Page) * PIDX_MAX_RUN);
		if (ch->run[ch->nrun] == NULL)
			ch->run[ch->nrun] = MemoryContextAlloc(bs->ctx, BLCKSZ);
		page = ch->run[ch->nrun++];
		pidx_init_page(page, PIDX_DATA, bucket);
	}
	pidx_page_add(page, bits, nbytes, tid);
	ch->ntuples++;
}

/* Start a new chain (nothing on disk yet). */
static void
chain_init(BuildChain *ch)
{
	memset(ch, 0, sizeof(BuildChain));
	ch->head = ch->tail = InvalidBlockNumber;
}

/*
 * The first CLK this participant sees: agree on the length with the
 * others and size the runs so all chains' runs fit maintenance_work_mem.
 */
static void
set_length(BuildState *bs, int nbytes)
{
	PidxBuildShared *shared = bs->shared;
	int			agreed;
	uint32		nbuckets = (uint32) nbytes * 8 + 1;
	double		budget;

	if (nbytes > PIDX_MAX_NBYTES || nbuckets > shared->maxbuckets)
		pidx_too_long(bs->index, nbytes);
	SpinLockAcquire(&shared->mutex);
	if (shared->nbytes == 0)
		shared->nbytes = nbytes;
	agreed = shared->nbytes;
	SpinLockRelease(&shared->mutex);
	pidx_check_length(bs->index, agreed, nbytes);

	bs->nbytes = nbytes;
	bs->chains = MemoryContextAlloc(bs->ctx, sizeof(BuildChain) * nbuckets);
	for (uint32 b = 0; b < nbuckets; b++)
		chain_init(&bs->chains[b]);
	/* Popcounts cluster: expect about half the buckets to be in use. */
	budget = (double) maintenance_work_mem * 1024.0 / Max(shared->nparticipants, 1);
	bs->run_pages = (int) Min(PIDX_MAX_RUN,
							  Max(1.0, budget / ((nbuckets / 2 + 1) * (double) BLCKSZ)));
}

/* table_index_build_scan callback: one heap tuple's CLK (or NULL). */
static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);

	(void) index;
	(void) tupleIsAlive;
	if (isnull[0])
		chain_put(bs, &bs->nulls, PIDX_NULL_BUCKET, NULL, 0, tid);
	else
	{
		Clk		   *c = DatumGetClkP(values[0]);
		int			nbytes = CLK_NBYTES(c);

		if (bs->nbytes == 0)
			set_length(bs, nbytes);
		else
			pidx_check_length(bs->index, bs->nbytes, nbytes);
		chain_put(bs, &bs->chains[c->popcount], c->popcount, c->data, nbytes, tid);
	}
	bs->indtuples++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
}

/*
 * Write out a participant's last runs and splice its chains onto the
 * shared ones: swap in our head, then point our tail at the old head.
 */
static void
publish(BuildState *bs)
{
	uint32		nbuckets = bs->nbytes ? (uint32) bs->nbytes * 8 + 1 : 0;

	for (uint32 b = 0; b <= nbuckets; b++)
	{
		BuildChain *ch = b < nbuckets ? &bs->chains[b] : &bs->nulls;
		PidxSharedBucket *sb = &bs->buckets[b < nbuckets ? b : bs->shared->maxbuckets];
		BlockNumber old;
		Buffer		buf;

		flush_run(bs, ch);
		if (ch->head == InvalidBlockNumber)
			continue;
		old = pg_atomic_exchange_u32(&sb->head, ch->head);
		pg_atomic_fetch_add_u32(&sb->npages, ch->npages);
		pg_atomic_fetch_add_u64(&sb->ntuples, ch->ntuples);
		if (old == InvalidBlockNumber)
			continue;
		buf = ReadBuffer(bs->index, ch->tail);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		PidxPageGetOpaque(BufferGetPage(buf))->next = old;
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * One participant's share of the build: scan (all of the table, or blocks
 * of a parallel scan), then publish the chains and add to the totals.
 */
static void
participate(Relation heap, Relation index, IndexInfo *indexInfo,
			PidxBuildShared *shared, PidxSharedBucket *buckets,
			TableScanDesc scan, bool progress)
{
	BuildState	bs;
	double		reltuples;

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.shared = shared;
	bs.buckets = buckets;
	bs.run_pages = 1;
	chain_init(&bs.nulls);
	bs.ctx = AllocSetContextCreate(CurrentMemoryContext, "pprl index build",
								   ALLOCSET_DEFAULT_SIZES);
	bs.tmpctx = AllocSetContextCreate(bs.ctx, "pprl index build tuple",
									  ALLOCSET_DEFAULT_SIZES);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, progress,
									   build_callback, &bs, scan);
	publish(&bs);
	SpinLockAcquire(&shared->mutex);
	shared->reltuples += reltuples;
	shared->indtuples += bs.indtuples;
	SpinLockRelease(&shared->mutex);
	MemoryContextDelete(bs.ctx);
}

/* Set up the shared state and the bucket array (all chains empty). */
static void
init_shared(PidxBuildShared *shared, PidxSharedBucket *buckets, Relation heap,
			Relation index, IndexInfo *indexInfo, uint32 maxbuckets, int nparticipants)
{
	memset(shared, 0, sizeof(PidxBuildShared));
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
	shared->maxbuckets = maxbuckets;
	shared->nparticipants = nparticipants;
	SpinLockInit(&shared->mutex);
	for (uint32 b = 0; b <= maxbuckets; b++)
	{
		pg_atomic_init_u32(&buckets[b].head, InvalidBlockNumber);
		pg_atomic_init_u32(&buckets[b].npages, 0);
		pg_atomic_init_u64(&buckets[b].ntuples, 0);
	}
}

/* Parallel worker entry point: open the relations and take a share. */
void
pidx_build_worker_main(dsm_segment *seg, shm_toc *toc)
{
	PidxBuildShared *shared = shm_toc_lookup(toc, PIDX_KEY_SHARED, false);
	PidxSharedBucket *buckets = shm_toc_lookup(toc, PIDX_KEY_BUCKETS, false);
	LOCKMODE	heaplock = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexlock = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;

	(void) seg;
	heap = table_open(shared->heaprelid, heaplock);
	index = index_open(shared->indexrelid, indexlock);
	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = shared->isconcurrent;
	participate(heap, index, indexInfo, shared, buckets,
				table_beginscan_parallel(heap, ParallelTableScanFromShared(shared)),
				false);
	index_close(index, indexlock);
	table_close(heap, heaplock);
}

/*
 * Scan the table with parallel workers; false (nothing done) when none
 * can be had, and the caller builds serially.
 */
static bool
build_parallel(Relation heap, Relation index, IndexInfo *indexInfo,
			   uint32 maxbuckets, int nworkers, PidxBuildShared *result,
			   PidxSharedBucket *result_buckets)
{
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		sharedsize;
	Size		bucketsize = sizeof(PidxSharedBucket) * ((Size) maxbuckets + 1);
	PidxBuildShared *shared;
	PidxSharedBucket *buckets;

	EnterParallelMode();
	pcxt = CreateParallelContext("$libdir/pg_pprl", "pidx_build_worker_main", nworkers);
	snapshot = indexInfo->ii_Concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	sharedsize = add_size(MAXALIGN(sizeof(PidxBuildShared)),
						  table_parallelscan_estimate(heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, sharedsize);
	shm_toc_estimate_chunk(&pcxt->estimator, bucketsize);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}
	shared = shm_toc_allocate(pcxt->toc, sharedsize);
	buckets = shm_toc_allocate(pcxt->toc, bucketsize);
	init_shared(shared, buckets, heap, index, indexInfo, maxbuckets, nworkers + 1);
	table_parallelscan_initialize(heap, ParallelTableScanFromShared(shared), snapshot);
	shm_toc_insert(pcxt->toc, PIDX_KEY_SHARED, shared);
	shm_toc_insert(pcxt->toc, PIDX_KEY_BUCKETS, buckets);
	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("building pprl index \"%s\" with %d parallel workers",
							 RelationGetRelationName(index), pcxt->nworkers_launched)));

	/* The leader takes a share too (all of it if no worker started). */
	participate(heap, index, indexInfo, shared, buckets,
				table_beginscan_parallel(heap, ParallelTableScanFromShared(shared)),
				true);
	WaitForParallelWorkersToFinish(pcxt);

	memcpy(result, shared, sizeof(PidxBuildShared));
	memcpy(result_buckets, buckets, bucketsize);
	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/* Copy a shared chain into its directory slot (no hint after a build). */
static void
set_slot(PidxBucket *slot, const PidxSharedBucket *sb)
{
	slot->head = pg_atomic_read_u32((pg_atomic_uint32 *) &sb->head);
	slot->hint = InvalidBlockNumber;
	slot->npages = pg_atomic_read_u32((pg_atomic_uint32 *) &sb->npages);
	slot->ntuples = pg_atomic_read_u64((pg_atomic_uint64 *) &sb->ntuples);
}

/*
 * Write the directory after the data pages and fill in the metapage;
 * pages are logged as a whole by the caller.
 */
static void
write_directory(Relation index, Buffer metabuf, const PidxBuildShared *shared,
				const PidxSharedBucket *buckets)
{
	PidxMetaPage meta = PidxPageGetMeta(BufferGetPage(metabuf));

	set_slot(&meta->nulls, &buckets[shared->maxbuckets]);
	if (shared->nbytes == 0)
		return;

	meta->nbytes = shared->nbytes;
	meta->nbuckets = (uint32) shared->nbytes * 8 + 1;
	meta->ndir = (meta->nbuckets + PIDX_BUCKETS_PER_PAGE - 1) / PIDX_BUCKETS_PER_PAGE;
	for (uint32 d = 0; d < meta->ndir; d++)
	{
		Buffer		buf = pidx_new_buffer(index);
		uint32		first = d * PIDX_BUCKETS_PER_PAGE;
		PidxBucket *b = pidx_init_dir_page(BufferGetPage(buf), first, meta->nbuckets);

		if (d == 0)
			meta->dir_start = BufferGetBlockNumber(buf);
		for (uint32 j = 0; j < PIDX_BUCKETS_PER_PAGE && first + j < meta->nbuckets; j++)
			set_slot(&b[j], &buckets[first + j]);
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
}

/* ambuild: build the index over the whole table. */
IndexBuildResult *
pidx_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	uint32		maxbuckets;
	PidxBuildShared shared;
	PidxSharedBucket *buckets;
	Buffer		metabuf;
	int			nworkers = 0;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	/* clk(n) fixes the length; otherwise allow for the longest CLK */
	maxbuckets = (typmod > 0 && typmod <= PIDX_MAX_NBYTES * 8) ? (uint32) typmod + 1
		: (uint32) PIDX_MAX_NBYTES * 8 + 1;
	buckets = palloc(sizeof(PidxSharedBucket) * ((Size) maxbuckets + 1));

	/* the metapage is block 0; not held locked during the scan (interrupts) */
	metabuf = pidx_new_buffer(index);
	Assert(BufferGetBlockNumber(metabuf) == PIDX_METAPAGE_BLKNO);
	pidx_init_metapage(BufferGetPage(metabuf));
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	if (!IsBootstrapProcessingMode())
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers == 0 ||
		!build_parallel(heap, index, indexInfo, maxbuckets, nworkers, &shared, buckets))
	{
		init_shared(&shared, buckets, heap, index, indexInfo, maxbuckets, 1);
		participate(heap, index, indexInfo, &shared, buckets, NULL, true);
	}

	metabuf = ReadBuffer(index, PIDX_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	write_directory(index, metabuf, &shared, buckets);
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	result->heap_tuples = shared.reltuples;
	result->index_tuples = shared.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index, an empty metapage. */
void
pidx_buildempty(Relation index)
{
	Page		metapage = (Page) palloc(BLCKSZ);

	pidx_init_metapage(metapage);
	PageSetChecksumInplace(metapage, PIDX_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, PIDX_METAPAGE_BLKNO,
			  (char *) metapage, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				PIDX_METAPAGE_BLKNO, metapage, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}
