/*
 * api_auth.c
 *	  Token checks.  The raw token comes in the Authorization header (no
 *	  scheme), as upstream.  A missing header is 400; a wrong token and an
 *	  unknown project are the same 403, so tokens cannot probe for projects.
 *	  The result token is compared with its stored SHA-256 in constant time;
 *	  receipt tokens are found by their SHA-256 through a unique index (the
 *	  lookup's timing depends only on a digest, which reveals nothing usable
 *	  about the token).
 */
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "api_ctx.h"
#include "api_db.h"
#include "api_http.h"
#include "service/token.h"

/* The Authorization header, or NULL after sending the 400. */
static const char *
presented_token(HttpRequest *r)
{
	const char *auth = http_header(r, "Authorization");

	if (!auth)
		api_send_problem(r, 400, "missing Authorization header");
	return auth;
}

/*
 * The path's id parameter (a project or run id) into out; an id that
 * cannot exist is answered as a wrong token is (403, or 400 without a
 * token), so ids cannot be probed.  0 when well formed.
 */
int
api_auth_id(HttpRequest *r, int param, char out[SVC_TOKEN_HEX + 1])
{
	const char *id = http_param(r, param);

	if (!svc_token_well_formed(id, strlen(id)))
	{
		if (http_header(r, "Authorization"))
			api_send_problem(r, 403, API_FORBIDDEN);
		else
			api_send_problem(r, 400, "missing Authorization header");
		return -1;
	}
	memcpy(out, id, SVC_TOKEN_HEX + 1);
	return 0;
}

/*
 * The start of every project route: the path's project id into pid and a
 * pooled database connection; NULL (answered: 400, 403 or 503) when
 * either is missing.  The caller gives the connection back.
 */
PGconn *
api_auth_project(HttpRequest *r, ApiCtx *ctx, char pid[SVC_TOKEN_HEX + 1])
{
	PGconn	   *pg;

	if (api_auth_id(r, 0, pid) != 0)
		return NULL;
	if (!(pg = api_db_get(ctx->db)))
		api_send_busy(r, "every database connection is busy");
	return pg;
}

/* Whether auth is the result token of project pid (constant-time compare). */
static int
is_result_token(PGconn *pg, const char *pid, const char *auth)
{
	const char *p[1] = {pid};
	PGresult   *r = svc_db_exec(pg, "SELECT result_token_sha256 FROM projects "
								"WHERE project_id = $1 AND NOT marked_for_deletion",
								1, p, PGRES_TUPLES_OK);
	int			ok = r && PQntuples(r) == 1;

	if (ok)
	{
		size_t		n;
		unsigned char *stored = PQunescapeBytea((const unsigned char *) PQgetvalue(r, 0, 0), &n);

		ok = stored && n == SVC_TOKEN_SHA256 && svc_token_matches(auth, strlen(auth), stored);
		PQfreemem(stored);
	}
	PQclear(r);
	return ok;
}

/*
 * Whether the request carries the project's result token.  Sends the 400
 * or 403 itself and returns 0 then.
 */
int
api_auth_result(HttpRequest *r, PGconn *pg, const char *pid)
{
	const char *auth = presented_token(r);

	if (!auth)
		return 0;
	if (is_result_token(pg, pid, auth))
		return 1;
	api_send_problem(r, 403, API_FORBIDDEN);
	return 0;
}

/*
 * The result token, or for a permutations project a party's receipt token
 * (which sets *dp_index to that party).  Sends the 400 or 403 itself and
 * returns API_ROLE_NONE then.
 */
ApiRole
api_auth_result_or_receipt(HttpRequest *r, PGconn *pg, const char *pid, int *dp_index)
{
	const char *auth = presented_token(r);
	char		hex[2 * SVC_TOKEN_SHA256 + 1];
	const char *p[2] = {hex, pid};
	PGresult   *res;
	ApiRole		role = API_ROLE_NONE;

	if (!auth)
		return API_ROLE_NONE;
	if (is_result_token(pg, pid, auth))
		return API_ROLE_RESULT;
	svc_token_hash_hex(auth, strlen(auth), hex);
	res = svc_db_exec(pg, "SELECT d.dp_index FROM uploads u JOIN dataproviders d USING (dp_id) "
					"JOIN projects p USING (project_id) WHERE u.receipt_token_sha256 = decode($1, 'hex') "
					"AND p.project_id = $2 AND p.result_type = 'permutations' AND NOT p.marked_for_deletion",
					2, p, PGRES_TUPLES_OK);
	if (res && PQntuples(res) == 1)
	{
		*dp_index = atoi(PQgetvalue(res, 0, 0));
		role = API_ROLE_RECEIPT;
	}
	PQclear(res);
	if (role == API_ROLE_NONE)
		api_send_problem(r, 403, API_FORBIDDEN);
	return role;
}
