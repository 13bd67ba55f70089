/*
 * kernel_bench.c
 *	  Comparisons per second of every popcount kernel path on this CPU.
 *
 * A comparison is what candidate generation does per pair: |A AND B| for
 * two 1024-bit CLKs, then the exact Dice threshold test against cached
 * popcounts.  Targets are a cache-resident block (as the tiled matcher
 * uses them), queries stream over it.  Single thread, so figures are per
 * core.  Output is one line per path, machine-readable (key=value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/kernels/clk_kernels.h"

#define NBYTES 128
#define NTARGETS 2048
#define NQUERIES 256

/* Deterministic xorshift generator so every run compares the same data. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Seconds on the monotonic clock. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Fill n vectors with random bits, each bit set with probability 1/2. */
static void
fill_random(uint8_t *buf, size_t nvec, uint64_t seed)
{
	uint64_t	s = seed;

	for (size_t i = 0; i < nvec * NBYTES; i += 8)
	{
		uint64_t	r = rng_next(&s);

		memcpy(buf + i, &r, 8);
	}
}

/* Run the tiled kernel of one path and return comparisons per second. */
static double
bench_path(const ClkKernel *k, const uint8_t *q, const uint8_t *t,
		   const uint32_t *pc_q, const uint32_t *pc_t, double threshold,
		   uint64_t *matches_out)
{
	uint32_t   *out = malloc(NTARGETS * sizeof(uint32_t));
	double		t0,
				elapsed;
	uint64_t	matches = 0;
	long		rounds = 0;
	/* Exact Dice test without division: 2C >= t (A + B), in double. */

	t0 = now_s();
	do
	{
		for (int i = 0; i < NQUERIES; i++)
		{
			double		twice = 2.0 / threshold;

			k->and_count_block(q + (size_t) i * NBYTES, 1, NBYTES, t, NTARGETS, NBYTES, NBYTES, out);
			for (int j = 0; j < NTARGETS; j++)
				matches += (out[j] * twice >= (double) (pc_q[i] + pc_t[j]));
		}
		rounds++;
		elapsed = now_s() - t0;
	} while (elapsed < 0.5);
	free(out);
	*matches_out = matches / rounds;
	return (double) rounds * NQUERIES * NTARGETS / elapsed;
}

/* Benchmark every path this CPU supports, best first. */
int
main(int argc, char **argv)
{
	uint8_t    *q = malloc((size_t) NQUERIES * NBYTES);
	uint8_t    *t = malloc((size_t) NTARGETS * NBYTES);
	uint32_t	pc_q[NQUERIES],
				pc_t[NTARGETS];
	double		threshold = argc > 1 ? atof(argv[1]) : 0.8;

	clk_kern_init();
	fill_random(q, NQUERIES, 42);
	fill_random(t, NTARGETS, 4242);
	/* Plant near-copies so the threshold test has matches to find. */
	for (int i = 0; i < NQUERIES; i += 8)
	{
		memcpy(t + (size_t) (i * 5) * NBYTES, q + (size_t) i * NBYTES, NBYTES);
		t[(size_t) (i * 5) * NBYTES] ^= 0x81;
	}
	for (int i = 0; i < NQUERIES; i++)
		pc_q[i] = (uint32_t) clk_kern_portable.popcount(q + (size_t) i * NBYTES, NBYTES);
	for (int j = 0; j < NTARGETS; j++)
		pc_t[j] = (uint32_t) clk_kern_portable.popcount(t + (size_t) j * NBYTES, NBYTES);

	for (int p = CLK_SIMD_NPATHS - 1; p >= 0; p--)
	{
		const ClkKernel *k = clk_kern_get((ClkSimdPath) p);
		uint64_t	matches;
		double		rate;

		if (!k)
		{
			printf("path=%s supported=no\n", clk_kern_path_name((ClkSimdPath) p));
			continue;
		}
		rate = bench_path(k, q, t, pc_q, pc_t, threshold, &matches);
		printf("path=%s supported=yes cmp_per_s=%.0f matches=%llu\n",
			   k->name, rate, (unsigned long long) matches);
	}
	free(q);
	free(t);
	return 0;
}
