/*
 * pidx_queue.h
 *	  Bucket queue of (distances, TID) items for ordered index scans.
 */
#ifndef PIDX_QUEUE_H
#define PIDX_QUEUE_H

#include "postgres.h"

#include "storage/itemptr.h"

#define PIDX_QUEUE_BINS		4096

typedef struct PidxQueueBin
{
	char	   *items;
	int			n;
	int			cap;
	bool		sorted;			/* descending; only the front bin is sorted */
} PidxQueueBin;

typedef struct PidxQueue
{
	int			ndist;
	Size		itemsize;
	int			front;			/* no item lies in a bin below this one */
	uint64		count;
	MemoryContext ctx;
	PidxQueueBin bins[PIDX_QUEUE_BINS];
} PidxQueue;

extern void pidx_queue_init(PidxQueue *q, int ndist, MemoryContext ctx);
extern void pidx_queue_push(PidxQueue *q, const double *dist, ItemPointer tid);
extern const double *pidx_queue_peek(PidxQueue *q);
extern ItemPointer pidx_queue_tid(PidxQueue *q, const double *item);
extern void pidx_queue_pop(PidxQueue *q);

#endif							/* PIDX_QUEUE_H */
