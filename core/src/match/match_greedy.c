/*
 * match_greedy.c
 *	  anonlink's greedy solver (greedy_solve, merge threshold 1.0), exactly.
 *
 * Candidates arrive in anonlink's order.  For each edge (r0, r1):
 *   - neither record grouped: they form a new group;
 *   - one grouped (group G, other record r): r joins G when |G| <= 1,
 *     otherwise r becomes a singleton group with one edge to G;
 *   - both grouped in different groups: their edge count goes up by one,
 *     and when it reaches |G0| * |G1| (every cross pair is a candidate) the
 *     groups merge, the larger absorbing the smaller (r0's on a tie) and
 *     taking over the absorbee's edge counts.
 * Edges only join different datasets, so a merged group never holds two
 * records of one dataset.  With two datasets this is 1:1 greedy matching.
 * Groups of one are dropped from the result.
 *
 * Edge counts live in one open-addressing hash table keyed by the group
 * pair, and each group keeps a list of the groups it has edges with, so a
 * merge costs the absorbee's size and degree, not a scan of every edge.
 * Members and neighbours are linked lists in shared pools (no allocation
 * per group).  Entries of absorbed groups are left behind: nothing looks
 * them up again.
 */
#include <string.h>

#include "pprl/match.h"

#define NIL UINT32_MAX
/* How far ahead match_solver_add_many prefetches records, then groups. */
#define PREFETCH_RECORDS 16
#define PREFETCH_GROUPS 8
#define EMPTY_KEY UINT64_MAX

/* A group: size, member list and neighbour list heads. */
typedef struct Group
{
	uint32_t	size;
	uint32_t	first;			/* first member (global record id) */
	uint32_t	last;			/* last member, for O(1) splicing */
	uint32_t	nbrs;			/* head of its neighbour list in the pool */
	bool		alive;
} Group;

/* A neighbour-list node: a group with which the owner has an edge. */
typedef struct Nbr
{
	uint32_t	group;
	uint32_t	next;
} Nbr;

/* One slot of the edge table: a group pair and its edge count. */
typedef struct EdgeSlot
{
	uint64_t	key;			/* EMPTY_KEY when unused */
	uint32_t	count;
} EdgeSlot;

struct MatchSolver
{
	const MatchAlloc *ma;
	uint32_t	nds;
	uint32_t   *offset;			/* first global id of each dataset */
	uint32_t	nrec;
	int32_t    *group_of;		/* group of each record, -1 if none */
	uint32_t   *next_member;	/* member lists, linked through records */
	Group	   *groups;
	uint32_t	ngroups;
	uint32_t	gcap;
	Nbr		   *pool;
	uint32_t	npool;
	uint32_t	pcap;
	EdgeSlot   *slots;
	size_t		nslots;			/* a power of two */
	size_t		used;
};

/* Grow an array to hold at least `need` elements of `elem` bytes. */
static bool
grow(const MatchAlloc *ma, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t	ncap;
	void	   *p;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap * 2 : 1024;
	while (ncap < need)
		ncap *= 2;
	p = *arr ? ma->realloc(*arr, (size_t) ncap * elem) : ma->alloc((size_t) ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* Add record r to group g. */
static void
member_add(MatchSolver *s, uint32_t g, uint32_t r)
{
	Group	   *gr = &s->groups[g];

	s->next_member[r] = NIL;
	if (gr->size == 0)
		gr->first = r;
	else
		s->next_member[gr->last] = r;
	gr->last = r;
	gr->size++;
	s->group_of[r] = (int32_t) g;
}

/* Create a group holding the given records; returns its id or -1. */
static int32_t
group_new(MatchSolver *s, const uint32_t *recs, uint32_t n)
{
	Group	   *g;

	if (!grow(s->ma, (void **) &s->groups, &s->gcap, s->ngroups + 1, sizeof(Group)))
		return -1;
	g = &s->groups[s->ngroups];
	g->size = 0;
	g->nbrs = NIL;
	g->alive = true;
	for (uint32_t i = 0; i < n; i++)
		member_add(s, s->ngroups, recs[i]);
	return (int32_t) s->ngroups++;
}

/* Key of the unordered group pair {g, h}. */
static inline uint64_t
edge_key(uint32_t g, uint32_t h)
{
	return g < h ? ((uint64_t) g << 32) | h : ((uint64_t) h << 32) | g;
}

/* The home slot of a key in the edge table. */
static inline size_t
edge_home(const MatchSolver *s, uint64_t key)
{
	return (size_t) ((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (s->nslots - 1);
}

/* The table slot of a key: its own, or the empty one where it would go. */
static EdgeSlot *
edge_slot(MatchSolver *s, uint64_t key)
{
	size_t		mask = s->nslots - 1;
	size_t		i = edge_home(s, key);

	while (s->slots[i].key != key && s->slots[i].key != EMPTY_KEY)
		i = (i + 1) & mask;
	return &s->slots[i];
}

/* Double the edge table (or create it). */
static bool
edge_grow(MatchSolver *s)
{
	size_t		old_n = s->nslots;
	EdgeSlot   *old = s->slots;

	s->nslots = old_n ? old_n * 2 : 1024;
	s->slots = s->ma->alloc(s->nslots * sizeof(EdgeSlot));
	if (!s->slots)
		return false;
	for (size_t i = 0; i < s->nslots; i++)
		s->slots[i].key = EMPTY_KEY;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].key != EMPTY_KEY)
			*edge_slot(s, old[i].key) = old[i];
	if (old)
		s->ma->free(old);
	return true;
}

/* Note that group g has an edge with h (for merges to find it). */
static bool
nbr_add(MatchSolver *s, uint32_t g, uint32_t h)
{
	if (!grow(s->ma, (void **) &s->pool, &s->pcap, s->npool + 1, sizeof(Nbr)))
		return false;
	s->pool[s->npool].group = h;
	s->pool[s->npool].next = s->groups[g].nbrs;
	s->groups[g].nbrs = s->npool++;
	return true;
}

/* Add `count` to the edge count of {g, h}; *total receives the new count. */
static bool
edge_add(MatchSolver *s, uint32_t g, uint32_t h, uint32_t count, uint32_t *total)
{
	EdgeSlot   *e;

	if ((s->used + 1) * 2 > s->nslots && !edge_grow(s))
		return false;
	e = edge_slot(s, edge_key(g, h));
	if (e->key == EMPTY_KEY)
	{
		e->key = edge_key(g, h);
		e->count = 0;
		s->used++;
		if (!nbr_add(s, g, h) || !nbr_add(s, h, g))
			return false;
	}
	e->count += count;
	if (total)
		*total = e->count;
	return true;
}

/* Merge group b into group a: members, then edge counts. */
static bool
group_absorb(MatchSolver *s, uint32_t a, uint32_t b)
{
	Group	   *ga = &s->groups[a],
			   *gb = &s->groups[b];

	for (uint32_t r = gb->first; r != NIL; r = s->next_member[r])
		s->group_of[r] = (int32_t) a;
	s->next_member[ga->last] = gb->first;
	ga->last = gb->last;
	ga->size += gb->size;
	gb->size = 0;
	gb->alive = false;
	/* b's edges to third groups now count for a. */
	for (uint32_t i = gb->nbrs; i != NIL; i = s->pool[i].next)
	{
		uint32_t	o = s->pool[i].group;
		EdgeSlot   *e;
		uint32_t	c;

		if (o == a || !s->groups[o].alive)
			continue;
		e = edge_slot(s, edge_key(b, o));
		c = e->key == EMPTY_KEY ? 0 : e->count;
		if (c == 0)
			continue;			/* a duplicate neighbour, already moved */
		e->count = 0;
		if (!edge_add(s, a, o, c, NULL))
			return false;
	}
	return true;
}

/* Create a solver for `nds` datasets of the given sizes. */
MatchSolver *
match_solver_create(uint32_t nds, const uint32_t *sizes, const MatchAlloc *ma)
{
	MatchSolver *s = ma->alloc(sizeof(MatchSolver));

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->ma = ma;
	s->nds = nds;
	s->offset = ma->alloc(sizeof(uint32_t) * (nds + 1));
	if (!s->offset)
		return NULL;
	s->offset[0] = 0;
	for (uint32_t d = 0; d < nds; d++)
		s->offset[d + 1] = s->offset[d] + sizes[d];
	s->nrec = s->offset[nds];
	s->group_of = ma->alloc(sizeof(int32_t) * (s->nrec ? s->nrec : 1));
	s->next_member = ma->alloc(sizeof(uint32_t) * (s->nrec ? s->nrec : 1));
	if (!s->group_of || !s->next_member)
		return NULL;
	memset(s->group_of, 0xff, sizeof(int32_t) * s->nrec);
	return s;
}

/* Feed the next candidate edge, in anonlink's order. */
bool
match_solver_add(MatchSolver *s, uint32_t ds_a, uint32_t a, uint32_t ds_b, uint32_t b)
{
	uint32_t	r0 = s->offset[ds_a] + a,
				r1 = s->offset[ds_b] + b;
	int32_t		g0 = s->group_of[r0],
				g1 = s->group_of[r1];

	if (r0 == r1)
		return true;
	/*
	 * Two datasets: a record in a full group can never join another (all
	 * cross pairs would need to be edges, and same-dataset edges do not
	 * exist), so the rules reduce to 1:1 matching of unmatched records.
	 */
	if (s->nds == 2 && (g0 >= 0 || g1 >= 0))
		return true;
	if (g0 < 0 && g1 < 0)
	{
		uint32_t	recs[2] = {r0, r1};

		return group_new(s, recs, 2) >= 0;
	}
	if (g0 < 0 || g1 < 0)
	{
		int32_t		g = g0 < 0 ? g1 : g0;
		uint32_t	r = g0 < 0 ? r0 : r1;
		int32_t		single;

		if (s->groups[g].size <= 1)
		{
			member_add(s, (uint32_t) g, r);
			return true;
		}
		single = group_new(s, &r, 1);
		return single >= 0 && edge_add(s, (uint32_t) g, (uint32_t) single, 1, NULL);
	}
	if (g0 != g1)
	{
		uint32_t	count;
		uint64_t	need = (uint64_t) s->groups[g0].size * s->groups[g1].size;

		if (!edge_add(s, (uint32_t) g0, (uint32_t) g1, 1, &count))
			return false;
		if (count >= need)
		{
			bool		g1_larger = s->groups[g1].size > s->groups[g0].size;

			return g1_larger ? group_absorb(s, (uint32_t) g1, (uint32_t) g0)
				: group_absorb(s, (uint32_t) g0, (uint32_t) g1);
		}
	}
	return true;
}

/*
 * Feed n edges in order.  The same as n calls of match_solver_add, but the
 * records' group entries and the groups of edges a few steps ahead are
 * prefetched: on large inputs every one of them is a cache miss, and
 * waiting for them one at a time is what limits the solver.
 */
bool
match_solver_add_many(MatchSolver *s, const MatchEdge *e, size_t n)
{
	/* Two datasets: only group_of is read, and reads stay cheap. */
	bool		ahead = s->nds > 2;

	for (size_t i = 0; i < n; i++)
	{
		if (ahead && i + PREFETCH_RECORDS < n)
		{
			const MatchEdge *f = &e[i + PREFETCH_RECORDS];

			__builtin_prefetch(&s->group_of[s->offset[f->ds_a] + f->a]);
			__builtin_prefetch(&s->group_of[s->offset[f->ds_b] + f->b]);
		}
		if (ahead && i + PREFETCH_GROUPS < n)
		{
			const MatchEdge *f = &e[i + PREFETCH_GROUPS];
			int32_t		g0 = s->group_of[s->offset[f->ds_a] + f->a],
						g1 = s->group_of[s->offset[f->ds_b] + f->b];

			if (g0 >= 0)
				__builtin_prefetch(&s->groups[g0]);
			if (g1 >= 0)
				__builtin_prefetch(&s->groups[g1]);
			if (g0 >= 0 && g1 >= 0 && g0 != g1 && s->nslots > 0)
			{
				__builtin_prefetch(&s->slots[edge_home(s, edge_key((uint32_t) g0, (uint32_t) g1))]);
			}
		}
		if (!match_solver_add(s, e[i].ds_a, e[i].a, e[i].ds_b, e[i].b))
			return false;
	}
	return true;
}

/*
 * The groups of two or more, members in (dataset, record) order, groups
 * numbered 0.. in the order of their first member.  Two passes over the
 * records in global order: number the groups and count their members,
 * then place each record in its group's slice.
 */
bool
match_solver_groups(MatchSolver *s, MatchMember **members, size_t *n)
{
	uint32_t   *gid = s->ma->alloc(sizeof(uint32_t) * (s->ngroups ? s->ngroups : 1));
	size_t	   *pos;
	size_t		total = 0;
	uint32_t	ngid = 0,
				d = 0;
	MatchMember *out;

	if (!gid)
		return false;
	for (uint32_t g = 0; g < s->ngroups; g++)
		gid[g] = NIL;
	for (uint32_t r = 0; r < s->nrec; r++)
	{
		int32_t		g = s->group_of[r];

		if (g >= 0 && s->groups[g].size >= 2 && gid[g] == NIL)
			gid[g] = ngid++;
	}
	pos = s->ma->alloc(sizeof(size_t) * (ngid + 1));
	if (!pos)
		return false;
	/* Group k's members start at pos[k]: groups in id order, sizes summed. */
	for (uint32_t g = 0; g < s->ngroups; g++)
		if (gid[g] != NIL)
			pos[gid[g]] = s->groups[g].size;
	for (uint32_t k = 0; k < ngid; k++)
	{
		size_t		sz = pos[k];

		pos[k] = total;
		total += sz;
	}
	out = s->ma->alloc(sizeof(MatchMember) * (total ? total : 1));
	if (!out)
		return false;
	for (uint32_t r = 0; r < s->nrec; r++)
	{
		int32_t		g = s->group_of[r];
		MatchMember *m;

		if (g < 0 || gid[g] == NIL)
			continue;
		while (r >= s->offset[d + 1])
			d++;
		m = &out[pos[gid[g]]++];
		m->group = gid[g];
		m->ds = d;
		m->rec = r - s->offset[d];
	}
	s->ma->free(gid);
	s->ma->free(pos);
	*members = out;
	*n = total;
	return true;
}

/* Release everything the solver holds. */
void
match_solver_free(MatchSolver *s)
{
	const MatchAlloc *ma;

	if (!s)
		return;
	ma = s->ma;
	if (s->groups)
		ma->free(s->groups);
	if (s->pool)
		ma->free(s->pool);
	if (s->slots)
		ma->free(s->slots);
	ma->free(s->next_member);
	ma->free(s->group_of);
	ma->free(s->offset);
	ma->free(s);
}
