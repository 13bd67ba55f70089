/*
 * upload_common.h
 *	  What the upload module's files share (not for other modules): an
 *	  upload in progress, and the functions of its three parts.
 *
 *	    api_upload.c         the route: checks, slots, the body streamed in
 *	    api_upload_parse.c   the parsers' sinks, sizes, pointer objects
 *	    api_upload_db.c      its database work: the party, the session, the
 *	                         claim, the COPY, the record
 */
#ifndef UPLOAD_COMMON_H
#define UPLOAD_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "api_ctx.h"
#include "api_external.h"
#include "pprl/clk_codec.h"
#include "upload_bin.h"
#include "upload_json.h"

#define MAX_BLOCK_ID 256
#define MAX_BLOCKS_PER_RECORD 4096
#define USED "This token has already been used to upload clks."
#define IN_USE "This token is being used by an upload in progress."

typedef struct UploadCopy UploadCopy;

/* One upload in progress. */
typedef struct Upload
{
	ApiCtx	   *ctx;
	PGconn	   *pg;
	const char *pid;
	int			dp_index;
	int			uses_blocking;
	int			fixed_size;		/* bytes the project requires, 0 if none */
	UploadJson *json;
	UploadCopy *im;
	int			external_blocks;	/* a pointer upload with a blocks file */
	char	   *head;			/* the start of a JSON body (a pointer is small) */
	size_t		head_len;
	/* the clknblocks record whose blocks are still arriving */
	int			pending;
	uint64_t	prow;
	uint8_t		pclk[CLK_MAX_BYTES];
	size_t		pbytes;
	char	   *pblocks;
	uint32_t	plens[MAX_BLOCKS_PER_RECORD];
	int			pn;
	size_t		pblen,
				pbcap;
	uint64_t	block_rows;		/* block memberships seen */
	size_t		nbytes;
	int			status;
	char		err[512];
} Upload;

/* Record the first failure (status and message); returns -1. */
static inline int
upload_fail(Upload *u, int status, const char *msg)
{
	if (!u->status)
	{
		u->status = status;
		snprintf(u->err, sizeof(u->err), "%s", msg);
	}
	return -1;
}

/*
 * Whether the encodings are larger than the server accepts.  Such a JSON
 * upload is still parsed to its end (and answered 201, as upstream), but
 * none of its records is imported: it is recorded as an upload error.
 */
static inline int
upload_oversized(const Upload *u)
{
	return (int) u->nbytes > u->ctx->limits.max_encoding_size;
}

/* api_upload_parse.c */
extern int	upload_ensure_import(Upload *u, int staged);
extern int	upload_flush_pending(Upload *u);
extern int	upload_on_encoding(void *arg, uint64_t index, const uint8_t *clk, size_t nbytes);
extern int	upload_on_block(void *arg, uint64_t index, const char *id, size_t len);
extern int	upload_on_binary(void *arg, uint64_t index, const uint8_t *clk, size_t nbytes);
extern int	upload_size_mismatch(Upload *u);
extern int	upload_binary_shape(const ApiLimits *al, const UploadLimits *lim, const char *count_s, const char *size_s, long long length, const char *what, uint64_t *count, size_t *size, char *err, size_t errlen);
extern int	upload_import_pointer(Upload *u, const ApiPointer *pt, const UploadSink *jsink, const UploadLimits *lim, uint64_t *count);

/* api_upload_db.c */
extern int	upload_db_begin(Upload *u, const char *auth, char *key, int binary, const char *objid);
extern void upload_db_end_session(Upload *u, const char *key);
extern int	upload_db_record(Upload *u, StoreWriter *w, const char *key, const char *skey, const char *receipt, uint64_t count);
extern UploadCopy *upload_copy_begin(PGconn *pg, const char *pid, int dp_index, int staged,
									 char *err, size_t errlen);
extern int	upload_copy_record(UploadCopy *im, uint64_t row, const uint8_t *clk, size_t nbytes,
							   const char *blocks, const uint32_t *lens, int nblocks);
extern int	upload_copy_block(UploadCopy *im, uint64_t row, const char *id, size_t len);
extern int	upload_copy_end(UploadCopy *im, int has_blocks, int *status, char *err, size_t errlen);
extern void upload_copy_abort(UploadCopy *im);

#endif							/* UPLOAD_COMMON_H */
