/*
 * worker_perm.h
 *	  Random positions for the permutations result of a two-party run.
 */
#ifndef WORKER_PERM_H
#define WORKER_PERM_H

#include <stdint.h>

#define WORKER_PERM_NONE UINT32_MAX

typedef struct WorkerPerm
{
	int			small;			/* the party the mask belongs to */
	uint32_t	n[2];
	uint32_t   *pos[2];			/* new position by record, per party */
	uint8_t    *mask;			/* 1 where a position holds a match */
} WorkerPerm;

extern int	worker_perm_draw(WorkerPerm *p, const uint32_t n[2], const uint32_t *partner);
extern void worker_perm_free(WorkerPerm *p);

#endif							/* WORKER_PERM_H */
