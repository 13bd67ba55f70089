/*
 * match_units.c
 *	  Running a linkage job's work units, in parallel when workers are
 *	  available.
 *
 * The leader copies the job (CLKs, popcounts, selections, units) into a
 * dynamic shared memory segment and launches parallel workers through
 * PostgreSQL's ParallelContext.  Every process, the leader included, takes
 * the next unit from a shared atomic counter, so fast and slow processes
 * balance out.  Workers write their pairs, tagged with their partition, to
 * their own file in a SharedFileSet (temporary files, so a worker's output
 * never has to fit in memory); the leader adds its own pairs to the
 * partitions' stores (which spill beyond their budget) and reads the
 * workers' files into them once the workers have finished.  Without workers (none
 * configured, none available, or already inside a parallel operation) the
 * leader simply runs every unit itself.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/buffile.h"
#include "storage/sharedfileset.h"
#include "storage/shm_toc.h"
#include "utils/memutils.h"

#include "match_store.h"
#include "match_units.h"

#define KEY_SHARED		UINT64CONST(0xB10C000000000001)
#define KEY_CLKS		UINT64CONST(0xB10C000000000002)
#define KEY_POPS		UINT64CONST(0xB10C000000000003)
#define KEY_SEL			UINT64CONST(0xB10C000000000004)
#define KEY_UNITS		UINT64CONST(0xB10C000000000005)

/* Pairs a unit collects before they move to their store or file. */
#define UNIT_FLUSH_PAIRS	65536

PGDLLEXPORT void pprl_match_worker(dsm_segment *seg, shm_toc *toc);

/* The shared control block: the job's scalars and the unit counter. */
typedef struct MatchShared
{
	MatchJob	job;			/* pointers are not valid across processes */
	pg_atomic_uint32 next_unit;
	SharedFileSet fileset;
} MatchShared;

/* A pair tagged with its partition, as workers write them. */
typedef struct TaggedPair
{
	uint32		pair;
	uint32		pad;
	MatchPair	p;
} TaggedPair;

/* palloc-based allocation hooks (huge allocations allowed). */
static void *
pg_alloc(size_t size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, MCXT_ALLOC_HUGE);
}

/* Reallocation hook. */
static void *
pg_realloc(void *p, size_t size)
{
	return repalloc_huge(p, size);
}

/* Free hook. */
static void
pg_free(void *p)
{
	pfree(p);
}

const MatchAlloc match_pg_alloc = {pg_alloc, pg_realloc, pg_free};

/* Where a unit's pairs go, for the flush hook. */
typedef struct UnitSink
{
	const MatchJob *job;
	PairStore  *store;			/* the leader's partition store, or */
	BufFile    *file;			/* a worker's output file */
	uint32		pair;
	uint32	   *count_a;		/* top-k counters of dataset i */
} UnitSink;

/* Cancellation hook: honour query cancel and termination between tiles. */
static bool
unit_cancel(void *arg)
{
	(void) arg;
	CHECK_FOR_INTERRUPTS();
	return false;
}

/* Write buffered tagged pairs to a worker's file. */
static void
flush_pairs(BufFile *f, MatchPairs *buf, uint32 pair)
{
	for (size_t r = 0; r < buf->len; r++)
	{
		TaggedPair	t;

		t.pair = pair;
		t.pad = 0;
		t.p = buf->items[r];
		BufFileWrite(f, &t, sizeof(t));
	}
}

/*
 * Flush hook: move a batch of a unit's pairs to its store or file.  A batch
 * never splits a record of dataset i, so with top-k each record keeps its
 * k best pairs of the unit here (anonlink's kernel rule).
 */
static bool
unit_flush(void *arg, MatchPairs *batch)
{
	UnitSink   *sink = arg;

	if (sink->job->k > 0)
	{
		if (!match_sort_pairs(batch, &match_pg_alloc))
			elog(ERROR, "out of memory");
		match_topk_rows(batch, (uint32) sink->job->k, sink->count_a);
	}
	if (sink->store)
		pair_store_add(sink->store, batch);
	else
		flush_pairs(sink->file, batch, sink->pair);
	batch->len = 0;
	return true;
}

/* The sorted targets of the last unit, reused while units share them. */
typedef struct TargetCache
{
	MatchSorted *sorted;
	uint32		j;
	uint32		n;
	uint64		off;
} TargetCache;

/*
 * Run one unit, its pairs flowing in bounded batches to the sink.  Units
 * that slice the same first dataset share their targets, sorted once per
 * process.
 */
static void
run_unit(const MatchJob *job, const MatchThreshold *mt, const MatchUnit *u,
		 MatchPairs *batch, UnitSink *sink, TargetCache *tc)
{
	MatchDataset x,
				y;
	MatchHooks	hooks = {unit_cancel, unit_flush, UNIT_FLUSH_PAIRS, sink};

	x.n = u->x_n;
	x.clks = job->clks + job->ds_off[u->i] * job->nbytes;
	x.popcounts = job->pops + job->ds_off[u->i];
	x.select = job->sel + u->x_off;
	if (x.n == 0 || u->y_n == 0)
		return;
	if (!tc->sorted || tc->j != u->j || tc->off != u->y_off || tc->n != u->y_n)
	{
		match_sorted_free(tc->sorted, &match_pg_alloc);
		y.n = u->y_n;
		y.clks = job->clks + job->ds_off[u->j] * job->nbytes;
		y.popcounts = job->pops + job->ds_off[u->j];
		y.select = job->sel + u->y_off;
		tc->sorted = match_sorted_build(&y, job->nbytes, mt->nbits, &match_pg_alloc);
		tc->j = u->j;
		tc->off = u->y_off;
		tc->n = u->y_n;
	}
	batch->len = 0;
	if (!match_generate_sorted(&x, tc->sorted, job->nbytes, mt, batch, &match_pg_alloc, &hooks))
		elog(ERROR, "out of memory");
}

/* Per-dataset counters for top-k, zeroed. */
static uint32 **
topk_counters(const MatchJob *job)
{
	uint32	  **counts = palloc0(sizeof(uint32 *) * job->nds);

	if (job->k > 0)
		for (int d = 0; d < job->nds; d++)
			counts[d] = MemoryContextAllocExtended(CurrentMemoryContext,
												   sizeof(uint32) * (job->ds_n[d] + 1),
												   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	return counts;
}

/*
 * Take units from the shared counter until none are left.  The leader
 * passes `stores` (one per partition); a worker passes its file.
 */
static void
run_units(const MatchJob *job, pg_atomic_uint32 *next, PairStore *stores, BufFile *file)
{
	MatchThreshold mt;
	MatchPairs	batch = {0};
	uint32	  **counts = topk_counters(job);
	TargetCache tc = {0};
	uint32		u;

	if (!match_threshold_init(&mt, job->threshold, (uint32) job->nbytes * 8, &match_pg_alloc))
		elog(ERROR, "out of memory");
	while ((u = pg_atomic_fetch_add_u32(next, 1)) < job->nunits)
	{
		const MatchUnit *unit = &job->units[u];
		UnitSink	sink = {job, stores ? &stores[unit->pair] : NULL, file,
		unit->pair, counts[unit->i]};

		CHECK_FOR_INTERRUPTS();
		run_unit(job, &mt, unit, &batch, &sink, &tc);
	}
	match_sorted_free(tc.sorted, &match_pg_alloc);
	match_threshold_free(&mt, &match_pg_alloc);
}

/* Parallel worker entry point: attach to the job and run units. */
void
pprl_match_worker(dsm_segment *seg, shm_toc *toc)
{
	MatchShared *sh = shm_toc_lookup(toc, KEY_SHARED, false);
	MatchJob	job = sh->job;
	BufFile    *file;
	char		name[64];

	job.clks = shm_toc_lookup(toc, KEY_CLKS, false);
	job.pops = shm_toc_lookup(toc, KEY_POPS, false);
	job.sel = shm_toc_lookup(toc, KEY_SEL, false);
	job.units = shm_toc_lookup(toc, KEY_UNITS, false);
	SharedFileSetAttach(&sh->fileset, seg);
	snprintf(name, sizeof(name), "pprl-worker-%d", ParallelWorkerNumber);
	file = BufFileCreateFileSet(&sh->fileset.fs, name);
	run_units(&job, &sh->next_unit, NULL, file);
	BufFileClose(file);
}

/* Read one finished worker's pairs into the partitions' stores. */
static void
collect_worker(MatchShared *sh, int worker, PairStore *stores)
{
	char		name[64];
	BufFile    *f;
	TaggedPair	t;

	snprintf(name, sizeof(name), "pprl-worker-%d", worker);
	f = BufFileOpenFileSet(&sh->fileset.fs, name, O_RDONLY, true);
	if (!f)
		return;					/* the worker never started */
	while (BufFileRead(f, &t, sizeof(t)) == sizeof(t))
		pair_store_add_one(&stores[t.pair], &t.p);
	BufFileClose(f);
}

/* Copy an array into the segment under `key`. */
static void *
toc_copy(ParallelContext *pcxt, uint64 key, const void *src, Size size)
{
	void	   *dst = shm_toc_allocate(pcxt->toc, Max(size, 1));

	if (size > 0)
		memcpy(dst, src, size);
	shm_toc_insert(pcxt->toc, key, dst);
	return dst;
}

/*
 * Run all units of a job, with up to `nworkers` parallel workers beside the
 * calling backend, and add every pair to its partition's store.
 */
void
match_units_run(const MatchJob *job, PairStore *stores, int nworkers)
{
	ParallelContext *pcxt;
	MatchShared *sh;
	uint64		nrec = job->ds_off[job->nds - 1] + job->ds_n[job->nds - 1];
	Size		clk_size = (Size) nrec * job->nbytes,
				pop_size = (Size) nrec * sizeof(uint32),
				sel_size = (Size) job->nsel * sizeof(uint32),
				unit_size = (Size) job->nunits * sizeof(MatchUnit);
	pg_atomic_uint32 local_next;

	if (nworkers > 0 && job->nunits > 1 && !IsInParallelMode())
	{
		EnterParallelMode();
		pcxt = CreateParallelContext("$libdir/pg_pprl", "pprl_match_worker", nworkers);
		shm_toc_estimate_chunk(&pcxt->estimator, sizeof(MatchShared));
		shm_toc_estimate_chunk(&pcxt->estimator, Max(clk_size, 1));
		shm_toc_estimate_chunk(&pcxt->estimator, Max(pop_size, 1));
		shm_toc_estimate_chunk(&pcxt->estimator, Max(sel_size, 1));
		shm_toc_estimate_chunk(&pcxt->estimator, Max(unit_size, 1));
		shm_toc_estimate_keys(&pcxt->estimator, 5);
		InitializeParallelDSM(pcxt);
		if (pcxt->seg != NULL)
		{
			sh = shm_toc_allocate(pcxt->toc, sizeof(MatchShared));
			sh->job = *job;
			pg_atomic_init_u32(&sh->next_unit, 0);
			SharedFileSetInit(&sh->fileset, pcxt->seg);
			shm_toc_insert(pcxt->toc, KEY_SHARED, sh);
			toc_copy(pcxt, KEY_CLKS, job->clks, clk_size);
			toc_copy(pcxt, KEY_POPS, job->pops, pop_size);
			toc_copy(pcxt, KEY_SEL, job->sel, sel_size);
			toc_copy(pcxt, KEY_UNITS, job->units, unit_size);
			LaunchParallelWorkers(pcxt);
			elog(DEBUG1, "pg_pprl: %u work units, %d of %d parallel workers launched",
				 job->nunits, pcxt->nworkers_launched, nworkers);
			/* The leader works too, on its own copy of the arrays. */
			run_units(job, &sh->next_unit, stores, NULL);
			WaitForParallelWorkersToFinish(pcxt);
			for (int w = 0; w < pcxt->nworkers_launched; w++)
				collect_worker(sh, w, stores);
			DestroyParallelContext(pcxt);
			ExitParallelMode();
			return;
		}
		DestroyParallelContext(pcxt);
		ExitParallelMode();
	}
	elog(DEBUG1, "pg_pprl: %u work units, no parallel workers", job->nunits);
	pg_atomic_init_u32(&local_next, 0);
	run_units(job, &local_next, stores, NULL);
}
