/*
 * api_projects.c
 *	  /api/v1/projects: create and list; /api/v1/projects/{pid}: describe
 *	  and delete.  Tokens are drawn from the OS CSPRNG and only their SHA-256
 *	  is stored; a presented token is hashed and compared in constant time.
 *	  Every SQL statement is parameterised.  As upstream, a missing
 *	  Authorization header is 400 and a wrong token or unknown project is
 *	  the same 403, so tokens cannot be used to probe for projects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api_auth.h"
#include "api_external.h"
#include "api_db.h"
#include "api_http.h"
#include "api_projects.h"
#include "api_runs.h"
#include "api_token.h"
#include "api_upload.h"

#define CREATE_BODY_MAX (1024 * 1024)
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

/* POST /api/v1/projects. */
static int
create_project(struct mg_connection *c, ApiDb *db)
{
	int			status;
	char		err[256];
	json_t	   *body = api_read_json(c, CREATE_BODY_MAX, &status, err, sizeof(err));
	const char *problem,
			   *result_type = NULL;
	json_int_t	parties = 2;
	char		pid[API_TOKEN_HEX + 1],
				result[API_TOKEN_HEX + 1],
				hex[2 * API_TOKEN_SHA256 + 1],
				nparties[16];
	json_t	   *tokens,
			   *resp;
	char	   *schema;
	PGconn	   *pg;
	int			ok;

	if (!body)
		return api_send_problem(c, "/projects", status, err);
	problem = validate_new_project(body, &result_type, &parties);
	if (problem)
	{
		json_decref(body);
		return api_send_problem(c, "/projects", 400, problem);
	}
	if (api_token_new(pid) != 0 || api_token_new(result) != 0)
	{
		json_decref(body);
		return api_send_problem(c, "/projects", 500, "no randomness available");
	}
	api_token_hash_hex(result, API_TOKEN_HEX, hex);
	schema = json_dumps(json_object_get(body, "schema"), JSON_COMPACT);
	snprintf(nparties, sizeof(nparties), "%d", (int) parties);
	tokens = json_array();
	pg = api_db_get(db);
	ok = api_db_command(pg, "BEGIN");
	{
		const char *p[8] = {pid, hex, schema, result_type, nparties,
			json_string_value(json_object_get(body, "name")) ? json_string_value(json_object_get(body, "name")) : "",
			json_string_value(json_object_get(body, "notes")) ? json_string_value(json_object_get(body, "notes")) : "",
		json_is_true(json_object_get(body, "uses_blocking")) ? "true" : "false"};
		PGresult   *r = ok ? api_db_exec(pg, "INSERT INTO projects (project_id, result_token_sha256, schema, result_type, "
								  "parties, name, notes, uses_blocking) VALUES ($1, decode($2, 'hex'), $3::jsonb, $4, "
								  "$5::smallint, $6, $7, $8::boolean)", 8, p, PGRES_COMMAND_OK) : NULL;

		ok = r != NULL;
		PQclear(r);
	}
	for (int i = 0; ok && i < parties; i++)
	{
		char		tok[API_TOKEN_HEX + 1],
					idx[16];
		const char *p[3] = {pid, idx, hex};
		PGresult   *r;

		snprintf(idx, sizeof(idx), "%d", i);
		if (api_token_new(tok) != 0)
		{
			ok = 0;
			break;
		}
		api_token_hash_hex(tok, API_TOKEN_HEX, hex);
		r = api_db_exec(pg, "INSERT INTO dataproviders (project_id, dp_index, update_token_sha256) "
				 "VALUES ($1, $2::smallint, decode($3, 'hex'))", 3, p, PGRES_COMMAND_OK);
		ok = r != NULL;
		PQclear(r);
		json_array_append_new(tokens, json_string(tok));
	}
	if (ok)
	{
		const char *p[2] = {pid, nparties};
		PGresult   *r = api_db_exec(pg, "SELECT service_add_project_partitions($1, $2::int)", 2, p, PGRES_TUPLES_OK);

		ok = r != NULL;
		PQclear(r);
	}
	ok = api_db_command(pg, ok ? "COMMIT" : "ROLLBACK") && ok;
	api_db_put(db, pg);
	free(schema);
	json_decref(body);
	if (!ok)
	{
		json_decref(tokens);
		return api_send_problem(c, "/projects", 500, "could not create the project");
	}
	resp = json_pack("{s:s,s:o,s:s}", "project_id", pid, "update_tokens", tokens, "result_token", result);
	return api_send_json(c, "/projects", 201, resp);
}

/* GET /api/v1/projects: every project's id and creation time (as upstream). */
static int
list_projects(struct mg_connection *c, ApiDb *db)
{
	PGconn	   *pg = api_db_get(db);
	PGresult   *r = api_db_exec(pg, "SELECT project_id, to_char(time_added AT TIME ZONE 'UTC', "
						 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM projects "
						 "WHERE NOT marked_for_deletion ORDER BY time_added", 0, NULL, PGRES_TUPLES_OK);
	json_t	   *list = json_array();

	api_db_put(db, pg);
	if (!r)
	{
		json_decref(list);
		return api_send_problem(c, "/projects", 503, "database error");
	}
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(list, json_pack("{s:s,s:s}", "project_id", PQgetvalue(r, i, 0),
											  "time_added", PQgetvalue(r, i, 1)));
	PQclear(r);
	return api_send_json(c, "/projects", 200, list);
}

/* GET /api/v1/projects/{pid}: the project description. */
static int
describe_project(struct mg_connection *c, ApiDb *db, const char *pid)
{
	PGconn	   *pg = api_db_get(db);
	const char *p[1] = {pid};
	PGresult   *r;
	json_t	   *o,
			   *schema;
	int			rc,
				dp_index;

	if (api_auth_result_or_receipt(c, pg, pid, "/projects/{pid}", &dp_index) == API_ROLE_NONE)
	{
		api_db_put(db, pg);
		return 403;
	}
	r = api_db_exec(pg, "SELECT p.schema::text, p.result_type, p.parties, p.name, p.notes, p.uses_blocking, "
			 "(SELECT count(*) FROM dataproviders d WHERE d.project_id = p.project_id AND d.uploaded = 'done'), "
			 "EXISTS (SELECT 1 FROM dataproviders d WHERE d.project_id = p.project_id AND d.uploaded = 'error') "
			 "FROM projects p WHERE p.project_id = $1", 1, p, PGRES_TUPLES_OK);
	api_db_put(db, pg);
	if (!r || PQntuples(r) != 1)
	{
		PQclear(r);
		return api_send_problem(c, "/projects/{pid}", 403, API_FORBIDDEN);
	}
	schema = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	o = json_pack("{s:s,s:o,s:s,s:i,s:s,s:s,s:i,s:b,s:b}", "project_id", pid,
				  "schema", schema ? schema : json_object(), "result_type", PQgetvalue(r, 0, 1),
				  "number_parties", atoi(PQgetvalue(r, 0, 2)), "name", PQgetvalue(r, 0, 3),
				  "notes", PQgetvalue(r, 0, 4), "parties_contributed", atoi(PQgetvalue(r, 0, 6)),
				  "error", PQgetvalue(r, 0, 7)[0] == 't', "uses_blocking", PQgetvalue(r, 0, 5)[0] == 't');
	PQclear(r);
	rc = api_send_json(c, "/projects/{pid}", 200, o);
	return rc;
}

/* DELETE /api/v1/projects/{pid}: drop its encodings and rows (runs cascade). */
static int
delete_project(struct mg_connection *c, ApiCtx *ctx, const char *pid)
{
	static const char *const folders[] = {"uploads", "external", "results"};
	ApiDb	   *db = ctx->db;
	PGconn	   *pg = api_db_get(db);
	char		prefix[128],
				err[256];
	const char *p[1] = {pid};
	PGresult   *r1 = NULL,
			   *r2 = NULL;
	int			ok;

	if (!api_auth_result(c, pg, pid, "/projects/{pid}"))
	{
		api_db_put(db, pg);
		return 403;
	}
	ok = api_db_command(pg, "BEGIN") &&
		(r1 = api_db_exec(pg, "SELECT service_drop_project_partitions($1)", 1, p, PGRES_TUPLES_OK)) != NULL &&
		(r2 = api_db_exec(pg, "DELETE FROM projects WHERE project_id = $1", 1, p, PGRES_COMMAND_OK)) != NULL;
	PQclear(r1);
	PQclear(r2);
	ok = api_db_command(pg, ok ? "COMMIT" : "ROLLBACK") && ok;
	api_db_put(db, pg);
	if (!ok)
		return api_send_problem(c, "/projects/{pid}", 500, "could not delete the project");
	/* the rows are gone; now its objects (uploads, external uploads, results) */
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
	{
		snprintf(prefix, sizeof(prefix), "%s/%s/", folders[i], pid);
		store_remove_prefix(ctx->store, prefix, err, sizeof(err));
	}
	return api_send_body(c, "/projects/{pid}", 204, "application/json", NULL);
}

/* /api/v1/projects */
int
api_route_projects(struct mg_connection *c, void *cb)
{
	ApiCtx	   *ctx = cb;
	const char *m = mg_get_request_info(c)->request_method;

	if (strcmp(m, "POST") == 0)
		return create_project(c, ctx->db);
	if (strcmp(m, "GET") == 0)
		return list_projects(c, ctx->db);
	return api_send_problem(c, "/projects", 405, "use GET or POST");
}

/* /api/v1/projects/{pid}[/...] */
int
api_route_project(struct mg_connection *c, void *cb)
{
	ApiCtx	   *ctx = cb;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *rest = ri->local_uri + strlen("/api/v1/projects/");
	char		pid[API_TOKEN_HEX + 1];

	/* An id that cannot exist is the same 403 as a wrong token. */
	if (!api_token_well_formed(rest, strcspn(rest, "/")))
		return api_send_problem(c, "/projects/{pid}", mg_get_header(c, "Authorization") ? 403 : 400,
								mg_get_header(c, "Authorization") ? API_FORBIDDEN : "missing Authorization header");
	memcpy(pid, rest, API_TOKEN_HEX);
	pid[API_TOKEN_HEX] = '\0';
	rest += API_TOKEN_HEX;
	if (*rest == '\0' || strcmp(rest, "/") == 0)
	{
		if (strcmp(ri->request_method, "GET") == 0)
			return describe_project(c, ctx->db, pid);
		if (strcmp(ri->request_method, "DELETE") == 0)
			return delete_project(c, ctx, pid);
		return api_send_problem(c, "/projects/{pid}", 405, "use GET or DELETE");
	}
	if (strcmp(rest, "/clks") == 0)
		return api_upload(c, ctx, pid, 0);
	if (strcmp(rest, "/binaryclks") == 0)
		return api_upload(c, ctx, pid, 1);
	if (strcmp(rest, "/authorize-external-upload") == 0)
		return api_authorize_external_upload(c, ctx, pid);
	if (strncmp(rest, "/runs", 5) == 0 && (rest[5] == '\0' || rest[5] == '/'))
		return api_runs_route(c, ctx, pid, rest + 5);
	return api_send_problem(c, "/projects/{pid}/...", 404, "no such resource");
}
