/*
 * match_units.h
 *	  A linkage job cut into independent work units, run by the calling
 *	  backend alone or together with parallel workers.
 */
#ifndef MATCH_UNITS_H
#define MATCH_UNITS_H

#include "postgres.h"

#include "pprl/match.h"
#include "match_store.h"

#define MATCH_MAX_DATASETS 64

/*
 * One unit: records sel[x_off .. x_off+x_n) of dataset i against records
 * sel[y_off .. y_off+y_n) of dataset j; its pairs belong to partition
 * `pair` (the index of (i, j) among all dataset pairs).
 */
typedef struct MatchUnit
{
	uint32		pair;
	uint32		i;
	uint32		j;
	uint32		x_n;
	uint32		y_n;
	uint64		x_off;
	uint64		y_off;
} MatchUnit;

/* Everything a unit needs; all arrays are read-only while units run. */
typedef struct MatchJob
{
	int			nds;
	int			nbytes;
	int			k;				/* 0: no top-k */
	double		threshold;
	uint32		ds_n[MATCH_MAX_DATASETS];
	uint64		ds_off[MATCH_MAX_DATASETS]; /* first record of each dataset */
	const uint8 *clks;			/* all datasets' CLKs, concatenated */
	const uint32 *pops;			/* their popcounts */
	const uint32 *sel;			/* record indices the units point into */
	uint64		nsel;
	const MatchUnit *units;
	uint32		nunits;
} MatchJob;

extern const MatchAlloc match_pg_alloc;
extern void match_units_run(const MatchJob *job, PairStore *stores, int nworkers);

#endif							/* MATCH_UNITS_H */
