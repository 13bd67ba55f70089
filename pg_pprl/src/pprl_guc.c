/*
 * pprl_guc.c
 *	  pg_pprl settings: pprl.dice_threshold and pprl.simd, and
 *	  pprl_simd_info() to see which kernel paths this CPU offers.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "clk.h"

#define PPRL_SIMD_AUTO (-1)

PG_FUNCTION_INFO_V1(pprl_simd_info);

double		pprl_dice_threshold = 0.8;
static int	pprl_simd = PPRL_SIMD_AUTO;

static const struct config_enum_entry simd_options[] = {
	{"auto", PPRL_SIMD_AUTO, false},
	{"avx512", CLK_SIMD_AVX512, false},
	{"avx2", CLK_SIMD_AVX2, false},
	{"popcnt", CLK_SIMD_POPCNT, false},
	{"portable", CLK_SIMD_PORTABLE, false},
	{NULL, 0, false}
};

/* Refuse a kernel path this CPU cannot run, naming the ones it can. */
static bool
simd_check(int *newval, void **extra, GucSource source)
{
	StringInfoData paths;

	(void) extra;
	(void) source;
	if (*newval == PPRL_SIMD_AUTO || clk_kern_supported((ClkSimdPath) *newval))
		return true;
	initStringInfo(&paths);
	for (int p = CLK_SIMD_NPATHS - 1; p >= 0; p--)
		if (clk_kern_supported((ClkSimdPath) p))
			appendStringInfo(&paths, "%s%s", paths.len ? ", " : "",
							 clk_kern_path_name((ClkSimdPath) p));
	GUC_check_errcode(ERRCODE_FEATURE_NOT_SUPPORTED);
	GUC_check_errmsg("pprl.simd path \"%s\" is not supported by this CPU",
					 clk_kern_path_name((ClkSimdPath) *newval));
	GUC_check_errhint("Supported here: auto, %s.", paths.data);
	return false;
}

/* Switch the active kernels; "auto" picks the best supported path. */
static void
simd_assign(int newval, void *extra)
{
	(void) extra;
	clk_kern_select(newval == PPRL_SIMD_AUTO ? clk_kern_best() : (ClkSimdPath) newval);
}

/* Register the settings; called once from _PG_init. */
void
pprl_guc_init(void)
{
	DefineCustomRealVariable("pprl.dice_threshold",
							 "Dice similarity at or above which the % operator is true.",
							 "Pairs whose Dice coefficient equals the threshold match.",
							 &pprl_dice_threshold,
							 0.8, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("pprl.simd",
							 "Popcount kernel path: auto, avx512, avx2, popcnt or portable.",
							 "auto uses the fastest path this CPU supports; the others force one, for testing and benchmarks.",
							 &pprl_simd,
							 PPRL_SIMD_AUTO, simd_options,
							 PGC_USERSET, 0,
							 simd_check, simd_assign, NULL);
	MarkGUCPrefixReserved("pprl");
}

/* pprl_simd_info(): every kernel path, whether this CPU has it, which is active. */
Datum
pprl_simd_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	SetSingleFuncCall(fcinfo, 0);
	for (int p = CLK_SIMD_NPATHS - 1; p >= 0; p--)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(clk_kern_path_name((ClkSimdPath) p));
		values[1] = BoolGetDatum(clk_kern_supported((ClkSimdPath) p));
		values[2] = BoolGetDatum(clk_kern_active() == (ClkSimdPath) p);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
