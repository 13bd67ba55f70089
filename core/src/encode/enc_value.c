/*
 * enc_value.c
 *	  One value of one feature, as clkhash treats it: the missing-value
 *	  sentinel (replaced, never validated), validation against the
 *	  feature's format (string length and case in characters, a regular
 *	  expression, an integer's range, a date's format, an enumeration),
 *	  formatting (integers canonical, dates as YYYYMMDD), then tokens:
 *	  n-grams over characters (padded with n-1 spaces for n > 1,
 *	  "<i> <gram>" when positional), the whole value (exact), or a numeric
 *	  neighbourhood.  Values are UTF-8; characters are code points.
 */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enc_impl.h"

/* Note an error about feature i. */
static int
fail(EncError *e, int feature, const char *msg, const char *value, size_t len)
{
	if (e)
	{
		e->feature = feature;
		snprintf(e->msg, sizeof(e->msg), "%s: '%.*s'", msg, (int) (len > 60 ? 60 : len), value);
	}
	return -1;
}

/* Byte offsets of the code points of a UTF-8 string (n + 1 of them); -1 if invalid. */
static long
code_points(const char *s, size_t len, size_t *off)
{
	long		n = 0;

	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;
		size_t		w = enc_utf8_decode(s + i, len - i, &cp);

		if (w == 0)
			return -1;
		if (off)
			off[n] = i;
		n++;
		i += w;
	}
	if (off)
		off[n] = len;
	return n;
}

/*
 * Whether a string passes `case` as clkhash checks it: lower (rule 1)
 * means value.lower() == value, upper (rule 2) value.upper() == value,
 * which holds exactly when no code point is changed by the mapping.
 */
static int
case_ok(const char *s, size_t len, int rule)
{
	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;
		size_t		w = enc_utf8_decode(s + i, len - i, &cp);

		if (w == 0 || enc_unicode_case_changes(cp, rule == 2))
			return 0;
		i += w;
	}
	return 1;
}

/*
 * Validate and format one value for hashing.  *out is the value to
 * tokenize (malloc'd, NUL-ended).  0 on success, -1 with e set.
 */
int
enc_prepare(const EncFeature *f, const char *value, size_t len, char **out, size_t *outlen,
			EncError *e, int feature)
{
	char		buf[128];
	const char *src = value;
	size_t		n = len;
	long		chars;

	if (f->has_missing && strlen(f->sentinel) == len && memcmp(f->sentinel, value, len) == 0)
	{
		src = f->replace_with;
		n = strlen(f->replace_with);
		/* not validated, but hashed: clkhash's str.encode('ascii') fails on it */
		if (f->encoding == ENCODING_ASCII && code_points(src, n, NULL) != (long) n)
			return fail(e, feature, "the missing value's replacement cannot be encoded in ascii", src, n);
	}
	else if ((chars = code_points(value, len, NULL)) < 0)
		return fail(e, feature, "not valid UTF-8", value, len);
	else if (f->encoding == ENCODING_ASCII && (size_t) chars != len)
		return fail(e, feature, "cannot be encoded in ascii", value, len);
	else if (f->format == FMT_STRING)
	{
		if (f->pattern)
		{
			int			m = enc_pattern_match(f->pattern, value, len);

			if (m <= 0)
				return fail(e, feature, m == 0 ? "does not match the feature's pattern" :
							"too costly to match against the feature's pattern", value, len);
		}
		if (chars < f->min_length)
			return fail(e, feature, "shorter than the feature's minLength", value, len);
		if (f->max_length >= 0 && chars > f->max_length)
			return fail(e, feature, "longer than the feature's maxLength", value, len);
		if (f->case_rule && !case_ok(value, len, f->case_rule))
			return fail(e, feature, f->case_rule == 1 ? "not lower case" : "not upper case", value, len);
	}
	else if (f->format == FMT_INTEGER)
	{
		long long	v;
		int			fits;
		char	   *canon;

		if (enc_py_int(value, len, &canon, &v, &fits) != 0)
			return fail(e, feature, "not an integer", value, len);
		if ((f->has_minimum && (!fits ? canon[0] == '-' : v < f->minimum)) ||
			(f->has_maximum && (!fits ? canon[0] != '-' : v > f->maximum)))
		{
			free(canon);
			return fail(e, feature, "outside the feature's minimum and maximum", value, len);
		}
		/* str(int(value)): the canonical text is what gets tokenized */
		*out = canon;
		*outlen = strlen(canon);
		return 0;
	}
	else if (f->format == FMT_DATE)
	{
		char		why[200],
					msg[240];

		if (enc_date_parse(f->date, value, len, buf, sizeof(buf), why, sizeof(why)) != 0)
		{
			snprintf(msg, sizeof(msg), "not a date in the feature's format (%s)", why);
			return fail(e, feature, msg, value, len);
		}
		n = strlen(buf);
		src = buf;
	}
	else if (f->format == FMT_ENUM)
	{
		int			found = 0;

		for (int i = 0; i < f->nenum && !found; i++)
			found = strlen(f->enum_values[i]) == len && memcmp(f->enum_values[i], value, len) == 0;
		if (!found)
			return fail(e, feature, "not one of the feature's values", value, len);
	}
	if (!(*out = malloc(n + 1)))
		return fail(e, feature, "out of memory", "", 0);
	memcpy(*out, src, n);
	(*out)[n] = '\0';
	*outlen = n;
	return 0;
}

/* Append a token made of two pieces (a prefix, then len bytes) to the list. */
static int
push2(EncTokens *t, const char *pre, size_t plen, const char *s, size_t len)
{
	if (t->n == t->ncap)
	{
		int			nc = t->ncap ? t->ncap * 2 : 64;
		size_t	   *o = realloc(t->off, sizeof(size_t) * (size_t) nc),
				   *l;

		if (!o)
			return -1;
		t->off = o;
		if (!(l = realloc(t->tlen, sizeof(size_t) * (size_t) nc)))
			return -1;
		t->tlen = l;
		t->ncap = nc;
	}
	if (t->len + plen + len + 1 > t->cap)
	{
		size_t		nc = (t->len + plen + len + 1) * 2 + 256;
		char	   *b = realloc(t->buf, nc);

		if (!b)
			return -1;
		t->buf = b;
		t->cap = nc;
	}
	memcpy(t->buf + t->len, pre, plen);
	memcpy(t->buf + t->len + plen, s, len);
	t->off[t->n] = t->len;
	t->tlen[t->n++] = plen + len;
	t->len += plen + len;
	return 0;
}

/* Append a token of len bytes to the list. */
static int
push(EncTokens *t, const char *s, size_t len)
{
	return push2(t, "", 0, s, len);
}

/* "<i> ": a positional n-gram's prefix, written without printf; its length. */
static size_t
position_prefix(long i, char *buf)
{
	char		tmp[24];
	size_t		n = 0,
				o = 0;

	do
		tmp[n++] = (char) ('0' + i % 10);
	while ((i /= 10) > 0);
	while (n > 0)
		buf[o++] = tmp[--n];
	buf[o++] = ' ';
	return o;
}

/* Numeric neighbourhood tokens (clkhash's numeric comparison). */
static int
numeric_tokens(const EncFeature *f, const char *value, size_t len, EncTokens *t)
{
	long long	v,
				di = f->distance_interval,
				residue,
				scale = 1;
	int			fits,
				rc;
	char		tok[32];

	for (int i = 0; i < f->fractional_precision; i++)
		scale *= 10;
	/* int() first, so that no precision is lost; then float() */
	if ((rc = enc_py_int(value, len, NULL, &v, &fits)) == 0 && !fits)
		return -1;				/* Python's exact big integer: beyond 64 bits */
	if (rc != 0)
	{
		double		d,
					x;

		if (enc_py_float(value, len, &d) != 0 || !isfinite(d))
			return -1;
		x = f->fractional_precision > 0 ? rint(d * (double) scale) : trunc(d);
		/* beyond +-2^62 the neighbourhood cannot be written in 64 bits */
		if (!(fabs(x) < 4611686018427387904.0))
			return -1;
		v = (long long) x;
	}
	else if (__builtin_mul_overflow(v, scale, &v))
		return -1;
	if (__builtin_mul_overflow(v, 2LL * f->resolution, &v) ||
		__builtin_add_overflow(v, di, &residue) || __builtin_sub_overflow(v, di, &residue))
		return -1;
	residue = ((v % di) + di) % di;
	if (residue != 0)
		v = 2 * residue < di ? v - residue : v + (di - residue);
	/* every token v + i * di, |i| <= resolution, must fit */
	{
		long long	span;

		if (__builtin_mul_overflow(di, (long long) f->resolution, &span) ||
			__builtin_add_overflow(v, span, &residue) || __builtin_sub_overflow(v, span, &residue))
			return -1;
	}
	for (int i = -f->resolution; i <= f->resolution; i++)
	{
		int			n = snprintf(tok, sizeof(tok), "%lld", v + (long long) i * di);

		if (push(t, tok, (size_t) n) != 0)
			return -1;
	}
	return 0;
}

/* Tokens of a prepared value; 0 on success (an empty value has none). */
int
enc_tokenize(const EncFeature *f, const char *value, size_t len, EncTokens *t)
{
	size_t	   *off;
	long		chars;
	char	   *word;
	size_t		wlen;
	int			pad = f->n > 1 ? f->n - 1 : 0,
				rc = 0;

	t->n = 0;
	t->len = 0;
	if (len == 0)
		return 0;
	if (f->comparison == CMP_EXACT)
		return push(t, value, len);
	if (f->comparison == CMP_NUMERIC)
		return numeric_tokens(f, value, len, t);
	if (!(word = malloc(len + 2 * (size_t) pad + 1)))
		return -1;
	memset(word, ' ', (size_t) pad);
	memcpy(word + pad, value, len);
	memset(word + pad + len, ' ', (size_t) pad);
	wlen = len + 2 * (size_t) pad;
	off = malloc(sizeof(size_t) * (wlen + 1));
	chars = off ? code_points(word, wlen, off) : -1;
	for (long i = 0; rc == 0 && chars >= 0 && i + f->n <= chars; i++)
	{
		size_t		gl = off[i + f->n] - off[i];

		if (f->positional)
		{
			char		pre[24];

			rc = push2(t, pre, position_prefix(i + 1, pre), word + off[i], gl);
		}
		else
			rc = push(t, word + off[i], gl);
	}
	free(off);
	free(word);
	return chars < 0 ? -1 : rc;
}

/*
 * A token's bytes as Python's token.encode(encoding) gives them: UTF-8 and
 * ASCII as they are; UTF-16 and UTF-32 with a byte order mark and then
 * little-endian units (CPython's codecs on x86-64).  The result is tok or
 * *buf (grown as needed); NULL when out of memory.
 */
const char *
enc_token_bytes(const EncFeature *f, const char *tok, size_t len, char **buf, size_t *cap, size_t *outlen)
{
	size_t		o = 0,
				need = len * 4 + 4;
	uint8_t    *b;

	if (f->encoding == ENCODING_UTF8 || f->encoding == ENCODING_ASCII)
	{
		*outlen = len;
		return tok;
	}
	if (need > *cap)
	{
		char	   *nb = realloc(*buf, need);

		if (!nb)
			return NULL;
		*buf = nb;
		*cap = need;
	}
	b = (uint8_t *) *buf;
	b[o++] = 0xFF;
	b[o++] = 0xFE;
	if (f->encoding == ENCODING_UTF32)
	{
		b[o++] = 0;
		b[o++] = 0;
	}
	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;
		size_t		w = enc_utf8_decode(tok + i, len - i, &cp);

		if (w == 0)
			return NULL;
		i += w;
		if (f->encoding == ENCODING_UTF32)
		{
			for (int k = 0; k < 4; k++)
				b[o++] = (uint8_t) (cp >> (8 * k));
			continue;
		}
		if (cp >= 0x10000)
		{
			uint32_t	hi = 0xD800 + ((cp - 0x10000) >> 10),
						lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);

			b[o++] = (uint8_t) hi;
			b[o++] = (uint8_t) (hi >> 8);
			cp = lo;
		}
		b[o++] = (uint8_t) cp;
		b[o++] = (uint8_t) (cp >> 8);
	}
	*outlen = o;
	return *buf;
}

/* Free a token list's memory. */
void
enc_tokens_free(EncTokens *t)
{
	free(t->buf);
	free(t->off);
	free(t->tlen);
	memset(t, 0, sizeof(*t));
}
