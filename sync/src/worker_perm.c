/*
 * worker_perm.c
 *	  The permutations result of a two-party run, as pprl_permutations()
 *	  draws it: the smaller party's records take positions 0 .. n-1 in an
 *	  order drawn from the OS CSPRNG, each matched partner in the larger
 *	  party takes its record's position, and the larger party's other
 *	  records fill its remaining positions in random order.  The mask marks
 *	  the positions that hold a match.  Draws are unbiased (rejection
 *	  sampling).
 */
#include <stdlib.h>
#include <string.h>

#include "service/token.h"
#include "worker_perm.h"

/* Random bytes, buffered from getrandom. */
typedef struct RandomPool
{
	uint8_t		buf[4096];
	size_t		pos;
	int			failed;
} RandomPool;

/* A uniform 64-bit random number. */
static uint64_t
random64(RandomPool *rp)
{
	uint64_t	v;

	if (rp->pos + sizeof(v) > sizeof(rp->buf))
	{
		if (svc_token_random(rp->buf, sizeof(rp->buf)) != 0)
			rp->failed = 1;
		rp->pos = 0;
	}
	memcpy(&v, rp->buf + rp->pos, sizeof(v));
	rp->pos += sizeof(v);
	return v;
}

/* A uniform random number below bound (> 0), without modulo bias. */
static uint64_t
random_below(RandomPool *rp, uint64_t bound)
{
	uint64_t	floor = (0 - bound) % bound;	/* 2^64 mod bound */
	uint64_t	v;

	do
		v = random64(rp);
	while (v < floor && !rp->failed);
	return v % bound;
}

/* Shuffle a[0..n-1] in place (Fisher-Yates). */
static void
shuffle(RandomPool *rp, uint32_t *a, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--)
	{
		uint32_t	j = (uint32_t) random_below(rp, i);
		uint32_t	t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * Draw positions for both parties.  partner[r] is the record of party 1
 * matched with record r of party 0, or WORKER_PERM_NONE.  Fills p->pos[0]
 * (n[0] entries), p->pos[1] (n[1]) and p->mask (n of the smaller party,
 * party 0 on a tie); 0 on success, -1 when memory or randomness fails.
 */
int
worker_perm_draw(WorkerPerm *p, const uint32_t n[2], const uint32_t *partner)
{
	RandomPool	rp = {.pos = sizeof(rp.buf)};
	int			s = n[0] <= n[1] ? 0 : 1,
				l = 1 - s;
	uint32_t   *spare;
	uint32_t	nspare = 0,
				next = 0;

	memset(p, 0, sizeof(*p));
	p->small = s;
	p->n[0] = n[0];
	p->n[1] = n[1];
	p->pos[0] = malloc(sizeof(uint32_t) * ((size_t) n[0] + 1));
	p->pos[1] = malloc(sizeof(uint32_t) * ((size_t) n[1] + 1));
	p->mask = calloc((size_t) n[s] + 1, 1);
	spare = malloc(sizeof(uint32_t) * ((size_t) n[l] + 1));
	if (!p->pos[0] || !p->pos[1] || !p->mask || !spare)
	{
		free(spare);
		worker_perm_free(p);
		return -1;
	}
	for (uint32_t r = 0; r < n[s]; r++)
		p->pos[s][r] = r;
	shuffle(&rp, p->pos[s], n[s]);
	for (uint32_t r = 0; r < n[l]; r++)
		p->pos[l][r] = WORKER_PERM_NONE;
	/* matched partners share a position (spare marks positions taken) */
	memset(spare, 0, sizeof(uint32_t) * ((size_t) n[l] + 1));
	for (uint32_t r0 = 0; r0 < n[0]; r0++)
	{
		uint32_t	r1 = partner[r0];
		uint32_t	pos;

		if (r1 == WORKER_PERM_NONE || r1 >= n[1])
			continue;
		pos = s == 0 ? p->pos[0][r0] : p->pos[1][r1];
		p->pos[l][s == 0 ? r1 : r0] = pos;
		p->mask[pos] = 1;
		spare[pos] = 1;
	}
	/* the larger party's free positions, shuffled, for its other records */
	for (uint32_t pos = 0; pos < n[l]; pos++)
		if (!spare[pos])
			spare[nspare++] = pos;
	shuffle(&rp, spare, nspare);
	for (uint32_t r = 0; r < n[l]; r++)
		if (p->pos[l][r] == WORKER_PERM_NONE)
			p->pos[l][r] = spare[next++];
	free(spare);
	if (rp.failed)
	{
		worker_perm_free(p);
		return -1;
	}
	return 0;
}

/* Free what worker_perm_draw allocated. */
void
worker_perm_free(WorkerPerm *p)
{
	free(p->pos[0]);
	free(p->pos[1]);
	free(p->mask);
	p->pos[0] = p->pos[1] = NULL;
	p->mask = NULL;
}
