/*
 * api_import.h
 *	  Importing an upload into its party's encodings table with one binary
 *	  COPY, in the same pass as the body streams in.  Records whose blocks
 *	  are known with them (clks, clknblocks, binary) go straight into the
 *	  table; the "encodings" + "blocks" form, whose block map may come
 *	  before or after the encodings, goes through a temporary staging table
 *	  joined at the end.  Everything happens in the caller's transaction,
 *	  which it commits (with the upload's bookkeeping) or rolls back.
 */
#ifndef API_IMPORT_H
#define API_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

typedef struct ApiImport ApiImport;

extern ApiImport *api_import_begin(PGconn *pg, const char *pid, int dp_index, int staged,
								   char *err, size_t errlen);
extern int	api_import_record(ApiImport *im, uint64_t row, const uint8_t *clk, size_t nbytes,
							  const char *blocks, const uint32_t *lens, int nblocks);
extern int	api_import_block(ApiImport *im, uint64_t row, const char *id, size_t len);
extern int	api_import_end(ApiImport *im, int has_blocks, int *status, char *err, size_t errlen);
extern void api_import_abort(ApiImport *im);

#endif							/* API_IMPORT_H */
