/*
 * match.h
 *	  The matching engine's core: candidate generation, ordering and greedy
 *	  solving, in plain C11 (no PostgreSQL dependency) so that the SQL
 *	  functions, the unit tests and the benchmark share it.
 *
 * Records are identified by (dataset index, record index), where the record
 * index is the position in the dataset ordered by the user's row_id; the
 * output order is anonlink's: score descending, then dataset a, dataset b,
 * record a, record b ascending.
 */
#ifndef MATCH_H
#define MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One dataset's CLKs, contiguous, `nbytes` apart, with their popcounts.
 * With `select`, only the n records select[0..n-1] take part (a block);
 * pairs still name records by their index in the whole dataset.
 */
typedef struct MatchDataset
{
	uint32_t	n;
	const uint8_t *clks;
	const uint32_t *popcounts;
	const uint32_t *select;
} MatchDataset;

/*
 * A candidate pair within one dataset pair: 16 bytes.  `key` orders scores
 * descending (see match_score_key); a and b are record indices.
 */
typedef struct MatchPair
{
	uint64_t	key;
	uint32_t	a;
	uint32_t	b;
} MatchPair;

/* Whether x comes before y in anonlink's order: (key, a, b) ascending. */
static inline bool
match_pair_less(const MatchPair *x, const MatchPair *y)
{
	if (x->key != y->key)
		return x->key < y->key;
	if (x->a != y->a)
		return x->a < y->a;
	return x->b < y->b;
}

/* Whether two pairs are the same (score and records). */
static inline bool
match_pair_equal(const MatchPair *x, const MatchPair *y)
{
	return x->key == y->key && x->a == y->a && x->b == y->b;
}

/*
 * A candidate pair between two of several datasets (ds_a < ds_b), ordered
 * across dataset pairs in anonlink's order by match_cand_less: score
 * descending (key ascending), then ds_a, ds_b, a and b ascending.
 */
typedef struct MatchCand
{
	uint64_t	key;
	uint32_t	ds_a;
	uint32_t	ds_b;
	uint32_t	a;
	uint32_t	b;
} MatchCand;

/* Whether x comes before y in anonlink's order. */
static inline bool
match_cand_less(const MatchCand *x, const MatchCand *y)
{
	if (x->key != y->key)
		return x->key < y->key;
	if (x->ds_a != y->ds_a)
		return x->ds_a < y->ds_a;
	if (x->ds_b != y->ds_b)
		return x->ds_b < y->ds_b;
	if (x->a != y->a)
		return x->a < y->a;
	return x->b < y->b;
}

/* A growable array of pairs. */
typedef struct MatchPairs
{
	MatchPair  *items;
	size_t		len;
	size_t		cap;
} MatchPairs;

/* Allocation hooks (palloc in the backend, malloc in tests); NULL = fail. */
typedef struct MatchAlloc
{
	void	   *(*alloc) (size_t size);
	void	   *(*realloc) (void *p, size_t size);
	void		(*free) (void *p);
} MatchAlloc;

/* Exact Dice threshold test tables for one threshold and CLK length. */
typedef struct MatchThreshold
{
	double		t;
	uint32_t	nbits;
	uint32_t   *min_c;			/* min_c[A+B]: least |A&B| with dice >= t (t > 0) */
} MatchThreshold;

extern bool match_threshold_init(MatchThreshold *mt, double t, uint32_t nbits,
								 const MatchAlloc *ma);
extern void match_threshold_free(MatchThreshold *mt, const MatchAlloc *ma);

extern double match_score(uint32_t c, uint32_t pa, uint32_t pb);
extern uint64_t match_score_key(double score);
extern double match_key_score(uint64_t key);

extern bool match_pairs_push(MatchPairs *ps, uint64_t key, uint32_t a, uint32_t b,
							 const MatchAlloc *ma);

/*
 * Optional hooks of candidate generation: cancel() is asked between query
 * tiles (true = stop); flush() takes the pairs collected so far (and
 * empties `out`) whenever flush_at or more have collected, always at a tile
 * boundary, and once at the end.
 */
typedef struct MatchHooks
{
	bool		(*cancel) (void *arg);
	bool		(*flush) (void *arg, MatchPairs *out);
	size_t		flush_at;
	void	   *arg;
} MatchHooks;

extern bool match_generate(const MatchDataset *x, const MatchDataset *y,
						   size_t nbytes, const MatchThreshold *mt,
						   MatchPairs *out, const MatchAlloc *ma,
						   const MatchHooks *hooks);
typedef struct MatchSorted MatchSorted;

extern MatchSorted *match_sorted_build(const MatchDataset *y, size_t nbytes, uint32_t nbits,
									   const MatchAlloc *ma);
extern void match_sorted_free(MatchSorted *sy, const MatchAlloc *ma);
extern bool match_generate_sorted(const MatchDataset *x, const MatchSorted *sy,
								  size_t nbytes, const MatchThreshold *mt,
								  MatchPairs *out, const MatchAlloc *ma,
								  const MatchHooks *hooks);
extern bool match_sort_pairs(MatchPairs *ps, const MatchAlloc *ma);
extern void match_dedupe(MatchPairs *ps);
extern void match_topk_rows(MatchPairs *ps, uint32_t k, uint32_t *count_a);
extern bool match_enforce_k_pair(const MatchPair *p, uint32_t k, uint32_t *count_a,
								 uint32_t *count_b);
extern void match_enforce_k(MatchPairs *ps, uint32_t k, uint32_t *count_a,
							uint32_t *count_b);

/*
 * Greedy solver state (anonlink's greedy_solve: merge threshold 1.0).
 * Records are numbered globally: offset of their dataset + record index.
 */
typedef struct MatchSolver MatchSolver;

/* One member of a solved group. */
typedef struct MatchMember
{
	uint32_t	group;
	uint32_t	ds;
	uint32_t	rec;
} MatchMember;

extern MatchSolver *match_solver_create(uint32_t nds, const uint32_t *sizes,
										const MatchAlloc *ma);
/* One candidate edge, for match_solver_add_many. */
typedef struct MatchEdge
{
	uint32_t	ds_a;
	uint32_t	a;
	uint32_t	ds_b;
	uint32_t	b;
} MatchEdge;

extern bool match_solver_add(MatchSolver *s, uint32_t ds_a, uint32_t a,
							 uint32_t ds_b, uint32_t b);
extern bool match_solver_add_many(MatchSolver *s, const MatchEdge *e, size_t n);
extern bool match_solver_groups(MatchSolver *s, MatchMember **members, size_t *n);
extern void match_solver_free(MatchSolver *s);

#endif							/* MATCH_H */
