/*
 * pidx_vacuum.c
 *	  VACUUM: remove the entries of dead heap tuples, report statistics.
 *
 * Each chain is walked page by page under an exclusive lock; dead entries
 * are removed by moving the page's last entries into their slots (order
 * within a page does not matter), one generic WAL record per changed page.
 * Then the bucket's count is lowered and its hint set to the page with the
 * most room, which the next inserts into that popcount fill first.  Pages
 * stay in their chain: a REINDEX gives emptied pages back.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/rel.h"

#include "index/pidx.h"

/* Remove the dead entries of one page; returns how many were removed. */
static int
vacuum_page(Relation index, Buffer buf, int nbytes,
			IndexBulkDeleteCallback callback, void *callback_state, int *left)
{
	Page		page = BufferGetPage(buf);
	int			n = PidxPageGetOpaque(page)->nentries;
	int			removed = 0;
	GenericXLogState *state = NULL;
	Size		stride = PidxStride(nbytes);

	for (int i = 0; i < n; i++)
	{
		if (!callback(PidxEntryTid(PidxEntry(page, i, nbytes), nbytes), callback_state))
			continue;
		if (state == NULL)
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
		}
		/* fill the hole with the last entry, then look at slot i again */
		if (i != n - 1)
			memcpy(PidxEntry(page, i, nbytes), PidxEntry(page, n - 1, nbytes), stride);
		n--;
		i--;
		removed++;
	}
	if (state != NULL)
	{
		PidxPageGetOpaque(page)->nentries = n;
		((PageHeader) page)->pd_lower = (char *) PidxEntry(page, n, nbytes) - (char *) page;
		GenericXLogFinish(state);
	}
	*left = n;
	return removed;
}

/*
 * Vacuum one chain; then, under the holder's lock, lower the bucket's
 * count and point its hint at the page with the most room.
 */
static void
vacuum_chain(Relation index, BlockNumber holder, uint32 bucket, BlockNumber head,
			 int nbytes, IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			 IndexBulkDeleteCallback callback, void *callback_state)
{
	uint64		removed = 0;
	int			most_room = 0;
	BlockNumber roomiest = InvalidBlockNumber;
	int			cap = PidxCapacity(nbytes);
	Buffer		buf;
	GenericXLogState *state;
	PidxBucket *b;
	Page		page;

	for (BlockNumber blk = head; blk != InvalidBlockNumber;)
	{
		int			left;

		vacuum_delay_point();
		buf = pidx_read_data_page(index, blk, bucket, BUFFER_LOCK_EXCLUSIVE, info->strategy);
		page = BufferGetPage(buf);
		removed += vacuum_page(index, buf, nbytes, callback, callback_state, &left);
		stats->num_index_tuples += left;
		if (cap - left > most_room)
		{
			most_room = cap - left;
			roomiest = blk;
		}
		blk = PidxPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	stats->tuples_removed += removed;
	if (removed == 0)
		return;

	buf = ReadBuffer(index, holder);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	b = pidx_bucket_slot(page, bucket);
	b->ntuples -= Min(b->ntuples, removed);
	if (roomiest != InvalidBlockNumber && roomiest != b->head)
		b->hint = roomiest;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/* ambulkdelete: remove the entries the callback names dead. */
IndexBulkDeleteResult *
pidx_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	PidxLayout	layout;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	pidx_read_layout(index, &layout);
	stats->num_index_tuples = 0;
	vacuum_chain(index, PIDX_METAPAGE_BLKNO, PIDX_NULL_BUCKET, layout.nulls.head, 0,
				 info, stats, callback, callback_state);
	for (uint32 b = 0; b < layout.nbuckets; b++)
	{
		if (layout.buckets[b].head == InvalidBlockNumber)
			continue;
		vacuum_chain(index, layout.dir_start + b / PIDX_BUCKETS_PER_PAGE, b, layout.buckets[b].head,
					 layout.nbytes, info, stats, callback, callback_state);
	}
	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->estimated_count = false;
	return stats;
}

/* amvacuumcleanup: statistics, from the directory when nothing was deleted. */
IndexBulkDeleteResult *
pidx_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	PidxLayout	layout;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		pidx_read_layout(info->index, &layout);
		stats->num_index_tuples = (double) layout.nulls.ntuples;
		for (uint32 b = 0; b < layout.nbuckets; b++)
			stats->num_index_tuples += (double) layout.buckets[b].ntuples;
		stats->num_pages = RelationGetNumberOfBlocks(info->index);
		stats->estimated_count = false;
	}
	return stats;
}
