/*
 * api_external.c
 *	  GET .../authorize-external-upload and the pointer form of .../clks.
 *	  A party's folder is external/<project>/<party index>/ in the store;
 *	  its credentials (STS, narrowed by a session policy) write only there,
 *	  and a pointer naming anything else is refused with upstream's 403.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_auth.h"
#include "api_db.h"
#include "api_external.h"
#include "api_http.h"
#include "api_json.h"
#include "api_routes.h"
#include "service/settings.h"
#include "service/token.h"
#include "service/keys.h"

#define NOT_ALLOWED "Provided object store path is not allowed"
#define DISABLED "Feature Disabled: external uploads need the S3 object store with " \
	"S3_STS_ROLE_ARN; upload through .../clks or .../binaryclks"

/*
 * The party an update token names in the project: its index, and whether
 * it has uploaded (or is uploading).  0, or the status to answer.
 */
static int
find_party(ApiCtx *ctx, const char *pid, const char *token, int *dp_index, int *used)
{
	char		hex[2 * SVC_TOKEN_SHA256 + 1];
	const char *p[2] = {hex, pid};
	PGconn	   *pg = api_db_get(ctx->db);
	PGresult   *r;
	int			status = 0;

	if (!pg)
		return 503;				/* every connection busy */
	svc_token_hash_hex(token, strlen(token), hex);
	r = svc_db_exec(pg, "SELECT d.dp_index, d.uploaded IN ('done', 'in_progress') FROM dataproviders d "
					"JOIN projects p USING (project_id) WHERE d.update_token_sha256 = decode($1, 'hex') "
					"AND d.project_id = $2 AND NOT p.marked_for_deletion", 2, p, PGRES_TUPLES_OK);
	if (!r)
		status = 503;
	else if (PQntuples(r) != 1)
		status = 403;
	else
	{
		*dp_index = atoi(PQgetvalue(r, 0, 0));
		*used = PQgetvalue(r, 0, 1)[0] == 't';
	}
	PQclear(r);
	api_db_put(ctx->db, pg);
	return status;
}

/*
 * Answer with temporary credentials for key, as upstream does:
 * {"credentials": {...}, <where>: {endpoint, secure, bucket, path}} with
 * status; or 501 (disabled says what to do instead) when the store gives
 * none, 503 when it failed.  The secrets go to the client only.
 */
int
api_send_grant(HttpRequest *r, ApiCtx *ctx, const char *key, StoreGrantKind kind, const char *who,
			   int status, const char *where, const char *disabled)
{
	char		err[512];
	StoreGrant *g = malloc(sizeof(StoreGrant));
	json_t	   *o;
	int			rc;

	if (!g)
		return api_send_problem(r, 500, "out of memory");
	rc = store_grant(ctx->store, key, kind, who, g, err, sizeof(err));
	if (rc != 0)
	{
		free(g);
		if (rc == 1)
			return api_send_problem(r, 501, disabled);
		svc_log("error", "cannot issue object store credentials", json_pack("{s:s}", "error", err));
		return api_send_problem(r, 503, "the object store could not issue credentials");
	}
	o = json_pack("{s:{s:s,s:s,s:s,s:s},s:{s:s,s:b,s:s,s:s}}",
				  "credentials", "AccessKeyId", g->access_key, "SecretAccessKey", g->secret_key,
				  "SessionToken", g->session_token, "Expiration", g->expiration,
				  where, "endpoint", g->endpoint, "secure", g->secure, "bucket", g->bucket,
				  "path", g->path);
	memset(g, 0, sizeof(*g));
	free(g);
	return api_send_json(r, status, o);
}

/*
 * GET .../authorize-external-upload: 201 with credentials that write under
 * the party's folder, and where it is.  With the file store (or no STS
 * role) the feature is off: 501, which clients (anonlink-client) answer by
 * uploading through the API, as they do for upstream's "Feature Disabled".
 */
void
api_route_authorize_external(HttpRequest *r)
{
	ApiCtx	   *ctx = http_app(r);
	const char *auth = http_header(r, "Authorization");
	char		pid[SVC_TOKEN_HEX + 1],
				key[128],
				who[64];
	int			dp_index = 0,
				used = 0,
				status;

	if (api_auth_id(r, 0, pid) != 0)
		return;
	if (!auth)
		api_send_problem(r, 400, "missing Authorization header");
	else if (store_is_local(ctx->store))
		api_send_problem(r, 501, DISABLED);
	else if ((status = find_party(ctx, pid, auth, &dp_index, &used)) != 0)
		api_send_problem(r, status, status == 403 ? API_FORBIDDEN : "database unavailable");
	else if (used)
		api_send_problem(r, 403, "This token has already been used to upload clks.");
	else
	{
		keys_external(key, sizeof(key), pid, dp_index, 0);
		snprintf(who, sizeof(who), "pprl-%.16s-%d", pid, dp_index);
		api_send_grant(r, ctx, key, STORE_GRANT_PUT_UNDER, who, 201, "upload", DISABLED);
	}
}

/*
 * One {"file": {"bucket": ..., "path": ...}} of a pointer -> its store key,
 * which must lie in the party's folder.  0, or the status (400, 403).
 */
static int
resolve_file(ObjectStore *s, json_t *v, const char *what, const char *folder, char *key,
			 char *err, size_t errlen)
{
	json_t	   *file = json_object_get(v, "file");
	const char *bucket = json_string_value(json_object_get(file, "bucket"));
	const char *path = json_string_value(json_object_get(file, "path"));

	if (!json_is_object(file) || !bucket || !path)
	{
		snprintf(err, errlen, "%s.file needs \"bucket\" and \"path\" strings", what);
		return 400;
	}
	if (store_locate(s, bucket, path, key, API_KEY_MAX) != 0 ||
		strncmp(key, folder, strlen(folder)) != 0 || key[strlen(folder)] == '\0')
	{
		snprintf(err, errlen, NOT_ALLOWED);
		return 403;
	}
	return 0;
}

/*
 * Read a pointer body ({"encodings": {"file": {...}}, "blocks"?: {"file":
 * {...}}}) for party dp_index: the store keys of its objects.  0, or the
 * status to answer with err: 400 malformed, 403 a path outside the
 * party's folder (or another bucket).  Other keys upstream accepts
 * ("credentials", "endpoint", "secure") are ignored, as upstream does:
 * objects are always read from the service's own store.
 */
int
api_pointer_resolve(ObjectStore *s, const char *pid, int dp_index, const char *body, size_t len,
					ApiPointer *p, char *err, size_t errlen)
{
	char		jerr[160];
	json_t	   *doc = api_json_parse(body, len, jerr, sizeof(jerr)),
			   *blocks;
	char		folder[128];
	int			status;
	size_t		n;

	memset(p, 0, sizeof(*p));
	if (!doc)
	{
		snprintf(err, errlen, "the pointer upload is %s", jerr);
		return 400;
	}
	keys_external(folder, sizeof(folder), pid, dp_index, 1);
	status = resolve_file(s, json_object_get(doc, "encodings"), "encodings", folder, p->enc_key,
						  err, errlen);
	blocks = json_object_get(doc, "blocks");
	if (!status && blocks && !json_object_get(blocks, "file"))
	{
		snprintf(err, errlen, "with an encodings file, blocks must be a file too "
				 "({\"blocks\": {\"file\": {\"bucket\": ..., \"path\": ...}}})");
		status = 400;
	}
	if (!status && blocks)
		status = resolve_file(s, blocks, "blocks", folder, p->blocks_key, err, errlen);
	n = strlen(p->enc_key);
	p->enc_json = n > 5 && strcmp(p->enc_key + n - 5, ".json") == 0;
	json_decref(doc);
	return status;
}
