/*
 * kernel_portable.c
 *	  Portable C popcount kernels: SWAR bit counting, no special instructions.
 *
 * This path runs on any CPU and is the reference the other paths are tested
 * against.  It avoids __builtin_popcount, which without -mpopcnt becomes a
 * libgcc call per word.
 */
#include "kernel_common.h"

/* Count the set bits of one 64-bit word with the classic SWAR reduction. */
static inline uint64_t
swar_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* Count the set bits of the n-byte tail (n < 8) of a vector. */
static inline uint64_t
tail_bytes(const uint8_t *a, size_t n)
{
	uint64_t	v = 0;

	memcpy(&v, a, n);
	return swar_popcount64(v);
}

/* Count the set bits of an n-byte vector. */
static uint64_t
portable_popcount(const uint8_t *a, size_t n)
{
	uint64_t	c = 0;
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
		c += swar_popcount64(clk_load64(a + i));
	if (i < n)
		c += tail_bytes(a + i, n - i);
	return c;
}

/* Count the bits set in both of two n-byte vectors. */
static uint64_t
portable_and_count(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t	c = 0;
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
		c += swar_popcount64(clk_load64(a + i) & clk_load64(b + i));
	for (; i < n; i++)
		c += swar_popcount64((uint64_t) (a[i] & b[i]));
	return c;
}

/* A query-by-target tile, pair by pair. */
static void
portable_and_count_block(const uint8_t *q, size_t nq, size_t qstride,
                          const uint8_t *base, size_t count, size_t stride,
                          size_t n, uint32_t *out)
{
	clk_block_by_pairs(portable_and_count, q, nq, qstride, base, count, stride, n, out);
}

const ClkKernel clk_kern_portable = {
	"portable",
	portable_popcount,
	portable_and_count,
	portable_and_count_block
};
