/*
 * kernel_popcnt.c
 *	  Popcount kernels using the hardware POPCNT instruction.
 *
 * Four independent accumulators break the false output dependency that
 * POPCNT has on some Intel cores (the trick anonlink's kernel uses too).
 * The functions carry target("popcnt") so the file needs no -mpopcnt; they
 * are only reached after clk_kern_supported(CLK_SIMD_POPCNT) said yes.
 */
#include "kernel_common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CLK_HAVE_X86 1
#define POPCNT_TARGET __attribute__((target("popcnt")))
#else
#define POPCNT_TARGET
#endif

/* Count the set bits of an n-byte vector with POPCNT. */
POPCNT_TARGET
static uint64_t
popcnt_popcount(const uint8_t *a, size_t n)
{
	uint64_t	c0 = 0,
				c1 = 0,
				c2 = 0,
				c3 = 0;
	size_t		i = 0;

	for (; i + 32 <= n; i += 32)
	{
		c0 += (uint64_t) __builtin_popcountll(clk_load64(a + i));
		c1 += (uint64_t) __builtin_popcountll(clk_load64(a + i + 8));
		c2 += (uint64_t) __builtin_popcountll(clk_load64(a + i + 16));
		c3 += (uint64_t) __builtin_popcountll(clk_load64(a + i + 24));
	}
	for (; i + 8 <= n; i += 8)
		c0 += (uint64_t) __builtin_popcountll(clk_load64(a + i));
	for (; i < n; i++)
		c1 += (uint64_t) __builtin_popcount(a[i]);
	return c0 + c1 + c2 + c3;
}

/* Count the bits set in both of two n-byte vectors with POPCNT. */
POPCNT_TARGET
static uint64_t
popcnt_and_count(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t	c0 = 0,
				c1 = 0,
				c2 = 0,
				c3 = 0;
	size_t		i = 0;

	for (; i + 32 <= n; i += 32)
	{
		c0 += (uint64_t) __builtin_popcountll(clk_load64(a + i) & clk_load64(b + i));
		c1 += (uint64_t) __builtin_popcountll(clk_load64(a + i + 8) & clk_load64(b + i + 8));
		c2 += (uint64_t) __builtin_popcountll(clk_load64(a + i + 16) & clk_load64(b + i + 16));
		c3 += (uint64_t) __builtin_popcountll(clk_load64(a + i + 24) & clk_load64(b + i + 24));
	}
	for (; i + 8 <= n; i += 8)
		c0 += (uint64_t) __builtin_popcountll(clk_load64(a + i) & clk_load64(b + i));
	for (; i < n; i++)
		c1 += (uint64_t) __builtin_popcount((unsigned) (a[i] & b[i]));
	return c0 + c1 + c2 + c3;
}

/* A query-by-target tile, pair by pair. */
POPCNT_TARGET
static void
popcnt_and_count_block(const uint8_t *q, size_t nq, size_t qstride,
                        const uint8_t *base, size_t count, size_t stride,
                        size_t n, uint32_t *out)
{
	clk_block_by_pairs(popcnt_and_count, q, nq, qstride, base, count, stride, n, out);
}

const ClkKernel clk_kern_popcnt = {
	"popcnt",
	popcnt_popcount,
	popcnt_and_count,
	popcnt_and_count_block
};
