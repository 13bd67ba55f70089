/*
 * prune_stats.c
 *	  How much each exact pruning bound skips when every CLK of file A is
 *	  compared with every CLK of file B at Dice thresholds 0.70 .. 0.95.
 *
 * Usage: prune_stats A.json B.json
 *
 * Both files hold 1024-bit CLKs as quoted base64 strings (clkhash's
 * {"clks": [...]}); any quoted string that decodes to 128 bytes is a CLK.
 * For each method and threshold t the program prints the fraction of
 * (query, target) pairs the method proves to have Dice < t, i.e. skips
 * without computing |A AND B| in full.  Every bound is an upper bound on
 * |A AND B| (or on Dice), so no pair with Dice >= t may be skipped; this is
 * checked for every pair and a violation makes the exit status non-zero.
 *
 * The group rows sort B by popcount, cut it into runs of G targets, and
 * prune a whole run when 2*min(|A AND U|, maxpop) / (|A| + minpop) < t, U
 * being the OR of the run: what a union-signature (GiST) leaf page gets.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -o prune_stats prune_stats.c -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define NWORDS 16				/* 1024 bits */
#define NBYTES 128
#define NT 6					/* thresholds */
#define NM 5					/* segment counts */
#define NSEGCFG (2 * NM)		/* contiguous and modulo layouts */
#define SEGSLOTS 248			/* 2 * (4 + 8 + 16 + 32 + 64) */

static const double thr[NT] = {0.70, 0.75, 0.80, 0.85, 0.90, 0.95};
static const int segm[NM] = {4, 8, 16, 32, 64};
static const int groupg[2] = {16, 64};

/* Methods (rows of the output table). */
enum {POP, SEG0, PRE256 = SEG0 + NSEGCFG, PRE512, GRP16, GRP64, NMETH};

typedef struct Clk
{
	uint64_t	w[NWORDS];
	int			pop, p256, p512;	/* popcount: all, first 256 / 512 bits */
	uint16_t	seg[SEGSLOTS];	/* per-segment popcounts, all layouts */
} Clk;

typedef struct Set
{
	Clk		   *c;
	int			n;
} Set;

#define MIN(x, y) ((x) < (y) ? (x) : (y))

/* Value of one base64 character, or -1 if it is not one. */
static int
b64val(int ch)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(alpha, ch) : NULL;

	return p ? (int) (p - alpha) : -1;
}

/* Decode len base64 chars (with '=' padding) into out; bytes written or -1. */
static int
b64decode(const char *s, size_t len, uint8_t *out, int cap)
{
	int			n = 0, bits = 0;
	uint32_t	acc = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++)
	{
		int			v = b64val((unsigned char) s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (uint8_t) (acc >> bits);
		}
	}
	return n;
}

/* Popcount of a AND b over nw words (of a alone if b is NULL). */
static inline int
popand(const uint64_t *a, const uint64_t *b, int nw)
{
	int			n = 0;

	for (int k = 0; k < nw; k++)
		n += __builtin_popcountll(b ? a[k] & b[k] : a[k]);
	return n;
}

/*
 * Fill in the popcounts and the per-segment popcounts of every layout: bit j
 * (MSB-first in each byte, clkhash's order) is in segment j / (1024 / M) of
 * the contiguous layout and in segment j % M of the modulo one.
 */
static void
clk_prepare(Clk *c, const uint8_t *bytes)
{
	int			off = 0;

	memcpy(c->w, bytes, NBYTES);	/* word k = bytes 8k..8k+7 */
	c->pop = popand(c->w, NULL, NWORDS);
	c->p256 = popand(c->w, NULL, 4);
	c->p512 = popand(c->w, NULL, 8);
	memset(c->seg, 0, sizeof(c->seg));
	for (int layout = 0; layout < 2; layout++)
		for (int m = 0; m < NM; m++)
		{
			int			M = segm[m];

			for (int j = 0; j < 1024; j++)
				c->seg[off + (layout ? j % M : j / (1024 / M))] += (bytes[j >> 3] >> (7 - (j & 7))) & 1;
			off += M;
		}
}

/* Read every quoted string that decodes to 128 bytes from a file. */
static Set
load(const char *path)
{
	Set			s = {NULL, 0};
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		sz;
	int			cap = 1024;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t) sz + 1)) ||
		!(s.c = malloc(sizeof(Clk) * (size_t) cap)) ||
		fread(buf, 1, (size_t) sz, f) != (size_t) sz)
	{
		fprintf(stderr, "%s: cannot read\n", path);
		exit(2);
	}
	buf[sz] = '\0';
	fclose(f);
	for (char *p = strchr(buf, '"'); p; p = strchr(p + 1, '"'))
	{
		char	   *q = strchr(p + 1, '"');
		uint8_t		bytes[NBYTES + 4];

		if (q && b64decode(p + 1, (size_t) (q - p - 1), bytes, sizeof(bytes)) == NBYTES)
		{
			if (s.n == cap && !(s.c = realloc(s.c, sizeof(Clk) * (size_t) (cap *= 2))))
				exit(2);
			clk_prepare(&s.c[s.n++], bytes);
		}
		if (!(p = q))
			break;
	}
	free(buf);
	if (s.n == 0)
	{
		fprintf(stderr, "%s: no 128-byte base64 CLKs found\n", path);
		exit(2);
	}
	return s;
}

/* qsort comparator for ints, ascending. */
static int
cmpint(const void *a, const void *b)
{
	return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

/* Print min, percentiles, max, mean and stdev of the popcounts of a set. */
static void
popstats(const char *name, const Set *s)
{
	int		   *p = malloc(sizeof(int) * (size_t) s->n);
	double		sum = 0, sq = 0, mean;
	static const double q[5] = {0.01, 0.05, 0.50, 0.95, 0.99};

	for (int i = 0; i < s->n; i++)
	{
		p[i] = s->c[i].pop;
		sum += p[i];
	}
	qsort(p, (size_t) s->n, sizeof(int), cmpint);
	mean = sum / s->n;
	for (int i = 0; i < s->n; i++)
		sq += (p[i] - mean) * (p[i] - mean);
	printf("%-6s n=%5d min=%d", name, s->n, p[0]);
	for (int k = 0; k < 5; k++)		/* nearest rank */
		printf(" p%g=%d", q[k] * 100, p[(int) (q[k] * (s->n - 1) + 0.5)]);
	printf(" max=%d mean=%.1f sd=%.1f\n", p[s->n - 1], mean, sqrt(sq / s->n));
	free(p);
}

/*
 * Count (into skip) the thresholds that bound value 2*x/den falls below,
 * and count in bad any such threshold that the true Dice 2*inter/tden meets.
 */
static inline void
tally(long long *skip, int x, int den, long long w, int inter, int tden, long long *bad)
{
	double		d = 2.0 * x / den, dice = 2.0 * inter / tden;

	for (int k = 0; k < NT; k++)
		if (d < thr[k])
		{
			skip[k] += w;
			*bad += dice >= thr[k];
		}
}

/* Compare all of A with all of B and print the table. */
int
main(int argc, char **argv)
{
	static long long skip[NMETH][NT], truecnt[NT], bad;
	static const char *const segname[2] = {"contig", "mod"};
	Set			A, B;
	int		   *ord;
	double		npairs;

	if (argc != 3)
	{
		fprintf(stderr, "usage: %s A.json B.json\n", argv[0]);
		return 2;
	}
	A = load(argv[1]);
	B = load(argv[2]);
	popstats("A", &A);
	popstats("B", &B);

	for (int i = 0; i < A.n; i++)
	{
		const Clk  *a = &A.c[i];

		for (int j = 0; j < B.n; j++)
		{
			const Clk  *b = &B.c[j];
			int			den = a->pop + b->pop, off = 0;
			int			i256 = popand(a->w, b->w, 4);
			int			i512 = i256 + popand(a->w + 4, b->w + 4, 4);
			int			inter = i512 + popand(a->w + 8, b->w + 8, 8);

			tally(skip[POP], MIN(a->pop, b->pop), den, 1, inter, den, &bad);
			for (int c = 0; c < NSEGCFG; c++)
			{
				int			M = segm[c % NM], ub = 0;

				for (int s = 0; s < M; s++)
					ub += MIN(a->seg[off + s], b->seg[off + s]);
				off += M;
				tally(skip[SEG0 + c], ub, den, 1, inter, den, &bad);
			}
			tally(skip[PRE256], i256 + MIN(a->pop - a->p256, b->pop - b->p256),
				  den, 1, inter, den, &bad);
			tally(skip[PRE512], i512 + MIN(a->pop - a->p512, b->pop - b->p512),
				  den, 1, inter, den, &bad);
			for (int k = 0; k < NT; k++)
				truecnt[k] += 2.0 * inter / den >= thr[k];
		}
	}

	/* Group (union signature) bound over popcount-sorted runs of targets. */
	if (!(ord = malloc(sizeof(int) * 2 * (size_t) B.n)))
		return 2;
	for (int j = 0; j < B.n; j++)
	{
		ord[2 * j] = B.c[j].pop;
		ord[2 * j + 1] = j;
	}
	qsort(ord, (size_t) B.n, 2 * sizeof(int), cmpint);	/* by popcount */
	for (int g = 0; g < 2; g++)
		for (int start = 0; start < B.n; start += groupg[g])
		{
			int			end = MIN(start + groupg[g], B.n);
			int			minpop = ord[2 * start], maxpop = ord[2 * (end - 1)];
			uint64_t	u[NWORDS] = {0};

			for (int j = start; j < end; j++)
				for (int k = 0; k < NWORDS; k++)
					u[k] |= B.c[ord[2 * j + 1]].w[k];
			for (int i = 0; i < A.n; i++)
			{
				const Clk  *a = &A.c[i];
				int			ub = MIN(popand(a->w, u, NWORDS), maxpop);

				for (int j = start; j < end; j++)	/* tally each member */
				{
					const Clk  *b = &B.c[ord[2 * j + 1]];

					tally(skip[GRP16 + g], ub, a->pop + minpop, 1,
						  popand(a->w, b->w, NWORDS), a->pop + b->pop, &bad);
				}
			}
		}
	free(ord);

	npairs = (double) A.n * B.n;
	printf("\nfraction of %.0f (query,target) pairs skipped\n%-15s", npairs, "method");
	for (int k = 0; k < NT; k++)
		printf("    t=%.2f", thr[k]);
	for (int m = 0; m < NMETH; m++)
	{
		if (m == POP)
			printf("\n%-15s", "popcount");
		else if (m < PRE256)
			printf("\nseg-%-6s M=%-2d", segname[(m - SEG0) / NM], segm[(m - SEG0) % NM]);
		else if (m < GRP16)
			printf("\nprefix %-8d", m == PRE256 ? 256 : 512);
		else
			printf("\ngroup G=%-7d", groupg[m - GRP16]);
		for (int k = 0; k < NT; k++)
			printf("    %6.4f", skip[m][k] / npairs);
	}
	printf("\n%-15s", "pairs>=t");
	for (int k = 0; k < NT; k++)
		printf("%10lld", truecnt[k]);
	printf("\n%-15s", "per query");
	for (int k = 0; k < NT; k++)
		printf("%10.2f", (double) truecnt[k] / A.n);
	printf("\n");
	free(A.c);
	free(B.c);
	if (bad)
		fprintf(stderr, "ERROR: a bound skipped a pair with Dice >= t\n");
	return bad ? 1 : 0;
}
