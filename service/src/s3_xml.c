/*
 * s3_xml.c
 *	  Tag extraction from S3's XML answers (ListObjectsV2, multipart
 *	  initiate/complete, errors, STS).  Values longer than the output
 *	  buffer are an error rather than silently cut.
 */
#include <stdlib.h>
#include <string.h>

#include "service/s3_xml.h"

/* Decode XML entities of src[0..len) into out; -1 if it does not fit. */
static int
decode(const char *src, size_t len, char *out, size_t outlen)
{
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		char		c = src[i];

		if (c == '&')
		{
			const char *semi = memchr(src + i, ';', len - i);
			size_t		n = semi ? (size_t) (semi - (src + i)) : 0;
			const char *e = src + i + 1;

			if (!semi)
				return -1;
			if (n == 3 && strncmp(e, "lt", 2) == 0)
				c = '<';
			else if (n == 3 && strncmp(e, "gt", 2) == 0)
				c = '>';
			else if (n == 4 && strncmp(e, "amp", 3) == 0)
				c = '&';
			else if (n == 5 && strncmp(e, "quot", 4) == 0)
				c = '"';
			else if (n == 5 && strncmp(e, "apos", 4) == 0)
				c = '\'';
			else if (n >= 3 && e[0] == '#')
			{
				long		v = e[1] == 'x' ? strtol(e + 2, NULL, 16) : strtol(e + 1, NULL, 10);

				if (v <= 0 || v > 127)
					return -1;	/* S3 keys we write are ASCII */
				c = (char) v;
			}
			else
				return -1;
			i += n;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Find the next <tag>...</tag> at or after *cursor; copy its decoded text
 * to out and move the cursor past it.  1 found, 0 none, -1 too long.
 */
int
s3_xml_next(const char *doc, const char *tag, const char **cursor, char *out, size_t outlen)
{
	char		open[80],
				close[80];
	const char *p = cursor && *cursor ? *cursor : doc;
	const char *start,
			   *end;
	size_t		n = strlen(tag);

	if (n + 4 > sizeof(open))
		return -1;
	memcpy(open, "<", 1);
	memcpy(open + 1, tag, n);
	memcpy(open + 1 + n, ">", 2);
	memcpy(close, "</", 2);
	memcpy(close + 2, tag, n);
	memcpy(close + 2 + n, ">", 2);
	if (!(start = strstr(p, open)))
		return 0;
	start += n + 2;
	if (!(end = strstr(start, close)))
		return 0;
	if (cursor)
		*cursor = end + n + 3;
	return decode(start, (size_t) (end - start), out, outlen) == 0 ? 1 : -1;
}

/* The first <tag> value in doc: 1 found, 0 none, -1 too long. */
int
s3_xml_get(const char *doc, const char *tag, char *out, size_t outlen)
{
	return s3_xml_next(doc, tag, NULL, out, outlen);
}
