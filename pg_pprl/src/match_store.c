/*
 * match_store.c
 *	  Bounded-memory storage of candidate pairs (see match_store.h).
 *
 * Pairs collect in memory; when `limit` of them are held, they are radix
 * sorted and written to a temporary file as one sorted run.  Reading merges
 * the runs and the in-memory rest with a binary heap, each run read through
 * a small buffer, so memory stays at the limit plus one buffer per run.  The
 * temporary file belongs to the transaction's resource owner: an error or a
 * cancel removes it.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "match_store.h"
#include "match_units.h"

#define RUN_BUFFER 1024			/* pairs read at a time from one run */

struct PairRun
{
	int			fileno;			/* where the unread part starts */
	off_t		offset;
	size_t		left;			/* pairs not yet read into buf */
	MatchPair  *buf;
	size_t		len;
	size_t		pos;
};

/* An empty store that spills beyond `limit` pairs. */
void
pair_store_init(PairStore *ps, size_t limit)
{
	memset(ps, 0, sizeof(*ps));
	ps->limit = Max(limit, 1024);
}

/* Sort the in-memory pairs and write them out as one run. */
static void
spill(PairStore *ps)
{
	PairRun    *r;

	if (!match_sort_pairs(&ps->mem, &match_pg_alloc))
		elog(ERROR, "out of memory");
	if (!ps->file)
		ps->file = BufFileCreateTemp(false);
	if (ps->nruns == ps->runs_cap)
	{
		ps->runs_cap = ps->runs_cap ? ps->runs_cap * 2 : 16;
		ps->runs = ps->runs ? repalloc(ps->runs, sizeof(PairRun) * ps->runs_cap)
			: palloc(sizeof(PairRun) * ps->runs_cap);
	}
	r = &ps->runs[ps->nruns++];
	memset(r, 0, sizeof(*r));
	/* Runs are only appended before any reading, so this is the end. */
	BufFileTell(ps->file, &r->fileno, &r->offset);
	BufFileWrite(ps->file, ps->mem.items, ps->mem.len * sizeof(MatchPair));
	r->left = ps->mem.len;
	ps->mem.len = 0;
}

/* Add a batch of pairs (any order), spilling when over the limit. */
void
pair_store_add(PairStore *ps, const MatchPairs *pairs)
{
	for (size_t i = 0; i < pairs->len; i++)
		pair_store_add_one(ps, &pairs->items[i]);
}

/* Add one pair. */
void
pair_store_add_one(PairStore *ps, const MatchPair *p)
{
	if (!match_pairs_push(&ps->mem, p->key, p->a, p->b, &match_pg_alloc))
		elog(ERROR, "out of memory");
	if (ps->mem.len >= ps->limit)
		spill(ps);
}

/* Refill a run's buffer from the file; false when the run is exhausted. */
static bool
run_fill(PairStore *ps, PairRun *r)
{
	size_t		n = Min(r->left, RUN_BUFFER);

	if (n == 0)
		return false;
	if (!r->buf)
		r->buf = palloc(sizeof(MatchPair) * RUN_BUFFER);
	if (BufFileSeek(ps->file, r->fileno, r->offset, SEEK_SET) != 0 ||
		BufFileRead(ps->file, r->buf, n * sizeof(MatchPair)) != n * sizeof(MatchPair))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read candidate pairs from temporary file")));
	BufFileTell(ps->file, &r->fileno, &r->offset);
	r->left -= n;
	r->len = n;
	r->pos = 0;
	return true;
}

/* The current head of source i (a run, or the memory part as i == nruns). */
static inline const MatchPair *
head(PairStore *ps, int i)
{
	if (i == ps->nruns)
		return &ps->mem.items[ps->mem_pos];
	return &ps->runs[i].buf[ps->runs[i].pos];
}

/* Restore the heap property from slot i down. */
static void
sift_down(PairStore *ps, int i)
{
	int		   *h = ps->heap;

	for (;;)
	{
		int			l = 2 * i + 1,
					m = i;

		if (l < ps->nheap && match_pair_less(head(ps, h[l]), head(ps, h[m])))
			m = l;
		if (l + 1 < ps->nheap && match_pair_less(head(ps, h[l + 1]), head(ps, h[m])))
			m = l + 1;
		if (m == i)
			return;
		{
			int			t = h[i];

			h[i] = h[m];
			h[m] = t;
		}
		i = m;
	}
}

/*
 * Prepare to read in order: sort the memory part and build the merge heap.
 * dedupe drops repeated pairs; k > 0 applies anonlink's _enforce_k with
 * na and nb records on the two sides.
 */
void
pair_store_begin_read(PairStore *ps, bool dedupe, uint32 k, uint32 na, uint32 nb)
{
	if (!match_sort_pairs(&ps->mem, &match_pg_alloc))
		elog(ERROR, "out of memory");
	ps->dedupe = dedupe;
	ps->k = k;
	if (k > 0)
	{
		ps->count_a = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(uint32) * (na + 1),
												 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		ps->count_b = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(uint32) * (nb + 1),
												 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}
	ps->heap = palloc(sizeof(int) * (ps->nruns + 1));
	ps->nheap = 0;
	for (int i = 0; i < ps->nruns; i++)
		if (run_fill(ps, &ps->runs[i]))
			ps->heap[ps->nheap++] = i;
	ps->mem_pos = 0;
	if (ps->mem.len > 0)
		ps->heap[ps->nheap++] = ps->nruns;
	for (int i = ps->nheap / 2 - 1; i >= 0; i--)
		sift_down(ps, i);
	ps->has_last = false;
	ps->has_ready = false;
}

/* Take the smallest raw pair out of the merge; false when all are read. */
static bool
raw_next(PairStore *ps, MatchPair *out)
{
	int			src;

	if (ps->nheap == 0)
		return false;
	src = ps->heap[0];
	*out = *head(ps, src);
	if (src == ps->nruns)
	{
		if (++ps->mem_pos == ps->mem.len)
			ps->heap[0] = ps->heap[--ps->nheap];
	}
	else if (++ps->runs[src].pos == ps->runs[src].len && !run_fill(ps, &ps->runs[src]))
		ps->heap[0] = ps->heap[--ps->nheap];
	if (ps->nheap > 0)
		sift_down(ps, 0);
	return true;
}

/* The next pair that passes the filters, without consuming it. */
bool
pair_store_peek(PairStore *ps, MatchPair *out)
{
	MatchPair	p;

	while (!ps->has_ready)
	{
		if (!raw_next(ps, &p))
			return false;
		if (ps->dedupe && ps->has_last && match_pair_equal(&p, &ps->last))
			continue;
		ps->last = p;
		ps->has_last = true;
		if (ps->k > 0 && !match_enforce_k_pair(&p, ps->k, ps->count_a, ps->count_b))
			continue;
		ps->ready = p;
		ps->has_ready = true;
	}
	*out = ps->ready;
	return true;
}

/* Close the temporary file once everything has been read. */
void
pair_store_end(PairStore *ps)
{
	if (ps->file)
		BufFileClose(ps->file);
	ps->file = NULL;
}

/* Consume the pair pair_store_peek() returned. */
void
pair_store_skip(PairStore *ps)
{
	ps->has_ready = false;
}
