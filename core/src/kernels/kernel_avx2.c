/*
 * kernel_avx2.c
 *	  Popcount kernels using AVX2 (Mula's nibble lookup with VPSHUFB).
 *
 * Each 32-byte block is split into nibbles, counted through a 16-entry
 * table with VPSHUFB, and summed into 64-bit lanes with VPSADBW.  Tails
 * shorter than a block go through the scalar POPCNT kernel, which every
 * AVX2 CPU also has.  Functions carry target attributes; dispatch calls
 * them only after CPUID and XGETBV confirm AVX2 and OS support.
 */
#include "kernel_common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX2_TARGET __attribute__((target("avx2,popcnt")))

/* Per-byte popcount of a 32-byte vector via two nibble table lookups. */
AVX2_TARGET
static inline __m256i
avx2_byte_counts(__m256i v)
{
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
										 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low = _mm256_set1_epi8(0x0f);
	__m256i		lo = _mm256_and_si256(v, low);
	__m256i		hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);

	return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),
						   _mm256_shuffle_epi8(lut, hi));
}

/* Sum the four 64-bit lanes of an accumulator. */
AVX2_TARGET
static inline uint64_t
avx2_hsum64(__m256i acc)
{
	__m128i		s = _mm_add_epi64(_mm256_castsi256_si128(acc),
								  _mm256_extracti128_si256(acc, 1));

	return (uint64_t) _mm_cvtsi128_si64(s) + (uint64_t) _mm_extract_epi64(s, 1);
}

/*
 * Count bits of a (or of a AND b when b is not NULL) over whole 32-byte
 * blocks; *done receives the number of bytes consumed.  Byte counts are
 * accumulated for up to 8 blocks (at most 64 per byte) before widening.
 */
AVX2_TARGET
static inline uint64_t
avx2_blocks(const uint8_t *a, const uint8_t *b, size_t n, size_t *done)
{
	__m256i		acc = _mm256_setzero_si256();
	size_t		i = 0;

	while (i + 32 <= n)
	{
		__m256i		bytes = _mm256_setzero_si256();
		size_t		stop = i + 8 * 32;

		if (stop > n)
			stop = n;
		for (; i + 32 <= stop; i += 32)
		{
			__m256i		v = _mm256_loadu_si256((const __m256i *) (a + i));

			if (b)
				v = _mm256_and_si256(v, _mm256_loadu_si256((const __m256i *) (b + i)));
			bytes = _mm256_add_epi8(bytes, avx2_byte_counts(v));
		}
		acc = _mm256_add_epi64(acc, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
	}
	*done = i;
	return avx2_hsum64(acc);
}

/* Count the set bits of an n-byte vector with AVX2. */
AVX2_TARGET
static uint64_t
avx2_popcount(const uint8_t *a, size_t n)
{
	size_t		done;
	uint64_t	c = avx2_blocks(a, NULL, n, &done);

	return c + clk_kern_popcnt.popcount(a + done, n - done);
}

/* Count the bits set in both of two n-byte vectors with AVX2. */
AVX2_TARGET
static uint64_t
avx2_and_count(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t		done;
	uint64_t	c = avx2_blocks(a, b, n, &done);

	return c + clk_kern_popcnt.and_count(a + done, b + done, n - done);
}

/* |q AND b| for exactly 128 bytes (1024-bit CLKs), fully unrolled. */
AVX2_TARGET
static inline uint32_t
avx2_and_count_128(__m256i q0, __m256i q1, __m256i q2, __m256i q3, const uint8_t *b)
{
	__m256i		bytes;

	bytes = avx2_byte_counts(_mm256_and_si256(q0, _mm256_loadu_si256((const __m256i *) b)));
	bytes = _mm256_add_epi8(bytes, avx2_byte_counts(_mm256_and_si256(q1, _mm256_loadu_si256((const __m256i *) (b + 32)))));
	bytes = _mm256_add_epi8(bytes, avx2_byte_counts(_mm256_and_si256(q2, _mm256_loadu_si256((const __m256i *) (b + 64)))));
	bytes = _mm256_add_epi8(bytes, avx2_byte_counts(_mm256_and_si256(q3, _mm256_loadu_si256((const __m256i *) (b + 96)))));
	return (uint32_t) avx2_hsum64(_mm256_sad_epu8(bytes, _mm256_setzero_si256()));
}

/* A query-by-target tile with AVX2; 1024-bit CLKs take the unrolled path. */
AVX2_TARGET
static void
avx2_and_count_block(const uint8_t *q, size_t nq, size_t qstride,
					 const uint8_t *base, size_t count, size_t stride,
					 size_t n, uint32_t *out)
{
	if (n != 128)
	{
		clk_block_by_pairs(avx2_and_count, q, nq, qstride, base, count, stride, n, out);
		return;
	}
	for (size_t i = 0; i < nq; i++)
	{
		const uint8_t *qi = q + i * qstride;
		__m256i		q0 = _mm256_loadu_si256((const __m256i *) qi);
		__m256i		q1 = _mm256_loadu_si256((const __m256i *) (qi + 32));
		__m256i		q2 = _mm256_loadu_si256((const __m256i *) (qi + 64));
		__m256i		q3 = _mm256_loadu_si256((const __m256i *) (qi + 96));

		for (size_t j = 0; j < count; j++)
			out[i * count + j] = avx2_and_count_128(q0, q1, q2, q3, base + j * stride);
	}
}

const ClkKernel clk_kern_avx2 = {
	"avx2",
	avx2_popcount,
	avx2_and_count,
	avx2_and_count_block
};

#else							/* not x86-64: never selected */

const ClkKernel clk_kern_avx2 = {"avx2", NULL, NULL, NULL};

#endif
