/*
 * api_routes.h
 *	  Every route handler of the REST API, one resource module each
 *	  (api_status.c, api_health.c, api_projects.c, api_upload.c,
 *	  api_external.c, api_runs.c); api_router.c maps paths to them.
 */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include "http_server.h"

extern void api_route_healthz(HttpRequest *r);
extern void api_route_readyz(HttpRequest *r);
extern void api_route_metrics(HttpRequest *r);
extern void api_route_status(HttpRequest *r);
extern void api_route_version(HttpRequest *r);
extern void api_route_projects(HttpRequest *r);
extern void api_route_project(HttpRequest *r);
extern void api_route_upload_json(HttpRequest *r);
extern void api_route_upload_binary(HttpRequest *r);
extern void api_route_authorize_external(HttpRequest *r);
extern void api_route_runs(HttpRequest *r);
extern void api_route_run(HttpRequest *r);
extern void api_route_run_status(HttpRequest *r);
extern void api_route_run_result(HttpRequest *r);

#endif							/* API_ROUTES_H */
