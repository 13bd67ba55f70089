/*
 * api_auth.h
 *	  Token checks shared by the project, run and result routes.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <civetweb.h>
#include <libpq-fe.h>

#define API_FORBIDDEN "Invalid access token or project doesn't exist"

/* Who presented a token: the result token's holder, or a party by receipt. */
typedef enum ApiRole
{
	API_ROLE_NONE = 0,
	API_ROLE_RESULT,
	API_ROLE_RECEIPT
} ApiRole;

extern int	api_auth_result(struct mg_connection *c, PGconn *pg, const char *pid, const char *route);
extern ApiRole api_auth_result_or_receipt(struct mg_connection *c, PGconn *pg, const char *pid,
										  const char *route, int *dp_index);

#endif							/* API_AUTH_H */
