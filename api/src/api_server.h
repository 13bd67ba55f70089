/*
 * api_server.h
 *	  The REST API's HTTP server: the route table (api_router.c) on the
 *	  HTTP server (http_server.h), with what every route shares (ApiCtx).
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include "api_ctx.h"
#include "http_server.h"

extern HttpServer *api_server_start(HttpConfig *http, ApiCtx *ctx, char *err, size_t errlen);

#endif							/* API_SERVER_H */
