/*
 * api_runs.c
 *	  Runs: create and list (/runs), describe and delete (/runs/{rid}), the
 *	  status with stage and progress (/runs/{rid}/status) and the result
 *	  (/runs/{rid}/result), streamed from the object store where the worker
 *	  wrote it.  Access as upstream: the result token for everything; for a
 *	  permutations project also a party's receipt token for the status and
 *	  that party's permutation.  Unknown runs are the same 403 as a wrong
 *	  token.  Runs are bounded per project (kept, and not yet finished) and
 *	  in all (queued or running): 429 with Retry-After beyond.  A result is
 *	  streamed by a producer of its own after the handler has given back
 *	  its database connection, so a slow reader holds no shared resource.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "api_external.h"
#include "api_http.h"
#include "api_routes.h"
#include "api_queue.h"
#include "service/token.h"
#include "service/keys.h"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define NOT_COMPLETE "run is not complete"

static const char *const stage_names[] = {"", "waiting for CLKs", "compute similarity scores",
"compute output"};

/*
 * Whether the project may take another run: its kept runs, its runs not
 * yet finished, and the runs queued or running in all, each under its
 * bound.  Sends the 429 itself and returns 0 if not.
 */
static int
run_allowed(HttpRequest *r, ApiCtx *ctx, PGconn *pg, const char *pid)
{
	char		kept[16],
				active[16],
				all[16],
				msg[200];
	const char *p[4] = {pid, kept, active, all};
	PGresult   *res;
	int			which;

	snprintf(kept, sizeof(kept), "%d", ctx->limits.max_runs_per_project);
	snprintf(active, sizeof(active), "%d", ctx->limits.max_active_runs_per_project);
	snprintf(all, sizeof(all), "%d", ctx->limits.max_active_runs);
	res = svc_db_exec(pg, "SELECT CASE WHEN $2::int > 0 AND (SELECT count(*) FROM runs WHERE project_id = $1) >= $2::int THEN 1 "
					  "WHEN $3::int > 0 AND (SELECT count(*) FROM runs WHERE project_id = $1 "
					  "AND state IN ('created', 'queued', 'running')) >= $3::int THEN 2 "
					  "WHEN $4::int > 0 AND (SELECT count(*) FROM runs WHERE state IN ('queued', 'running')) >= $4::int THEN 3 "
					  "ELSE 0 END", 4, p, PGRES_TUPLES_OK);
	if (!res)
	{
		api_send_problem(r, 503, "database error");
		return 0;
	}
	which = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (which == 0)
		return 1;
	if (which == 1)
		snprintf(msg, sizeof(msg), "this project keeps its maximum of %s runs (PPRL_MAX_RUNS_PER_PROJECT); "
				 "delete some first", kept);
	else if (which == 2)
		snprintf(msg, sizeof(msg), "this project has %s runs not yet finished "
				 "(PPRL_MAX_ACTIVE_RUNS_PER_PROJECT); wait for one to finish", active);
	else
		snprintf(msg, sizeof(msg), "the service has %s runs queued or running (PPRL_MAX_ACTIVE_RUNS); "
				 "retry later", all);
	http_add_header(r, "Retry-After", which == 1 ? "3600" : "30");
	api_send_problem(r, 429, msg);
	return 0;
}

/* POST /runs: {"threshold": 0 < t <= 1, "name"?, "notes"?}. */
static void
create_run(HttpRequest *r, ApiCtx *ctx, PGconn *pg, const char *pid)
{
	int			status;
	char		err[256],
				rid[SVC_TOKEN_HEX + 1],
				thr[32];
	json_t	   *body = api_read_json(r, &status, err, sizeof(err)),
			   *t,
			   *name,
			   *notes;
	PGresult   *res;

	if (!body)
	{
		api_send_problem(r, status, err);
		return;
	}
	t = json_object_get(body, "threshold");
	name = json_object_get(body, "name");
	notes = json_object_get(body, "notes");
	if (!json_is_object(body) || !json_is_number(t) || json_number_value(t) <= 0 ||
		json_number_value(t) > 1)
		api_send_problem(r, 400, "threshold (a number with 0 < threshold <= 1) is required");
	else if ((name && !json_is_string(name)) || (notes && !json_is_string(notes)))
		api_send_problem(r, 400, "name and notes must be strings");
	else if (svc_token_new(rid) != 0)
		api_send_problem(r, 500, "no randomness available");
	else if (run_allowed(r, ctx, pg, pid))
	{
		const char *p[5] = {rid, pid, thr, name ? json_string_value(name) : "",
		notes ? json_string_value(notes) : ""};

		snprintf(thr, sizeof(thr), "%.17g", json_number_value(t));
		res = svc_db_exec(pg, "SELECT service_create_run($1, $2, $3::float8, $4, $5)", 5, p, PGRES_TUPLES_OK);
		if (res && PQgetvalue(res, 0, 0)[0] != 't')
			api_send_problem(r, 409, "Can't post run as project has errors");
		else if (!res)
			api_send_problem(r, 503, "database error");
		else
		{
			api_queue_ready_runs(ctx->queue, pg, pid, ctx->limits.min_encoding_size,
								 ctx->limits.max_encoding_size);
			api_send_json(r, 201, json_pack("{s:s,s:f,s:s,s:s}", "run_id", rid, "threshold",
											json_number_value(t), "name", p[3], "notes", p[4]));
		}
		PQclear(res);
	}
	json_decref(body);
}

/* GET /runs: [{"run_id", "time_added", "state"}]. */
static void
list_runs(HttpRequest *r, PGconn *pg, const char *pid)
{
	const char *p[1] = {pid};
	PGresult   *res = svc_db_exec(pg, "SELECT run_id, " ISO("time_added") ", state FROM runs "
								  "WHERE project_id = $1 ORDER BY time_added", 1, p, PGRES_TUPLES_OK);
	json_t	   *list;

	if (!res)
	{
		api_send_problem(r, 503, "database error");
		return;
	}
	list = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "run_id", PQgetvalue(res, i, 0),
											  "time_added", PQgetvalue(res, i, 1),
											  "state", PQgetvalue(res, i, 2)));
	PQclear(res);
	api_send_json(r, 200, list);
}

/* The run's row (fields below), or NULL when the project has no such run. */
static PGresult *
fetch_run(PGconn *pg, const char *pid, const char *rid)
{
	const char *p[2] = {pid, rid};
	PGresult   *r = svc_db_exec(pg, "SELECT r.name, r.notes, r.threshold, r.state, r.stage, "
								"CASE WHEN r.type = 'no_mapping' THEN 2 ELSE 3 END, " ISO("r.time_added") ", "
								ISO("r.time_started") ", " ISO("r.time_completed") ", r.error_msg, "
								"r.total_comparisons, p.parties, (SELECT count(*) FROM dataproviders d "
								"WHERE d.project_id = p.project_id AND d.uploaded = 'done'), p.result_type "
								"FROM runs r JOIN projects p USING (project_id) "
								"WHERE r.project_id = $1 AND r.run_id = $2 AND NOT p.marked_for_deletion",
								2, p, PGRES_TUPLES_OK);

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
static void
describe_run(HttpRequest *r, PGresult *run, const char *rid)
{
	api_send_json(r, 200, json_pack("{s:s,s:s,s:s,s:f,s:s,s:s}", "run_id", rid,
									"name", PQgetvalue(run, 0, F_NAME), "notes", PQgetvalue(run, 0, F_NOTES),
									"threshold", atof(PQgetvalue(run, 0, F_THRESHOLD)),
									"state", PQgetvalue(run, 0, F_STATE),
									"time_added", PQgetvalue(run, 0, F_ADDED)));
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
static void
run_status(HttpRequest *r, ApiCtx *ctx, PGresult *run, const char *rid)
{
	const char *state = PQgetvalue(run, 0, F_STATE);
	json_t	   *o = json_pack("{s:s,s:s,s:i}", "state", state, "time_added", PQgetvalue(run, 0, F_ADDED),
							  "stages", atoi(PQgetvalue(run, 0, F_STAGES)));

	json_object_set_new(o, "current_stage", current_stage(ctx, run, rid, state));
	if (!PQgetisnull(run, 0, F_STARTED))
		json_object_set_new(o, "time_started", json_string(PQgetvalue(run, 0, F_STARTED)));
	if (strcmp(state, "completed") == 0)
	{
		if (!PQgetisnull(run, 0, F_COMPLETED))
			json_object_set_new(o, "time_completed", json_string(PQgetvalue(run, 0, F_COMPLETED)));
		json_object_set_new(o, "total_number_comparisons",
							json_integer(atoll(PQgetvalue(run, 0, F_COMPARISONS))));
	}
	if (strcmp(state, "error") == 0)
		json_object_set_new(o, "message", json_string(PQgetisnull(run, 0, F_ERROR) ? "the run failed"
													  : PQgetvalue(run, 0, F_ERROR)));
	api_send_json(r, 200, o);
}

/*
 * RETURN-OBJECT-STORE-ADDRESS on a similarity-score result (upstream's
 * direct download): 200 with credentials that read only the run's scores in
 * anonlink's binary format, and where they are.  501 with the file store.
 */
static void
result_address(HttpRequest *r, ApiCtx *ctx, PGconn *pg, const char *rid)
{
	const char *p[1] = {rid};
	char		key[512],
				who[40];
	PGresult   *res;

	res = svc_db_exec(pg, "SELECT object_key FROM run_results WHERE run_id = $1 "
					  "AND kind = 'similarity_scores_binary'", 1, p, PGRES_TUPLES_OK);
	if (!res || PQntuples(res) != 1)
	{
		PQclear(res);
		api_send_problem(r, res ? 409 : 503, res ? "this run kept no binary scores "
						 "(it completed before they were written); fetch the JSON result"
						 : "database unavailable");
		return;
	}
	snprintf(who, sizeof(who), "pprl-result-%.16s", rid);
	snprintf(key, sizeof(key), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	api_send_grant(r, ctx, key, STORE_GRANT_GET, who, 200, "object",
				   "Feature Disabled: object store addresses need the S3 object store with "
				   "S3_STS_ROLE_ARN; fetch the result without RETURN-OBJECT-STORE-ADDRESS");
}

/* A result object on its way out: which, and from where. */
typedef struct ResultOut
{
	ObjectStore *store;
	char		key[512];
} ResultOut;

/* StoreChunkFn: one chunk of the result object to the client. */
static int
send_chunk(void *arg, const void *data, size_t len)
{
	return http_write(arg, data, len);
}

/* HttpProducer: stream the result object (a failure cuts the body short). */
static int
produce_result(HttpRequest *r, void *arg)
{
	ResultOut  *o = arg;
	char		err[256];
	int			rc = store_get(o->store, o->key, send_chunk, r, err, sizeof(err));

	free(o);
	return rc;
}

/* GET /runs/{rid}/result: stream the stored result object. */
static void
run_result(HttpRequest *r, ApiCtx *ctx, PGconn *pg, PGresult *run, const char *rid,
		   ApiRole role, int dp_index)
{
	const char *state = PQgetvalue(run, 0, F_STATE),
			   *rtype = PQgetvalue(run, 0, F_RESULT_TYPE);
	const char *kind = strcmp(rtype, "permutations") != 0 ? rtype
		: role == API_ROLE_RECEIPT ? "permutation" : "mask";
	char		idx[16];
	const char *p[3] = {rid, kind, idx};
	PGresult   *res;
	ResultOut  *o;

	if (strcmp(state, "error") == 0)
	{
		api_send_problem(r, 409, PQgetisnull(run, 0, F_ERROR) ? "the run failed" : PQgetvalue(run, 0, F_ERROR));
		return;
	}
	if (strcmp(state, "completed") != 0)
	{
		api_send_problem(r, 404, NOT_COMPLETE);
		return;
	}
	if (strcmp(rtype, "similarity_scores") == 0 && http_header(r, "RETURN-OBJECT-STORE-ADDRESS"))
	{
		result_address(r, ctx, pg, rid);
		return;
	}
	snprintf(idx, sizeof(idx), "%d", role == API_ROLE_RECEIPT ? dp_index : -1);
	res = svc_db_exec(pg, "SELECT object_key, bytes FROM run_results WHERE run_id = $1 AND kind = $2 "
					  "AND dp_index = $3::smallint", 3, p, PGRES_TUPLES_OK);
	if (!res || PQntuples(res) != 1 || !(o = malloc(sizeof(ResultOut))))
	{
		PQclear(res);
		api_send_problem(r, 500, "the run's result is missing");
		return;
	}
	o->store = ctx->store;
	snprintf(o->key, sizeof(o->key), "%s", PQgetvalue(res, 0, 0));
	if (http_respond_stream(r, "application/json", strtoull(PQgetvalue(res, 0, 1), NULL, 10),
							produce_result, o) != 0)
		free(o);
	PQclear(res);
}

/*
 * DELETE /runs/{rid}: the row (results cascade) and the result objects;
 * the project's next queued run may go then.
 */
static void
delete_run(HttpRequest *r, ApiCtx *ctx, PGconn *pg, const char *pid, const char *rid)
{
	const char *p[1] = {rid};
	PGresult   *res = svc_db_exec(pg, "DELETE FROM runs WHERE run_id = $1", 1, p, PGRES_COMMAND_OK);
	char		prefix[128],
				err[256];

	if (!res)
	{
		api_send_problem(r, 503, "database error");
		return;
	}
	PQclear(res);
	keys_run(prefix, sizeof(prefix), pid, rid, "");
	store_remove_prefix(ctx->store, prefix, err, sizeof(err));
	api_queue_ready_runs(ctx->queue, pg, pid, ctx->limits.min_encoding_size,
								 ctx->limits.max_encoding_size);	/* the project's next run, if this one was in the way */
	api_send_body(r, 204, "application/json", NULL);
}

/* /api/v1/projects/{pid}/runs: POST creates, GET lists (the result token). */
void
api_route_runs(HttpRequest *r)
{
	ApiCtx	   *ctx = http_app(r);
	char		pid[SVC_TOKEN_HEX + 1];
	PGconn	   *pg;

	if (!(pg = api_auth_project(r, ctx, pid)))
		return;
	if (api_auth_result(r, pg, pid))
	{
		if (strcmp(http_method(r), "POST") == 0)
			create_run(r, ctx, pg, pid);
		else
			list_runs(r, pg, pid);
	}
	api_db_put(ctx->db, pg);
}

typedef enum RunView
{
	RUN_SELF, RUN_STATUS, RUN_RESULT
} RunView;

/*
 * /runs/{rid}, /runs/{rid}/status and /runs/{rid}/result once the ids and
 * the token are checked (the result token; for status and result also a
 * party's receipt token on a permutations project).
 */
static void
run_route(HttpRequest *r, RunView view)
{
	ApiCtx	   *ctx = http_app(r);
	char		pid[SVC_TOKEN_HEX + 1],
				rid[SVC_TOKEN_HEX + 1];
	int			dp_index = -1;
	ApiRole		role;
	PGconn	   *pg;
	PGresult   *run;

	if (api_auth_id(r, 1, rid) != 0 || !(pg = api_auth_project(r, ctx, pid)))
		return;
	role = view != RUN_SELF ? api_auth_result_or_receipt(r, pg, pid, &dp_index)
		: (api_auth_result(r, pg, pid) ? API_ROLE_RESULT : API_ROLE_NONE);
	if (role != API_ROLE_NONE)
	{
		if (!(run = fetch_run(pg, pid, rid)))
			api_send_problem(r, 403, API_FORBIDDEN);
		else if (view == RUN_SELF)
		{
			if (strcmp(http_method(r), "DELETE") == 0)
				delete_run(r, ctx, pg, pid, rid);
			else
				describe_run(r, run, rid);
		}
		else if (view == RUN_STATUS)
			run_status(r, ctx, run, rid);
		else
			run_result(r, ctx, pg, run, rid, role, dp_index);
		PQclear(run);
	}
	api_db_put(ctx->db, pg);
}

/* /api/v1/projects/{pid}/runs/{rid}: GET describes, DELETE deletes. */
void
api_route_run(HttpRequest *r)
{
	run_route(r, RUN_SELF);
}

/* GET /api/v1/projects/{pid}/runs/{rid}/status. */
void
api_route_run_status(HttpRequest *r)
{
	run_route(r, RUN_STATUS);
}

/* GET /api/v1/projects/{pid}/runs/{rid}/result. */
void
api_route_run_result(HttpRequest *r)
{
	run_route(r, RUN_RESULT);
}
