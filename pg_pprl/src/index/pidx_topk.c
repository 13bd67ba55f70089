/*
 * pidx_topk.c
 *	  A bounded max-heap: the k nearest entries seen in an ORDER BY pass.
 *
 * Items are ordered by their distances, then by TID, a total order, so a
 * later pass can resume strictly after the last item returned.  While the
 * heap is not full every item goes in; once full, an item goes in only if
 * it beats the worst, which it evicts.
 */
#include "postgres.h"

#include "index/pidx_topk.h"

/* Item i of the heap array. */
static inline char *
slot(const PidxTopK *h, int i)
{
	return h->items + (Size) i * h->itemsize;
}

/* An empty heap of capacity k for items of ndist distances. */
void
pidx_topk_init(PidxTopK *h, int k, int ndist)
{
	h->ndist = ndist;
	h->itemsize = MAXALIGN(sizeof(double) * ndist + sizeof(ItemPointerData));
	h->k = k;
	h->n = 0;
	h->items = palloc_extended((Size) k * h->itemsize, MCXT_ALLOC_HUGE);
}

/* Order of two items: distances in turn, then TID. */
int
pidx_topk_cmp(const PidxTopK *h, const double *da, ItemPointer ta,
			  const double *db, ItemPointer tb)
{
	for (int i = 0; i < h->ndist; i++)
	{
		if (da[i] < db[i])
			return -1;
		if (da[i] > db[i])
			return 1;
	}
	return ItemPointerCompare(ta, tb);
}

/* Order of heap items i and j. */
static int
cmp_at(const PidxTopK *h, int i, int j)
{
	const double *a = (const double *) slot(h, i);
	const double *b = (const double *) slot(h, j);

	return pidx_topk_cmp(h, a, pidx_topk_tid(h, a), b, pidx_topk_tid(h, b));
}

/* Swap heap items i and j. */
static void
swap_at(PidxTopK *h, int i, int j)
{
	char		tmp[256];
	char	   *big = h->itemsize > sizeof(tmp) ? palloc(h->itemsize) : tmp;

	memcpy(big, slot(h, i), h->itemsize);
	memcpy(slot(h, i), slot(h, j), h->itemsize);
	memcpy(slot(h, j), big, h->itemsize);
	if (big != tmp)
		pfree(big);
}

/* Restore the heap below item i (the worst item on top). */
static void
sift_down(PidxTopK *h, int i, int n)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					m = i;

		if (l < n && cmp_at(h, l, m) > 0)
			m = l;
		if (r < n && cmp_at(h, r, m) > 0)
			m = r;
		if (m == i)
			return;
		swap_at(h, i, m);
		i = m;
	}
}

/*
 * Offer an item: true when it was kept.  *evicted says whether a kept item
 * had to go to make room (a later pass must then look again).
 */
bool
pidx_topk_offer(PidxTopK *h, const double *dist, ItemPointer tid, bool *evicted)
{
	char	   *s;

	*evicted = false;
	if (h->n == h->k)
	{
		const double *w = (const double *) slot(h, 0);

		if (pidx_topk_cmp(h, dist, tid, w, pidx_topk_tid(h, w)) >= 0)
			return false;
		*evicted = true;
		s = slot(h, 0);
		memcpy(s, dist, sizeof(double) * h->ndist);
		ItemPointerCopy(tid, pidx_topk_tid(h, (double *) s));
		sift_down(h, 0, h->n);
		return true;
	}
	s = slot(h, h->n);
	memcpy(s, dist, sizeof(double) * h->ndist);
	ItemPointerCopy(tid, pidx_topk_tid(h, (double *) s));
	/* sift up */
	for (int i = h->n++; i > 0 && cmp_at(h, i, (i - 1) / 2) > 0; i = (i - 1) / 2)
		swap_at(h, i, (i - 1) / 2);
	return true;
}

/* The worst item kept, or NULL while the heap has room. */
const double *
pidx_topk_worst(const PidxTopK *h)
{
	return h->n == h->k ? (const double *) slot(h, 0) : NULL;
}

/* Item i (after pidx_topk_sort: the i-th nearest). */
const double *
pidx_topk_item(const PidxTopK *h, int i)
{
	return (const double *) slot(h, i);
}

/* The TID stored after an item's distances. */
ItemPointer
pidx_topk_tid(const PidxTopK *h, const double *item)
{
	return (ItemPointer) ((char *) item + sizeof(double) * h->ndist);
}

/* Sort the items nearest first (heapsort in place; the heap is used up). */
void
pidx_topk_sort(PidxTopK *h)
{
	for (int end = h->n - 1; end > 0; end--)
	{
		swap_at(h, 0, end);
		sift_down(h, 0, end);
	}
}
