/*
 * api_upload_db.c
 *	  An upload's database work, all of it, on the upload's own connection:
 *	  the party its token names, the session of the importing backend
 *	  (service_begin_upload), the claim (a row lock in the import's
 *	  transaction), the binary COPY of its records into the party's table,
 *	  and the record that commits it all (upload row, party done, session
 *	  ended).
 *
 *	  The COPY: each row is (row_id int8, clk, blocks text[]) in
 *	  PostgreSQL's binary COPY format (clk's binary form is int32 bit count +
 *	  bytes); rows are buffered and sent in pieces of about 256 kB.  A
 *	  project without blocking stores the default block '{1}' for every
 *	  record, whatever the upload form.  The "encodings" + "blocks" form,
 *	  whose block map may come before or after the encodings, goes through
 *	  a temporary staging table joined at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "api_db.h"
#include "upload_common.h"
#include "service/keys.h"
#include "service/token.h"

#define FLUSH_AT (256 * 1024)
#define TEXTOID 25

struct UploadCopy
{
	PGconn	   *pg;
	char		target[128];	/* quoted partition name */
	int			staged;
	char	   *buf;
	size_t		len,
				cap;
	int			failed;
};

/* Make room for n more bytes; -1 when out of memory. */
static int
reserve(UploadCopy *im, size_t n)
{
	if (im->len + n <= im->cap)
		return 0;
	while (im->cap < im->len + n)
		im->cap = im->cap ? im->cap * 2 : FLUSH_AT * 2;
	im->buf = realloc(im->buf, im->cap);
	return im->buf ? 0 : -1;
}

/* Append big-endian integers and raw bytes (room already reserved). */
static void
put16(UploadCopy *im, uint16_t v)
{
	im->buf[im->len++] = (char) (v >> 8);
	im->buf[im->len++] = (char) v;
}

static void
put32(UploadCopy *im, uint32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		im->buf[im->len++] = (char) (v >> s);
}

static void
put64(UploadCopy *im, uint64_t v)
{
	for (int s = 56; s >= 0; s -= 8)
		im->buf[im->len++] = (char) (v >> s);
}

static void
putbytes(UploadCopy *im, const void *p, size_t n)
{
	memcpy(im->buf + im->len, p, n);
	im->len += n;
}

/* Send what is buffered once it is big enough (or always, when forced). */
static int
flush(UploadCopy *im, int force)
{
	if (im->failed)
		return -1;
	if (im->len && (force || im->len >= FLUSH_AT))
	{
		if (PQputCopyData(im->pg, im->buf, (int) im->len) != 1)
			im->failed = 1;
		im->len = 0;
	}
	return im->failed ? -1 : 0;
}

/* Append a one-dimensional text[] value (n elements, lengths lens). */
static void
put_text_array(UploadCopy *im, const char *elems, const uint32_t *lens, int n)
{
	size_t		total = 0;

	for (int i = 0; i < n; i++)
		total += 4 + lens[i];
	if (n == 0)
	{
		put32(im, 12);
		put32(im, 0);			/* ndim */
		put32(im, 0);			/* no nulls */
		put32(im, TEXTOID);
		return;
	}
	put32(im, (uint32_t) (20 + total));
	put32(im, 1);
	put32(im, 0);
	put32(im, TEXTOID);
	put32(im, (uint32_t) n);
	put32(im, 1);				/* lower bound */
	for (int i = 0; i < n; i++)
	{
		put32(im, lens[i]);
		putbytes(im, elems, lens[i]);
		elems += lens[i];
	}
}

/*
 * Start the COPY into the party's table enc_<pid>_<dp_index> (pid is a
 * validated hex id), or into a staging table when staged, inside the
 * caller's open transaction (which holds the party's claim); on failure
 * that transaction is rolled back.
 */
UploadCopy *
upload_copy_begin(PGconn *pg, const char *pid, int dp_index, int staged, char *err, size_t errlen)
{
	UploadCopy  *im = calloc(1, sizeof(UploadCopy));
	char		sql[256];
	PGresult   *r;
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

	if (!im)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	im->pg = pg;
	im->staged = staged;
	snprintf(im->target, sizeof(im->target), "\"enc_%.48s_%d\"", pid, dp_index);
	if ((staged && !svc_db_command(pg, "CREATE TEMP TABLE upload_stage (row_id bigint, clk clk, "
								   "blocks text[]) ON COMMIT DROP")))
		goto fail;
	snprintf(sql, sizeof(sql), "COPY %s (row_id, clk, blocks) FROM STDIN (FORMAT binary)",
			 staged ? "upload_stage" : im->target);
	r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
	{
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	if (reserve(im, sizeof(header)) != 0)
		goto fail;
	putbytes(im, header, sizeof(header));
	return im;
fail:
	snprintf(err, errlen, "cannot start the import: %s", PQerrorMessage(pg));
	svc_db_command(pg, "ROLLBACK");
	free(im->buf);
	free(im);
	return NULL;
}

/*
 * One record.  nblocks < 0: the default block '{1}' (unblocked), or no
 * blocks yet when staged (they come as upload_copy_block rows); otherwise
 * the block ids, concatenated in `blocks` with their lengths in `lens`.
 */
int
upload_copy_record(UploadCopy *im, uint64_t row, const uint8_t *clk, size_t nbytes,
				  const char *blocks, const uint32_t *lens, int nblocks)
{
	static const uint32_t one_len = 1;
	size_t		need = 2 + 12 + 8 + nbytes + 4 + 24 + 8;

	if (nblocks < 0 && !im->staged)
	{
		blocks = "1";
		lens = &one_len;
		nblocks = 1;
	}
	for (int i = 0; i < nblocks; i++)
		need += 4 + lens[i];
	if (reserve(im, need) != 0)
		return -1;
	put16(im, 3);
	put32(im, 8);
	put64(im, row);
	put32(im, (uint32_t) (4 + nbytes));
	put32(im, (uint32_t) (nbytes * 8));
	putbytes(im, clk, nbytes);
	if (nblocks < 0)
		put32(im, 0xFFFFFFFFu); /* NULL: blocks come separately */
	else
		put_text_array(im, blocks, lens, nblocks);
	return flush(im, 0);
}

/* A block membership of the staged form: (row, NULL, '{id}'). */
int
upload_copy_block(UploadCopy *im, uint64_t row, const char *id, size_t len)
{
	uint32_t	l = (uint32_t) len;

	if (reserve(im, 2 + 12 + 4 + 24 + 4 + len) != 0)
		return -1;
	put16(im, 3);
	put32(im, 8);
	put64(im, row);
	put32(im, 0xFFFFFFFFu);
	put_text_array(im, id, &l, 1);
	return flush(im, 0);
}

/*
 * 400 for data the database rejects (class 22/23), 409 for an import
 * cancelled because its project is being deleted, 500 otherwise.
 */
static int
status_of(PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (state && strcmp(state, "57014") == 0)
		return 409;
	return state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) ? 400 : 500;
}

/*
 * End the COPY (and, when staged, move the rows into the partition with
 * their block lists: '{}' for a record no block names, '{1}' when the
 * upload had no blocks at all).  The transaction stays open for the
 * caller.  0, or -1 with *status and a message (the transaction then
 * rolled back).
 */
int
upload_copy_end(UploadCopy *im, int has_blocks, int *status, char *err, size_t errlen)
{
	PGconn	   *pg = im->pg;
	PGresult   *r;
	int			ok = 1;

	*status = 500;
	if (reserve(im, 2) == 0)
		put16(im, 0xFFFF);
	if (flush(im, 1) != 0 || PQputCopyEnd(pg, NULL) != 1)
		ok = 0;
	while ((r = PQgetResult(pg)) != NULL)
	{
		if (PQresultStatus(r) != PGRES_COMMAND_OK && ok)
		{
			ok = 0;
			*status = status_of(r);
			snprintf(err, errlen, "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
					 ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : "import failed");
		}
		PQclear(r);
	}
	if (ok && im->staged)
	{
		char		sql[512];
		const char *p[1] = {has_blocks ? "true" : "false"};

		snprintf(sql, sizeof(sql),
				 "INSERT INTO %s (row_id, clk, blocks) SELECT e.row_id, e.clk, "
				 "CASE WHEN $1::boolean THEN coalesce(b.ids, '{}') ELSE '{1}' END "
				 "FROM upload_stage e LEFT JOIN (SELECT row_id, array_agg(DISTINCT blocks[1]) AS ids "
				 "FROM upload_stage WHERE clk IS NULL GROUP BY row_id) b USING (row_id) "
				 "WHERE e.clk IS NOT NULL", im->target);
		r = PQexecParams(pg, sql, 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
		{
			ok = 0;
			*status = status_of(r);
			snprintf(err, errlen, "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
					 ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : "import failed");
		}
		PQclear(r);
	}
	if (!ok && err[0] == '\0')
		snprintf(err, errlen, "import failed: %s", PQerrorMessage(pg));
	if (!ok)
		svc_db_command(pg, "ROLLBACK");
	free(im->buf);
	free(im);
	return ok ? 0 : -1;
}

/* Abandon the COPY and roll the transaction back: nothing is stored. */
void
upload_copy_abort(UploadCopy *im)
{
	PGresult   *r;

	if (!im)
		return;
	PQputCopyEnd(im->pg, "upload abandoned");
	while ((r = PQgetResult(im->pg)) != NULL)
		PQclear(r);
	svc_db_command(im->pg, "ROLLBACK");
	free(im->buf);
	free(im);
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
	PGresult   *r = svc_db_exec(u->pg,
								"SELECT d.dp_index, p.uses_blocking, coalesce(p.encoding_size, "
								"CASE WHEN p.schema #>> '{clkConfig,l}' ~ '^[0-9]{1,6}$' "
								"THEN (p.schema #>> '{clkConfig,l}')::int / 8 END, 0), "
								"d.uploaded IN ('not_started', 'error') FROM dataproviders d "
								"JOIN projects p USING (project_id) WHERE d.update_token_sha256 = decode($1, 'hex') "
								"AND d.project_id = $2 AND NOT p.marked_for_deletion", 2, p, PGRES_TUPLES_OK);
	int			rc = -1;

	if (!r)
		return upload_fail(u, 503, "database error");
	if (PQntuples(r) != 1)
		upload_fail(u, 403, API_FORBIDDEN);
	else if (PQgetvalue(r, 0, 3)[0] != 't')
		upload_fail(u, 403, USED);
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
	if (!svc_db_command(u->pg, "BEGIN"))
		return upload_fail(u, 503, "database error");
	r = PQexecParams(u->pg, "SELECT 1 FROM dataproviders d JOIN projects p USING (project_id) "
					 "WHERE d.project_id = $1 AND d.dp_index = $2::smallint AND NOT p.marked_for_deletion "
					 "AND d.uploaded IN ('not_started', 'error') FOR UPDATE OF d NOWAIT", 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		upload_fail(u, state && strcmp(state, "55P03") == 0 ? 403 : 503,
			 state && strcmp(state, "55P03") == 0 ? IN_USE : "database error");
		PQclear(r);
		svc_db_command(u->pg, "ROLLBACK");
		return -1;
	}
	got = PQntuples(r) == 1;
	PQclear(r);
	if (got)
		return 0;
	svc_db_command(u->pg, "ROLLBACK");
	return upload_fail(u, 403, USED);
}

/*
 * The database side of an upload's start, on its own connection: the
 * party, the session (committed, so the janitor sees it whatever happens
 * next), the claim.  Dead connections to a vanished client are noticed
 * within about a minute (TCP keepalives).  0, or -1 with u->status.
 */
int
upload_db_begin(Upload *u, const char *auth, char *key, int binary, const char *objid)
{
	char		token_hex[2 * SVC_TOKEN_SHA256 + 1],
				idx[16];
	const char *p[3] = {key, u->pid, idx};
	PGresult   *r;

	PQclear(PQexec(u->pg, "SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; "
				   "SET tcp_keepalives_count = 3"));
	svc_token_hash_hex(auth, strlen(auth), token_hex);
	if (find_party(u, token_hex) != 0)
		return -1;
	keys_upload(key, 200, u->pid, u->dp_index, objid, binary);
	snprintf(idx, sizeof(idx), "%d", u->dp_index);
	r = svc_db_exec(u->pg, "SELECT service_begin_upload($1, $2, $3::int)", 3, p, PGRES_TUPLES_OK);
	if (!r)
		return upload_fail(u, 503, "database error");
	PQclear(r);
	return claim(u);
}

/* End the upload's session when it failed (a success ended it in its transaction). */
void
upload_db_end_session(Upload *u, const char *key)
{
	const char *p[1] = {key};

	PQclear(svc_db_exec(u->pg, "DELETE FROM upload_sessions WHERE object_key = $1", 1, p, PGRES_COMMAND_OK));
}

/*
 * Record the upload and commit: object first, then the transaction (so the
 * database never names a missing object), which also ends the upload's
 * session (skey).  An upload whose encodings are larger than the server's
 * maximum (none of them imported) is recorded as an error without its
 * object (as upstream, which accepts the body and fails its import): the
 * party may upload again.
 */
int
upload_db_record(Upload *u, StoreWriter *w, const char *key, const char *skey, const char *receipt,
	   uint64_t count)
{
	char		hex[2 * SVC_TOKEN_SHA256 + 1],
				cnt[32],
				size[16],
				idx[16],
				blocks[32],
				msg[160] = "";
	int			too_big = upload_oversized(u);
	const char *p[9] = {u->pid, idx, hex, too_big ? NULL : key, size, cnt, blocks, too_big ? msg : NULL,
	skey};
	PGresult   *r;
	char		err[256];
	int			status;

	err[0] = '\0';
	if (too_big)
		snprintf(msg, sizeof(msg), "encodings of %zu bytes are larger than this server's maximum (%d)",
				 u->nbytes, u->ctx->limits.max_encoding_size);
	if (upload_copy_end(u->im, u->block_rows > 0, &status, err, sizeof(err)) != 0)
	{
		u->im = NULL;
		return upload_fail(u, status, status == 409 ? "the upload was cancelled: the project is being deleted" : err);
	}
	u->im = NULL;
	svc_token_hash_hex(receipt, SVC_TOKEN_HEX, hex);
	snprintf(idx, sizeof(idx), "%d", u->dp_index);
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long) count);
	snprintf(size, sizeof(size), "%zu", u->nbytes);
	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long) u->block_rows);
	r = svc_db_exec(u->pg, "WITH d AS (UPDATE dataproviders SET uploaded = CASE WHEN $8::text IS NULL "
					"THEN 'done' ELSE 'error' END WHERE project_id = $1 AND dp_index = $2::smallint "
					"RETURNING dp_id), s AS (DELETE FROM upload_sessions WHERE object_key = $9) "
					"INSERT INTO uploads (dp_id, receipt_token_sha256, object_key, state, "
					"encoding_size, count, block_count, error_msg) SELECT dp_id, decode($3, 'hex'), $4, "
					"CASE WHEN $8::text IS NULL THEN 'ready' ELSE 'error' END, $5::int, $6::bigint, "
					"$7::bigint, $8 FROM d", 9, p, PGRES_COMMAND_OK);
	if (!r)
	{
		svc_db_command(u->pg, "ROLLBACK");
		return upload_fail(u, 503, "database error");
	}
	PQclear(r);
	if (w && store_put_commit(w, err, sizeof(err)) != 0)
	{
		svc_db_command(u->pg, "ROLLBACK");
		return upload_fail(u, 503, "object store commit failed");
	}
	if (!svc_db_command(u->pg, "COMMIT"))
	{
		if (w)
			store_remove_prefix(u->ctx->store, key, err, sizeof(err));
		return upload_fail(u, 503, "database commit failed");
	}
	/* the primary's WAL position after the commit: what a replica must have replayed */
	PQclear(svc_db_exec(u->pg, "UPDATE uploads SET commit_lsn = pg_current_wal_lsn() "
						"WHERE receipt_token_sha256 = decode($1, 'hex')", 1, p + 2, PGRES_COMMAND_OK));
	return 0;
}
