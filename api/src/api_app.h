/*
 * api_app.h
 *	  The REST API as a whole (settings, connections, readiness, janitor,
 *	  HTTP server), for pprl-api and the request fuzzer.
 */
#ifndef API_APP_H
#define API_APP_H

#include "api_ctx.h"
#include "api_janitor.h"
#include "http_server.h"

typedef struct ApiApp
{
	ApiCtx		ctx;
	HttpConfig	http;
	HttpServer *server;
	ApiJanitor *janitor;
} ApiApp;

extern void api_app_start(ApiApp *app);
extern void api_app_stop(ApiApp *app);

#endif							/* API_APP_H */
