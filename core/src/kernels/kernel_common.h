/*
 * kernel_common.h
 *	  Small helpers shared by the kernel paths (private to kernels/).
 */
#ifndef CLK_KERNEL_COMMON_H
#define CLK_KERNEL_COMMON_H

#include <string.h>

#include "pprl/clk_kernels.h"

typedef uint64_t (*ClkAndCountFn) (const uint8_t *a, const uint8_t *b, size_t n);

/* Load 8 bytes without any alignment requirement (compiles to one mov). */
static inline uint64_t
clk_load64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * A query-by-target tile computed pair by pair with one path's and_count;
 * paths without a specialised tile use this.  Inlined with a constant
 * function, the pair kernel is inlined into the loop as well.
 */
static inline void
clk_block_by_pairs(ClkAndCountFn fn, const uint8_t *q, size_t nq, size_t qstride,
				   const uint8_t *base, size_t count, size_t stride, size_t n,
				   uint32_t *out)
{
	for (size_t i = 0; i < nq; i++)
		for (size_t j = 0; j < count; j++)
			out[i * count + j] = (uint32_t) fn(q + i * qstride, base + j * stride, n);
}

#endif							/* CLK_KERNEL_COMMON_H */
