/*
 * kernel_test.c
 *	  Every kernel path must give the reference answer on the same data.
 *
 * Checks popcount, and_count and and_count_block of each supported path
 * against a bit-by-bit reference, over all lengths from 1 to 300 bytes and
 * the CLK sizes that matter (128 bytes, 8192 bytes), unaligned pointers,
 * tiles of every shape around the 4x4 register tile, and dense, sparse,
 * all-zero and all-one vectors.  `--require PATH` fails the run when a
 * path expected on this CPU is missing, so CI cannot silently skip it.
 * Prints "N passed, N failed" as its last line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/clk_kernels.h"

#include "unit.h"

/* One kernel check, described by path, operation and sizes. */
#define kcheck(ok, path, what, n, extra) \
	check((ok), "path=%s %s n=%zu (%zu)", (path), (what), (size_t) (n), (size_t) (extra))

/* Reference: count bits one at a time. */
static uint64_t
ref_count(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t	c = 0;

	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++)
			c += ((a[i] & (b ? b[i] : 0xff)) >> bit) & 1;
	return c;
}

/* Deterministic xorshift generator. */
static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Fill a buffer; density 0..4 chooses all-zero, sparse, half, dense, all-one. */
static void
fill(uint8_t *buf, size_t n, int density, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
	{
		uint8_t		r = (uint8_t) rng(s);

		switch (density)
		{
			case 0:
				buf[i] = 0;
				break;
			case 1:
				buf[i] = r & (uint8_t) rng(s) & (uint8_t) rng(s);
				break;
			case 2:
				buf[i] = r;
				break;
			case 3:
				buf[i] = r | (uint8_t) rng(s);
				break;
			default:
				buf[i] = 0xff;
		}
	}
}

/* popcount and and_count of one path over many lengths and offsets. */
static void
test_pairs(const ClkKernel *k)
{
	uint64_t	s = 0x9e3779b97f4a7c15ULL;
	static uint8_t a[8192 + 64],
				b[8192 + 64];
	size_t		lens[] = {128, 8192, 1024, 256, 64, 63, 65, 127, 129};

	for (size_t n = 1; n <= 300 + 9; n++)
	{
		size_t		len = n <= 300 ? n : lens[n - 301];

		for (int density = 0; density <= 4; density++)
		{
			size_t		off = (n + (size_t) density) % 7;

			fill(a + off, len, density, &s);
			fill(b + 1, len, 2, &s);
			kcheck(k->popcount(a + off, len) == ref_count(a + off, NULL, len),
				  k->name, "popcount", len, off);
			kcheck(k->and_count(a + off, b + 1, len) == ref_count(a + off, b + 1, len),
				  k->name, "and_count", len, off);
		}
	}
}

/* and_count_block of one path for tiles of every shape near 4x4. */
static void
test_blocks(const ClkKernel *k)
{
	uint64_t	s = 12345;
	size_t		sizes[] = {128, 8, 64, 200};

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
	{
		size_t		n = sizes[si];
		size_t		qstride = n + 3,
					stride = n + 5;
		uint8_t    *q = malloc(9 * qstride + 1);
		uint8_t    *t = malloc(11 * stride + 1);
		uint32_t	out[9 * 11];

		fill(q, 9 * qstride + 1, 2, &s);
		fill(t, 11 * stride + 1, 3, &s);
		for (size_t nq = 0; nq <= 9; nq++)
			for (size_t count = 0; count <= 11; count++)
			{
				int			ok = 1;

				memset(out, 0xee, sizeof(out));
				k->and_count_block(q + 1, nq, qstride, t + 1, count, stride, n, out);
				for (size_t i = 0; i < nq; i++)
					for (size_t j = 0; j < count; j++)
						ok &= out[i * count + j] ==
							ref_count(q + 1 + i * qstride, t + 1 + j * stride, n);
				/* Nothing written past the tile. */
				if (nq * count < 9 * 11)
					ok &= out[nq * count] == 0xeeeeeeeeU;
				kcheck(ok, k->name, "and_count_block", n, nq * 100 + count);
			}
		free(q);
		free(t);
	}
}

/* Run every supported path; honour --require PATH. */
int
main(int argc, char **argv)
{
	int			tested = 0;

	clk_kern_init();
	for (int i = 1; i + 1 < argc; i += 2)
	{
		if (strcmp(argv[i], "--require") != 0)
			continue;
		for (int p = 0; p < CLK_SIMD_NPATHS; p++)
			if (strcmp(argv[i + 1], clk_kern_path_name((ClkSimdPath) p)) == 0)
				kcheck(clk_kern_supported((ClkSimdPath) p), argv[i + 1],
					  "required path supported", 0, 0);
	}
	for (int p = 0; p < CLK_SIMD_NPATHS; p++)
	{
		const ClkKernel *k = clk_kern_get((ClkSimdPath) p);

		if (!k)
		{
			printf("skip path=%s (not supported by this CPU)\n",
				   clk_kern_path_name((ClkSimdPath) p));
			continue;
		}
		test_pairs(k);
		test_blocks(k);
		tested++;
		printf("tested path=%s\n", k->name);
	}
	/* Selection falls back safely and reports what is active. */
	clk_kern_select(CLK_SIMD_PORTABLE);
	kcheck(clk_kern_active() == CLK_SIMD_PORTABLE, "dispatch", "select portable", 0, 0);
	clk_kern_select(clk_kern_best());
	kcheck(clk_kern_active() == clk_kern_best(), "dispatch", "select best", 0, 0);
	kcheck(tested >= 1, "dispatch", "at least one path", 0, 0);
	return test_summary();
}
