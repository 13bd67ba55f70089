/*
 * clk.h
 *	  The clk type: a fixed-length bit vector with its popcount cached.
 *
 * On disk a clk is a varlena: the 4-byte length word, the 4-byte popcount,
 * then the raw bytes in clkhash's bit order (most significant bit of each
 * byte first).  The bit count is derived from the varlena size, so a
 * 1024-bit CLK takes 136 bytes; similarity functions never recount the
 * operands' own bits, only their intersection.
 */
#ifndef CLK_H
#define CLK_H

#include "postgres.h"
#include "fmgr.h"

#include "pprl/clk_codec.h"
#include "pprl/clk_kernels.h"

typedef struct Clk
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint32		popcount;		/* number of set bits in data */
	uint8		data[FLEXIBLE_ARRAY_MEMBER];
} Clk;

#define CLK_HDRSZ			offsetof(Clk, data)
#define CLK_NBYTES(c)		((int) (VARSIZE(c) - CLK_HDRSZ))
#define CLK_NBITS(c)		(CLK_NBYTES(c) * 8)

#define DatumGetClkP(x)		((Clk *) PG_DETOAST_DATUM(x))
#define PG_GETARG_CLK_P(n)	DatumGetClkP(PG_GETARG_DATUM(n))
#define PG_RETURN_CLK_P(x)	PG_RETURN_POINTER(x)

/* clk_type.c */
extern Clk *clk_alloc(int nbytes);
extern Clk *clk_from_bytes(const uint8 *bytes, int nbytes);
extern void clk_finish(Clk *c);
extern void clk_check_typmod(int nbits, int32 typmod);
extern void clk_check_same_length(const Clk *a, const Clk *b);
extern void clk_report_codec_error(const ClkCodecError *err, int sqlstate,
								   const char *input);

/* clk_sim.c */
extern uint32 clk_and_count(const Clk *a, const Clk *b);
extern double clk_dice_value(const Clk *a, const Clk *b);

/* pprl_guc.c */
extern double pprl_dice_threshold;
extern void pprl_guc_init(void);

#endif							/* CLK_H */
