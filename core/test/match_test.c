/*
 * match_test.c
 *	  The matching core against brute force.
 *
 * For random and structured data (popcounts spread and clustered, near
 * copies, empty and full vectors, several lengths) and many thresholds
 * (including 1 and values where scores land exactly on the threshold),
 * match_generate + match_sort_pairs must produce exactly the pairs a
 * brute-force double-precision Dice test finds, in anonlink's order, on
 * every kernel path.  Also checks the filters and the greedy solver on
 * cases worked out by hand.  Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/clk_kernels.h"
#include "pprl/match.h"

#include "unit.h"

/* One matching check, described by what, threshold and size. */
#define mcheck(ok, what, t, n) check((ok), "%s t=%g (%zu)", (what), (double) (t), (size_t) (n))

static void *m_alloc(size_t s) { return malloc(s); }
static void *m_realloc(void *p, size_t s) { return realloc(p, s); }
static void m_free(void *p) { free(p); }
static const MatchAlloc ma = {m_alloc, m_realloc, m_free};

/* Deterministic xorshift generator. */
static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Reference popcount of a vector, bit by bit. */
static uint32_t
ref_pop(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint32_t	c = 0;

	for (size_t i = 0; i < n; i++)
		c += (uint32_t) __builtin_popcount(b ? (a[i] & b[i]) : a[i]);
	return c;
}

/* Fill a dataset: style 0 random, 1 spread densities, 2 near copies of `base`. */
static void
fill(uint8_t *clks, uint32_t *pops, uint32_t n, size_t nbytes, int style,
	 const uint8_t *base, uint64_t *s)
{
	for (uint32_t r = 0; r < n; r++)
	{
		uint8_t    *c = clks + (size_t) r * nbytes;

		for (size_t i = 0; i < nbytes; i++)
		{
			uint8_t		v = (uint8_t) rng(s);

			if (style == 1)
				v = (r % 5 == 0) ? 0 : (r % 5 == 1) ? 0xff : (uint8_t) (v & ((r % 3) ? 0xff : (uint8_t) rng(s)));
			else if (style == 2)
				v = base[(size_t) (r % 7) * nbytes + i] ^ (uint8_t) (rng(s) & rng(s) & rng(s) & 0x11);
			c[i] = v;
		}
		pops[r] = ref_pop(c, NULL, nbytes);
	}
}

/* Compare generated pairs with brute force for one threshold. */
static void
test_threshold(const MatchDataset *x, const MatchDataset *y, size_t nbytes, double t)
{
	MatchThreshold mt;
	MatchPairs	got = {0},
				want = {0};
	int			ok;

	match_threshold_init(&mt, t, (uint32_t) nbytes * 8, &ma);
	ok = match_generate(x, y, nbytes, &mt, &got, &ma, NULL) &&
		match_sort_pairs(&got, &ma);
	mcheck(ok, "generate", t, 0);
	for (uint32_t a = 0; a < x->n; a++)
		for (uint32_t b = 0; b < y->n; b++)
		{
			uint32_t	c = ref_pop(x->clks + a * nbytes, y->clks + b * nbytes, nbytes);
			double		d = match_score(c, x->popcounts[a], y->popcounts[b]);

			if (d >= t)
				match_pairs_push(&want, match_score_key(d), a, b, &ma);
		}
	/* Brute force emits in (a, b) order: a stable sort by score gives anonlink's order. */
	match_sort_pairs(&want, &ma);
	ok = got.len == want.len &&
		(got.len == 0 || memcmp(got.items, want.items, got.len * sizeof(MatchPair)) == 0);
	mcheck(ok, "pairs equal brute force", t, want.len);
	free(got.items);
	free(want.items);
	match_threshold_free(&mt, &ma);
}

/* Generation on every path, data style, length and threshold. */
static void
test_generate(void)
{
	static const double ts[] = {0.05, 0.5, 0.6, 0.7, 0.75, 0.8, 0.81, 0.85, 0.9, 0.95, 1.0};
	static const size_t lens[] = {128, 1, 16, 200};
	uint64_t	s = 7;

	for (int p = 0; p < CLK_SIMD_NPATHS; p++)
	{
		if (!clk_kern_supported((ClkSimdPath) p))
			continue;
		clk_kern_select((ClkSimdPath) p);
		for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
			for (int style = 0; style < 3; style++)
			{
				size_t		nbytes = lens[li];
				uint32_t	nx = 70,
							ny = 530;
				uint8_t    *cx = malloc(nx * nbytes),
						   *cy = malloc(ny * nbytes);
				uint32_t   *px = malloc(nx * sizeof(uint32_t)),
						   *py = malloc(ny * sizeof(uint32_t));
				MatchDataset x = {nx, cx, px, NULL},
							y = {ny, cy, py, NULL};

				fill(cx, px, nx, nbytes, style == 2 ? 0 : style, NULL, &s);
				fill(cy, py, ny, nbytes, style, cx, &s);
				for (size_t ti = 0; ti < sizeof(ts) / sizeof(ts[0]); ti++)
					test_threshold(&x, &y, nbytes, ts[ti]);
				free(cx);
				free(cy);
				free(px);
				free(py);
			}
	}
	clk_kern_select(clk_kern_best());
}

/* Filters: dedupe, per-record top-k, anonlink's _enforce_k. */
static void
test_filters(void)
{
	MatchPairs	ps = {0};
	uint32_t	ca[8] = {0},
				cb[8] = {0};

	/* sorted: (1,7) (1,9) (3,7) (3,9) (4,7) (4,9) (2,8) (2,7) as in the SQL test */
	uint32_t	pairs[][2] = {{1, 7}, {1, 9}, {3, 7}, {3, 9}, {4, 7}, {4, 9}, {2, 8}, {2, 7}};
	uint64_t	keys[] = {1, 1, 1, 1, 1, 1, 2, 3};

	for (int i = 0; i < 8; i++)
		match_pairs_push(&ps, keys[i], pairs[i][0] % 8, pairs[i][1] % 8, &ma);
	match_enforce_k(&ps, 2, ca, cb);
	mcheck(ps.len == 5 && ps.items[4].a == 2 && ps.items[4].b == 0, "enforce_k", 2, ps.len);
	ps.len = 0;
	match_pairs_push(&ps, 1, 0, 1, &ma);
	match_pairs_push(&ps, 1, 0, 1, &ma);
	match_pairs_push(&ps, 2, 0, 1, &ma);
	match_dedupe(&ps);
	mcheck(ps.len == 2, "dedupe", 0, ps.len);
	memset(ca, 0, sizeof(ca));
	ps.len = 0;
	for (uint32_t b = 0; b < 5; b++)
		match_pairs_push(&ps, b / 2, 3, b, &ma);
	match_topk_rows(&ps, 3, ca);
	mcheck(ps.len == 3 && ps.items[2].b == 2 && ca[3] == 0, "topk_rows", 3, ps.len);
	free(ps.items);
}

/*
 * Solve a list of (ds_a, a, ds_b, b) edges, one at a time or (many) as one
 * batch; return the number of members.
 */
static size_t
solve_with(uint32_t nds, const uint32_t *sizes, const uint32_t (*e)[4], int ne,
		   MatchMember **m, bool many)
{
	MatchSolver *s = match_solver_create(nds, sizes, &ma);
	MatchEdge	batch[256];
	size_t		n = 0;

	for (int i = 0; i < ne; i++)
	{
		MatchEdge	x = {e[i][0], e[i][1], e[i][2], e[i][3]};

		if (many)
			batch[i] = x;
		else
			match_solver_add(s, x.ds_a, x.a, x.ds_b, x.b);
	}
	if (many)
		match_solver_add_many(s, batch, (size_t) ne);
	match_solver_groups(s, m, &n);
	match_solver_free(s);
	return n;
}

/* Solve one edge at a time. */
static size_t
solve(uint32_t nds, const uint32_t *sizes, const uint32_t (*e)[4], int ne, MatchMember **m)
{
	return solve_with(nds, sizes, e, ne, m, false);
}

/* The greedy solver on the cases from anonlink's documentation and tests. */
static void
test_greedy(void)
{
	uint32_t	sizes2[] = {3, 2},
				sizes3[] = {1, 1, 1};
	/* (.9 a0-b0) (.9 a1-b0) (.85 a1-b1) (.8 a0-b1) (.8 a2-b1) -> {a0,b0} {a1,b1} */
	const uint32_t two[][4] = {{0, 0, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 1}, {0, 0, 1, 1}, {0, 2, 1, 1}};
	/* A0-B0, A0-C0, B0-C0 -> {A0,B0,C0}; without B0-C0, C0 stays out */
	const uint32_t three[][4] = {{0, 0, 1, 0}, {0, 0, 2, 0}, {1, 0, 2, 0}};
	MatchMember *m;
	size_t		n;

	n = solve(2, sizes2, two, 5, &m);
	mcheck(n == 4 && m[0].group == 0 && m[1].rec == 0 && m[2].group == 1 &&
		  m[2].rec == 1 && m[3].ds == 1 && m[3].rec == 1, "greedy two parties", 0, n);
	free(m);
	n = solve(3, sizes3, three, 3, &m);
	mcheck(n == 3 && m[2].ds == 2 && m[2].group == 0, "greedy three parties", 0, n);
	free(m);
	n = solve(3, sizes3, three, 2, &m);
	mcheck(n == 2 && m[1].ds == 1, "greedy incomplete triangle", 0, n);
	free(m);
}

/*
 * A naive reference of anonlink's greedy rules (edge counts in a matrix,
 * group ids = creation order) for small instances: fills group_of.
 */
#define NAIVE_MAX 64
static void
naive_solve(uint32_t nrec, const uint32_t (*e)[2], int ne, int *group_of)
{
	static uint32_t edge[NAIVE_MAX][NAIVE_MAX];
	int			size[NAIVE_MAX] = {0};
	int			ng = 0;

	memset(edge, 0, sizeof(edge));
	for (uint32_t r = 0; r < nrec; r++)
		group_of[r] = -1;
	for (int i = 0; i < ne; i++)
	{
		int			r0 = (int) e[i][0],
					r1 = (int) e[i][1];
		int			g0 = group_of[r0],
					g1 = group_of[r1];

		if (g0 < 0 && g1 < 0)
		{
			group_of[r0] = group_of[r1] = ng;
			size[ng++] = 2;
		}
		else if (g0 < 0 || g1 < 0)
		{
			int			g = g0 < 0 ? g1 : g0,
						r = g0 < 0 ? r0 : r1;

			if (size[g] <= 1)
			{
				group_of[r] = g;
				size[g]++;
			}
			else
			{
				group_of[r] = ng;
				size[ng] = 1;
				edge[g][ng] = edge[ng][g] = 1;
				ng++;
			}
		}
		else if (g0 != g1)
		{
			edge[g0][g1]++;
			edge[g1][g0]++;
			if (edge[g0][g1] >= (uint32_t) (size[g0] * size[g1]))
			{
				int			a = size[g1] > size[g0] ? g1 : g0,
							b = a == g0 ? g1 : g0;

				for (uint32_t r = 0; r < nrec; r++)
					if (group_of[r] == b)
						group_of[r] = a;
				size[a] += size[b];
				size[b] = 0;
				for (int o = 0; o < ng; o++)
					if (o != a && o != b)
					{
						edge[a][o] += edge[b][o];
						edge[o][a] = edge[a][o];
						edge[b][o] = edge[o][b] = 0;
					}
			}
		}
	}
}

/* The solver against the naive reference on random multi-party instances. */
static void
test_greedy_random(void)
{
	uint64_t	s = 99;

	for (int round = 0; round < 300; round++)
	{
		uint32_t	nds = 3 + (uint32_t) (rng(&s) % 3),
					per = 2 + (uint32_t) (rng(&s) % 8);
		uint32_t	sizes[5],
					nrec = nds * per;
		uint32_t	e[200][2],
					q[200][4];
		int			ne = 0,
					ref[NAIVE_MAX];
		MatchMember *m;
		size_t		n;
		int			ok = 1;

		for (uint32_t d = 0; d < nds; d++)
			sizes[d] = per;
		while (ne < 10 + (int) (rng(&s) % 150))
		{
			uint32_t	da = (uint32_t) (rng(&s) % nds),
						db = (uint32_t) (rng(&s) % nds),
						a = (uint32_t) (rng(&s) % per),
						b = (uint32_t) (rng(&s) % per);

			if (da == db)
				continue;
			if (da > db)
			{
				uint32_t	t = da;

				da = db;
				db = t;
			}
			q[ne][0] = da, q[ne][1] = a, q[ne][2] = db, q[ne][3] = b;
			e[ne][0] = da * per + a;
			e[ne][1] = db * per + b;
			ne++;
		}
		naive_solve(nrec, (const uint32_t (*)[2]) e, ne, ref);
		n = solve_with(nds, sizes, (const uint32_t (*)[4]) q, ne, &m, round % 2 == 1);
		/* Same partition: two members share a group iff they do in ref. */
		for (size_t x = 0; x < n; x++)
			for (size_t y = 0; y < n; y++)
			{
				int			rx = ref[m[x].ds * per + m[x].rec],
							ry = ref[m[y].ds * per + m[y].rec];

				ok &= (m[x].group == m[y].group) == (rx == ry);
			}
		/* Same number of records in groups of two or more. */
		{
			int			cnt[NAIVE_MAX] = {0};
			size_t		grouped = 0;

			for (uint32_t r = 0; r < nrec; r++)
				if (ref[r] >= 0)
					cnt[ref[r]]++;
			for (uint32_t r = 0; r < nrec; r++)
				if (ref[r] >= 0 && cnt[ref[r]] >= 2)
					grouped++;
			ok &= grouped == n;
		}
		mcheck(ok, "greedy vs naive reference", 0, (size_t) round);
		free(m);
	}
}

/* Run all checks. */
int
main(void)
{
	clk_kern_init();
	test_generate();
	test_filters();
	test_greedy();
	test_greedy_random();
	return test_summary();
}
