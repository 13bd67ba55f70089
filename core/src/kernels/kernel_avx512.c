/*
 * kernel_avx512.c
 *	  Popcount kernels using AVX-512 VPOPCNTDQ.
 *
 * VPOPCNTQ counts eight 64-bit lanes at once; byte-masked loads (AVX512BW)
 * handle any tail without reading past the end of a vector.  The 1024-bit
 * case, which is what CLKs almost always are, keeps the query in two
 * registers per query (64-byte halves: one), tiles four queries by four
 * targets, and packs the per-lane counts of four targets into 16-bit fields
 * of one register, so a single horizontal reduction serves four comparisons.  Dispatch calls these only after CPUID and XGETBV confirm
 * AVX512F, AVX512BW, VPOPCNTDQ and OS support for the ZMM state.
 */
#include "kernel_common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))

/* Mask selecting the first r bytes of a 64-byte block (0 < r < 64). */
static inline uint64_t
tail_mask(size_t r)
{
	return (UINT64_C(1) << r) - 1;
}

/*
 * Count bits of a (or of a AND b when b is not NULL) over n bytes: whole
 * 64-byte blocks, then one masked block for the tail.
 */
AVX512_TARGET
static inline uint64_t
avx512_count(const uint8_t *a, const uint8_t *b, size_t n)
{
	__m512i		acc = _mm512_setzero_si512();
	size_t		i = 0;

	for (; i + 64 <= n; i += 64)
	{
		__m512i		v = _mm512_loadu_si512((const void *) (a + i));

		if (b)
			v = _mm512_and_si512(v, _mm512_loadu_si512((const void *) (b + i)));
		acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(v));
	}
	if (i < n)
	{
		__mmask64	m = (__mmask64) tail_mask(n - i);
		__m512i		v = _mm512_maskz_loadu_epi8(m, (const void *) (a + i));

		if (b)
			v = _mm512_and_si512(v, _mm512_maskz_loadu_epi8(m, (const void *) (b + i)));
		acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(v));
	}
	return (uint64_t) _mm512_reduce_add_epi64(acc);
}

/* Count the set bits of an n-byte vector with VPOPCNTQ. */
AVX512_TARGET
static uint64_t
avx512_popcount(const uint8_t *a, size_t n)
{
	return avx512_count(a, NULL, n);
}

/* Count the bits set in both of two n-byte vectors with VPOPCNTQ. */
AVX512_TARGET
static uint64_t
avx512_and_count(const uint8_t *a, const uint8_t *b, size_t n)
{
	return avx512_count(a, b, n);
}

/* Per-lane counts of q AND t over nz (1 or 2) 512-bit registers. */
AVX512_TARGET
static inline __m512i
lanes(__m512i q0, __m512i q1, __m512i t0, __m512i t1, int nz)
{
	__m512i		c = _mm512_popcnt_epi64(_mm512_and_si512(q0, t0));

	return nz == 2 ? _mm512_add_epi64(c, _mm512_popcnt_epi64(_mm512_and_si512(q1, t1))) : c;
}

/* Load one vector of nz registers (the second is unused when nz == 1). */
#define LOAD_Z(p, r0, r1, nz) \
	do { \
		(r0) = _mm512_loadu_si512((const void *) (p)); \
		(r1) = (nz) == 2 ? _mm512_loadu_si512((const void *) ((p) + 64)) : (r0); \
	} while (0)

/* Write the four 16-bit fields of a packed reduction to out[0..3]. */
static inline void
unpack4(uint64_t s, uint32_t *out)
{
	out[0] = (uint32_t) (s & 0xffff);
	out[1] = (uint32_t) ((s >> 16) & 0xffff);
	out[2] = (uint32_t) ((s >> 32) & 0xffff);
	out[3] = (uint32_t) (s >> 48);
}

/* OR target k's lane counts into 16-bit field k of a packed register. */
#define PACK_LANES(p, k, q0, q1, nz) \
	((p) = _mm512_or_si512((p), _mm512_slli_epi64(lanes((q0), (q1), t0, t1, (nz)), 16 * (k))))

/*
 * Four queries by all targets, for vectors of exactly nz * 64 bytes (64 or
 * 128): each target is loaded once for four queries, and every reduction
 * serves four targets.  Lane counts fit in 8 bits and their sums (at most
 * 1024) in 16, so four targets share the 64-bit lanes of one register as
 * 16-bit fields.  Returns the number of targets done (a multiple of 4).
 */
AVX512_TARGET
static inline __attribute__((always_inline)) size_t
tile_q4(const uint8_t *q, size_t qstride, const uint8_t *base, size_t count,
		size_t stride, uint32_t *out, int nz)
{
	__m512i		a0,
				a1,
				b0,
				b1,
				c0,
				c1,
				d0,
				d1;
	size_t		j = 0;

	LOAD_Z(q, a0, a1, nz);
	LOAD_Z(q + qstride, b0, b1, nz);
	LOAD_Z(q + 2 * qstride, c0, c1, nz);
	LOAD_Z(q + 3 * qstride, d0, d1, nz);
	for (; j + 4 <= count; j += 4)
	{
		__m512i		pa = _mm512_setzero_si512(),
					pb = pa,
					pc = pa,
					pd = pa;

		for (int k = 0; k < 4; k++)
		{
			__m512i		t0,
						t1;

			LOAD_Z(base + (j + k) * stride, t0, t1, nz);
			PACK_LANES(pa, k, a0, a1, nz);
			PACK_LANES(pb, k, b0, b1, nz);
			PACK_LANES(pc, k, c0, c1, nz);
			PACK_LANES(pd, k, d0, d1, nz);
		}
		unpack4((uint64_t) _mm512_reduce_add_epi64(pa), out + j);
		unpack4((uint64_t) _mm512_reduce_add_epi64(pb), out + count + j);
		unpack4((uint64_t) _mm512_reduce_add_epi64(pc), out + 2 * count + j);
		unpack4((uint64_t) _mm512_reduce_add_epi64(pd), out + 3 * count + j);
	}
	return j;
}

/* One query by the targets from `from` on, nz * 64 bytes, four per reduction. */
AVX512_TARGET
static inline __attribute__((always_inline)) void
tile_q1(const uint8_t *q, const uint8_t *base, size_t from, size_t count,
		size_t stride, uint32_t *out, int nz)
{
	__m512i		q0,
				q1;
	size_t		j = from;

	LOAD_Z(q, q0, q1, nz);
	for (; j + 4 <= count; j += 4)
	{
		__m512i		p = _mm512_setzero_si512();

		for (int k = 0; k < 4; k++)
		{
			__m512i		t0,
						t1;

			LOAD_Z(base + (j + k) * stride, t0, t1, nz);
			PACK_LANES(p, k, q0, q1, nz);
		}
		unpack4((uint64_t) _mm512_reduce_add_epi64(p), out + j);
	}
	for (; j < count; j++)
	{
		__m512i		t0,
					t1;

		LOAD_Z(base + j * stride, t0, t1, nz);
		out[j] = (uint32_t) _mm512_reduce_add_epi64(lanes(q0, q1, t0, t1, nz));
	}
}

/* A whole query-by-target tile of nz * 64-byte vectors in register tiles. */
AVX512_TARGET
static inline __attribute__((always_inline)) void
tile_all(const uint8_t *q, size_t nq, size_t qstride, const uint8_t *base,
		 size_t count, size_t stride, uint32_t *out, int nz)
{
	size_t		i = 0;

	for (; i + 4 <= nq; i += 4)
	{
		size_t		done = tile_q4(q + i * qstride, qstride, base, count, stride,
								   out + i * count, nz);

		/* Targets left over after the last group of four. */
		for (size_t r = 0; r < 4; r++)
			tile_q1(q + (i + r) * qstride, base, done, count, stride,
					out + (i + r) * count, nz);
	}
	for (; i < nq; i++)
		tile_q1(q + i * qstride, base, 0, count, stride, out + i * count, nz);
}

/*
 * A query-by-target tile.  Vectors of 128 bytes (1024-bit CLKs) and of 64
 * bytes (512-bit CLKs) take the register tiles; other lengths go pair by
 * pair.
 */
AVX512_TARGET
static void
avx512_and_count_block(const uint8_t *q, size_t nq, size_t qstride,
					   const uint8_t *base, size_t count, size_t stride,
					   size_t n, uint32_t *out)
{
	if (n == 128)
		tile_all(q, nq, qstride, base, count, stride, out, 2);
	else if (n == 64)
		tile_all(q, nq, qstride, base, count, stride, out, 1);
	else
		clk_block_by_pairs(avx512_and_count, q, nq, qstride, base, count, stride, n, out);
}

const ClkKernel clk_kern_avx512 = {
	"avx512",
	avx512_popcount,
	avx512_and_count,
	avx512_and_count_block
};

#else							/* not x86-64: never selected */

const ClkKernel clk_kern_avx512 = {"avx512", NULL, NULL, NULL};

#endif
