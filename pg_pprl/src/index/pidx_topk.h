/*
 * pidx_topk.h
 *	  The k best (distances, TID) items of an ORDER BY pass.
 */
#ifndef PIDX_TOPK_H
#define PIDX_TOPK_H

#include "postgres.h"

#include "storage/itemptr.h"

typedef struct PidxTopK
{
	int			ndist;			/* distances per item */
	Size		itemsize;
	int			k;				/* capacity */
	int			n;
	char	   *items;			/* a max-heap: the worst item first */
} PidxTopK;

extern void pidx_topk_init(PidxTopK *h, int k, int ndist);
extern int	pidx_topk_cmp(const PidxTopK *h, const double *da, ItemPointer ta,
						  const double *db, ItemPointer tb);
extern bool pidx_topk_offer(PidxTopK *h, const double *dist, ItemPointer tid, bool *evicted);
extern const double *pidx_topk_worst(const PidxTopK *h);
extern const double *pidx_topk_item(const PidxTopK *h, int i);
extern ItemPointer pidx_topk_tid(const PidxTopK *h, const double *item);
extern void pidx_topk_sort(PidxTopK *h);

#endif							/* PIDX_TOPK_H */
