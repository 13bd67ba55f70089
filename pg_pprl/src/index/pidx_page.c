/*
 * pidx_page.c
 *	  Page layout of the pprl index: metapage, directory and data pages.
 */
#include "postgres.h"

#include "storage/lmgr.h"
#include "utils/rel.h"

#include "index/pidx.h"

/* Initialise an empty page of the given kind (no WAL; callers log it). */
void
pidx_init_page(Page page, uint16 flags, uint32 bucket)
{
	PidxPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(PidxPageOpaqueData));
	opaque = PidxPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->bucket = bucket;
	opaque->nentries = 0;
	opaque->flags = flags;
	opaque->page_id = PIDX_PAGE_ID;
}

/* Initialise the metapage of an empty index (CLK length not known yet). */
void
pidx_init_metapage(Page page)
{
	PidxMetaPage meta;

	pidx_init_page(page, PIDX_META, 0);
	meta = PidxPageGetMeta(page);
	memset(meta, 0, sizeof(PidxMetaPageData));
	meta->magic = PIDX_MAGIC;
	meta->version = PIDX_VERSION;
	meta->dir_start = InvalidBlockNumber;
	meta->nulls.head = InvalidBlockNumber;
	meta->nulls.hint = InvalidBlockNumber;
	/* pd_lower past the struct: generic WAL and full-page images skip the rest */
	((PageHeader) page)->pd_lower =
		((char *) meta + sizeof(PidxMetaPageData)) - (char *) page;
}

/*
 * A new page at the end of the index, returned locked exclusively.  Pages
 * are never freed, so the free space map is not used.
 */
Buffer
pidx_new_buffer(Relation index)
{
	bool		needlock = !RELATION_IS_LOCAL(index);
	Buffer		buf;

	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/* The metapage's contents, after checking that this is a pprl index. */
PidxMetaPage
pidx_check_meta(Relation index, Page page)
{
	PidxMetaPage meta = PidxPageGetMeta(page);

	if (PageIsNew(page) || !(PidxPageGetOpaque(page)->flags & PIDX_META) ||
		meta->magic != PIDX_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a pprl index",
						RelationGetRelationName(index))));
	if (meta->version != PIDX_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("pprl index \"%s\" has version %u, this pg_pprl reads version %d",
						RelationGetRelationName(index), meta->version, PIDX_VERSION),
				 errhint("REINDEX it.")));
	return meta;
}

/*
 * Copy the CLK length, the NULL chain and every bucket of the directory
 * (in the caller's memory context), each page under a share lock.
 */
void
pidx_read_layout(Relation index, PidxLayout *layout)
{
	Buffer		buf = ReadBuffer(index, PIDX_METAPAGE_BLKNO);
	PidxMetaPage meta;
	BlockNumber dir_start;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	meta = pidx_check_meta(index, BufferGetPage(buf));
	layout->nbytes = meta->nbytes;
	layout->nbuckets = meta->nbuckets;
	layout->nulls = meta->nulls;
	dir_start = layout->dir_start = meta->dir_start;
	UnlockReleaseBuffer(buf);

	layout->buckets = NULL;
	if (layout->nbytes == 0)
		return;
	layout->buckets = palloc(sizeof(PidxBucket) * layout->nbuckets);
	for (uint32 first = 0; first < layout->nbuckets; first += PIDX_BUCKETS_PER_PAGE)
	{
		uint32		n = Min(PIDX_BUCKETS_PER_PAGE, layout->nbuckets - first);

		buf = ReadBuffer(index, dir_start + first / PIDX_BUCKETS_PER_PAGE);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(layout->buckets + first, PidxPageGetBuckets(BufferGetPage(buf)),
			   sizeof(PidxBucket) * n);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Read and lock a data page of a bucket's chain, refusing a block that is
 * not one (a corrupt chain must not be read or written as if it were).
 */
Buffer
pidx_read_data_page(Relation index, BlockNumber blk, uint32 bucket, int mode,
					BufferAccessStrategy strategy)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
	PidxPageOpaque opaque;

	LockBuffer(buf, mode);
	opaque = PidxPageGetOpaque(BufferGetPage(buf));
	if (!(opaque->flags & PIDX_DATA) || opaque->bucket != bucket)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("pprl index \"%s\" block %u is not a page of bucket %u",
						RelationGetRelationName(index), blk, bucket)));
	return buf;
}

/* A bucket's directory slot on its holder page (the metapage for NULLs). */
PidxBucket *
pidx_bucket_slot(Page page, uint32 bucket)
{
	if (bucket == PIDX_NULL_BUCKET)
		return &PidxPageGetMeta(page)->nulls;
	return &PidxPageGetBuckets(page)[bucket % PIDX_BUCKETS_PER_PAGE];
}

/*
 * Initialise a directory page holding the `nbuckets` buckets from `first`
 * on, every chain empty; returns its slots.
 */
PidxBucket *
pidx_init_dir_page(Page page, uint32 first, uint32 nbuckets)
{
	uint32		count = Min(PIDX_BUCKETS_PER_PAGE, nbuckets - first);
	PidxBucket *b;

	pidx_init_page(page, PIDX_DIR, first);
	b = PidxPageGetBuckets(page);
	for (uint32 j = 0; j < count; j++)
	{
		memset(&b[j], 0, sizeof(PidxBucket));
		b[j].head = b[j].hint = InvalidBlockNumber;
	}
	((PageHeader) page)->pd_lower = (char *) (b + count) - (char *) page;
	return b;
}

/* Append an entry to a data page that has room (checked by the caller). */
void
pidx_page_add(Page page, const uint8 *bits, int nbytes, ItemPointer tid)
{
	PidxPageOpaque opaque = PidxPageGetOpaque(page);
	uint8	   *entry = PidxEntry(page, opaque->nentries, nbytes);

	Assert(opaque->nentries < PidxCapacity(nbytes));
	memset(entry, 0, PidxStride(nbytes));
	if (nbytes > 0)
		memcpy(entry, bits, nbytes);
	ItemPointerCopy(tid, PidxEntryTid(entry, nbytes));
	opaque->nentries++;
	((PageHeader) page)->pd_lower = (entry + PidxStride(nbytes)) - (uint8 *) page;
}

/* Refuse a CLK whose length differs from the index's, as % would. */
void
pidx_check_length(Relation index, int index_nbytes, int nbytes)
{
	if (index_nbytes != 0 && index_nbytes != nbytes)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_LENGTH_MISMATCH),
				 errmsg("CLK lengths differ: %d and %d bits", index_nbytes * 8, nbytes * 8),
				 errdetail("pprl index \"%s\" holds %d-bit CLKs.",
						   RelationGetRelationName(index), index_nbytes * 8),
				 errhint("A pprl index holds CLKs of one length; declare the column as clk(n).")));
}

/* Refuse a CLK too long for one entry per page. */
void
pidx_too_long(Relation index, int nbytes)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("CLKs of %d bits are too long for pprl index \"%s\"",
					nbytes * 8, RelationGetRelationName(index)),
			 errdetail("A pprl index holds CLKs of up to %d bits.", PIDX_MAX_NBYTES * 8)));
}
