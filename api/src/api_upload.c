/*
 * api_upload.c
 *	  Encoding uploads, streamed: the body is read in 64 kB pieces as it
 *	  arrives (http_read, on the upload's own thread); each piece is written
 *	  through to the object store and fed to the streaming parser (JSON or
 *	  binary), whose records go straight into a binary COPY on a database
 *	  connection of the upload's own.  Nothing is held whole.
 *
 *	  The upload is first recorded as a session of its importing backend
 *	  (service_begin_upload: if the process or the backend dies, the
 *	  janitor removes what it wrote), then the party's token is claimed by
 *	  a row lock inside the import's transaction (FOR UPDATE NOWAIT: a
 *	  second upload with the token meanwhile is refused at once).  The
 *	  claim therefore lasts exactly as long as that transaction: on any
 *	  failure it is rolled back and the object aborted, so nothing is stored
 *	  and the party can upload again, also after a crash.  On success the
 *	  object is committed, then the transaction (upload row, party done,
 *	  encodings, session gone); then runs waiting for this data are queued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../pg_pprl/src/clk_codec.h"
#include "api_auth.h"
#include "api_ctx.h"
#include "api_db.h"
#include "api_external.h"
#include "api_http.h"
#include "api_import.h"
#include "api_metrics.h"
#include "api_routes.h"
#include "api_runs.h"
#include "api_settings.h"
#include "api_token.h"
#include "upload_bin.h"
#include "upload_json.h"

#define PIECE (64 * 1024)
#define MAX_BLOCK_ID 256
#define MAX_BLOCKS_PER_RECORD 4096
#define USED "This token has already been used to upload clks."
#define IN_USE "This token is being used by an upload in progress."

/* One upload in progress. */
typedef struct Upload
{
	ApiCtx	   *ctx;
	PGconn	   *pg;
	const char *pid;
	int			dp_index;
	int			uses_blocking;
	int			fixed_size;		/* bytes the project requires, 0 if none */
	UploadJson *json;
	ApiImport  *im;
	int			external_blocks;	/* a pointer upload with a blocks file */
	char	   *head;			/* the start of a JSON body (a pointer is small) */
	size_t		head_len;
	/* the clknblocks record whose blocks are still arriving */
	int			pending;
	uint64_t	prow;
	uint8_t		pclk[CLK_MAX_BYTES];
	size_t		pbytes;
	char	   *pblocks;
	uint32_t	plens[MAX_BLOCKS_PER_RECORD];
	int			pn;
	size_t		pblen,
				pbcap;
	uint64_t	block_rows;		/* block memberships seen */
	size_t		nbytes;
	int			status;
	char		err[512];
} Upload;

/* Record the first failure (status and message); returns -1. */
static int
fail(Upload *u, int status, const char *msg)
{
	if (!u->status)
	{
		u->status = status;
		snprintf(u->err, sizeof(u->err), "%s", msg);
	}
	return -1;
}

/* Start the COPY once the form is known (staged for "encodings"). */
static int
ensure_import(Upload *u, int staged)
{
	char		err[256];

	if (u->im)
		return 0;
	u->im = api_import_begin(u->pg, u->pid, u->dp_index, staged, err, sizeof(err));
	return u->im ? 0 : fail(u, 500, err);
}

/* Send the pending clknblocks record with its blocks. */
static int
flush_pending(Upload *u)
{
	if (!u->pending)
		return 0;
	u->pending = 0;
	if (u->pn == 0 && u->uses_blocking)
		return fail(u, 400, "a clknblocks entry has no block ids");
	return api_import_record(u->im, u->prow, u->pclk, u->pbytes, u->pblocks, u->plens,
							 u->uses_blocking ? u->pn : -1) == 0 ? 0 : fail(u, 500, "import failed");
}

/*
 * Whether the encodings are larger than the server accepts.  Such a JSON
 * upload is still parsed to its end (and answered 201, as upstream), but
 * none of its records is imported: it is recorded as an upload error.
 */
static int
oversized(const Upload *u)
{
	return (int) u->nbytes > u->ctx->limits.max_encoding_size;
}

/* Sink: one encoding (JSON forms). */
static int
on_encoding(void *arg, uint64_t index, const uint8_t *clk, size_t nbytes)
{
	Upload	   *u = arg;
	UploadForm	form = upload_json_form(u->json);

	if (form == UPLOAD_FORM_CLKS && u->uses_blocking && !u->external_blocks)
		return fail(u, 400, "this project uses blocking: upload clknblocks, or encodings with blocks");
	if (form == UPLOAD_FORM_CLKNBLOCKS && !u->uses_blocking)
		return fail(u, 400, "this project does not use blocking: upload clks or encodings without blocks");
	if (form == UPLOAD_FORM_CLKNBLOCKS && u->external_blocks)
		return fail(u, 400, "clknblocks carries its own blocks: point to no blocks file with it");
	if (ensure_import(u, form == UPLOAD_FORM_ENCODINGS || u->external_blocks) != 0 ||
		flush_pending(u) != 0)
		return -1;
	u->nbytes = nbytes;
	if (oversized(u))
		return 0;
	if (form == UPLOAD_FORM_CLKNBLOCKS)
	{
		u->pending = 1;
		u->prow = index;
		memcpy(u->pclk, clk, nbytes);
		u->pbytes = nbytes;
		u->pn = 0;
		u->pblen = 0;
		return 0;
	}
	return api_import_record(u->im, index, clk, nbytes, NULL, NULL, -1) == 0 ? 0
		: fail(u, 500, "import failed");
}

/* Sink: one block membership (clknblocks, or the "blocks" map). */
static int
on_block(void *arg, uint64_t index, const char *id, size_t len)
{
	Upload	   *u = arg;

	if (!u->uses_blocking)
		return fail(u, 400, "this project does not use blocking: upload clks or encodings without blocks");
	u->block_rows++;
	if (oversized(u))
		return 0;
	if (upload_json_form(u->json) != UPLOAD_FORM_CLKNBLOCKS)
		return ensure_import(u, 1) == 0 && api_import_block(u->im, index, id, len) == 0 ? 0
			: fail(u, 500, "import failed");
	if (!u->pending || index != u->prow)
		return fail(u, 500, "block id without its encoding");
	if (u->pn >= MAX_BLOCKS_PER_RECORD)
		return fail(u, 400, "too many block ids for one encoding");
	if (u->pblen + len > u->pbcap)
	{
		u->pbcap = (u->pblen + len) * 2 + 256;
		if (!(u->pblocks = realloc(u->pblocks, u->pbcap)))
			return fail(u, 500, "out of memory");
	}
	memcpy(u->pblocks + u->pblen, id, len);
	u->pblen += len;
	u->plens[u->pn++] = (uint32_t) len;
	return 0;
}

/* Sink: one encoding of a binary upload. */
static int
on_binary(void *arg, uint64_t index, const uint8_t *clk, size_t nbytes)
{
	Upload	   *u = arg;

	u->nbytes = nbytes;
	return api_import_record(u->im, index, clk, nbytes, NULL, NULL, -1) == 0 ? 0
		: fail(u, 500, "import failed");
}

/*
 * The party an update token names, before the upload starts: dp_index,
 * uses_blocking and the project's fixed encoding size (its column, else
 * the schema's clkConfig.l / 8).  0, or -1 with the status to answer:
 * 403 used or unknown, 503 database.
 */
static int
find_party(Upload *u, const char *token_hex)
{
	const char *p[2] = {token_hex, u->pid};
	PGresult   *r = api_db_exec(u->pg,
								"SELECT d.dp_index, p.uses_blocking, coalesce(p.encoding_size, "
								"CASE WHEN p.schema #>> '{clkConfig,l}' ~ '^[0-9]{1,6}$' "
								"THEN (p.schema #>> '{clkConfig,l}')::int / 8 END, 0), "
								"d.uploaded IN ('not_started', 'error') FROM dataproviders d "
								"JOIN projects p USING (project_id) WHERE d.update_token_sha256 = decode($1, 'hex') "
								"AND d.project_id = $2 AND NOT p.marked_for_deletion", 2, p, PGRES_TUPLES_OK);
	int			rc = -1;

	if (!r)
		return fail(u, 503, "database error");
	if (PQntuples(r) != 1)
		fail(u, 403, API_FORBIDDEN);
	else if (PQgetvalue(r, 0, 3)[0] != 't')
		fail(u, 403, USED);
	else
	{
		u->dp_index = atoi(PQgetvalue(r, 0, 0));
		u->uses_blocking = PQgetvalue(r, 0, 1)[0] == 't';
		u->fixed_size = atoi(PQgetvalue(r, 0, 2));
		rc = 0;
	}
	PQclear(r);
	return rc;
}

/*
 * Open the import's transaction and claim the party in it: its row
 * locked (NOWAIT) while it is still not_started or error and its project
 * not being deleted.  0, or -1 (rolled back) with 403 used or in use.
 */
static int
claim(Upload *u)
{
	char		idx[16];
	const char *p[2] = {u->pid, idx};
	PGresult   *r;
	int			got;

	snprintf(idx, sizeof(idx), "%d", u->dp_index);
	if (!api_db_command(u->pg, "BEGIN"))
		return fail(u, 503, "database error");
	r = PQexecParams(u->pg, "SELECT 1 FROM dataproviders d JOIN projects p USING (project_id) "
					 "WHERE d.project_id = $1 AND d.dp_index = $2::smallint AND NOT p.marked_for_deletion "
					 "AND d.uploaded IN ('not_started', 'error') FOR UPDATE OF d NOWAIT", 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		fail(u, state && strcmp(state, "55P03") == 0 ? 403 : 503,
			 state && strcmp(state, "55P03") == 0 ? IN_USE : "database error");
		PQclear(r);
		api_db_command(u->pg, "ROLLBACK");
		return -1;
	}
	got = PQntuples(r) == 1;
	PQclear(r);
	if (got)
		return 0;
	api_db_command(u->pg, "ROLLBACK");
	return fail(u, 403, USED);
}

/*
 * Stream the body: object store, parser, COPY.  Sets u->status on
 * failure.  Returns the number of body bytes read.
 */
static uint64_t
stream_body(HttpRequest *r, Upload *u, StoreWriter *w, UploadBin *bin)
{
	char	   *piece = malloc(PIECE);
	uint64_t	total = 0;
	long		n;

	if (!piece)
	{
		fail(u, 500, "out of memory");
		return 0;
	}
	while (!u->status && (n = http_read(r, piece, PIECE)) != 0)
	{
		if (n < 0)
		{
			fail(u, 408, "the upload was cut: the client went away, or sent too slowly");
			break;
		}
		total += (uint64_t) n;
		if (total > u->ctx->limits.max_body_bytes)
		{
			char		msg[128];

			snprintf(msg, sizeof(msg), "the upload is larger than this server accepts (%llu bytes)",
					 (unsigned long long) u->ctx->limits.max_body_bytes);
			fail(u, 413, msg);
			break;
		}
		if (u->head && u->head_len < API_POINTER_MAX_BODY)
		{
			size_t		k = (size_t) n < API_POINTER_MAX_BODY - u->head_len ? (size_t) n
				: API_POINTER_MAX_BODY - u->head_len;

			memcpy(u->head + u->head_len, piece, k);
			u->head_len += k;
		}
		if (store_put_write(w, piece, (size_t) n) != 0)
			fail(u, 503, "object store write failed");
		else if (bin ? upload_bin_feed(bin, piece, (size_t) n) != 0
				 : upload_json_feed(u->json, piece, (size_t) n) != 0)
			fail(u, 400, bin ? upload_bin_error(bin) : upload_json_error(u->json));
	}
	free(piece);
	api_metrics_upload_bytes(total);
	return total;
}

/* Whether the encodings differ from the size the project's schema sets (400). */
static int
size_mismatch(Upload *u)
{
	char		msg[128];

	if (!u->fixed_size || (int) u->nbytes == u->fixed_size)
		return 0;
	snprintf(msg, sizeof(msg), "encodings of %zu bytes, but this project's schema sets %d",
			 u->nbytes, u->fixed_size);
	return fail(u, 400, msg);
}

/* Checks once the whole body is in: truncation, form, blocks, sizes. */
static void
finish_body(HttpRequest *r, Upload *u, UploadBin *bin, uint64_t total)
{
	long long	declared = http_content_length(r);

	if (u->status)
		return;
	if (declared >= 0 && (uint64_t) declared != total)
	{
		fail(u, 400, "the body ended before its Content-Length (truncated upload)");
		return;
	}
	if (bin ? upload_bin_finish(bin) != 0 : upload_json_finish(u->json) != 0)
	{
		fail(u, 400, bin ? upload_bin_error(bin) : upload_json_error(u->json));
		return;
	}
	if (!bin && upload_json_form(u->json) == UPLOAD_FORM_POINTER)
		return;					/* api_upload imports the objects it names */
	if (!bin && u->uses_blocking && upload_json_form(u->json) == UPLOAD_FORM_ENCODINGS &&
		u->block_rows == 0)
	{
		fail(u, 400, "this project uses blocking: the upload needs blocks");
		return;
	}
	if (size_mismatch(u) != 0)
		return;
	if (!bin)
		flush_pending(u);
}

/*
 * The shape of a binary upload from its count and size (the Hash-Count and
 * Hash-Size headers, or an object's hash-count and hash-size metadata) and
 * its length in bytes (-1 when not known yet): 0, or -1 with the message
 * (what names where the size came from).
 */
static int
binary_shape(const ApiLimits *al, const UploadLimits *lim, const char *count_s, const char *size_s,
			 long long length, const char *what, uint64_t *count, size_t *size,
			 char *err, size_t errlen)
{
	if (upload_bin_headers(count_s, size_s, lim, count, size, err, errlen) != 0)
		return -1;
	if ((int) *size < al->min_encoding_size || (int) *size > al->max_encoding_size)
	{
		snprintf(err, errlen, "invalid value for %s: this server accepts %d to %d bytes", what,
				 al->min_encoding_size, al->max_encoding_size);
		return -1;
	}
	if (length >= 0 && (uint64_t) length != *count * *size)
	{
		snprintf(err, errlen, "Uploaded data did not match the expected size: %lld bytes, but "
				 "exactly %llu encodings of %zu bytes are declared", length,
				 (unsigned long long) *count, *size);
		return -1;
	}
	return 0;
}

/* Where a store object goes: the parser in use (binary, or u->json). */
typedef struct Feed
{
	Upload	   *u;
	UploadBin  *bin;
} Feed;

/* StoreChunkFn: one piece of an external object into the parser. */
static int
feed_object(void *arg, const void *data, size_t len)
{
	Feed	   *f = arg;
	Upload	   *u = f->u;

	if (f->bin ? upload_bin_feed(f->bin, data, len) != 0 : upload_json_feed(u->json, data, len) != 0)
		return fail(u, 400, f->bin ? upload_bin_error(f->bin) : upload_json_error(u->json));
	return u->status ? -1 : 0;
}

/* Stream one object of the store through the parser in use. */
static int
read_object(Upload *u, const char *key, UploadBin *bin)
{
	Feed		f = {u, bin};
	char		err[512];

	if (store_get(u->ctx->store, key, feed_object, &f, err, sizeof(err)) != 0 && !u->status)
	{
		api_log("error", "cannot read an external upload", json_pack("{s:s}", "error", err));
		return fail(u, 503, "the object store could not be read");
	}
	return u->status ? -1 : 0;
}

/* The binary encodings object of a pointer upload, sized by its metadata. */
static int
read_binary_object(Upload *u, const char *key, const StoreHead *h, const UploadLimits *lim,
				   uint64_t *count)
{
	UploadSink	bsink = {on_binary, NULL, u};
	UploadBin  *bin;
	char		cnt[32],
				sz[32],
				err[256];
	size_t		size;

	if (store_head_meta(h, "hash-count", cnt, sizeof(cnt)) != 0 ||
		store_head_meta(h, "hash-size", sz, sizeof(sz)) != 0)
		return fail(u, 400, "a binary encodings object needs the metadata hash-count and hash-size");
	if (binary_shape(&u->ctx->limits, lim, cnt, sz, (long long) h->size, "the hash-size metadata",
					 count, &size, err, sizeof(err)) != 0)
		return fail(u, 400, err);
	if (ensure_import(u, u->external_blocks) != 0)
		return -1;
	if (!(bin = upload_bin_new(*count, size, &bsink)))
		return fail(u, 500, "out of memory");
	if (read_object(u, key, bin) == 0 && upload_bin_finish(bin) != 0)
		fail(u, 400, upload_bin_error(bin));
	upload_bin_free(bin);
	return u->status ? -1 : 0;
}

/* The JSON encodings object of a pointer upload ({"clks": [...]} and the other forms). */
static int
read_json_object(Upload *u, const char *key, const StoreHead *h, const UploadSink *jsink,
				 const UploadLimits *lim, uint64_t *count)
{
	char		cnt[32],
				msg[160];

	if (!(u->json = upload_json_new(jsink, lim)))
		return fail(u, 500, "out of memory");
	if (u->external_blocks && ensure_import(u, 1) != 0)
		return -1;
	if (read_object(u, key, NULL) != 0)
		return -1;
	if (upload_json_finish(u->json) != 0)
		return fail(u, 400, upload_json_error(u->json));
	if (upload_json_form(u->json) == UPLOAD_FORM_POINTER)
		return fail(u, 400, "an encodings file cannot point to another object");
	*count = upload_json_count(u->json);
	if (store_head_meta(h, "hash-count", cnt, sizeof(cnt)) == 0 &&
		strtoull(cnt, NULL, 10) != *count)
	{
		snprintf(msg, sizeof(msg), "the object's hash-count metadata says %.20s, but it holds %llu "
				 "encodings", cnt, (unsigned long long) *count);
		return fail(u, 400, msg);
	}
	/* as for binary objects: metadata that disagrees is refused, not padded */
	if (store_head_meta(h, "hash-size", cnt, sizeof(cnt)) == 0 &&
		strtoull(cnt, NULL, 10) != u->nbytes)
	{
		snprintf(msg, sizeof(msg), "the object's hash-size metadata says %.20s, but its encodings "
				 "are %zu bytes", cnt, u->nbytes);
		return fail(u, 400, msg);
	}
	return flush_pending(u);
}

/*
 * A pointer upload: import the objects the party put in its folder (see
 * api_external.c) as if they had come in the body, with the same checks.
 * The encodings object stays where it is and is recorded as the upload's
 * object.
 */
static int
import_pointer(Upload *u, const ApiPointer *pt, const UploadSink *jsink, const UploadLimits *lim,
			   uint64_t *count)
{
	StoreHead	h;
	char		err[512];
	int			rc = store_head(u->ctx->store, pt->enc_key, &h, err, sizeof(err));

	if (rc == 1)
		return fail(u, 400, "there is no object at the encodings path: upload it first");
	if (rc != 0)
	{
		api_log("error", "cannot read an external upload", json_pack("{s:s}", "error", err));
		return fail(u, 503, "the object store could not be read");
	}
	if (h.size > u->ctx->limits.max_body_bytes)
		return fail(u, 413, "the encodings object is larger than this server accepts");
	u->external_blocks = pt->blocks_key[0] != '\0';
	upload_json_free(u->json);
	u->json = NULL;
	if ((pt->enc_json ? read_json_object(u, pt->enc_key, &h, jsink, lim, count)
		 : read_binary_object(u, pt->enc_key, &h, lim, count)) != 0)
		return -1;
	if (u->external_blocks)
	{
		upload_json_free(u->json);
		if (!(u->json = upload_json_new(jsink, lim)))
			return fail(u, 500, "out of memory");
		upload_json_blocks_only(u->json, *count);
		if (read_object(u, pt->blocks_key, NULL) != 0)
			return -1;
		if (upload_json_finish(u->json) != 0)
			return fail(u, 400, upload_json_error(u->json));
	}
	if (!u->im)
		return fail(u, 400, "the upload has no encodings");
	if (u->uses_blocking && u->block_rows == 0 &&
		(!u->json || upload_json_form(u->json) != UPLOAD_FORM_CLKNBLOCKS))
		return fail(u, 400, "this project uses blocking: the upload needs blocks");
	return size_mismatch(u);
}

/*
 * Record the upload and commit: object first, then the transaction (so the
 * database never names a missing object), which also ends the upload's
 * session (skey).  An upload whose encodings are larger than the server's
 * maximum (none of them imported) is recorded as an error without its
 * object (as upstream, which accepts the body and fails its import): the
 * party may upload again.
 */
static int
record(Upload *u, StoreWriter *w, const char *key, const char *skey, const char *receipt,
	   uint64_t count)
{
	char		hex[2 * API_TOKEN_SHA256 + 1],
				cnt[32],
				size[16],
				idx[16],
				blocks[32],
				msg[160] = "";
	int			too_big = oversized(u);
	const char *p[9] = {u->pid, idx, hex, too_big ? NULL : key, size, cnt, blocks, too_big ? msg : NULL,
	skey};
	PGresult   *r;
	char		err[256];
	int			status;

	err[0] = '\0';
	if (too_big)
		snprintf(msg, sizeof(msg), "encodings of %zu bytes are larger than this server's maximum (%d)",
				 u->nbytes, u->ctx->limits.max_encoding_size);
	if (api_import_end(u->im, u->block_rows > 0, &status, err, sizeof(err)) != 0)
	{
		u->im = NULL;
		return fail(u, status, status == 409 ? "the upload was cancelled: the project is being deleted" : err);
	}
	u->im = NULL;
	api_token_hash_hex(receipt, API_TOKEN_HEX, hex);
	snprintf(idx, sizeof(idx), "%d", u->dp_index);
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long) count);
	snprintf(size, sizeof(size), "%zu", u->nbytes);
	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long) u->block_rows);
	r = api_db_exec(u->pg, "WITH d AS (UPDATE dataproviders SET uploaded = CASE WHEN $8::text IS NULL "
					"THEN 'done' ELSE 'error' END WHERE project_id = $1 AND dp_index = $2::smallint "
					"RETURNING dp_id), s AS (DELETE FROM upload_sessions WHERE object_key = $9) "
					"INSERT INTO uploads (dp_id, receipt_token_sha256, object_key, state, "
					"encoding_size, count, block_count, error_msg) SELECT dp_id, decode($3, 'hex'), $4, "
					"CASE WHEN $8::text IS NULL THEN 'ready' ELSE 'error' END, $5::int, $6::bigint, "
					"$7::bigint, $8 FROM d", 9, p, PGRES_COMMAND_OK);
	if (!r)
	{
		api_db_command(u->pg, "ROLLBACK");
		return fail(u, 503, "database error");
	}
	PQclear(r);
	if (w && store_put_commit(w, err, sizeof(err)) != 0)
	{
		api_db_command(u->pg, "ROLLBACK");
		return fail(u, 503, "object store commit failed");
	}
	if (!api_db_command(u->pg, "COMMIT"))
	{
		if (w)
			store_remove_prefix(u->ctx->store, key, err, sizeof(err));
		return fail(u, 503, "database commit failed");
	}
	/* the primary's WAL position after the commit: what a replica must have replayed */
	PQclear(api_db_exec(u->pg, "UPDATE uploads SET commit_lsn = pg_current_wal_lsn() "
						"WHERE receipt_token_sha256 = decode($1, 'hex')", 1, p + 2, PGRES_COMMAND_OK));
	return 0;
}

/*
 * Checks that need no database: token present, content type, declared
 * length, a binary upload's shape.  0, or the problem sent.
 */
static int
precheck(HttpRequest *r, ApiCtx *ctx, const UploadLimits *lim, int binary, uint64_t *count, size_t *size)
{
	const char *ctype = http_header(r, "Content-Type");
	long long	length = http_content_length(r);
	char		err[256];

	if (!http_header(r, "Authorization"))
		return api_send_problem(r, 400, "missing Authorization header");
	if (!binary && ctype && strncasecmp(ctype, "application/json", 16) != 0)
		return api_send_problem(r, 400, "Content Type not supported: send application/json, "
								"or raw encodings to .../binaryclks");
	if (length > 0 && (uint64_t) length > ctx->limits.max_body_bytes)
		return api_send_problem(r, 413, "the upload is larger than this server accepts");
	if (binary && binary_shape(&ctx->limits, lim, http_header(r, "Hash-Count"), http_header(r, "Hash-Size"),
							   length, "Hash-Size", count, size, err, sizeof(err)) != 0)
		return api_send_problem(r, 400, err);
	return 0;
}

/*
 * Take an upload slot: one of PPRL_MAX_UPLOADS in all (503) and of
 * PPRL_MAX_UPLOADS_PER_CLIENT for this client (429).  0, or the problem sent.
 */
static int
take_slot(HttpRequest *r, ApiCtx *ctx)
{
	if (!api_clients_upload_begin(ctx->clients, http_client(r), ctx->limits.max_uploads_per_client))
	{
		http_add_header(r, "Retry-After", "10");
		return api_send_problem(r, 429, "too many uploads in progress from this address "
								"(PPRL_MAX_UPLOADS_PER_CLIENT); retry when one has finished");
	}
	if (atomic_fetch_add(&ctx->uploads, 1) >= ctx->limits.max_uploads)
	{
		atomic_fetch_sub(&ctx->uploads, 1);
		api_clients_upload_end(ctx->clients, http_client(r));
		http_add_header(r, "Retry-After", "10");
		return api_send_problem(r, 503, "too many uploads in progress; retry later");
	}
	return 0;
}

/* Give the slot back. */
static void
give_slot(HttpRequest *r, ApiCtx *ctx)
{
	atomic_fetch_sub(&ctx->uploads, 1);
	api_clients_upload_end(ctx->clients, http_client(r));
}

/*
 * The database side of an upload's start, on its own connection: the
 * party, the session (committed, so the janitor sees it whatever happens
 * next), the claim.  Dead connections to a vanished client are noticed
 * within about a minute (TCP keepalives).  0, or -1 with u->status.
 */
static int
begin_upload(Upload *u, const char *auth, char *key, int binary, const char *objid)
{
	char		token_hex[2 * API_TOKEN_SHA256 + 1],
				idx[16];
	const char *p[3] = {key, u->pid, idx};
	PGresult   *r;

	PQclear(PQexec(u->pg, "SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; "
				   "SET tcp_keepalives_count = 3"));
	api_token_hash_hex(auth, strlen(auth), token_hex);
	if (find_party(u, token_hex) != 0)
		return -1;
	snprintf(key, 200, "uploads/%s/%d-%.24s.%s", u->pid, u->dp_index, objid, binary ? "bin" : "json");
	snprintf(idx, sizeof(idx), "%d", u->dp_index);
	r = api_db_exec(u->pg, "SELECT service_begin_upload($1, $2, $3::int)", 3, p, PGRES_TUPLES_OK);
	if (!r)
		return fail(u, 503, "database error");
	PQclear(r);
	return claim(u);
}

/* End the upload's session when it failed (a success ended it in its transaction). */
static void
end_session(Upload *u, const char *key)
{
	const char *p[1] = {key};

	PQclear(api_db_exec(u->pg, "DELETE FROM upload_sessions WHERE object_key = $1", 1, p, PGRES_COMMAND_OK));
}

/* POST .../clks (binary = 0) or .../binaryclks (binary = 1). */
static void
upload(HttpRequest *r, int binary)
{
	ApiCtx	   *ctx = http_app(r);
	UploadLimits lim = {ctx->limits.max_records, MAX_BLOCK_ID, MAX_BLOCKS_PER_RECORD};
	UploadSink	jsink,
				bsink;
	Upload		u;
	uint64_t	count = 0,
				total;
	size_t		size = 0;
	char		pid[API_TOKEN_HEX + 1],
				receipt[API_TOKEN_HEX + 1],
				objid[API_TOKEN_HEX + 1],
				key[200] = "",
				err[256];
	const char *okey = key;
	ApiPointer	pt;
	StoreWriter *w = NULL;
	UploadBin  *bin = NULL;
	int			status,
				began = 0;

	if (api_auth_id(r, 0, pid) != 0 || precheck(r, ctx, &lim, binary, &count, &size) != 0 ||
		take_slot(r, ctx) != 0)
		return;
	memset(&u, 0, sizeof(u));
	u.ctx = ctx;
	u.pid = pid;
	if (!(u.pg = api_db_connect(ctx->db)))
	{
		give_slot(r, ctx);
		api_send_problem(r, 503, "database unreachable");
		return;
	}
	if (api_token_new(receipt) != 0 || api_token_new(objid) != 0)
	{
		fail(&u, 500, "no randomness available");
		goto done;
	}
	if (begin_upload(&u, http_header(r, "Authorization"), key, binary, objid) != 0)
	{
		if (key[0])
			end_session(&u, key);
		goto done;
	}
	began = 1;
	if (!(w = store_put_begin(ctx->store, key, err, sizeof(err))))
	{
		fail(&u, 503, "object store unavailable");
		goto failed;
	}
	if (binary)
	{
		bsink.encoding = on_binary;
		bsink.block = NULL;
		bsink.arg = &u;
		if (!(bin = upload_bin_new(count, size, &bsink)) || ensure_import(&u, 0) != 0)
		{
			fail(&u, 500, "out of memory");
			goto failed;
		}
	}
	else
	{
		jsink.encoding = on_encoding;
		jsink.block = on_block;
		jsink.arg = &u;
		if (!(u.json = upload_json_new(&jsink, &lim)) || !(u.head = malloc(API_POINTER_MAX_BODY)))
		{
			fail(&u, 500, "out of memory");
			goto failed;
		}
	}
	total = stream_body(r, &u, w, bin);
	finish_body(r, &u, bin, total);
	if (!u.status && !binary && upload_json_form(u.json) == UPLOAD_FORM_POINTER)
	{
		/* keep the objects the pointer names, not the pointer */
		store_put_abort(w);
		w = NULL;
		if (store_is_local(ctx->store))
			fail(&u, 501, "Feature Disabled: object-store pointer uploads need the S3 object store; "
				 "upload the encodings in the request body");
		else if (total > API_POINTER_MAX_BODY)
			fail(&u, 400, "a pointer upload's body must be under 64 kB");
		else if ((status = api_pointer_resolve(ctx->store, pid, u.dp_index, u.head, u.head_len, &pt,
											   err, sizeof(err))) != 0)
			fail(&u, status, err);
		else if (import_pointer(&u, &pt, &jsink, &lim, &count) == 0)
			okey = pt.enc_key;
	}
	else if (!binary && !u.status)
		count = upload_json_count(u.json);
	if (!u.status && !u.im)
		fail(&u, 400, "the upload has no encodings");
	if (!u.status && oversized(&u) && w)
	{
		store_put_abort(w);		/* recorded as an error: nothing of it is kept */
		w = NULL;
	}
	if (!u.status)
		record(&u, w, okey, key, receipt, count);
	if (!u.status)
	{
		w = NULL;
		api_runs_queue_ready(ctx, u.pg, pid);
		goto done;
	}
failed:
	api_import_abort(u.im);
	u.im = NULL;
	if (w)
		store_put_abort(w);
	api_db_command(u.pg, "ROLLBACK");
	if (began)
		end_session(&u, key);
done:
	PQfinish(u.pg);
	give_slot(r, ctx);
	upload_json_free(u.json);
	upload_bin_free(bin);
	free(u.pblocks);
	free(u.head);
	if (u.status)
	{
		if (u.status == 503)
			http_add_header(r, "Retry-After", "5");
		api_send_problem(r, u.status, u.err);
	}
	else
		api_send_json(r, 201, json_pack("{s:s,s:s}", "message", "Updated", "receipt_token", receipt));
}

/* POST /api/v1/projects/{pid}/clks: JSON encodings (or a pointer to objects). */
void
api_route_upload_json(HttpRequest *r)
{
	upload(r, 0);
}

/* POST /api/v1/projects/{pid}/binaryclks: raw encodings of Hash-Size bytes each. */
void
api_route_upload_binary(HttpRequest *r)
{
	upload(r, 1);
}
