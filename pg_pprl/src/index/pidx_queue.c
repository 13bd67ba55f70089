/*
 * pidx_queue.c
 *	  A monotone bucket queue of scored entries for ORDER BY <-> scans.
 *
 * An ordered scan scores whole buckets and may only return an entry once
 * no unread bucket can beat it, so it holds many scored entries and pops
 * few (LIMIT k).  A binary heap would pay log n per push for entries that
 * are never popped; here a push appends to one of PIDX_QUEUE_BINS bins by
 * distance, and only the bin at the front is ever sorted.  Pops never go
 * backwards (the scan only pops below every unread bound), so the front
 * only moves forward; a push into the front bin keeps it sorted.
 */
#include "postgres.h"

#include "index/pidx_queue.h"

/* The bin of a distance in [0, 1] (clamped, so any double is safe). */
static int
bin_of(double d)
{
	double		x = d * PIDX_QUEUE_BINS;

	if (!(x > 0))
		return 0;
	if (x >= PIDX_QUEUE_BINS - 1)
		return PIDX_QUEUE_BINS - 1;
	return (int) x;
}

/* Lexicographic order of two items' distances. */
static int
item_cmp(const double *a, const double *b, int ndist)
{
	for (int i = 0; i < ndist; i++)
	{
		if (a[i] < b[i])
			return -1;
		if (a[i] > b[i])
			return 1;
	}
	return 0;
}

static int	sort_ndist;			/* qsort has no context argument */

/* qsort comparator: descending, so the smallest item is last. */
static int
item_cmp_desc(const void *a, const void *b)
{
	return item_cmp((const double *) b, (const double *) a, sort_ndist);
}

/* An empty queue for items of ndist distances, allocated in ctx. */
void
pidx_queue_init(PidxQueue *q, int ndist, MemoryContext ctx)
{
	memset(q, 0, sizeof(PidxQueue));
	q->ndist = ndist;
	q->itemsize = MAXALIGN(sizeof(double) * ndist + sizeof(ItemPointerData));
	q->ctx = ctx;
}

/* Add an entry with its distances. */
void
pidx_queue_push(PidxQueue *q, const double *dist, ItemPointer tid)
{
	int			b = bin_of(dist[0]);
	PidxQueueBin *bin = &q->bins[b];
	char	   *slot;

	if (bin->n == bin->cap)
	{
		bin->cap = bin->cap ? bin->cap * 2 : 64;
		bin->items = bin->items
			? repalloc_huge(bin->items, (Size) bin->cap * q->itemsize)
			: MemoryContextAllocHuge(q->ctx, (Size) bin->cap * q->itemsize);
	}
	if (b < q->front)
		q->front = b;
	if (bin->sorted)
	{
		/* keep it descending: find the first item smaller than this one */
		int			lo = 0,
					hi = bin->n;

		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (item_cmp((double *) (bin->items + (Size) mid * q->itemsize), dist, q->ndist) < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		slot = bin->items + (Size) lo * q->itemsize;
		memmove(slot + q->itemsize, slot, (Size) (bin->n - lo) * q->itemsize);
	}
	else
		slot = bin->items + (Size) bin->n * q->itemsize;
	memcpy(slot, dist, sizeof(double) * q->ndist);
	ItemPointerCopy(tid, (ItemPointer) (slot + sizeof(double) * q->ndist));
	bin->n++;
	q->count++;
}

/* The smallest item's distances (then its TID), or NULL when empty. */
const double *
pidx_queue_peek(PidxQueue *q)
{
	PidxQueueBin *bin;

	if (q->count == 0)
		return NULL;
	while (q->bins[q->front].n == 0)
		q->front++;
	bin = &q->bins[q->front];
	if (!bin->sorted)
	{
		sort_ndist = q->ndist;
		qsort(bin->items, bin->n, q->itemsize, item_cmp_desc);
		bin->sorted = true;
	}
	return (const double *) (bin->items + (Size) (bin->n - 1) * q->itemsize);
}

/* The TID stored after an item's distances. */
ItemPointer
pidx_queue_tid(PidxQueue *q, const double *item)
{
	return (ItemPointer) ((char *) item + sizeof(double) * q->ndist);
}

/* Remove the item pidx_queue_peek returned. */
void
pidx_queue_pop(PidxQueue *q)
{
	Assert(q->count > 0 && q->bins[q->front].sorted && q->bins[q->front].n > 0);
	q->bins[q->front].n--;
	q->count--;
}
