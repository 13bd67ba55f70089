/*
 * api_auth.h
 *	  Token checks shared by the project, run and result routes.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <libpq-fe.h>

#include "service/token.h"
#include "http_server.h"

#define API_FORBIDDEN "Invalid access token or project doesn't exist"

/* Who presented a token: the result token's holder, or a party by receipt. */
typedef enum ApiRole
{
	API_ROLE_NONE = 0,
	API_ROLE_RESULT,
	API_ROLE_RECEIPT
} ApiRole;

extern int	api_auth_id(HttpRequest *r, int param, char out[SVC_TOKEN_HEX + 1]);
struct ApiCtx;
extern PGconn *api_auth_project(HttpRequest *r, struct ApiCtx *ctx, char pid[SVC_TOKEN_HEX + 1]);
extern int	api_auth_result(HttpRequest *r, PGconn *pg, const char *pid);
extern ApiRole api_auth_result_or_receipt(HttpRequest *r, PGconn *pg, const char *pid, int *dp_index);

#endif							/* API_AUTH_H */
