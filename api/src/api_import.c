/*
 * api_import.c
 *	  Binary COPY of upload records into a party's encodings table.  Each row
 *	  is (row_id int8, clk, blocks text[]) in PostgreSQL's binary COPY format
 *	  (clk's binary form is int32 bit count + bytes); rows are buffered and
 *	  sent in pieces of about 256 kB.  A project without blocking stores the
 *	  default block '{1}' for every record, whatever the upload form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_db.h"
#include "api_import.h"

#define FLUSH_AT (256 * 1024)
#define TEXTOID 25

struct ApiImport
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
reserve(ApiImport *im, size_t n)
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
put16(ApiImport *im, uint16_t v)
{
	im->buf[im->len++] = (char) (v >> 8);
	im->buf[im->len++] = (char) v;
}

static void
put32(ApiImport *im, uint32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		im->buf[im->len++] = (char) (v >> s);
}

static void
put64(ApiImport *im, uint64_t v)
{
	for (int s = 56; s >= 0; s -= 8)
		im->buf[im->len++] = (char) (v >> s);
}

static void
putbytes(ApiImport *im, const void *p, size_t n)
{
	memcpy(im->buf + im->len, p, n);
	im->len += n;
}

/* Send what is buffered once it is big enough (or always, when forced). */
static int
flush(ApiImport *im, int force)
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
put_text_array(ApiImport *im, const char *elems, const uint32_t *lens, int n)
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
ApiImport *
api_import_begin(PGconn *pg, const char *pid, int dp_index, int staged, char *err, size_t errlen)
{
	ApiImport  *im = calloc(1, sizeof(ApiImport));
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
	if ((staged && !api_db_command(pg, "CREATE TEMP TABLE upload_stage (row_id bigint, clk clk, "
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
	api_db_command(pg, "ROLLBACK");
	free(im->buf);
	free(im);
	return NULL;
}

/*
 * One record.  nblocks < 0: the default block '{1}' (unblocked), or no
 * blocks yet when staged (they come as api_import_block rows); otherwise
 * the block ids, concatenated in `blocks` with their lengths in `lens`.
 */
int
api_import_record(ApiImport *im, uint64_t row, const uint8_t *clk, size_t nbytes,
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
api_import_block(ApiImport *im, uint64_t row, const char *id, size_t len)
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
api_import_end(ApiImport *im, int has_blocks, int *status, char *err, size_t errlen)
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
		api_db_command(pg, "ROLLBACK");
	free(im->buf);
	free(im);
	return ok ? 0 : -1;
}

/* Abandon the COPY and roll the transaction back: nothing is stored. */
void
api_import_abort(ApiImport *im)
{
	PGresult   *r;

	if (!im)
		return;
	PQputCopyEnd(im->pg, "upload abandoned");
	while ((r = PQgetResult(im->pg)) != NULL)
		PQclear(r);
	api_db_command(im->pg, "ROLLBACK");
	free(im->buf);
	free(im);
}
