/*
 * clk_kernels.h
 *	  Popcount kernels for CLK bit vectors, with runtime CPU dispatch.
 *
 * This module is plain C11 with no PostgreSQL dependency, so that the
 * extension, the standalone kernel tests, the fuzzers and the benchmark all
 * link the very same code.  Every path (portable C, hardware POPCNT, AVX2,
 * AVX-512 VPOPCNTDQ) computes the same integers; only the speed differs.
 * No path is compiled with -march flags: each SIMD function carries its own
 * target attribute and is only ever called after a CPUID check.
 */
#ifndef CLK_KERNELS_H
#define CLK_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The kernel paths, in increasing order of preference. */
typedef enum ClkSimdPath
{
	CLK_SIMD_PORTABLE = 0,
	CLK_SIMD_POPCNT,
	CLK_SIMD_AVX2,
	CLK_SIMD_AVX512,
	CLK_SIMD_NPATHS
} ClkSimdPath;

/*
 * One path's kernels.  Lengths are in bytes; pointers need no alignment.
 *
 * and_count_block compares a tile of `nq` queries (laid out `qstride` bytes
 * apart from `q`) against `count` targets (`stride` bytes apart from
 * `base`), writing |q_i AND b_j| to out[i * count + j].  It is the tiled
 * inner loop of candidate generation: a block of targets small enough to
 * stay in cache is loaded once for several queries.
 */
typedef struct ClkKernel
{
	const char *name;
	uint64_t	(*popcount) (const uint8_t *a, size_t n);
	uint64_t	(*and_count) (const uint8_t *a, const uint8_t *b, size_t n);
	void		(*and_count_block) (const uint8_t *q, size_t nq, size_t qstride,
									const uint8_t *base, size_t count,
									size_t stride, size_t n, uint32_t *out);
} ClkKernel;

/* The active kernels; never NULL once clk_kern_init() has run. */
extern const ClkKernel *clk_kern;

extern void clk_kern_init(void);
extern bool clk_kern_supported(ClkSimdPath path);
extern ClkSimdPath clk_kern_best(void);
extern const ClkKernel *clk_kern_get(ClkSimdPath path);
extern void clk_kern_select(ClkSimdPath path);
extern ClkSimdPath clk_kern_active(void);
extern const char *clk_kern_path_name(ClkSimdPath path);

/* Per-path tables, defined in kernel_<path>.c. */
extern const ClkKernel clk_kern_portable;
extern const ClkKernel clk_kern_popcnt;
extern const ClkKernel clk_kern_avx2;
extern const ClkKernel clk_kern_avx512;

#endif							/* CLK_KERNELS_H */
