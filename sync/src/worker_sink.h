/*
 * worker_sink.h
 *	  Where a run's merged candidates go, by result type: the similarity
 *	  scores (JSON and anonlink's binary format), or the greedy solver and
 *	  then the groups or the permutations and mask.
 */
#ifndef WORKER_SINK_H
#define WORKER_SINK_H

#include <stdint.h>

#include "pprl/candfmt.h"
#include "worker_result.h"

/* One candidate pair, decoded, with its 24-byte binary record. */
typedef struct WorkerCand
{
	double		score;
	MatchCand	c;				/* its place in anonlink's order */
	unsigned char raw[CANDFMT_RECORD_BYTES];	/* as the parts hold it */
} WorkerCand;

typedef struct WorkerSink WorkerSink;

extern WorkerSink *worker_sink_open(WorkerResults *res, const uint32_t *sizes, int nds);
extern int	worker_sink_add(WorkerSink *s, const WorkerCand *c);
extern int	worker_sink_close(WorkerSink *s, int ok);

#endif							/* WORKER_SINK_H */
