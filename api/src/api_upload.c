/*
 * api_upload.c
 *	  POST .../clks and .../binaryclks: encoding uploads, streamed.  The
 *	  body is read in 64 kB pieces as it arrives (http_read, on the upload's
 *	  own thread); each piece is written through to the object store and fed
 *	  to the streaming parser (JSON or binary), whose records go straight
 *	  into a binary COPY on a database connection of the upload's own
 *	  (api_upload_parse.c, api_upload_db.c).  Nothing is held whole.
 *
 *	  The upload is first recorded as a session of its importing backend
 *	  (if the process or the backend dies, the janitor removes what it
 *	  wrote), then the party's token is claimed by a row lock inside the
 *	  import's transaction: the claim lasts exactly as long as that
 *	  transaction.  On any failure it is rolled back and the object aborted,
 *	  so nothing is stored and the party can upload again, also after a
 *	  crash.  On success the object is committed, then the transaction
 *	  (upload row, party done, encodings, session gone); then runs waiting
 *	  for this data are queued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_auth.h"
#include "api_http.h"
#include "api_metrics.h"
#include "api_queue.h"
#include "api_routes.h"
#include "upload_common.h"
#include "service/keys.h"
#include "service/settings.h"
#include "service/token.h"

#define PIECE (64 * 1024)

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
		upload_fail(u, 500, "out of memory");
		return 0;
	}
	while (!u->status && (n = http_read(r, piece, PIECE)) != 0)
	{
		if (n < 0)
		{
			upload_fail(u, 408, "the upload was cut: the client went away, or sent too slowly");
			break;
		}
		total += (uint64_t) n;
		if (total > u->ctx->limits.max_body_bytes)
		{
			char		msg[128];

			snprintf(msg, sizeof(msg), "the upload is larger than this server accepts (%llu bytes)",
					 (unsigned long long) u->ctx->limits.max_body_bytes);
			upload_fail(u, 413, msg);
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
			upload_fail(u, 503, "object store write failed");
		else if (bin ? upload_bin_feed(bin, piece, (size_t) n) != 0
				 : upload_json_feed(u->json, piece, (size_t) n) != 0)
			upload_fail(u, 400, bin ? upload_bin_error(bin) : upload_json_error(u->json));
	}
	free(piece);
	api_metrics_upload_bytes(total);
	return total;
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
		upload_fail(u, 400, "the body ended before its Content-Length (truncated upload)");
		return;
	}
	if (bin ? upload_bin_finish(bin) != 0 : upload_json_finish(u->json) != 0)
	{
		upload_fail(u, 400, bin ? upload_bin_error(bin) : upload_json_error(u->json));
		return;
	}
	if (!bin && upload_json_form(u->json) == UPLOAD_FORM_POINTER)
		return;					/* api_upload imports the objects it names */
	if (!bin && u->uses_blocking && upload_json_form(u->json) == UPLOAD_FORM_ENCODINGS &&
		u->block_rows == 0)
	{
		upload_fail(u, 400, "this project uses blocking: the upload needs blocks");
		return;
	}
	if (upload_size_mismatch(u) != 0)
		return;
	if (!bin)
		upload_flush_pending(u);
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
	if (binary && upload_binary_shape(&ctx->limits, lim, http_header(r, "Hash-Count"), http_header(r, "Hash-Size"),
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
	char		pid[SVC_TOKEN_HEX + 1],
				receipt[SVC_TOKEN_HEX + 1],
				objid[SVC_TOKEN_HEX + 1],
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
	if (svc_token_new(receipt) != 0 || svc_token_new(objid) != 0)
	{
		upload_fail(&u, 500, "no randomness available");
		goto done;
	}
	if (upload_db_begin(&u, http_header(r, "Authorization"), key, binary, objid) != 0)
	{
		if (key[0])
			upload_db_end_session(&u, key);
		goto done;
	}
	began = 1;
	if (!(w = store_put_begin(ctx->store, key, err, sizeof(err))))
	{
		upload_fail(&u, 503, "object store unavailable");
		goto failed;
	}
	if (binary)
	{
		bsink.encoding = upload_on_binary;
		bsink.block = NULL;
		bsink.arg = &u;
		if (!(bin = upload_bin_new(count, size, &bsink)) || upload_ensure_import(&u, 0) != 0)
		{
			upload_fail(&u, 500, "out of memory");
			goto failed;
		}
	}
	else
	{
		jsink.encoding = upload_on_encoding;
		jsink.block = upload_on_block;
		jsink.arg = &u;
		if (!(u.json = upload_json_new(&jsink, &lim)) || !(u.head = malloc(API_POINTER_MAX_BODY)))
		{
			upload_fail(&u, 500, "out of memory");
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
			upload_fail(&u, 501, "Feature Disabled: object-store pointer uploads need the S3 object store; "
				 "upload the encodings in the request body");
		else if (total > API_POINTER_MAX_BODY)
			upload_fail(&u, 400, "a pointer upload's body must be under 64 kB");
		else if ((status = api_pointer_resolve(ctx->store, pid, u.dp_index, u.head, u.head_len, &pt,
											   err, sizeof(err))) != 0)
			upload_fail(&u, status, err);
		else if (upload_import_pointer(&u, &pt, &jsink, &lim, &count) == 0)
			okey = pt.enc_key;
	}
	else if (!binary && !u.status)
		count = upload_json_count(u.json);
	if (!u.status && !u.im)
		upload_fail(&u, 400, "the upload has no encodings");
	if (!u.status && upload_oversized(&u) && w)
	{
		store_put_abort(w);		/* recorded as an error: nothing of it is kept */
		w = NULL;
	}
	if (!u.status)
		upload_db_record(&u, w, okey, key, receipt, count);
	if (!u.status)
	{
		w = NULL;
		api_queue_ready_runs(ctx->queue, u.pg, pid, ctx->limits.min_encoding_size, ctx->limits.max_encoding_size);
		goto done;
	}
failed:
	upload_copy_abort(u.im);
	u.im = NULL;
	if (w)
		store_put_abort(w);
	svc_db_command(u.pg, "ROLLBACK");
	if (began)
		upload_db_end_session(&u, key);
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
