/*
 * api_upload_parse.c
 *	  An upload's parsing side: the sinks the streaming parsers (JSON and
 *	  binary) hand each encoding and block membership to, which check them
 *	  against the project (blocking, sizes) and pass them to the COPY; the
 *	  binary shape checks; and the objects of a pointer upload, read from
 *	  the store through the same parsers with the same checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload_common.h"
#include "service/settings.h"

/* Start the COPY once the form is known (staged for "encodings"). */
int
upload_ensure_import(Upload *u, int staged)
{
	char		err[256];

	if (u->im)
		return 0;
	u->im = upload_copy_begin(u->pg, u->pid, u->dp_index, staged, err, sizeof(err));
	return u->im ? 0 : upload_fail(u, 500, err);
}

/* Send the pending clknblocks record with its blocks. */
int
upload_flush_pending(Upload *u)
{
	if (!u->pending)
		return 0;
	u->pending = 0;
	if (u->pn == 0 && u->uses_blocking)
		return upload_fail(u, 400, "a clknblocks entry has no block ids");
	return upload_copy_record(u->im, u->prow, u->pclk, u->pbytes, u->pblocks, u->plens,
							 u->uses_blocking ? u->pn : -1) == 0 ? 0 : upload_fail(u, 500, "import failed");
}

/* Sink: one encoding (JSON forms). */
int
upload_on_encoding(void *arg, uint64_t index, const uint8_t *clk, size_t nbytes)
{
	Upload	   *u = arg;
	UploadForm	form = upload_json_form(u->json);

	if (form == UPLOAD_FORM_CLKS && u->uses_blocking && !u->external_blocks)
		return upload_fail(u, 400, "this project uses blocking: upload clknblocks, or encodings with blocks");
	if (form == UPLOAD_FORM_CLKNBLOCKS && !u->uses_blocking)
		return upload_fail(u, 400, "this project does not use blocking: upload clks or encodings without blocks");
	if (form == UPLOAD_FORM_CLKNBLOCKS && u->external_blocks)
		return upload_fail(u, 400, "clknblocks carries its own blocks: point to no blocks file with it");
	if (upload_ensure_import(u, form == UPLOAD_FORM_ENCODINGS || u->external_blocks) != 0 ||
		upload_flush_pending(u) != 0)
		return -1;
	u->nbytes = nbytes;
	if (upload_oversized(u))
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
	return upload_copy_record(u->im, index, clk, nbytes, NULL, NULL, -1) == 0 ? 0
		: upload_fail(u, 500, "import failed");
}

/* Sink: one block membership (clknblocks, or the "blocks" map). */
int
upload_on_block(void *arg, uint64_t index, const char *id, size_t len)
{
	Upload	   *u = arg;

	if (!u->uses_blocking)
		return upload_fail(u, 400, "this project does not use blocking: upload clks or encodings without blocks");
	u->block_rows++;
	if (upload_oversized(u))
		return 0;
	if (upload_json_form(u->json) != UPLOAD_FORM_CLKNBLOCKS)
		return upload_ensure_import(u, 1) == 0 && upload_copy_block(u->im, index, id, len) == 0 ? 0
			: upload_fail(u, 500, "import failed");
	if (!u->pending || index != u->prow)
		return upload_fail(u, 500, "block id without its encoding");
	if (u->pn >= MAX_BLOCKS_PER_RECORD)
		return upload_fail(u, 400, "too many block ids for one encoding");
	if (u->pblen + len > u->pbcap)
	{
		u->pbcap = (u->pblen + len) * 2 + 256;
		if (!(u->pblocks = realloc(u->pblocks, u->pbcap)))
			return upload_fail(u, 500, "out of memory");
	}
	memcpy(u->pblocks + u->pblen, id, len);
	u->pblen += len;
	u->plens[u->pn++] = (uint32_t) len;
	return 0;
}

/* Sink: one encoding of a binary upload. */
int
upload_on_binary(void *arg, uint64_t index, const uint8_t *clk, size_t nbytes)
{
	Upload	   *u = arg;

	u->nbytes = nbytes;
	return upload_copy_record(u->im, index, clk, nbytes, NULL, NULL, -1) == 0 ? 0
		: upload_fail(u, 500, "import failed");
}

/* Whether the encodings differ from the size the project's schema sets (400). */
int
upload_size_mismatch(Upload *u)
{
	char		msg[128];

	if (!u->fixed_size || (int) u->nbytes == u->fixed_size)
		return 0;
	snprintf(msg, sizeof(msg), "encodings of %zu bytes, but this project's schema sets %d",
			 u->nbytes, u->fixed_size);
	return upload_fail(u, 400, msg);
}

/*
 * The shape of a binary upload from its count and size (the Hash-Count and
 * Hash-Size headers, or an object's hash-count and hash-size metadata) and
 * its length in bytes (-1 when not known yet): 0, or -1 with the message
 * (what names where the size came from).
 */
int
upload_binary_shape(const ApiLimits *al, const UploadLimits *lim, const char *count_s, const char *size_s,
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
		return upload_fail(u, 400, f->bin ? upload_bin_error(f->bin) : upload_json_error(u->json));
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
		svc_log("error", "cannot read an external upload", json_pack("{s:s}", "error", err));
		return upload_fail(u, 503, "the object store could not be read");
	}
	return u->status ? -1 : 0;
}

/* The binary encodings object of a pointer upload, sized by its metadata. */
static int
read_binary_object(Upload *u, const char *key, const StoreHead *h, const UploadLimits *lim,
				   uint64_t *count)
{
	UploadSink	bsink = {upload_on_binary, NULL, u};
	UploadBin  *bin;
	char		cnt[32],
				sz[32],
				err[256];
	size_t		size;

	if (store_head_meta(h, "hash-count", cnt, sizeof(cnt)) != 0 ||
		store_head_meta(h, "hash-size", sz, sizeof(sz)) != 0)
		return upload_fail(u, 400, "a binary encodings object needs the metadata hash-count and hash-size");
	if (upload_binary_shape(&u->ctx->limits, lim, cnt, sz, (long long) h->size, "the hash-size metadata",
					 count, &size, err, sizeof(err)) != 0)
		return upload_fail(u, 400, err);
	if (upload_ensure_import(u, u->external_blocks) != 0)
		return -1;
	if (!(bin = upload_bin_new(*count, size, &bsink)))
		return upload_fail(u, 500, "out of memory");
	if (read_object(u, key, bin) == 0 && upload_bin_finish(bin) != 0)
		upload_fail(u, 400, upload_bin_error(bin));
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
		return upload_fail(u, 500, "out of memory");
	if (u->external_blocks && upload_ensure_import(u, 1) != 0)
		return -1;
	if (read_object(u, key, NULL) != 0)
		return -1;
	if (upload_json_finish(u->json) != 0)
		return upload_fail(u, 400, upload_json_error(u->json));
	if (upload_json_form(u->json) == UPLOAD_FORM_POINTER)
		return upload_fail(u, 400, "an encodings file cannot point to another object");
	*count = upload_json_count(u->json);
	if (store_head_meta(h, "hash-count", cnt, sizeof(cnt)) == 0 &&
		strtoull(cnt, NULL, 10) != *count)
	{
		snprintf(msg, sizeof(msg), "the object's hash-count metadata says %.20s, but it holds %llu "
				 "encodings", cnt, (unsigned long long) *count);
		return upload_fail(u, 400, msg);
	}
	/* as for binary objects: metadata that disagrees is refused, not padded */
	if (store_head_meta(h, "hash-size", cnt, sizeof(cnt)) == 0 &&
		strtoull(cnt, NULL, 10) != u->nbytes)
	{
		snprintf(msg, sizeof(msg), "the object's hash-size metadata says %.20s, but its encodings "
				 "are %zu bytes", cnt, u->nbytes);
		return upload_fail(u, 400, msg);
	}
	return upload_flush_pending(u);
}

/*
 * A pointer upload: import the objects the party put in its folder (see
 * api_external.c) as if they had come in the body, with the same checks.
 * The encodings object stays where it is and is recorded as the upload's
 * object.
 */
int
upload_import_pointer(Upload *u, const ApiPointer *pt, const UploadSink *jsink, const UploadLimits *lim,
			   uint64_t *count)
{
	StoreHead	h;
	char		err[512];
	int			rc = store_head(u->ctx->store, pt->enc_key, &h, err, sizeof(err));

	if (rc == 1)
		return upload_fail(u, 400, "there is no object at the encodings path: upload it first");
	if (rc != 0)
	{
		svc_log("error", "cannot read an external upload", json_pack("{s:s}", "error", err));
		return upload_fail(u, 503, "the object store could not be read");
	}
	if (h.size > u->ctx->limits.max_body_bytes)
		return upload_fail(u, 413, "the encodings object is larger than this server accepts");
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
			return upload_fail(u, 500, "out of memory");
		upload_json_blocks_only(u->json, *count);
		if (read_object(u, pt->blocks_key, NULL) != 0)
			return -1;
		if (upload_json_finish(u->json) != 0)
			return upload_fail(u, 400, upload_json_error(u->json));
	}
	if (!u->im)
		return upload_fail(u, 400, "the upload has no encodings");
	if (u->uses_blocking && u->block_rows == 0 &&
		(!u->json || upload_json_form(u->json) != UPLOAD_FORM_CLKNBLOCKS))
		return upload_fail(u, 400, "this project uses blocking: the upload needs blocks");
	return upload_size_mismatch(u);
}
