/*
 * worker_sink.c
 *	  The merged candidates of a run, in anonlink's order, turned into its
 *	  result objects.  similarity_scores streams them out as they come
 *	  (JSON beside anonlink's binary format, whose records are the parts'
 *	  records unchanged); groups and permutations feed pg_pprl's greedy
 *	  solver (the same code as pprl_greedy_groups) in batches and write the
 *	  solution at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/match.h"
#include "worker_perm.h"
#include "worker_sink.h"

#define SOLVER_BATCH 1024

enum
{
	SINK_SCORES, SINK_GROUPS, SINK_PERMUTATIONS
};

struct WorkerSink
{
	WorkerResults *res;
	int			kind;
	WorkerOut  *json;
	WorkerOut  *bin;
	long long	n;
	MatchSolver *solver;
	MatchEdge	batch[SOLVER_BATCH];
	size_t		nb;
	uint32_t	sizes[WORKER_MAX_PARTIES];
	int			nds;
	int			failed;
};

static const MatchAlloc heap_alloc = {malloc, realloc, free};

/* Note an error in the run (not a lost connection: the data is at fault). */
static int
sink_error(WorkerSink *s, const char *msg)
{
	snprintf(s->res->run->error, sizeof(s->res->run->error), "%s", msg);
	s->failed = 1;
	return -1;
}

/* Open the sink for the run's result type; NULL when the store refuses. */
WorkerSink *
worker_sink_open(WorkerResults *res, const uint32_t *sizes, int nds)
{
	WorkerSink *s = calloc(1, sizeof(WorkerSink));
	const char *type = res->run->result_type;

	if (!s)
		return NULL;
	s->res = res;
	s->nds = nds;
	memcpy(s->sizes, sizes, sizeof(uint32_t) * (size_t) nds);
	s->kind = strcmp(type, "similarity_scores") == 0 ? SINK_SCORES
		: strcmp(type, "permutations") == 0 ? SINK_PERMUTATIONS : SINK_GROUPS;
	if (s->kind == SINK_SCORES)
	{
		if (!(s->json = worker_results_begin(res, 0, "similarity_scores", -1, "similarity_scores.json")) ||
			!(s->bin = worker_results_begin(res, 1, "similarity_scores_binary", -1, "similarity_scores.bin")))
		{
			worker_out_abort(s->json);
			free(s);
			return NULL;
		}
		worker_out_str(s->json, "{\"similarity_scores\":[");
		worker_out_bytes(s->bin, candfmt_header, CANDFMT_HEADER_BYTES);
		return s;
	}
	if (!(s->solver = match_solver_create((uint32_t) nds, s->sizes, &heap_alloc)))
	{
		snprintf(res->run->error, sizeof(res->run->error), "out of memory");
		free(s);
		return NULL;
	}
	return s;
}

/* The shortest decimal that reads back as v (as PostgreSQL prints float8). */
static void
format_score(char *buf, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++)
	{
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* Hand the batched edges to the solver. */
static int
flush_batch(WorkerSink *s)
{
	if (s->nb > 0 && !match_solver_add_many(s->solver, s->batch, s->nb))
		return sink_error(s, "out of memory");
	s->nb = 0;
	return 0;
}

/* Take the next candidate; 0, or -1 when the sink failed. */
int
worker_sink_add(WorkerSink *s, const WorkerCand *c)
{
	char		score[32];

	if (s->failed)
		return -1;
	if (c->c.ds_a >= (uint32_t) s->nds || c->c.ds_b >= (uint32_t) s->nds || c->c.ds_a >= c->c.ds_b ||
		c->c.a >= s->sizes[c->c.ds_a] || c->c.b >= s->sizes[c->c.ds_b])
		return sink_error(s, "a candidate names a record that the run's datasets do not have");
	if (s->kind == SINK_SCORES)
	{
		format_score(score, sizeof(score), c->score);
		worker_out_fmt(s->json, "%s[[%u,%u],[%u,%u],%s]", s->n++ ? "," : "", c->c.ds_a, c->c.a,
					   c->c.ds_b, c->c.b, score);
		worker_out_bytes(s->bin, c->raw, sizeof(c->raw));
		return 0;
	}
	s->batch[s->nb++] = (MatchEdge) {c->c.ds_a, c->c.a, c->c.ds_b, c->c.b};
	s->n++;
	return s->nb == SOLVER_BATCH ? flush_batch(s) : 0;
}

/* groups: [[[ds, row], ...], ...], one group of two or more per element. */
static int
write_groups(WorkerSink *s, const MatchMember *m, size_t n)
{
	WorkerOut  *out = worker_results_begin(s->res, 0, "groups", -1, "groups.json");

	if (!out)
		return -1;
	worker_out_str(out, "{\"groups\":[");
	for (size_t i = 0; i < n; i++)
		worker_out_fmt(out, "%s[%u,%u]", i == 0 ? "[" : m[i].group == m[i - 1].group ? "," : "],[",
					   m[i].ds, m[i].rec);
	worker_out_str(out, n ? "]]}" : "]}");
	return worker_results_commit(s->res, out);
}

/* One party's {"permutation": [position by row], "rows": size of the smaller}. */
static int
write_permutation(WorkerSink *s, const WorkerPerm *p, int ds)
{
	char		name[32];
	WorkerOut  *out;

	snprintf(name, sizeof(name), "permutation-%d.json", ds);
	if (!(out = worker_results_begin(s->res, 0, "permutation", ds, name)))
		return -1;
	worker_out_str(out, "{\"permutation\":[");
	for (uint32_t r = 0; r < p->n[ds]; r++)
		worker_out_fmt(out, "%s%u", r ? "," : "", p->pos[ds][r]);
	worker_out_fmt(out, "],\"rows\":%u}", p->n[p->small]);
	return worker_results_commit(s->res, out);
}

/* permutations: both parties' objects and the mask {"mask": [0/1 by position]}. */
static int
write_permutations(WorkerSink *s, const MatchMember *m, size_t n)
{
	uint32_t   *partner = malloc(sizeof(uint32_t) * ((size_t) s->sizes[0] + 1));
	WorkerPerm	p;
	WorkerOut  *out;
	int			rc;

	if (!partner)
		return sink_error(s, "out of memory");
	for (uint32_t r = 0; r < s->sizes[0]; r++)
		partner[r] = WORKER_PERM_NONE;
	/* two-party groups are pairs, party 0's member first */
	for (size_t i = 0; i + 1 < n; i += 2)
		if (m[i].ds == 0 && m[i + 1].ds == 1 && m[i].group == m[i + 1].group)
			partner[m[i].rec] = m[i + 1].rec;
	rc = worker_perm_draw(&p, s->sizes, partner);
	free(partner);
	if (rc != 0)
		return sink_error(s, "could not draw the permutations (memory or randomness)");
	rc = write_permutation(s, &p, 0) == 0 && write_permutation(s, &p, 1) == 0 ? 0 : -1;
	if (rc == 0 && (out = worker_results_begin(s->res, 0, "mask", -1, "mask.json")))
	{
		worker_out_str(out, "{\"mask\":[");
		for (uint32_t i = 0; i < p.n[p.small]; i++)
			worker_out_str(out, i ? (p.mask[i] ? ",1" : ",0") : (p.mask[i] ? "1" : "0"));
		worker_out_str(out, "]}");
		rc = worker_results_commit(s->res, out);
	}
	else
		rc = -1;
	worker_perm_free(&p);
	return rc;
}

/*
 * Finish (when ok: write and commit the result objects) and free the
 * sink; 0 when every result object is committed.
 */
int
worker_sink_close(WorkerSink *s, int ok)
{
	MatchMember *members = NULL;
	size_t		n = 0;
	int			rc = -1;

	ok = ok && !s->failed;
	if (s->kind == SINK_SCORES)
	{
		if (ok)
		{
			worker_out_str(s->json, "]}");
			if (worker_results_commit(s->res, s->json) == 0)
				rc = worker_results_commit(s->res, s->bin);
			else
				worker_out_abort(s->bin);
		}
		else
		{
			worker_out_abort(s->json);
			worker_out_abort(s->bin);
		}
		free(s);
		return rc;
	}
	if (ok && flush_batch(s) == 0)
	{
		if (!match_solver_groups(s->solver, &members, &n))
			sink_error(s, "out of memory");
		else
			rc = s->kind == SINK_GROUPS ? write_groups(s, members, n) : write_permutations(s, members, n);
	}
	free(members);
	match_solver_free(s->solver);
	free(s);
	return rc;
}
