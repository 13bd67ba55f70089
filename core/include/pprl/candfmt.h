/*
 * candfmt.h
 *	  anonlink's binary candidate-pair format, its one home: a 4-byte header
 *	  (format version 1, then the byte widths of a score, a dataset index
 *	  and a record index: 8, 4, 4) and 24 bytes a pair, little-endian:
 *	  score (IEEE float64), ds_a, ds_b, a, b (uint32).  The worker writes a
 *	  task's candidates and a run's binary similarity scores in it and reads
 *	  the parts back to merge them; clients read it through
 *	  RETURN-OBJECT-STORE-ADDRESS.
 */
#ifndef PPRL_CANDFMT_H
#define PPRL_CANDFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pprl/match.h"

#define CANDFMT_HEADER_BYTES 4
#define CANDFMT_RECORD_BYTES 24

extern const unsigned char candfmt_header[CANDFMT_HEADER_BYTES];

extern bool candfmt_header_ok(const unsigned char *h);
extern void candfmt_pack(double score, uint32_t ds_a, uint32_t ds_b, uint32_t a, uint32_t b,
						 unsigned char *out);
extern double candfmt_unpack(const unsigned char *in, MatchCand *c);

#endif							/* PPRL_CANDFMT_H */
