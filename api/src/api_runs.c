/*
 * api_runs.c
 *	  Runs: create and list (/runs), describe and delete (/runs/{rid}), the
 *	  status with stage and progress (/runs/{rid}/status) and the result
 *	  (/runs/{rid}/result), streamed from the object store where the worker
 *	  wrote it.  Access as upstream: the result token for everything; for a
 *	  permutations project also a party's receipt token for the status and
 *	  that party's permutation.  Unknown runs are the same 403 as a wrong
 *	  token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "api_external.h"
#include "api_http.h"
#include "api_runs.h"
#include "api_token.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define RUN_BODY_MAX (64 * 1024)
#define NOT_COMPLETE "run is not complete"

static const char *const stage_names[] = {"", "waiting for CLKs", "compute similarity scores",
"compute output"};

/*
 * Queue the project's runs whose data is complete: the database moves them
 * to 'queued' (or fails them on bad encoding sizes) and this appends their
 * jobs to Redis with the primary's WAL position, which the worker's replica
 * must have replayed before it reads.  A job Redis refused is marked not
 * enqueued, to be handed over again by the next call.
 */
void
api_runs_queue_ready(ApiCtx *ctx, PGconn *pg, const char *pid)
{
	char		mn[16],
				mx[16],
				err[128];
	const char *p[3] = {pid, mn, mx};
	PGresult   *r,
			   *lsn;

	snprintf(mn, sizeof(mn), "%d", ctx->limits.min_encoding_size);
	snprintf(mx, sizeof(mx), "%d", ctx->limits.max_encoding_size);
	r = api_db_exec(pg, "SELECT * FROM service_queue_ready_runs($1, $2::int, $3::int)", 3, p,
					PGRES_TUPLES_OK);
	if (!r || PQntuples(r) == 0)
	{
		PQclear(r);
		return;
	}
	lsn = api_db_exec(pg, "SELECT pg_current_wal_lsn()::text", 0, NULL, PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(r); i++)
	{
		const char *rid = PQgetvalue(r, i, 0);

		if (api_queue_push_run(ctx->queue, rid, pid, lsn ? PQgetvalue(lsn, 0, 0) : "0/0",
							   err, sizeof(err)) != 0)
		{
			const char *q[1] = {rid};

			PQclear(api_db_exec(pg, "UPDATE runs SET enqueued = false WHERE run_id = $1", 1, q,
								PGRES_COMMAND_OK));
		}
	}
	PQclear(lsn);
	PQclear(r);
}

/* POST /runs: {"threshold": 0 < t <= 1, "name"?, "notes"?}. */
static int
create_run(struct mg_connection *c, ApiCtx *ctx, PGconn *pg, const char *pid)
{
	const char *route = "/projects/{pid}/runs";
	int			status;
	char		err[256],
				rid[API_TOKEN_HEX + 1],
				thr[32];
	json_t	   *body = api_read_json(c, RUN_BODY_MAX, &status, err, sizeof(err)),
			   *t,
			   *name,
			   *notes;
	PGresult   *r;
	int			rc;

	if (!body)
		return api_send_problem(c, route, status, err);
	t = json_object_get(body, "threshold");
	name = json_object_get(body, "name");
	notes = json_object_get(body, "notes");
	if (!json_is_object(body) || !json_is_number(t) || json_number_value(t) <= 0 ||
		json_number_value(t) > 1)
		rc = api_send_problem(c, route, 400, "threshold (a number with 0 < threshold <= 1) is required");
	else if ((name && !json_is_string(name)) || (notes && !json_is_string(notes)))
		rc = api_send_problem(c, route, 400, "name and notes must be strings");
	else if (api_token_new(rid) != 0)
		rc = api_send_problem(c, route, 500, "no randomness available");
	else
	{
		const char *p[5] = {rid, pid, thr, name ? json_string_value(name) : "",
		notes ? json_string_value(notes) : ""};

		snprintf(thr, sizeof(thr), "%.17g", json_number_value(t));
		r = api_db_exec(pg, "INSERT INTO runs (run_id, project_id, threshold, name, notes, type) "
						"SELECT $1, $2, $3::float8, $4, $5, CASE WHEN p.result_type = 'similarity_scores' "
						"THEN 'no_mapping' ELSE 'default' END FROM projects p WHERE p.project_id = $2 "
						"AND NOT EXISTS (SELECT 1 FROM dataproviders d WHERE d.project_id = $2 "
						"AND d.uploaded = 'error') RETURNING run_id", 5, p, PGRES_TUPLES_OK);
		if (r && PQntuples(r) == 0)
			rc = api_send_problem(c, route, 409, "Can't post run as project has errors");
		else if (!r)
			rc = api_send_problem(c, route, 503, "database error");
		else
		{
			api_runs_queue_ready(ctx, pg, pid);
			rc = api_send_json(c, route, 201, json_pack("{s:s,s:f,s:s,s:s}", "run_id", rid,
														"threshold", json_number_value(t),
														"name", p[3], "notes", p[4]));
		}
		PQclear(r);
	}
	json_decref(body);
	return rc;
}

/* GET /runs: [{"run_id", "time_added", "state"}]. */
static int
list_runs(struct mg_connection *c, PGconn *pg, const char *pid)
{
	const char *p[1] = {pid};
	PGresult   *r = api_db_exec(pg, "SELECT run_id, " ISO("time_added") ", state FROM runs "
								"WHERE project_id = $1 ORDER BY time_added", 1, p, PGRES_TUPLES_OK);
	json_t	   *list;

	if (!r)
		return api_send_problem(c, "/projects/{pid}/runs", 503, "database error");
	list = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "run_id", PQgetvalue(r, i, 0),
											  "time_added", PQgetvalue(r, i, 1),
											  "state", PQgetvalue(r, i, 2)));
	PQclear(r);
	return api_send_json(c, "/projects/{pid}/runs", 200, list);
}

/* The run's row (fields below), or NULL when the project has no such run. */
static PGresult *
fetch_run(PGconn *pg, const char *pid, const char *rid)
{
	const char *p[2] = {pid, rid};
	PGresult   *r = api_db_exec(pg, "SELECT r.name, r.notes, r.threshold, r.state, r.stage, "
								"CASE WHEN r.type = 'no_mapping' THEN 2 ELSE 3 END, " ISO("r.time_added") ", "
								ISO("r.time_started") ", " ISO("r.time_completed") ", r.error_msg, "
								"r.total_comparisons, p.parties, (SELECT count(*) FROM dataproviders d "
								"WHERE d.project_id = p.project_id AND d.uploaded = 'done'), p.result_type "
								"FROM runs r JOIN projects p USING (project_id) "
								"WHERE r.project_id = $1 AND r.run_id = $2", 2, p, PGRES_TUPLES_OK);

	if (r && PQntuples(r) != 1)
	{
		PQclear(r);
		return NULL;
	}
	return r;
}

enum
{
	F_NAME, F_NOTES, F_THRESHOLD, F_STATE, F_STAGE, F_STAGES, F_ADDED, F_STARTED, F_COMPLETED,
	F_ERROR, F_COMPARISONS, F_PARTIES, F_DONE, F_RESULT_TYPE
};

/* GET /runs/{rid}: the run description. */
static int
describe_run(struct mg_connection *c, PGresult *r, const char *rid)
{
	return api_send_json(c, "/projects/{pid}/runs/{rid}", 200,
						 json_pack("{s:s,s:s,s:s,s:f,s:s,s:s}", "run_id", rid,
								   "name", PQgetvalue(r, 0, F_NAME), "notes", PQgetvalue(r, 0, F_NOTES),
								   "threshold", atof(PQgetvalue(r, 0, F_THRESHOLD)),
								   "state", PQgetvalue(r, 0, F_STATE),
								   "time_added", PQgetvalue(r, 0, F_ADDED)));
}

/* The current stage with its progress, as upstream reports it. */
static json_t *
current_stage(ApiCtx *ctx, PGresult *r, const char *rid, const char *state)
{
	int			stages = atoi(PQgetvalue(r, 0, F_STAGES)),
				stage = atoi(PQgetvalue(r, 0, F_STAGE));
	json_t	   *o;

	if (strcmp(state, "completed") == 0)
		stage = stages;
	if (stage < 1 || stage > stages)
		stage = 1;
	o = json_pack("{s:i,s:s}", "number", stage, "description", stage_names[stage]);
	if (stage == 1)
	{
		int			parties = atoi(PQgetvalue(r, 0, F_PARTIES)),
					done = atoi(PQgetvalue(r, 0, F_DONE));

		json_object_set_new(o, "progress", json_pack("{s:i,s:f,s:s}", "absolute", done,
													 "relative", parties ? (double) done / parties : 0.0,
													 "description", "number of parties already contributed"));
	}
	else if (stage == 2 && strcmp(state, "completed") != 0)
	{
		long long	done = 0,
					total = 0,
					cands = 0;
		double		rel;

		api_queue_progress(ctx->queue, rid, &done, &total, &cands);
		rel = total > 0 ? (double) done / (double) total : 0.0;
		json_object_set_new(o, "progress", json_pack("{s:I,s:f,s:s}", "absolute", (json_int_t) done,
													 "relative", rel > 1.0 ? 1.0 : rel,
													 "description", "number of already computed similarity scores"));
	}
	return o;
}

/* GET /runs/{rid}/status. */
static int
run_status(struct mg_connection *c, ApiCtx *ctx, PGresult *r, const char *rid)
{
	const char *state = PQgetvalue(r, 0, F_STATE);
	json_t	   *o = json_pack("{s:s,s:s,s:i}", "state", state, "time_added", PQgetvalue(r, 0, F_ADDED),
							  "stages", atoi(PQgetvalue(r, 0, F_STAGES)));

	json_object_set_new(o, "current_stage", current_stage(ctx, r, rid, state));
	if (!PQgetisnull(r, 0, F_STARTED))
		json_object_set_new(o, "time_started", json_string(PQgetvalue(r, 0, F_STARTED)));
	if (strcmp(state, "completed") == 0)
	{
		if (!PQgetisnull(r, 0, F_COMPLETED))
			json_object_set_new(o, "time_completed", json_string(PQgetvalue(r, 0, F_COMPLETED)));
		json_object_set_new(o, "total_number_comparisons",
							json_integer(atoll(PQgetvalue(r, 0, F_COMPARISONS))));
	}
	if (strcmp(state, "error") == 0)
		json_object_set_new(o, "message", json_string(PQgetisnull(r, 0, F_ERROR) ? "the run failed"
													  : PQgetvalue(r, 0, F_ERROR)));
	return api_send_json(c, "/projects/{pid}/runs/{rid}/status", 200, o);
}

/* Write one chunk of a result object to the client. */
static int
send_chunk(void *arg, const void *data, size_t len)
{
	return mg_write(arg, data, len) == (int) len ? 0 : -1;
}

/*
 * RETURN-OBJECT-STORE-ADDRESS on a similarity-score result (upstream's
 * direct download): 200 with credentials that read only the run's scores in
 * anonlink's binary format, and where they are.  501 with the file store.
 */
static int
result_address(struct mg_connection *c, ApiCtx *ctx, PGconn *pg, const char *rid)
{
	const char *route = "/projects/{pid}/runs/{rid}/result";
	const char *p[1] = {rid};
	char		key[512],
				who[40];
	PGresult   *r;

	r = api_db_exec(pg, "SELECT object_key FROM run_results WHERE run_id = $1 "
					"AND kind = 'similarity_scores_binary'", 1, p, PGRES_TUPLES_OK);
	if (!r || PQntuples(r) != 1)
	{
		PQclear(r);
		return api_send_problem(c, route, r ? 409 : 503, r ? "this run kept no binary scores "
								"(it completed before they were written); fetch the JSON result"
								: "database unavailable");
	}
	snprintf(who, sizeof(who), "pprl-result-%.16s", rid);
	snprintf(key, sizeof(key), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return api_send_grant(c, ctx, route, key, STORE_GRANT_GET, who, 200, "object",
						  "Feature Disabled: object store addresses need the S3 object store with "
						  "S3_STS_ROLE_ARN; fetch the result without RETURN-OBJECT-STORE-ADDRESS");
}

/* GET /runs/{rid}/result: stream the stored result object. */
static int
run_result(struct mg_connection *c, ApiCtx *ctx, PGconn *pg, PGresult *run, const char *rid,
		   ApiRole role, int dp_index)
{
	const char *route = "/projects/{pid}/runs/{rid}/result";
	const char *state = PQgetvalue(run, 0, F_STATE),
			   *rtype = PQgetvalue(run, 0, F_RESULT_TYPE);
	const char *kind = strcmp(rtype, "permutations") != 0 ? rtype
		: role == API_ROLE_RECEIPT ? "permutation" : "mask";
	char		idx[16],
				err[256],
				id[80];
	const char *p[3] = {rid, kind, idx};
	PGresult   *r;
	int			ok;

	if (strcmp(state, "error") == 0)
		return api_send_problem(c, route, 409, PQgetisnull(run, 0, F_ERROR) ? "the run failed"
								: PQgetvalue(run, 0, F_ERROR));
	if (strcmp(state, "completed") != 0)
		return api_send_problem(c, route, 404, NOT_COMPLETE);
	if (strcmp(rtype, "similarity_scores") == 0 && mg_get_header(c, "RETURN-OBJECT-STORE-ADDRESS"))
		return result_address(c, ctx, pg, rid);
	snprintf(idx, sizeof(idx), "%d", role == API_ROLE_RECEIPT ? dp_index : -1);
	r = api_db_exec(pg, "SELECT object_key, bytes FROM run_results WHERE run_id = $1 AND kind = $2 "
					"AND dp_index = $3::smallint", 3, p, PGRES_TUPLES_OK);
	if (!r || PQntuples(r) != 1)
	{
		PQclear(r);
		return api_send_problem(c, route, 500, "the run's result is missing");
	}
	api_send_head(c, "application/json", PQgetvalue(r, 0, 1), id, sizeof(id));
	ok = store_get(ctx->store, PQgetvalue(r, 0, 0), send_chunk, c, err, sizeof(err)) == 0;
	PQclear(r);
	/* a failure here is mid-body: the client sees a short body and the log says why */
	api_http_log(c, route, ok ? 200 : 500, id);
	return 200;
}

/* DELETE /runs/{rid}: the row (results cascade) and the result objects. */
static int
delete_run(struct mg_connection *c, ApiCtx *ctx, PGconn *pg, const char *pid, const char *rid)
{
	const char *p[1] = {rid};
	PGresult   *r = api_db_exec(pg, "DELETE FROM runs WHERE run_id = $1", 1, p, PGRES_COMMAND_OK);
	char		prefix[128],
				err[256];

	if (!r)
		return api_send_problem(c, "/projects/{pid}/runs/{rid}", 503, "database error");
	PQclear(r);
	snprintf(prefix, sizeof(prefix), "results/%s/%s/", pid, rid);
	store_remove_prefix(ctx->store, prefix, err, sizeof(err));
	return api_send_body(c, "/projects/{pid}/runs/{rid}", 204, "application/json", NULL);
}

/* Dispatch /runs/{rid}[/status|/result] once the token is checked. */
static int
run_routes(struct mg_connection *c, ApiCtx *ctx, PGconn *pg, const char *pid, const char *rest)
{
	const char *m = mg_get_request_info(c)->request_method;
	const char *tail = rest + API_TOKEN_HEX;
	const char *route = *tail == '\0' ? "/projects/{pid}/runs/{rid}"
		: strcmp(tail, "/status") == 0 ? "/projects/{pid}/runs/{rid}/status"
		: "/projects/{pid}/runs/{rid}/result";
	char		rid[API_TOKEN_HEX + 1];
	int			dp_index = -1,
				rc;
	ApiRole		role;
	PGresult   *run;

	if (*tail && strcmp(tail, "/status") != 0 && strcmp(tail, "/result") != 0)
		return api_send_problem(c, "/projects/{pid}/runs/...", 404, "no such resource");
	if (strcmp(m, "GET") != 0 && (*tail || strcmp(m, "DELETE") != 0))
		return api_send_problem(c, route, 405, *tail ? "use GET" : "use GET or DELETE");
	role = *tail ? api_auth_result_or_receipt(c, pg, pid, route, &dp_index)
		: (api_auth_result(c, pg, pid, route) ? API_ROLE_RESULT : API_ROLE_NONE);
	if (role == API_ROLE_NONE)
		return 403;
	memcpy(rid, rest, API_TOKEN_HEX);
	rid[API_TOKEN_HEX] = '\0';
	if (!(run = fetch_run(pg, pid, rid)))
		return api_send_problem(c, route, 403, API_FORBIDDEN);
	if (*tail == '\0')
		rc = strcmp(m, "DELETE") == 0 ? delete_run(c, ctx, pg, pid, rid) : describe_run(c, run, rid);
	else if (strcmp(tail, "/status") == 0)
		rc = run_status(c, ctx, run, rid);
	else
		rc = run_result(c, ctx, pg, run, rid, role, dp_index);
	PQclear(run);
	return rc;
}

/* /api/v1/projects/{pid}/runs[/...]; rest is what follows "/runs". */
int
api_runs_route(struct mg_connection *c, ApiCtx *ctx, const char *pid, const char *rest)
{
	const char *m = mg_get_request_info(c)->request_method;
	const char *route = "/projects/{pid}/runs";
	PGconn	   *pg;
	int			rc;

	if (*rest == '/' && rest[1])
	{
		rest++;
		if (!api_token_well_formed(rest, strcspn(rest, "/")))
			return mg_get_header(c, "Authorization")
				? api_send_problem(c, "/projects/{pid}/runs/{rid}", 403, API_FORBIDDEN)
				: api_send_problem(c, "/projects/{pid}/runs/{rid}", 400, "missing Authorization header");
		pg = api_db_get(ctx->db);
		rc = run_routes(c, ctx, pg, pid, rest);
		api_db_put(ctx->db, pg);
		return rc;
	}
	if (*rest && strcmp(rest, "/") != 0)
		return api_send_problem(c, route, 404, "no such resource");
	if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)
		return api_send_problem(c, route, 405, "use GET or POST");
	pg = api_db_get(ctx->db);
	if (!api_auth_result(c, pg, pid, route))
		rc = 403;
	else
		rc = strcmp(m, "POST") == 0 ? create_run(c, ctx, pg, pid) : list_runs(c, pg, pid);
	api_db_put(ctx->db, pg);
	return rc;
}
