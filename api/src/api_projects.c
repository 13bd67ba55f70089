/*
 * api_projects.c
 *	  /api/v1/projects: create and list; /api/v1/projects/{pid}: describe
 *	  and delete.  Tokens are drawn from the OS CSPRNG and only their SHA-256
 *	  is stored; a presented token is hashed and compared in constant time.
 *	  Every SQL statement is parameterised.  As upstream, a missing
 *	  Authorization header is 400 and a wrong token or unknown project is
 *	  the same 403, so tokens cannot be used to probe for projects.
 *	  Creation is bounded per client (PPRL_PROJECTS_PER_MINUTE) and in all
 *	  (PPRL_MAX_PROJECTS), answered 429 with Retry-After.  Deletion marks
 *	  the project (every route then treats it as gone), cancels its uploads
 *	  and purges it under a short lock timeout, leaving what is still busy
 *	  to the janitor: it never waits on, or holds up, other projects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "api_auth.h"
#include "api_ctx.h"
#include "api_db.h"
#include "api_http.h"
#include "api_janitor.h"
#include "api_routes.h"
#include "service/token.h"

#define MAX_PARTIES 64

/* Validate a project-creation body; NULL when fine, else the problem. */
static const char *
validate_new_project(json_t *body, const char **result_type, json_int_t *parties)
{
	json_t	   *rt = json_object_get(body, "result_type"),
			   *np = json_object_get(body, "number_parties"),
			   *ub = json_object_get(body, "uses_blocking");
	const char *t;

	if (!json_is_object(body))
		return "the body must be a JSON object";
	if (!json_is_object(json_object_get(body, "schema")))
		return "schema (a JSON object) is required";
	t = json_string_value(rt);
	if (!t || (strcmp(t, "groups") != 0 && strcmp(t, "permutations") != 0 &&
			   strcmp(t, "similarity_scores") != 0))
		return "result_type must be either \"groups\", \"permutations\", or \"similarity_scores\"";
	*parties = np ? (json_is_integer(np) ? json_integer_value(np) : -1) : 2;
	if (*parties < 2 || *parties > MAX_PARTIES)
		return "number_parties must be an integer from 2 to 64";
	if (*parties > 2 && strcmp(t, "groups") != 0)
		return "Multi-party linkage requires result type 'groups'.";
	if ((json_object_get(body, "name") && !json_is_string(json_object_get(body, "name"))) ||
		(json_object_get(body, "notes") && !json_is_string(json_object_get(body, "notes"))))
		return "name and notes must be strings";
	if (ub && !json_is_boolean(ub))
		return "uses_blocking must be a boolean";
	*result_type = t;
	return NULL;
}

/*
 * Whether a new project fits the bounds: the client's rate and the
 * number of projects.  Sends the 429 (or 503) itself and returns 0 if not.
 */
static int
creation_allowed(HttpRequest *r, ApiCtx *ctx, PGconn *pg)
{
	char		msg[200],
				retry[16];
	int			after = 1;

	if (!api_clients_take(ctx->clients, http_client(r), ctx->limits.projects_per_minute, &after))
	{
		snprintf(retry, sizeof(retry), "%d", after);
		http_add_header(r, "Retry-After", retry);
		snprintf(msg, sizeof(msg), "too many projects created from this address: at most %d a minute "
				 "(PPRL_PROJECTS_PER_MINUTE)", ctx->limits.projects_per_minute);
		api_send_problem(r, 429, msg);
		return 0;
	}
	if (ctx->limits.max_projects > 0)
	{
		char		lim[16];
		const char *p[1] = {lim};
		PGresult   *res;
		int			full;

		snprintf(lim, sizeof(lim), "%d", ctx->limits.max_projects);
		res = svc_db_exec(pg, "SELECT count(*) >= $1::int FROM projects", 1, p, PGRES_TUPLES_OK);
		if (!res)
		{
			api_send_problem(r, 503, "database error");
			return 0;
		}
		full = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (full)
		{
			http_add_header(r, "Retry-After", "60");
			snprintf(msg, sizeof(msg), "this service holds its maximum of %d projects "
					 "(PPRL_MAX_PROJECTS); delete finished ones", ctx->limits.max_projects);
			api_send_problem(r, 429, msg);
			return 0;
		}
	}
	return 1;
}

/* Insert the project, its parties and their tables (one transaction); 1 when done. */
static int
insert_project(PGconn *pg, json_t *body, const char *pid, const char *result_hex,
			   const char *result_type, json_int_t parties, json_t *tokens)
{
	char	   *schema = json_dumps(json_object_get(body, "schema"), JSON_COMPACT);
	char		nparties[16],
				hex[2 * SVC_TOKEN_SHA256 + 1];
	const char *name = json_string_value(json_object_get(body, "name")),
			   *notes = json_string_value(json_object_get(body, "notes"));
	const char *p[8] = {pid, result_hex, schema, result_type, nparties, name ? name : "",
	notes ? notes : "", json_is_true(json_object_get(body, "uses_blocking")) ? "true" : "false"};
	PGresult   *res;
	int			ok;

	snprintf(nparties, sizeof(nparties), "%d", (int) parties);
	ok = schema && svc_db_command(pg, "BEGIN");
	res = ok ? svc_db_exec(pg, "INSERT INTO projects (project_id, result_token_sha256, schema, result_type, "
						   "parties, name, notes, uses_blocking) VALUES ($1, decode($2, 'hex'), $3::jsonb, $4, "
						   "$5::smallint, $6, $7, $8::boolean)", 8, p, PGRES_COMMAND_OK) : NULL;
	ok = res != NULL;
	PQclear(res);
	for (int i = 0; ok && i < parties; i++)
	{
		char		tok[SVC_TOKEN_HEX + 1],
					idx[16];
		const char *q[3] = {pid, idx, hex};

		snprintf(idx, sizeof(idx), "%d", i);
		if (svc_token_new(tok) != 0)
		{
			ok = 0;
			break;
		}
		svc_token_hash_hex(tok, SVC_TOKEN_HEX, hex);
		res = svc_db_exec(pg, "INSERT INTO dataproviders (project_id, dp_index, update_token_sha256) "
						  "VALUES ($1, $2::smallint, decode($3, 'hex'))", 3, q, PGRES_COMMAND_OK);
		ok = res != NULL;
		PQclear(res);
		json_array_append_new(tokens, json_string(tok));
	}
	if (ok)
	{
		const char *q[2] = {pid, nparties};

		res = svc_db_exec(pg, "SELECT service_add_party_tables($1, $2::int)", 2, q, PGRES_TUPLES_OK);
		ok = res != NULL;
		PQclear(res);
	}
	ok = svc_db_command(pg, ok ? "COMMIT" : "ROLLBACK") && ok;
	free(schema);
	return ok;
}

/* POST /api/v1/projects. */
static void
create_project(HttpRequest *r, ApiCtx *ctx)
{
	int			status;
	char		err[256];
	json_t	   *body = api_read_json(r, &status, err, sizeof(err));
	const char *problem,
			   *result_type = NULL;
	json_int_t	parties = 2;
	char		pid[SVC_TOKEN_HEX + 1],
				result[SVC_TOKEN_HEX + 1],
				hex[2 * SVC_TOKEN_SHA256 + 1];
	json_t	   *tokens;
	PGconn	   *pg;
	int			ok;

	if (!body)
	{
		api_send_problem(r, status, err);
		return;
	}
	if ((problem = validate_new_project(body, &result_type, &parties)) != NULL)
		api_send_problem(r, 400, problem);
	else if (svc_token_new(pid) != 0 || svc_token_new(result) != 0)
		api_send_problem(r, 500, "no randomness available");
	else if (!(pg = api_db_get(ctx->db)))
		api_send_busy(r, "every database connection is busy");
	else
	{
		if (creation_allowed(r, ctx, pg))
		{
			svc_token_hash_hex(result, SVC_TOKEN_HEX, hex);
			tokens = json_array();
			ok = insert_project(pg, body, pid, hex, result_type, parties, tokens);
			if (ok)
				api_send_json(r, 201, json_pack("{s:s,s:o,s:s}", "project_id", pid, "update_tokens", tokens,
												"result_token", result));
			else
			{
				json_decref(tokens);
				api_send_problem(r, 500, "could not create the project");
			}
		}
		api_db_put(ctx->db, pg);
	}
	json_decref(body);
}

/* GET /api/v1/projects: every project's id and creation time (as upstream). */
static void
list_projects(HttpRequest *r, ApiCtx *ctx)
{
	PGconn	   *pg = api_db_get(ctx->db);
	PGresult   *res;
	json_t	   *list;

	if (!pg)
	{
		api_send_busy(r, "every database connection is busy");
		return;
	}
	res = svc_db_exec(pg, "SELECT project_id, to_char(time_added AT TIME ZONE 'UTC', "
					  "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM projects "
					  "WHERE NOT marked_for_deletion ORDER BY time_added", 0, NULL, PGRES_TUPLES_OK);
	api_db_put(ctx->db, pg);
	if (!res)
	{
		api_send_problem(r, 503, "database error");
		return;
	}
	list = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, json_pack("{s:s,s:s}", "project_id", PQgetvalue(res, i, 0),
											  "time_added", PQgetvalue(res, i, 1)));
	PQclear(res);
	api_send_json(r, 200, list);
}

/* GET /api/v1/projects/{pid}: the project description. */
static void
describe_project(HttpRequest *r, PGconn *pg, const char *pid)
{
	const char *p[1] = {pid};
	PGresult   *res;
	json_t	   *o,
			   *schema;
	int			dp_index;

	if (api_auth_result_or_receipt(r, pg, pid, &dp_index) == API_ROLE_NONE)
		return;
	res = svc_db_exec(pg, "SELECT p.schema::text, p.result_type, p.parties, p.name, p.notes, p.uses_blocking, "
					  "(SELECT count(*) FROM dataproviders d WHERE d.project_id = p.project_id AND d.uploaded = 'done'), "
					  "EXISTS (SELECT 1 FROM dataproviders d WHERE d.project_id = p.project_id AND d.uploaded = 'error') "
					  "FROM projects p WHERE p.project_id = $1", 1, p, PGRES_TUPLES_OK);
	if (!res || PQntuples(res) != 1)
	{
		PQclear(res);
		api_send_problem(r, 403, API_FORBIDDEN);
		return;
	}
	schema = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	o = json_pack("{s:s,s:o,s:s,s:i,s:s,s:s,s:i,s:b,s:b}", "project_id", pid,
				  "schema", schema ? schema : json_object(), "result_type", PQgetvalue(res, 0, 1),
				  "number_parties", atoi(PQgetvalue(res, 0, 2)), "name", PQgetvalue(res, 0, 3),
				  "notes", PQgetvalue(res, 0, 4), "parties_contributed", atoi(PQgetvalue(res, 0, 6)),
				  "error", PQgetvalue(res, 0, 7)[0] == 't', "uses_blocking", PQgetvalue(res, 0, 5)[0] == 't');
	PQclear(res);
	api_send_json(r, 200, o);
}

/*
 * DELETE /api/v1/projects/{pid}: mark it (from now on it is gone for
 * every route), then purge it, or leave the purge to the janitor when
 * its tables are busy for longer than the lock timeout.
 */
static void
delete_project(HttpRequest *r, ApiCtx *ctx, PGconn *pg, const char *pid)
{
	const char *p[1] = {pid};
	int			ok;

	if (!api_auth_result(r, pg, pid))
		return;
	ok = svc_db_begin(pg, 2000) &&
		svc_db_run(pg, "UPDATE projects SET marked_for_deletion = true WHERE project_id = $1", 1, p);
	if (!ok || !svc_db_command(pg, "COMMIT"))
	{
		svc_db_command(pg, "ROLLBACK");
		api_send_busy(r, "the project is busy");
		return;
	}
	for (int attempt = 0; attempt < 3 && api_janitor_purge(ctx, pg, pid) == 1; attempt++)
		usleep(100 * 1000);
	api_send_body(r, 204, "application/json", NULL);
}

/* /api/v1/projects: POST creates, GET lists. */
void
api_route_projects(HttpRequest *r)
{
	ApiCtx	   *ctx = http_app(r);

	if (strcmp(http_method(r), "POST") == 0)
		create_project(r, ctx);
	else
		list_projects(r, ctx);
}

/* /api/v1/projects/{pid}: GET describes, DELETE deletes. */
void
api_route_project(HttpRequest *r)
{
	ApiCtx	   *ctx = http_app(r);
	char		pid[SVC_TOKEN_HEX + 1];
	PGconn	   *pg;

	if (!(pg = api_auth_project(r, ctx, pid)))
		return;
	if (strcmp(http_method(r), "DELETE") == 0)
		delete_project(r, ctx, pg, pid);
	else
		describe_project(r, pg, pid);
	api_db_put(ctx->db, pg);
}
