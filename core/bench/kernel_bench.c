/*
 * kernel_bench.c
 *	  Comparisons per second of every popcount kernel path on this CPU.
 *
 * A comparison is |A AND B| of two 1024-bit CLKs, the quantity candidate
 * generation needs per pair (the operands' own popcounts are cached).  Two
 * ways of calling each path are measured on the same data:
 *
 *	 tiled     and_count_block over tiles of TILE_Q queries by NTARGETS
 *			   cache-resident targets: the kernel figure, compared with the
 *			   goal of GOAL_MCMP million comparisons per second per core;
 *	 pairwise  and_count(a, b, 128) through the path's function pointer, one
 *			   call per pair: what SQL dice() and % do for every row pair.
 *
 * Single thread, so every figure is per core.  Each measurement repeats
 * whole passes over the data until at least MIN_SECONDS have elapsed
 * (optional first argument: seconds per measurement).  Every pass folds all
 * results into a checksum, so no work can be optimised away, and every
 * path's results are checked against the portable path's, pair by pair; a
 * mismatch is reported loudly and makes the exit status non-zero.  Missing
 * the performance goal is reported but is not an error.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pprl/clk_kernels.h"

#define NBYTES 128				/* 1024-bit CLKs */
#define NTARGETS 2048			/* target block: 256 KiB, stays in cache */
#define NQUERIES 1024			/* queries streamed over it, 128 KiB */
#define TILE_Q 64				/* queries per and_count_block call */
#define MIN_SECONDS 1.0			/* default length of one measurement */
#define GOAL_MCMP 1000.0		/* kernel goal, AVX-512 tiled, per core */
#define ANONLINK_MCMP 190.0		/* anonlink's C++ kernel on this machine */

/* One pass over all NQUERIES x NTARGETS pairs; returns the pass checksum. */
typedef uint64_t (*PassFn) (const ClkKernel *k, const uint8_t *q,
							const uint8_t *t, uint32_t *out);

/* One measurement: rate and the checksum of one pass. */
typedef struct Measure
{
	double		mcmp_per_s;		/* million comparisons per second */
	uint64_t	checksum;		/* checksum of a single pass */
	bool		stable;			/* every pass gave the same checksum */
} Measure;

/* Deterministic xorshift64 generator so every run compares the same data. */
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
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Fill nvec vectors with random bits, each bit set with probability 1/2. */
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

/*
 * Fold n counts into a checksum.  Each count is XORed with its position
 * first, so results written to the wrong place change the sum too.
 */
static uint64_t
fold_counts(const uint32_t *out, size_t n)
{
	uint64_t	sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += out[i] ^ (uint32_t) i;
	return sum;
}

/*
 * Tiled pass: TILE_Q queries at a time against the whole target block,
 * each tile's NTARGETS x TILE_Q results folded into the checksum (the fold
 * is timed too, as any consumer of the results has to read them).
 */
static uint64_t
tiled_pass(const ClkKernel *k, const uint8_t *q, const uint8_t *t,
		   uint32_t *out)
{
	uint64_t	sum = 0;

	for (size_t i = 0; i < NQUERIES; i += TILE_Q)
	{
		k->and_count_block(q + i * NBYTES, TILE_Q, NBYTES, t, NTARGETS,
						   NBYTES, NBYTES, out);
		sum = sum * 31 + fold_counts(out, (size_t) TILE_Q * NTARGETS);
	}
	return sum;
}

/* Pairwise pass: one call of the path's and_count per pair. */
static uint64_t
pairwise_pass(const ClkKernel *k, const uint8_t *q, const uint8_t *t,
			  uint32_t *out)
{
	uint64_t	(*and_count) (const uint8_t *, const uint8_t *, size_t) = k->and_count;
	uint64_t	sum = 0;

	(void) out;
	for (size_t i = 0; i < NQUERIES; i += TILE_Q)
	{
		uint64_t	tile = 0;

		/* Same pair order and position mixing as fold_counts over a tile. */
		for (size_t r = 0; r < TILE_Q; r++)
			for (size_t j = 0; j < NTARGETS; j++)
			{
				uint32_t	c = (uint32_t) and_count(q + (i + r) * NBYTES,
													 t + j * NBYTES, NBYTES);

				tile += c ^ (uint32_t) (r * NTARGETS + j);
			}
		sum = sum * 31 + tile;
	}
	return sum;
}

/* Repeat whole passes until `seconds` have elapsed; return rate and checksum. */
static Measure
measure(PassFn pass, const ClkKernel *k, const uint8_t *q, const uint8_t *t,
		uint32_t *out, double seconds)
{
	Measure		m = {0.0, 0, true};
	long		passes = 0;
	double		t0,
				elapsed;

	m.checksum = pass(k, q, t, out);	/* warm-up; also the reference sum */
	t0 = now_s();
	do
	{
		if (pass(k, q, t, out) != m.checksum)
			m.stable = false;
		passes++;
		elapsed = now_s() - t0;
	} while (elapsed < seconds);
	m.mcmp_per_s = (double) passes * NQUERIES * NTARGETS / elapsed / 1e6;
	return m;
}

/*
 * Untimed exact check: every result of a path, tiled and pairwise, against
 * the portable path's pairwise results.  Returns the number of mismatches.
 */
static long
verify_path(const ClkKernel *k, const uint8_t *q, const uint8_t *t,
			const uint32_t *ref, uint32_t *out)
{
	long		bad = 0;

	for (size_t i = 0; i < NQUERIES; i += TILE_Q)
	{
		k->and_count_block(q + i * NBYTES, TILE_Q, NBYTES, t, NTARGETS,
						   NBYTES, NBYTES, out);
		for (size_t p = 0; p < (size_t) TILE_Q * NTARGETS; p++)
		{
			const uint8_t *qa = q + (i + p / NTARGETS) * NBYTES;
			const uint8_t *tb = t + (p % NTARGETS) * NBYTES;
			uint32_t	want = ref[i * NTARGETS + p];

			if (out[p] != want || k->and_count(qa, tb, NBYTES) != want)
				bad++;
		}
	}
	return bad;
}

/* Benchmark every path this CPU supports, best first, and print a table. */
int
main(int argc, char **argv)
{
	double		seconds = argc > 1 ? atof(argv[1]) : MIN_SECONDS;
	uint8_t    *q = malloc((size_t) NQUERIES * NBYTES);
	uint8_t    *t = malloc((size_t) NTARGETS * NBYTES);
	uint32_t   *ref = malloc((size_t) NQUERIES * NTARGETS * sizeof(uint32_t));
	uint32_t   *out = malloc((size_t) TILE_Q * NTARGETS * sizeof(uint32_t));
	Measure		tiled[CLK_SIMD_NPATHS],
				pair[CLK_SIMD_NPATHS];
	bool		have[CLK_SIMD_NPATHS] = {false};
	int			failures = 0;

	if (!q || !t || !ref || !out)
	{
		fprintf(stderr, "kernel_bench: out of memory\n");
		return 2;
	}
	if (!(seconds > 0.0))
		seconds = MIN_SECONDS;
	/* Line-buffered, so the table and any stderr alarms interleave in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	clk_kern_init();
	fill_random(q, NQUERIES, 42);
	fill_random(t, NTARGETS, 4242);
	for (size_t i = 0; i < NQUERIES; i++)
		for (size_t j = 0; j < NTARGETS; j++)
			ref[i * NTARGETS + j] = (uint32_t)
				clk_kern_portable.and_count(q + i * NBYTES, t + j * NBYTES, NBYTES);

	printf("pg_pprl kernel benchmark: 1024-bit CLKs (~50%% of bits set), 1 thread = per core\n");
	printf("  tiled:    and_count_block, tiles of %d queries x %d cache-resident targets (%d KiB)\n",
		   TILE_Q, NTARGETS, NTARGETS * NBYTES / 1024);
	printf("            (timed together with reading every result into a checksum)\n");
	printf("  pairwise: and_count(a, b, %d) through the function pointer, one call per pair\n",
		   NBYTES);
	printf("            (what SQL dice() and %% do for each row pair)\n");
	printf("  %d x %d = %d comparisons per pass, passes repeated for >= %.2f s per figure;\n",
		   NQUERIES, NTARGETS, NQUERIES * NTARGETS, seconds);
	printf("  every result checked against the portable path\n\n");

	for (int p = CLK_SIMD_NPATHS - 1; p >= 0; p--)
	{
		const ClkKernel *k = clk_kern_get((ClkSimdPath) p);
		long		bad;

		if (!k)
			continue;
		bad = verify_path(k, q, t, ref, out);
		if (bad)
		{
			fprintf(stderr, "*** MISMATCH: path %s gives %ld wrong results of %d against portable ***\n",
					k->name, bad, NQUERIES * NTARGETS);
			failures++;
		}
		tiled[p] = measure(tiled_pass, k, q, t, out, seconds);
		pair[p] = measure(pairwise_pass, k, q, t, out, seconds);
		have[p] = true;
		if (!tiled[p].stable || !pair[p].stable)
		{
			fprintf(stderr, "*** MISMATCH: path %s gave different checksums on repeated passes ***\n",
					k->name);
			failures++;
		}
	}

	printf("%-9s %14s %12s %16s %12s  %-18s %s\n", "path", "tiled Mcmp/s",
		   "vs portable", "pairwise Mcmp/s", "vs portable", "checksum", "check");
	for (int p = CLK_SIMD_NPATHS - 1; p >= 0; p--)
	{
		const char *name = clk_kern_path_name((ClkSimdPath) p);
		bool		ok;

		if (!have[p])
		{
			printf("%-9s %14s %12s %16s %12s  %-18s %s\n", name, "-", "-", "-", "-",
				   "-", "not supported by this CPU");
			continue;
		}
		ok = tiled[p].checksum == tiled[CLK_SIMD_PORTABLE].checksum &&
			pair[p].checksum == pair[CLK_SIMD_PORTABLE].checksum &&
			tiled[p].checksum == pair[p].checksum &&
			tiled[p].stable && pair[p].stable;
		if (!ok)
		{
			fprintf(stderr, "*** MISMATCH: path %s checksum tiled=%016" PRIx64
					" pairwise=%016" PRIx64 ", portable tiled=%016" PRIx64 " ***\n",
					name, tiled[p].checksum, pair[p].checksum,
					tiled[CLK_SIMD_PORTABLE].checksum);
			failures++;
		}
		printf("%-9s %14.1f %11.2fx %16.1f %11.2fx  %016" PRIx64 "   %s\n", name,
			   tiled[p].mcmp_per_s,
			   tiled[p].mcmp_per_s / tiled[CLK_SIMD_PORTABLE].mcmp_per_s,
			   pair[p].mcmp_per_s,
			   pair[p].mcmp_per_s / pair[CLK_SIMD_PORTABLE].mcmp_per_s,
			   tiled[p].checksum, ok ? "ok" : "MISMATCH");
	}
	printf("\n");
	if (have[CLK_SIMD_AVX512])
	{
		double		r = tiled[CLK_SIMD_AVX512].mcmp_per_s;

		printf("goal: AVX-512 tiled >= %.0f Mcmp/s per core: measured %.1f Mcmp/s = %.2fx the goal -> %s\n",
			   GOAL_MCMP, r, r / GOAL_MCMP, r >= GOAL_MCMP ? "PASS" : "MISS");
	}
	else
		printf("goal: AVX-512 tiled >= %.0f Mcmp/s per core: not checked, this CPU has no AVX-512 VPOPCNTDQ\n",
			   GOAL_MCMP);
	printf("reference, NOT measured in this run: anonlink's C++ kernel does ~%.0f Mcmp/s per core\n",
		   ANONLINK_MCMP);
	printf("  on this machine; best path here (%s, tiled) is %.1fx that figure\n",
		   clk_kern_path_name(clk_kern_best()),
		   tiled[clk_kern_best()].mcmp_per_s / ANONLINK_MCMP);

	free(q);
	free(t);
	free(ref);
	free(out);
	if (failures)
	{
		fprintf(stderr, "*** kernel_bench: %d check(s) FAILED: kernel paths disagree ***\n",
				failures);
		return 1;
	}
	return 0;
}
