/*
 * match_plan.c
 *	  Planning a match call: the job described over the loaded input, cut
 *	  into work units (slices of the first dataset of each pair, or blocks;
 *	  a unit over UNIT_MAX_COMPARISONS split by rows), and the units cut into
 *	  parts of roughly equal comparison counts, the same cut on every server
 *	  holding the same data.
 */
#include "postgres.h"

#include <math.h>

#include "match_input.h"

/* Comparisons per unit at most (each unit re-sorts its targets). */
#define UNIT_MAX_COMPARISONS 200000000.0

/* Order block entries by key, then dataset, then record. */
static int
block_entry_cmp(const void *x, const void *y)
{
	const BlockEntry *a = x,
			   *b = y;
	int			c = strcmp(a->key, b->key);

	if (c != 0)
		return c;
	if (a->ds != b->ds)
		return a->ds < b->ds ? -1 : 1;
	return a->rec < b->rec ? -1 : (a->rec > b->rec);
}

/* Append a unit to a growable array. */
static void
add_unit(MatchUnit **units, uint32 *n, uint32 *cap, MatchUnit u)
{
	if (*n == *cap)
	{
		*cap = *cap ? *cap * 2 : 64;
		*units = *units ? repalloc_huge(*units, sizeof(MatchUnit) * *cap)
			: palloc_extended(sizeof(MatchUnit) * *cap, MCXT_ALLOC_HUGE);
	}
	(*units)[(*n)++] = u;
}

/*
 * Split every unit that compares more than max_cost pairs into slices of
 * its first dataset's records (so one large block cannot hold up a part
 * or a process; each record of the first dataset stays in one unit, which
 * keeps per-record top-k exact).
 */
static void
split_units(MatchUnit **units, uint32 *n, uint32 *cap, double max_cost)
{
	uint32		old_n = *n;
	MatchUnit  *old = *units;

	*units = NULL;
	*n = *cap = 0;
	for (uint32 u = 0; u < old_n; u++)
	{
		double		cost = (double) old[u].x_n * old[u].y_n;
		uint32		pieces = cost > max_cost ? (uint32) Min(ceil(cost / max_cost), old[u].x_n) : 1;
		uint32		slice = pieces > 1 ? Max(16, (old[u].x_n + pieces - 1) / pieces) : old[u].x_n;

		for (uint32 lo = 0; lo < old[u].x_n; lo += slice)
		{
			MatchUnit	piece = old[u];

			piece.x_off = old[u].x_off + lo;
			piece.x_n = Min(slice, old[u].x_n - lo);
			add_unit(units, n, cap, piece);
		}
	}
	if (old)
		pfree(old);
}

/*
 * Cut the job into units: without blocking, each dataset pair's first
 * dataset in `slices` slices; with blocking, one unit per block and
 * dataset pair that both have members.  Then units above 1/slices of all
 * comparisons (or UNIT_MAX_COMPARISONS) are split.  The cut depends only
 * on the data and `slices`, never on the local configuration, so every
 * server computing part p of a partitioned job cuts it the same way.
 */
void
match_plan_units(MatchInput *in, MatchJob *job, uint32 slices, double *comparisons)
{
	MatchUnit  *units = NULL;
	uint32		n = 0,
				cap = 0;
	int			p = 0;

	*comparisons = 0;
	if (!in->blocking)
	{
		uint32		maxn = 0;
		uint32	   *ident;

		for (int d = 0; d < in->nds; d++)
			maxn = Max(maxn, in->ds[d].n);
		ident = palloc_extended(sizeof(uint32) * (maxn + 1), MCXT_ALLOC_HUGE);
		for (uint32 r = 0; r < maxn; r++)
			ident[r] = r;
		job->sel = ident;
		job->nsel = maxn;
		for (int i = 0; i < in->nds; i++)
			for (int j = i + 1; j < in->nds; j++, p++)
			{
				uint32		ni = in->ds[i].n,
							nj = in->ds[j].n;
				uint32		slice = Max(64, (ni + slices - 1) / slices);

				if (nj == 0)
					continue;
				for (uint32 lo = 0; lo < ni; lo += slice)
				{
					MatchUnit	u = {p, i, j, Min(slice, ni - lo), nj, lo, 0};

					add_unit(&units, &n, &cap, u);
				}
				*comparisons += (double) ni * nj;
			}
	}
	else
	{
		BlockIndex *bi = &in->blocks;
		size_t		g = 0;

		qsort(bi->entries, bi->n, sizeof(BlockEntry), block_entry_cmp);
		bi->recs = palloc_extended(sizeof(uint32) * (bi->n + 1), MCXT_ALLOC_HUGE);
		for (size_t e = 0; e < bi->n; e++)
			bi->recs[e] = bi->entries[e].rec;
		job->sel = bi->recs;
		job->nsel = bi->n;
		while (g < bi->n)
		{
			size_t		end = g,
						run_start[MATCH_MAX_DATASETS];
			uint32		run_len[MATCH_MAX_DATASETS];
			int			run_ds[MATCH_MAX_DATASETS];
			int			nruns = 0;

			while (end < bi->n && strcmp(bi->entries[end].key, bi->entries[g].key) == 0)
				end++;
			/* The key's members, one run per dataset. */
			for (size_t e = g; e < end; e++)
			{
				if (nruns == 0 || run_ds[nruns - 1] != (int) bi->entries[e].ds)
				{
					run_ds[nruns] = (int) bi->entries[e].ds;
					run_start[nruns] = e;
					run_len[nruns] = 0;
					nruns++;
				}
				run_len[nruns - 1]++;
			}
			for (int ri = 0; ri < nruns; ri++)
				for (int rj = ri + 1; rj < nruns; rj++)
				{
					int			i = run_ds[ri],
								j = run_ds[rj];
					MatchUnit	u = {(uint32) (i * in->nds - i * (i + 1) / 2 + (j - i - 1)),
						(uint32) i, (uint32) j, run_len[ri], run_len[rj],
					run_start[ri], run_start[rj]};

					add_unit(&units, &n, &cap, u);
					*comparisons += (double) run_len[ri] * run_len[rj];
				}
			g = end;
		}
	}
	/* Bound a unit's work, and so its unsorted output buffer. */
	split_units(&units, &n, &cap, Min(UNIT_MAX_COMPARISONS, Max(*comparisons / slices, 65536.0)));
	job->units = units;
	job->nunits = n;
}

/*
 * The part a unit belongs to: parts are runs of consecutive units, cut
 * where the running comparison count crosses each 1/parts of the total
 * (a unit goes to the part holding its midpoint; `before` counts the
 * comparisons of the units ahead of it).
 */
int
match_plan_part_of(double before, const MatchUnit *u, int parts, double comparisons)
{
	double		cost = (double) u->x_n * u->y_n;

	if (comparisons <= 0)
		return 0;
	return (int) Min((before + cost / 2) * parts / comparisons, (double) (parts - 1));
}

/* Keep only the units of part `part` of `parts`. */
void
match_plan_select(MatchJob *job, int part, int parts, double comparisons)
{
	double		before = 0;
	uint32		first = job->nunits,
				last = 0;

	for (uint32 u = 0; u < job->nunits; u++)
	{
		if (match_plan_part_of(before, &job->units[u], parts, comparisons) == part)
		{
			first = Min(first, u);
			last = u + 1;
		}
		before += (double) job->units[u].x_n * job->units[u].y_n;
	}
	job->units = first < last ? job->units + first : job->units;
	job->nunits = first < last ? last - first : 0;
}

/* Describe the loaded input as a job (the arrays are shared, not copied). */
void
match_plan_job(MatchInput *in, MatchJob *job, double t)
{
	memset(job, 0, sizeof(*job));
	job->nds = in->nds;
	job->nbytes = in->nbytes;
	job->k = in->k;
	job->threshold = t;
	for (int d = 0; d < in->nds; d++)
	{
		job->ds_n[d] = in->ds[d].n;
		job->ds_off[d] = in->ds[d].off;
	}
	job->clks = in->clks;
	job->pops = in->pops;
}
