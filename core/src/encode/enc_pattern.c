/*
 * enc_pattern.c
 *	  A string feature's `pattern` with Python `re` semantics, as clkhash
 *	  checks it (re.compile(pattern).fullmatch(value)), on code points and
 *	  independent of any locale: the Python syntax is translated to PCRE2's
 *	  (UTF and Unicode properties on, so \d, \w, \s and (?i) are Unicode as
 *	  in Python) and matched anchored at both ends.  Python syntax PCRE2
 *	  reads differently is rewritten (\Z, \v, \x##, \u####, \U########,
 *	  octal escapes, backreferences, {,n}, '[' inside a class); syntax
 *	  Python refuses but PCRE2 would take (\p, \Q, \h, (*VERB), (?R), (?|,
 *	  flags after the start ...) is refused here too.  Python's \N{name} and
 *	  the (?a) and (?L) flags are refused (not supported).  A match that
 *	  backtracks beyond fixed limits is refused rather than run for ever.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "enc_impl.h"

#define PAT_MAX_LEN 4096		/* bytes of a pattern */
#define PAT_MATCH_LIMIT 10000000	/* backtracking steps per value */
#define PAT_DEPTH_LIMIT 1000000	/* nested backtracking points */
#define PAT_HEAP_LIMIT 65536	/* KiB of backtracking frames */

/* A growing output buffer for the translated pattern. */
typedef struct PatOut
{
	char	   *buf;
	size_t		len,
				cap;
	int			oom;
} PatOut;

/* Append n bytes. */
static void
out_add(PatOut *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap)
	{
		size_t		nc = (o->len + n + 1) * 2 + 64;
		char	   *b = realloc(o->buf, nc);

		if (!b)
		{
			o->oom = 1;
			return;
		}
		o->buf = b;
		o->cap = nc;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Append a code point as \x{...}. */
static void
out_cp(PatOut *o, unsigned long cp)
{
	char		tmp[24];

	out_add(o, tmp, (size_t) snprintf(tmp, sizeof(tmp), "\\x{%lx}", cp));
}

/*
 * Translate one escape at p (p[0] == '\\'); in_class: inside [...].
 * Returns the bytes consumed, or 0 with err.
 */
static size_t
tr_escape(const char *p, int in_class, PatOut *o, char *err, size_t errlen)
{
	char		c = p[1];

	if (c == '\0')
		return snprintf(err, errlen, "bad escape (end of pattern)"), 0;
	if (strchr("dDsSwW", c) || (!in_class && strchr("bBA", c)) || strchr("afnrt", c))
		return out_add(o, p, 2), 2;
	if (c == 'b')				/* in a class: backspace */
		return out_add(o, "\\x08", 4), 2;
	if (c == 'v')
		return out_add(o, "\\x0b", 4), 2;
	if (c == 'Z' && !in_class)
		return out_add(o, "\\z", 2), 2;
	if (c == 'x' || c == 'u' || c == 'U')
	{
		int			n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
		unsigned long cp = 0;

		for (int i = 0; i < n; i++)
		{
			if (!isxdigit((unsigned char) p[2 + i]))
				return snprintf(err, errlen, "incomplete escape \\%c", c), 0;
			cp = cp * 16 + (unsigned long) (isdigit((unsigned char) p[2 + i]) ? p[2 + i] - '0' :
											 tolower((unsigned char) p[2 + i]) - 'a' + 10);
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return snprintf(err, errlen, "bad escape \\%c: not a code point that can be matched", c), 0;
		out_cp(o, cp);
		return (size_t) n + 2;
	}
	if (c >= '0' && c <= '9')
	{
		/* Python: \0oo and \ooo (3 octal digits) are octal, else \N and \NN refer to groups */
		if (c == '0' || (c <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7'))
		{
			size_t		n = 1;
			unsigned long cp = 0;

			while (n < 3 && p[n + 1] >= '0' && p[n + 1] <= '7' && (c != '0' || n < 3))
				n++;
			for (size_t i = 1; i <= n; i++)
				cp = cp * 8 + (unsigned long) (p[i] - '0');
			if (cp > 0377)
				return snprintf(err, errlen, "octal escape value outside of range 0-0o377"), 0;
			out_cp(o, cp);
			return n + 1;
		}
		if (in_class)
			return snprintf(err, errlen, "bad escape \\%c in a character class", c), 0;
		{
			size_t		n = isdigit((unsigned char) p[2]) ? 2 : 1;
			char		tmp[16];

			out_add(o, tmp, (size_t) snprintf(tmp, sizeof(tmp), "\\g{%.*s}", (int) n, p + 1));
			return n + 1;
		}
	}
	if (c == 'N')
		return snprintf(err, errlen, "\\N{...} named characters are not supported"), 0;
	if (isalpha((unsigned char) c))
		return snprintf(err, errlen, "bad escape \\%c", c), 0;
	/* any other character escaped stands for itself (PCRE2 agrees) */
	{
		size_t		n = 2;

		while (((unsigned char) p[n] & 0xC0) == 0x80)
			n++;
		out_add(o, p, n);
		return n;
	}
}

/* Translate "(?" constructs at p; returns bytes consumed or 0 with err. */
static size_t
tr_group(const char *p, int at_start, PatOut *o, char *err, size_t errlen)
{
	const char *q = p + 2;

	if (strchr(":=!#>(", *q) || strncmp(q, "<=", 2) == 0 || strncmp(q, "<!", 2) == 0 ||
		strncmp(q, "P<", 2) == 0 || strncmp(q, "P=", 2) == 0)
		return out_add(o, p, 2), 2;
	/* flags: (?imsx) at the start only, or scoped (?imsx-imsx:...) */
	{
		size_t		n = 0;
		int			neg = 0;

		while (q[n] && strchr("aiLmsux-", q[n]))
		{
			if (q[n] == 'a' || q[n] == 'L')
				return snprintf(err, errlen, "the (?%c) flag is not supported", q[n]), 0;
			neg |= q[n] == '-';
			n++;
		}
		if (n == 0)
			return snprintf(err, errlen, "unknown extension ?%c", *q ? *q : ' '), 0;
		if (q[n] == ')' && (!at_start || neg))
			return snprintf(err, errlen, "global flags not at the start of the expression"), 0;
		if (q[n] != ')' && q[n] != ':')
			return snprintf(err, errlen, "unknown flag"), 0;
		/* u (Unicode) is the default: left out; (?u) alone vanishes */
		{
			PatOut		flags = {0};

			for (size_t i = 0; i < n; i++)
				if (q[i] != 'u')
					out_add(&flags, q + i, 1);
			if (flags.len == 0 && q[n] == ')')
				return free(flags.buf), n + 3;
			out_add(o, "(?", 2);
			out_add(o, flags.buf ? flags.buf : "", flags.len);
			free(flags.buf);
			return n + 2;
		}
	}
}

/* Python pattern -> PCRE2 pattern; 0, or -1 with err. */
static int
translate(const char *py, PatOut *o, char *err, size_t errlen)
{
	int			in_class = 0;

	for (const char *p = py; *p;)
	{
		size_t		n = 1;

		if (*p == '\\')
			n = tr_escape(p, in_class, o, err, errlen);
		else if (in_class)
		{
			if (*p == ']')
				in_class = 0;
			out_add(o, *p == '[' ? "\\[" : p, *p == '[' ? 2 : 1);	/* Python: '[' is literal, no [:alpha:] */
		}
		else if (*p == '[')
		{
			/* "[", "[^", then a ']' right after them is a literal */
			n = p[1] == '^' ? 2 : 1;
			out_add(o, p, n);
			if (p[n] == ']')
			{
				out_add(o, "\\]", 2);
				n++;
			}
			in_class = 1;
		}
		else if (*p == '(' && p[1] == '*')
			return snprintf(err, errlen, "nothing to repeat"), -1;
		else if (*p == '(' && p[1] == '?')
			n = tr_group(p, p == py, o, err, errlen);
		else if (*p == '{' && p[1] == ',' && isdigit((unsigned char) p[2]))
			out_add(o, "{0", 2);	/* Python's {,n} is {0,n} */
		else
			out_add(o, p, 1);
		if (n == 0)
			return -1;
		p += n;
	}
	if (in_class)
		return snprintf(err, errlen, "unterminated character set"), -1;
	return o->oom ? (snprintf(err, errlen, "out of memory"), -1) : 0;
}

/* A compiled pattern. */
typedef struct EncPattern
{
	pcre2_code *code;
	pcre2_match_context *mctx;
} EncPattern;

/* Compile a Python pattern; NULL with err (Python-style reason). */
void *
enc_pattern_compile(const char *py, char *err, size_t errlen)
{
	PatOut		o = {0};
	EncPattern *p;
	int			ec;
	PCRE2_SIZE	eo;

	if (strlen(py) > PAT_MAX_LEN)
		return snprintf(err, errlen, "longer than %d bytes", PAT_MAX_LEN), NULL;
	if (translate(py, &o, err, errlen) != 0)
		return free(o.buf), NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return free(o.buf), NULL;
	/* anchored at both ends when compiled, so that the JIT can take the match */
	p->code = pcre2_compile((PCRE2_SPTR) (o.buf ? o.buf : ""), PCRE2_ZERO_TERMINATED,
							PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C | PCRE2_ANCHORED | PCRE2_ENDANCHORED,
							&ec, &eo, NULL);
	free(o.buf);
	if (!p->code)
	{
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "%s", (char *) msg);
		free(p);
		return NULL;
	}
	if (!(p->mctx = pcre2_match_context_create(NULL)))
		return enc_pattern_free(p), NULL;
	(void) pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);	/* without it, the interpreter */
	pcre2_set_match_limit(p->mctx, PAT_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, PAT_DEPTH_LIMIT);
	pcre2_set_heap_limit(p->mctx, PAT_HEAP_LIMIT);
	return p;
}

/* Whether the whole value matches (1), does not (0), or the match ran past its limits (-1). */
int
enc_pattern_match(const void *pattern, const char *s, size_t len)
{
	const EncPattern *p = pattern;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->code, NULL);
	int			rc;

	if (!md)
		return -1;
	rc = pcre2_match(p->code, (PCRE2_SPTR) s, len, 0, PCRE2_NO_UTF_CHECK, md, p->mctx);
	/* the JIT's small stack is not a verdict: the interpreter, under the same limits, decides */
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(p->code, (PCRE2_SPTR) s, len, 0, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, p->mctx);
	pcre2_match_data_free(md);
	return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Free a compiled pattern. */
void
enc_pattern_free(void *pattern)
{
	EncPattern *p = pattern;

	if (!p)
		return;
	pcre2_code_free(p->code);
	pcre2_match_context_free(p->mctx);
	free(p);
}
