/*
 * api_upload.h
 *	  POST /api/v1/projects/{pid}/clks and .../binaryclks.
 */
#ifndef API_UPLOAD_H
#define API_UPLOAD_H

#include <civetweb.h>

#include "api_ctx.h"

extern int	api_upload(struct mg_connection *c, ApiCtx *ctx, const char *pid, int binary);

#endif							/* API_UPLOAD_H */
