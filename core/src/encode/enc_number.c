/*
 * enc_number.c
 *	  Numbers read as Python's int(s, 10) and float(s) read them, which is
 *	  how clkhash reads integer features and numeric comparisons: Unicode
 *	  whitespace around the number is stripped and any Unicode decimal digit
 *	  counts as its ASCII digit (CPython's
 *	  _PyUnicode_TransformDecimalAndSpaceToASCII), single underscores may
 *	  stand between digits, leading zeros are allowed; float() also takes
 *	  a fraction, an exponent, inf, infinity and nan in any case.  Nothing
 *	  else (no 0x, no inner spaces).  Values are UTF-8.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enc_impl.h"

#define PY_INT_MAX_DIGITS 4300	/* int() refuses more digits (CPython's int_max_str_digits) */

/* Decode one UTF-8 code point at s (len > 0); its width, or 0 if invalid. */
size_t
enc_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		w = u[0] < 0x80 ? 1 : (u[0] >> 5) == 6 ? 2 : (u[0] >> 4) == 14 ? 3 : (u[0] >> 3) == 30 ? 4 : 0;
	uint32_t	c;

	if (w == 0 || w > len)
		return 0;
	c = w == 1 ? u[0] : w == 2 ? u[0] & 0x1Fu : w == 3 ? u[0] & 0x0Fu : u[0] & 0x07u;
	for (size_t i = 1; i < w; i++)
	{
		if ((u[i] >> 6) != 2)
			return 0;
		c = c << 6 | (u[i] & 0x3Fu);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF: Python's decoder refuses them */
	if ((w == 2 && c < 0x80) || (w == 3 && c < 0x800) || (w == 4 && c < 0x10000) ||
		(c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	*cp = c;
	return w;
}

/* Whether len bytes are UTF-8 as Python's strict decoder takes them. */
int
enc_utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0, w; i < len; i += w)
	{
		uint32_t	cp;

		if ((w = enc_utf8_decode(s + i, len - i, &cp)) == 0)
			return 0;
	}
	return 1;
}

/*
 * The value as ASCII with whitespace as ' ' and digits as '0'-'9', then
 * stripped of spaces at both ends: out gets it NUL-ended.  -1 when a
 * character is neither ASCII, whitespace nor a digit, or it is too long.
 */
static int
to_ascii(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		o = 0,
				start = 0;

	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;
		size_t		w = enc_utf8_decode(s + i, len - i, &cp);
		int			d;

		if (w == 0 || o + 1 >= outlen || cp == 0)
			return -1;
		if (enc_unicode_space(cp))
			out[o++] = ' ';
		else if ((d = enc_unicode_digit(cp)) >= 0)
			out[o++] = (char) ('0' + d);
		else if (cp < 0x80)
			out[o++] = (char) cp;
		else
			return -1;
		i += w;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	while (out[start] == ' ')
		start++;
	memmove(out, out + start, o - start + 1);
	return 0;
}

/*
 * Digits with single underscores between them, from s: copied without the
 * underscores to *o; returns the count of digits (0: none, -1: a bad
 * underscore).
 */
static int
digit_run(const char **s, char **o)
{
	int			n = 0;

	while (isdigit((unsigned char) **s) || (**s == '_' && n > 0))
	{
		if (**s == '_')
		{
			if (!isdigit((unsigned char) (*s)[1]))
				return -1;
			(*s)++;
			continue;
		}
		*(*o)++ = *(*s)++;
		n++;
	}
	return n;
}

/*
 * Python's int(s, 10): 0 with the canonical text (str(int(s)), malloc'd)
 * in *canon when canon is not NULL; *v gets the value and *fits 1 when it
 * fits in 64 bits.  -1 if int() refuses it (more than 4,300 digits too).
 */
int
enc_py_int(const char *s, size_t len, char **canon, long long *v, int *fits)
{
	char	   *a = malloc(len + 1),
			   *digits = malloc(len + 2),
			   *d = digits;
	const char *p = a;
	int			neg = 0,
				n,
				rc = -1;
	size_t		z = 0;

	if (!a || !digits || to_ascii(s, len, a, len + 1) != 0)
		goto done;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if ((n = digit_run(&p, &d)) <= 0 || *p != '\0' || n > PY_INT_MAX_DIGITS)
		goto done;
	while (z + 1 < (size_t) n && digits[z] == '0')
		z++;
	neg = neg && !(n - z == 1 && digits[z] == '0');
	/* the canonical text, built in place: an optional '-', then the digits without leading zeros */
	memmove(digits + neg, digits + z, (size_t) n - z);
	if (neg)
		digits[0] = '-';
	digits[neg + (size_t) n - z] = '\0';
	errno = 0;
	*v = strtoll(digits, NULL, 10);
	*fits = errno != ERANGE;
	if (canon)
	{
		*canon = digits;
		digits = NULL;
	}
	rc = 0;
done:
	free(a);
	free(digits);
	return rc;
}

/* Python's float(s): 0 with *d, or -1 if float() refuses it. */
int
enc_py_float(const char *s, size_t len, double *d)
{
	char	   *a = malloc(len + 1),
			   *clean = malloc(len + 1),
			   *o = clean;
	const char *p = a,
			   *word;
	int			ni,
				nf = 0,
				rc = -1;

	if (!a || !clean || to_ascii(s, len, a, len + 1) != 0)
		goto done;
	if (*p == '+' || *p == '-')
		*o++ = *p++;
	word = p;
	if (strcasecmp(word, "inf") == 0 || strcasecmp(word, "infinity") == 0 || strcasecmp(word, "nan") == 0)
	{
		*d = strtod(a, NULL);
		rc = 0;
		goto done;
	}
	if ((ni = digit_run(&p, &o)) < 0)
		goto done;
	if (*p == '.')
	{
		*o++ = *p++;
		if (isdigit((unsigned char) *p) && (nf = digit_run(&p, &o)) < 0)
			goto done;
	}
	if (ni + nf == 0)
		goto done;
	if (*p == 'e' || *p == 'E')
	{
		*o++ = *p++;
		if (*p == '+' || *p == '-')
			*o++ = *p++;
		if (digit_run(&p, &o) <= 0)
			goto done;
	}
	if (*p != '\0')
		goto done;
	*o = '\0';
	*d = strtod(clean, NULL);
	rc = 0;
done:
	free(a);
	free(clean);
	return rc;
}
