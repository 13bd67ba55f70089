/*
 * api_projects.h
 *	  Routes of /api/v1/projects and /api/v1/projects/{pid}.
 */
#ifndef API_PROJECTS_H
#define API_PROJECTS_H

#include <civetweb.h>

extern int	api_route_projects(struct mg_connection *c, void *ctx);
extern int	api_route_project(struct mg_connection *c, void *ctx);

#endif							/* API_PROJECTS_H */
