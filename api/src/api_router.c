/*
 * api_router.c
 *	  The REST API's routes: path templates (Anonlink Entity Service API v1
 *	  plus the operational endpoints), the methods each takes, how its
 *	  handler runs and the body it may have.  The HTTP server answers
 *	  anything else itself: 404 for unknown paths, 405 with Allow for a
 *	  known path and another method, 413 for a body over the bound.
 */
#include <stddef.h>

#include "api_routes.h"
#include "api_server.h"

#define PROJECT_BODY_MAX (1024 * 1024)	/* a project's schema, name and notes */
#define RUN_BODY_MAX (64 * 1024)

static const HttpRoute routes[] = {
	{"/healthz", HTTP_GET, HTTP_INLINE, 0, api_route_healthz},
	{"/readyz", HTTP_GET, HTTP_INLINE, 0, api_route_readyz},
	{"/metrics", HTTP_GET, HTTP_POOLED, 0, api_route_metrics},
	{"/api/v1/status", HTTP_GET, HTTP_POOLED, 0, api_route_status},
	{"/api/v1/version", HTTP_GET, HTTP_INLINE, 0, api_route_version},
	{"/api/v1/projects", HTTP_GET | HTTP_POST, HTTP_POOLED, PROJECT_BODY_MAX, api_route_projects},
	{"/api/v1/projects/{pid}", HTTP_GET | HTTP_DELETE, HTTP_POOLED, 0, api_route_project},
	{"/api/v1/projects/{pid}/clks", HTTP_POST, HTTP_STREAMED, 0, api_route_upload_json},
	{"/api/v1/projects/{pid}/binaryclks", HTTP_POST, HTTP_STREAMED, 0, api_route_upload_binary},
	{"/api/v1/projects/{pid}/authorize-external-upload", HTTP_GET, HTTP_POOLED, 0,
	api_route_authorize_external},
	{"/api/v1/projects/{pid}/runs", HTTP_GET | HTTP_POST, HTTP_POOLED, RUN_BODY_MAX, api_route_runs},
	{"/api/v1/projects/{pid}/runs/{rid}", HTTP_GET | HTTP_DELETE, HTTP_POOLED, 0, api_route_run},
	{"/api/v1/projects/{pid}/runs/{rid}/status", HTTP_GET, HTTP_POOLED, 0, api_route_run_status},
	{"/api/v1/projects/{pid}/runs/{rid}/result", HTTP_GET, HTTP_POOLED, 0, api_route_run_result},
};

/* Start the HTTP server with the API's routes; ctx is every handler's http_app(). */
HttpServer *
api_server_start(HttpConfig *http, ApiCtx *ctx, char *err, size_t errlen)
{
	http->routes = routes;
	http->nroutes = (int) (sizeof(routes) / sizeof(routes[0]));
	http->app = ctx;
	return http_server_start(http, err, errlen);
}
