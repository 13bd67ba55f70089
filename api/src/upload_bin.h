/*
 * upload_bin.h
 *	  Streaming reader of binary upload bodies (POST .../binaryclks): exactly
 *	  Hash-Count encodings of Hash-Size bytes each, concatenated, no header.
 *	  Records reach the sink as soon as they are complete; memory is one
 *	  record.
 */
#ifndef UPLOAD_BIN_H
#define UPLOAD_BIN_H

#include <stddef.h>
#include <stdint.h>

#include "upload_json.h"

typedef struct UploadBin UploadBin;

extern int	upload_bin_headers(const char *count_hdr, const char *size_hdr,
							   const UploadLimits *limits, uint64_t *count, size_t *size,
							   char *err, size_t errlen);
extern UploadBin *upload_bin_new(uint64_t count, size_t size, const UploadSink *sink);
extern int	upload_bin_feed(UploadBin *b, const char *data, size_t len);
extern int	upload_bin_finish(UploadBin *b);
extern const char *upload_bin_error(const UploadBin *b);
extern void upload_bin_free(UploadBin *b);

#endif							/* UPLOAD_BIN_H */
