/*
 * csv.c
 *	  Streaming CSV records (see csv.h), read as clkhash reads them:
 *	  Python's csv module on a text-mode file, so every line ending (CRLF,
 *	  CR, LF), inside quotes too, is a LF; a blank line is a record of no
 *	  fields; a field of more than 131,072 characters is an error (the csv
 *	  module's field_size_limit), and so is a byte that is not UTF-8.  A record is bounded by max_record bytes,
 *	  so a malformed file cannot eat memory; an unclosed quote runs to the
 *	  end of the file, as in Python; errors name the line the record
 *	  started on.
 */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "pprl/encode.h"

#define CSV_FIELD_LIMIT 131072	/* characters: Python's csv.field_size_limit() */

struct CsvReader
{
	FILE	   *f;
	size_t		max;
	char	   *buf;
	size_t		cap;
	size_t	   *off;
	size_t	   *len;
	int			fcap;
	long		line;
};

/* Open a reader on f; records above max_record bytes are errors. */
CsvReader *
csv_open(FILE *f, size_t max_record)
{
	CsvReader  *r = calloc(1, sizeof(CsvReader));

	if (!r)
		return NULL;
	r->f = f;
	r->max = max_record;
	r->line = 1;
	return r;
}

/* Append a byte to the record being read; -1 when it is too long. */
static int
put(CsvReader *r, size_t *n, int c)
{
	if (*n + 1 >= r->cap)
	{
		size_t		nc = r->cap ? r->cap * 2 : 4096;
		char	   *b;

		if (nc > r->max + 2)
			nc = r->max + 2;
		if (*n + 1 >= nc || !(b = realloc(r->buf, nc)))
			return -1;
		r->buf = b;
		r->cap = nc;
	}
	r->buf[(*n)++] = (char) c;
	return 0;
}

/* End the current field at byte n. */
static int
end_field(CsvReader *r, CsvRecord *rec, size_t start, size_t *n)
{
	if (rec->nfields == r->fcap)
	{
		int			nc = r->fcap ? r->fcap * 2 : 32;
		size_t	   *o = realloc(r->off, sizeof(size_t) * (size_t) nc),
				   *l;

		if (!o)
			return -1;
		r->off = o;
		if (!(l = realloc(r->len, sizeof(size_t) * (size_t) nc)))
			return -1;
		r->len = l;
		r->fcap = nc;
	}
	r->off[rec->nfields] = start;
	r->len[rec->nfields++] = *n - start;
	return put(r, n, '\0');
}

/*
 * Read the next record: 1 with one, 0 at the end of the input, -1 with err
 * (a field over the limit, record too long, out of
 * memory).  A blank line is a record of no fields, as Python's reader
 * gives it.
 */
int
csv_next(CsvReader *r, CsvRecord *rec, char *err, size_t errlen)
{
	size_t		n = 0,
				start = 0;
	int			c,
				quoted = 0,
				any = 0;

	long		chars = 0;

	rec->nfields = 0;
	rec->line = r->line;
	for (;;)
	{
		c = getc(r->f);
		/* universal newlines: CRLF and CR are LF, wherever they are */
		if (c == '\r')
		{
			int			d = getc(r->f);

			if (d != '\n' && d != EOF)
				ungetc(d, r->f);
			c = '\n';
		}
		if (c == EOF)
		{
			/* an unclosed quote ends with the file, as Python's reader (not strict) takes it */
			if (!any && rec->nfields == 0)
				return 0;
			break;
		}
		if (quoted)
		{
			if (c == '"')
			{
				int			d = getc(r->f);

				if (d != '"')
				{
					quoted = 0;
					if (d != EOF)
						ungetc(d, r->f);
					continue;
				}
			}
			if (c == '\n')
				r->line++;
			if ((c & 0xC0) != 0x80 && ++chars > CSV_FIELD_LIMIT)
				goto field_limit;
			if (put(r, &n, c) != 0)
				goto too_long;
			continue;
		}
		if (c == '\n')
		{
			r->line++;
			break;				/* a blank line is a record of no fields: Python's [] */
		}
		any = 1;
		if (c == ',')
		{
			if (end_field(r, rec, start, &n) != 0)
				goto too_long;
			start = n;
			chars = 0;
			continue;
		}
		if (c == '"' && n == start)
		{
			quoted = 1;
			continue;
		}
		if ((c & 0xC0) != 0x80 && ++chars > CSV_FIELD_LIMIT)
			goto field_limit;
		if (put(r, &n, c) != 0)
			goto too_long;
	}
	if (any && end_field(r, rec, start, &n) != 0)
		goto too_long;
	/* clkhash reads the file as UTF-8 text: a bad byte anywhere, in any column, stops it */
	if (n > 0 && !enc_utf8_valid(r->buf, n))
	{
		snprintf(err, errlen, "line %ld: not valid UTF-8 (the file must be UTF-8 text, as clkhash reads it)",
				 rec->line);
		return -1;
	}
	rec->text = r->buf;
	rec->off = r->off;
	rec->len = r->len;
	return 1;
field_limit:
	snprintf(err, errlen, "line %ld: a field is larger than the field limit (%d characters)", rec->line,
			 CSV_FIELD_LIMIT);
	return -1;
too_long:
	snprintf(err, errlen, "line %ld: the record is longer than %zu bytes (or memory ran out)", rec->line, r->max);
	return -1;
}

/* Free the reader (not its file). */
void
csv_close(CsvReader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->off);
	free(r->len);
	free(r);
}
