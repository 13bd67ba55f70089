/*
 * pidx.h
 *	  The pprl index access method: CLKs in chains of pages by popcount.
 *
 * Dice >= t between a query with popcount A and a stored CLK with popcount
 * B needs 2 min(A, B) / (A + B) >= t, so a search only reads the stored
 * CLKs whose popcount passes that bound.  The index keeps one chain of
 * pages per popcount (a "bucket"); each page holds fixed-size entries (the
 * CLK's bits, then the heap TID) laid out for the SIMD kernels, and every
 * entry is scored exactly: no false positives, no misses, no recheck.
 *
 * Block 0 is the metapage.  It records the CLK length (fixed per index,
 * set by the first non-NULL CLK), where the directory is, and the chain of
 * NULL entries.  The directory (contiguous blocks) has one PidxBucket per
 * popcount 0..nbits: the chain's newest page, a page VACUUM left room in,
 * and counts for the planner.  Chains grow at their head, so a scan that
 * copies the heads sees every entry inserted before it started.
 *
 * Lock order: metapage, then a directory page, then data pages.  Every
 * change is WAL-logged through generic WAL, so the index replicates to hot
 * standbys and survives crashes; builds write pages without WAL and log
 * them whole at the end.
 */
#ifndef PIDX_H
#define PIDX_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "nodes/pathnodes.h"
#include "port/atomics.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "storage/shm_toc.h"
#include "storage/dsm.h"

#define PIDX_MAGIC			0x50504458	/* "PPDX" */
#define PIDX_VERSION		1
#define PIDX_METAPAGE_BLKNO	0
#define PIDX_PAGE_ID		0xFF8A	/* last two bytes of every page */

/* Page kinds (PidxPageOpaqueData.flags). */
#define PIDX_META			1
#define PIDX_DIR			2
#define PIDX_DATA			4

/* Strategies of the clk_dice_ops operator class. */
#define PIDX_STRATEGY_MATCH		1	/* clk % clk */
#define PIDX_STRATEGY_DISTANCE	2	/* clk <-> clk, ORDER BY */
#define PIDX_NSTRATEGIES		2

/* The bucket number of NULL entries (kept in the metapage). */
#define PIDX_NULL_BUCKET	UINT32_MAX

/* Special space of every page. */
typedef struct PidxPageOpaqueData
{
	BlockNumber next;			/* next (older) page of the chain */
	uint32		bucket;			/* popcount of every entry, or NULL bucket */
	uint16		nentries;		/* entries on a data page */
	uint16		flags;			/* PIDX_META, PIDX_DIR or PIDX_DATA */
	uint16		unused;
	uint16		page_id;		/* PIDX_PAGE_ID */
} PidxPageOpaqueData;

typedef PidxPageOpaqueData *PidxPageOpaque;

/* One chain of pages: a popcount's entries, or the NULL entries. */
typedef struct PidxBucket
{
	BlockNumber head;			/* newest page, or InvalidBlockNumber */
	BlockNumber hint;			/* a page VACUUM made room in, or invalid */
	uint32		npages;
	uint32		unused;
	uint64		ntuples;
} PidxBucket;

/* Contents of the metapage. */
typedef struct PidxMetaPageData
{
	uint32		magic;
	uint32		version;
	int32		nbytes;			/* CLK length in bytes; 0 until known */
	uint32		nbuckets;		/* nbytes * 8 + 1 once nbytes is known */
	BlockNumber dir_start;		/* first directory block */
	uint32		ndir;			/* directory blocks */
	PidxBucket	nulls;			/* the chain of NULL entries */
} PidxMetaPageData;

typedef PidxMetaPageData *PidxMetaPage;

#define PidxPageGetOpaque(page) ((PidxPageOpaque) PageGetSpecialPointer(page))
#define PidxPageGetMeta(page)	((PidxMetaPage) PageGetContents(page))
#define PidxPageGetBuckets(page) ((PidxBucket *) PageGetContents(page))

#define PIDX_CONTENT_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(PidxPageOpaqueData)))
#define PIDX_BUCKETS_PER_PAGE	((uint32) (PIDX_CONTENT_SIZE / sizeof(PidxBucket)))

/* Entry layout: the CLK's bytes, then the heap TID, MAXALIGNed. */
#define PidxStride(nbytes)		MAXALIGN((nbytes) + sizeof(ItemPointerData))
#define PidxCapacity(nbytes)	((int) (PIDX_CONTENT_SIZE / PidxStride(nbytes)))
#define PidxEntry(page, i, nbytes) \
	((uint8 *) PageGetContents(page) + (size_t) (i) * PidxStride(nbytes))
#define PidxEntryTid(entry, nbytes) ((ItemPointer) ((entry) + (nbytes)))

/* The longest CLK an entry can hold (one entry per page). */
#define PIDX_MAX_NBYTES \
	((int) ((PIDX_CONTENT_SIZE - sizeof(ItemPointerData)) & ~(MAXIMUM_ALIGNOF - 1)))

/* What a scan or the planner copies out of the metapage and directory. */
typedef struct PidxLayout
{
	int			nbytes;
	uint32		nbuckets;
	BlockNumber dir_start;
	PidxBucket	nulls;
	PidxBucket *buckets;		/* nbuckets of them (NULL when nbytes == 0) */
} PidxLayout;

/* A data page's capacity for the bucket: NULL entries hold only a TID. */
static inline int
pidx_bucket_nbytes(uint32 bucket, int nbytes)
{
	return bucket == PIDX_NULL_BUCKET ? 0 : nbytes;
}

/* pidx_page.c */
extern void pidx_init_page(Page page, uint16 flags, uint32 bucket);
extern void pidx_init_metapage(Page page);
extern Buffer pidx_new_buffer(Relation index);
extern PidxMetaPage pidx_check_meta(Relation index, Page page);
extern void pidx_read_layout(Relation index, PidxLayout *layout);
extern Buffer pidx_read_data_page(Relation index, BlockNumber blk, uint32 bucket,
								  int mode, BufferAccessStrategy strategy);
extern PidxBucket *pidx_bucket_slot(Page page, uint32 bucket);
extern PidxBucket *pidx_init_dir_page(Page page, uint32 first, uint32 nbuckets);
extern void pidx_page_add(Page page, const uint8 *bits, int nbytes, ItemPointer tid);
extern void pidx_check_length(Relation index, int index_nbytes, int nbytes);
extern void pidx_too_long(Relation index, int nbytes);

/* pidx_insert.c */
extern void pidx_init_directory(Relation index, Buffer metabuf, int nbytes);
extern bool pidx_insert(Relation index, Datum *values, bool *isnull,
						ItemPointer ht_ctid, Relation heapRel,
						IndexUniqueCheck checkUnique, bool indexUnchanged,
						struct IndexInfo *indexInfo);

/* pidx_build.c */
extern IndexBuildResult *pidx_build(Relation heap, Relation index,
									struct IndexInfo *indexInfo);
extern void pidx_buildempty(Relation index);
extern PGDLLEXPORT void pidx_build_worker_main(dsm_segment *seg, shm_toc *toc);

/* pidx_bound.c */
extern int32 pidx_min_common(uint32 a, uint32 b, double t);
extern double pidx_best_dice(uint32 a, uint32 b);

/* pidx_scan.c */
extern IndexScanDesc pidx_beginscan(Relation index, int nkeys, int norderbys);
extern void pidx_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						ScanKey orderbys, int norderbys);
extern bool pidx_gettuple(IndexScanDesc scan, ScanDirection dir);
extern int64 pidx_getbitmap(IndexScanDesc scan, TIDBitmap *tbm);
extern void pidx_endscan(IndexScanDesc scan);

/* pidx_vacuum.c */
extern IndexBulkDeleteResult *pidx_bulkdelete(IndexVacuumInfo *info,
											  IndexBulkDeleteResult *stats,
											  IndexBulkDeleteCallback callback,
											  void *callback_state);
extern IndexBulkDeleteResult *pidx_vacuumcleanup(IndexVacuumInfo *info,
												 IndexBulkDeleteResult *stats);

/* pidx_cost.c */
extern void pidx_costestimate(PlannerInfo *root, IndexPath *path,
							  double loop_count, Cost *indexStartupCost,
							  Cost *indexTotalCost,
							  Selectivity *indexSelectivity,
							  double *indexCorrelation, double *indexPages);

#endif							/* PIDX_H */
