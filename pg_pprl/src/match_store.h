/*
 * match_store.h
 *	  Candidate pairs of one dataset pair, bounded in memory: sorted runs
 *	  spill to a temporary file beyond a budget and are merged back in
 *	  anonlink's order, with duplicate removal and anonlink's _enforce_k
 *	  applied on the way out.
 */
#ifndef MATCH_STORE_H
#define MATCH_STORE_H

#include "postgres.h"

#include "storage/buffile.h"

#include "pprl/match.h"

typedef struct PairRun PairRun;

typedef struct PairStore
{
	MatchPairs	mem;			/* pairs not yet spilled */
	size_t		limit;			/* spill when mem holds this many */
	BufFile    *file;			/* sorted runs, one after the other */
	PairRun    *runs;
	int			nruns;
	int			runs_cap;
	/* reading */
	bool		dedupe;
	uint32		k;				/* 0: no _enforce_k */
	uint32	   *count_a;
	uint32	   *count_b;
	size_t		mem_pos;
	int		   *heap;			/* sources (runs; nruns = memory) by head */
	int			nheap;
	bool		has_last;
	MatchPair	last;			/* last raw pair, for dedupe */
	bool		has_ready;
	MatchPair	ready;			/* next pair that passed the filters */
} PairStore;

extern void pair_store_init(PairStore *ps, size_t limit);
extern void pair_store_add(PairStore *ps, const MatchPairs *pairs);
extern void pair_store_add_one(PairStore *ps, const MatchPair *p);
extern void pair_store_begin_read(PairStore *ps, bool dedupe, uint32 k,
								  uint32 na, uint32 nb);
extern bool pair_store_peek(PairStore *ps, MatchPair *out);
extern void pair_store_skip(PairStore *ps);
extern void pair_store_end(PairStore *ps);

#endif							/* MATCH_STORE_H */
