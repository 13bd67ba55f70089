/*
 * api_server.h
 *	  The HTTP server (civetweb) and its routes.
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include "api_ctx.h"

typedef struct ApiServer ApiServer;

/* What the server needs, resolved from configuration at start. */
typedef struct ApiServerConfig
{
	const char *listen;			/* host:port */
	const char *threads;		/* request threads */
	const char *max_header_bytes;
	ApiDb	   *db;
	ObjectStore *store;
	ApiQueue   *queue;
	ApiLimits	limits;
} ApiServerConfig;

extern ApiServer *api_server_start(const ApiServerConfig *cfg, char *err, size_t errlen);
extern void api_server_stop(ApiServer *s);

#endif							/* API_SERVER_H */
