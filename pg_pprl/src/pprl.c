/*
 * pprl.c
 *	  pg_pprl module entry point.
 *
 * pg_pprl adds privacy-preserving record linkage to PostgreSQL: a clk type
 * for Bloom-filter encodings, Dice similarity on SIMD popcount kernels, and
 * (in later modules) candidate generation and matching.  Each module keeps
 * its own state; this file only initialises them in order.
 */
#include "postgres.h"

#include "fmgr.h"

#include "clk.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Detect the CPU's kernel paths, then register the settings. */
void
_PG_init(void)
{
	clk_kern_init();
	pprl_guc_init();
}
