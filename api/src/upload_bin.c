/*
 * upload_bin.c
 *	  Binary upload bodies: header validation and a streaming record reader.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/clk_codec.h"
#include "upload_bin.h"

struct UploadBin
{
	UploadSink	sink;
	uint64_t	count;
	size_t		size;
	uint64_t	done;			/* complete records */
	size_t		fill;			/* bytes of the record in progress */
	uint8_t    *rec;
	bool		failed;
	char		err[256];
};

/* Record the first error. */
static int
fail(UploadBin *b, const char *fmt, ...)
{
	va_list		ap;

	if (b->failed)
		return -1;
	b->failed = true;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Parse a header value as a plain decimal number; -1 when it is not one. */
static int
parse_decimal(const char *s, uint64_t *out)
{
	uint64_t	v = 0;

	if (!s || !*s || strlen(s) > 19)
		return -1;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t) (*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * Validate the Hash-Count and Hash-Size headers: both present, decimal,
 * count 1..max_records, size 1..8192 bytes.  0, or -1 with a message.
 */
int
upload_bin_headers(const char *count_hdr, const char *size_hdr, const UploadLimits *limits,
				   uint64_t *count, size_t *size, char *err, size_t errlen)
{
	uint64_t	c,
				s;

	if (!count_hdr || !size_hdr)
	{
		snprintf(err, errlen, "binary uploads need the headers Hash-Count and Hash-Size");
		return -1;
	}
	if (parse_decimal(count_hdr, &c) != 0 || c < 1 || c > limits->max_records)
	{
		snprintf(err, errlen, "invalid value for Hash-Count: expected 1 to %llu",
				 (unsigned long long) limits->max_records);
		return -1;
	}
	if (parse_decimal(size_hdr, &s) != 0 || s < 1 || s > CLK_MAX_BYTES)
	{
		snprintf(err, errlen, "invalid value for Hash-Size: expected 1 to %d bytes", CLK_MAX_BYTES);
		return -1;
	}
	*count = c;
	*size = (size_t) s;
	return 0;
}

/* A reader for count records of size bytes; NULL when out of memory. */
UploadBin *
upload_bin_new(uint64_t count, size_t size, const UploadSink *sink)
{
	UploadBin  *b = calloc(1, sizeof(UploadBin));

	if (!b)
		return NULL;
	b->sink = *sink;
	b->count = count;
	b->size = size;
	b->rec = malloc(size);
	if (!b->rec)
	{
		free(b);
		return NULL;
	}
	return b;
}

/* Feed the next piece of the body; 0, or -1 once it is invalid. */
int
upload_bin_feed(UploadBin *b, const char *data, size_t len)
{
	while (len > 0 && !b->failed)
	{
		size_t		take = b->size - b->fill;

		if (b->done == b->count)
			return fail(b, "the body is longer than Hash-Count x Hash-Size = %llu bytes",
						(unsigned long long) (b->count * b->size));
		if (take > len)
			take = len;
		memcpy(b->rec + b->fill, data, take);
		b->fill += take;
		data += take;
		len -= take;
		if (b->fill == b->size)
		{
			if (b->sink.encoding && b->sink.encoding(b->sink.arg, b->done, b->rec, b->size) != 0)
				return fail(b, "encoding %llu was not accepted", (unsigned long long) b->done);
			b->done++;
			b->fill = 0;
		}
	}
	return b->failed ? -1 : 0;
}

/* The body has ended: it must have held exactly count x size bytes. */
int
upload_bin_finish(UploadBin *b)
{
	if (b->failed)
		return -1;
	if (b->done != b->count)
		return fail(b, "uploaded data did not match the expected size: got %llu of %llu bytes",
					(unsigned long long) (b->done * b->size + b->fill),
					(unsigned long long) (b->count * b->size));
	return 0;
}

/* The error message (empty when there is none). */
const char *
upload_bin_error(const UploadBin *b)
{
	return b->err;
}

/* Release a reader. */
void
upload_bin_free(UploadBin *b)
{
	if (!b)
		return;
	free(b->rec);
	free(b);
}
