/*
 * match_input.h
 *	  What the matching functions' files share: the loaded input of a match
 *	  call (datasets read through SPI, their CLKs and block memberships, one
 *	  candidate store per dataset pair) and how a job is planned into work
 *	  units and parts.
 *
 *	    match_load.c    read and validate the datasets (SPI), build the block index
 *	    match_plan.c    cut the job into work units, and the units into parts
 *	    match_sql.c     the SQL entry points
 */
#ifndef MATCH_INPUT_H
#define MATCH_INPUT_H

#include "postgres.h"

#include "fmgr.h"

#include "pprl/match.h"
#include "match_units.h"

/* Units per dataset pair and part, when a job is cut into parts. */
#define PART_SLICES 8
/* Parts a job can be cut into at most. */
#define MATCH_MAX_PARTS 65536

/*
 * One loaded dataset: rows in row_id order; its CLKs and popcounts are
 * records off .. off+n-1 of the input's shared arrays.
 */
typedef struct LoadedDataset
{
	uint32		n;
	uint64		off;
	int64	   *row_id;
} LoadedDataset;

/* One (block key, dataset, record) membership, for grouping by key. */
typedef struct BlockEntry
{
	char	   *key;
	uint32		ds;
	uint32		rec;
} BlockEntry;

/* All block memberships, sorted by key, then dataset, then record. */
typedef struct BlockIndex
{
	BlockEntry *entries;
	uint32	   *recs;			/* entries[i].rec, as a plain array */
	size_t		n;
	size_t		cap;
} BlockIndex;

/* The whole input of a match call. */
typedef struct MatchInput
{
	int			nds;
	int			nbytes;
	bool		blocking;
	int			k;				/* 0: no top-k */
	LoadedDataset *ds;
	uint8	   *clks;			/* all datasets' CLKs, one after the other */
	uint32	   *pops;			/* and their popcounts */
	uint64		nrec;
	uint64		cap;
	BlockIndex	blocks;
	PairStore  *stores;			/* one per dataset pair (i < j), in order */
	int		   *pair_i;
	int		   *pair_j;
	int			npairs;
} MatchInput;

/* match_load.c */
extern void match_load(FunctionCallInfo fcinfo, MatchInput *in);

/* match_plan.c */
extern void match_plan_job(MatchInput *in, MatchJob *job, double t);
extern void match_plan_units(MatchInput *in, MatchJob *job, uint32 slices, double *comparisons);
extern int	match_plan_part_of(double before, const MatchUnit *u, int parts, double comparisons);
extern void match_plan_select(MatchJob *job, int part, int parts, double comparisons);

#endif							/* MATCH_INPUT_H */
