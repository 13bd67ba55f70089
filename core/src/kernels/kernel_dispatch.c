/*
 * kernel_dispatch.c
 *	  CPU feature detection and selection of the active kernel path.
 *
 * The checks follow the Intel SDM: a SIMD path needs both the CPUID feature
 * bits and the OS having enabled the register state in XCR0 (XGETBV), or
 * the first instruction would fault.  The best supported path becomes the
 * default at load time; clk_kern_select() lets the pprl.simd setting and the
 * tests force any supported path.
 */
#include <stddef.h>

#include "pprl/clk_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define CLK_HAVE_X86 1
#endif

const ClkKernel *clk_kern = &clk_kern_portable;

static ClkSimdPath active_path = CLK_SIMD_PORTABLE;
static bool detected = false;
static bool supported[CLK_SIMD_NPATHS];

#ifdef CLK_HAVE_X86
/* Read XCR0, the register-state mask the OS has enabled. */
static uint64_t
read_xcr0(void)
{
	uint32_t	eax,
				edx;

	__asm__ volatile ("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return ((uint64_t) edx << 32) | eax;
}
#endif

/* Probe the CPU once and record which paths can run here. */
static void
detect(void)
{
	supported[CLK_SIMD_PORTABLE] = true;
#ifdef CLK_HAVE_X86
	{
		unsigned int a,
					b,
					c,
					d;
		bool		osxsave;
		uint64_t	xcr0 = 0;
		unsigned int max_leaf = __get_cpuid_max(0, NULL);

		if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d))
		{
			supported[CLK_SIMD_POPCNT] = (c & bit_POPCNT) != 0;
			osxsave = (c & bit_OSXSAVE) != 0;
			if (osxsave)
				xcr0 = read_xcr0();
			if (max_leaf >= 7)
			{
				bool		ymm_os = (xcr0 & 0x6) == 0x6;
				bool		zmm_os = (xcr0 & 0xe6) == 0xe6;

				__cpuid_count(7, 0, a, b, c, d);
				supported[CLK_SIMD_AVX2] = supported[CLK_SIMD_POPCNT] &&
					ymm_os && (b & bit_AVX2) != 0;
				supported[CLK_SIMD_AVX512] = zmm_os &&
					(b & bit_AVX512F) != 0 && (b & bit_AVX512BW) != 0 &&
					(c & bit_AVX512VPOPCNTDQ) != 0;
			}
		}
	}
#endif
	detected = true;
}

/* Detect the CPU and activate the best path it supports. */
void
clk_kern_init(void)
{
	if (!detected)
		detect();
	clk_kern_select(clk_kern_best());
}

/* Whether this CPU (and OS) can run a path. */
bool
clk_kern_supported(ClkSimdPath path)
{
	if (!detected)
		detect();
	return path >= 0 && path < CLK_SIMD_NPATHS && supported[path];
}

/* The fastest path this CPU supports. */
ClkSimdPath
clk_kern_best(void)
{
	for (int p = CLK_SIMD_NPATHS - 1; p > 0; p--)
		if (clk_kern_supported((ClkSimdPath) p))
			return (ClkSimdPath) p;
	return CLK_SIMD_PORTABLE;
}

/* A path's kernel table, or NULL when this CPU cannot run it. */
const ClkKernel *
clk_kern_get(ClkSimdPath path)
{
	static const ClkKernel *const tables[CLK_SIMD_NPATHS] = {
		&clk_kern_portable, &clk_kern_popcnt, &clk_kern_avx2, &clk_kern_avx512
	};

	return clk_kern_supported(path) ? tables[path] : NULL;
}

/* Make a path active; an unsupported one leaves the current path. */
void
clk_kern_select(ClkSimdPath path)
{
	const ClkKernel *k = clk_kern_get(path);

	if (k)
	{
		clk_kern = k;
		active_path = path;
	}
}

/* The path now in use. */
ClkSimdPath
clk_kern_active(void)
{
	return active_path;
}

/* The user-facing name of a path, as pprl.simd spells it. */
const char *
clk_kern_path_name(ClkSimdPath path)
{
	static const char *const names[CLK_SIMD_NPATHS] = {
		"portable", "popcnt", "avx2", "avx512"
	};

	return (path >= 0 && path < CLK_SIMD_NPATHS) ? names[path] : "unknown";
}
