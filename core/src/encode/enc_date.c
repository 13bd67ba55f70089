/*
 * enc_date.c
 *	  datetime.strptime(value, format) of CPython 3.11 (_strptime.py) in
 *	  the C locale, then strftime('%Y%m%d') as glibc writes it: what
 *	  clkhash validates and hashes for a date feature.
 *
 * Compiling a format does what TimeRE.pattern() and re.compile(pattern,
 * IGNORECASE) do.  Each run of whitespace matches \s+ (Python's \s), each
 * directive the pattern TimeRE has for it, in the same alternation order,
 * as a capture group (its name kept here: Python's group names), and
 * every other character itself, in any case as re's IGNORECASE has it:
 * any code point with the same lower case (_sre.unicode_tolower) or one
 * of re._casefix's extra equivalents.  That is spelled out as a class
 * rather than left to PCRE2_CASELESS, whose Unicode case folding differs
 * for a few code points (Python matches 'i' to U+0130 and U+0131).  %c
 * %x %X are the C locale's; %Z's names are time.tzname as CPython
 * computes it on glibc (the local zone in January and July) plus utc and
 * gmt, longest first as __seqToRE sorts them.  Python's errors in the
 * format (a bad directive, a stray '%', a group name used twice) are
 * found in its order and returned by every parse.
 *
 * Parsing matches the value from its start (re.match; the rest must be
 * empty) and then follows _strptime() step by step: int() of the digits
 * captured (any Unicode decimal digit: PCRE2_UCP's \d is Python's), the
 * defaults, %y's pivot, %I with %p, %j, %U/%W or %G/%V with a weekday,
 * the 29 February without a year, %z's checks, and the range checks of
 * datetime() and timezone().
 *
 * Bounds: a format of at most MAX_FORMAT bytes (a longer one fails every
 * parse), PCRE2's match and heap limits (a value that exhausts them
 * fails; Python would take its time), no recursion beyond %c's one level.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enc_date.h"
#include "enc_impl.h"

#define MAX_FORMAT 1024			/* bytes of a format */
#define MAX_PATTERN (256 * 1024)	/* bytes of the regular expression */
#define MAX_GROUPS 32			/* 24 directives have groups; each once */
#define MATCH_LIMIT 1000000
#define DEPTH_LIMIT 10000
#define HEAP_LIMIT 20000		/* KiB */
#define NONE INT_MIN			/* a field _strptime() leaves None */

struct EncDateFormat
{
	char	   *format;			/* as given, for messages */
	char	   *error;			/* Python's error for the format, or NULL */
	pcre2_code *code;
	pcre2_match_context *mctx;
	int			ngroups;
	char		group[MAX_GROUPS];	/* the directive of capture group i + 1 */
};

/* The regular expression being built from a format. */
typedef struct Pat
{
	char	   *s;
	size_t		len,
				cap;
	int			full;			/* 1: out of memory, 2: over MAX_PATTERN */
	int			ngroups;
	char		group[MAX_GROUPS];
	char		dup;			/* the first group name defined twice, or 0 */
	char		tz[2][10];		/* %Z's names besides utc and gmt */
	int			ntz;
} Pat;

/* TimeRE's patterns of the numeric directives (%W is %U's). */
static const struct
{
	char		d;
	const char *re;
}			numeric[] =
{
	{'d', "3[0-1]|[1-2]\\d|0[1-9]|[1-9]| [1-9]"},
	{'f', "[0-9]{1,6}"},
	{'H', "2[0-3]|[0-1]\\d|\\d"},
	{'I', "1[0-2]|0[1-9]|[1-9]"},
	{'G', "\\d\\d\\d\\d"},
	{'j', "36[0-6]|3[0-5]\\d|[1-2]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9]"},
	{'m', "1[0-2]|0[1-9]|[1-9]"},
	{'M', "[0-5]\\d|\\d"},
	{'S', "6[0-1]|[0-5]\\d|\\d"},
	{'U', "5[0-3]|[0-4]\\d|\\d"},
	{'W', "5[0-3]|[0-4]\\d|\\d"},
	{'w', "[0-6]"},
	{'u', "[1-7]"},
	{'V', "5[0-3]|0[1-9]|[1-4]\\d|\\d"},
	{'y', "\\d\\d"},
	{'Y', "\\d\\d\\d\\d"},
	{'z', "[+-]\\d\\d:?[0-5]\\d(?::?[0-5]\\d(?:\\.\\d{1,6})?)?|Z"},
};

/* The C locale's names (calendar's order: Monday first) and formats. */
static const char *const f_weekday[] = {"monday", "tuesday", "wednesday", "thursday", "friday",
"saturday", "sunday"};
static const char *const a_weekday[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const f_month[] = {"january", "february", "march", "april", "may", "june",
"july", "august", "september", "october", "november", "december"};
static const char *const a_month[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
"sep", "oct", "nov", "dec"};
static const char *const am_pm[] = {"am", "pm"};
static const char *const lc_format[] = {"%a %b %d %H:%M:%S %Y", "%m/%d/%y", "%H:%M:%S"};

static const int days_before[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
static const int month_days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Decode the code point at s[*i] (of n bytes), moving *i past it; -1 if not valid UTF-8. */
static long
utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned	c = s[*i];
	int			more = c < 0x80 ? 0 : c < 0xc2 ? -1 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf5 ? 3 : -1;
	unsigned long cp = more == 0 ? c : more == 1 ? c & 0x1f : more == 2 ? c & 0x0f : c & 0x07;

	if (more < 0 || (size_t) more >= n - *i)
		return -1;
	for (int k = 1; k <= more; k++)
	{
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
		(more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return -1;
	*i += (size_t) more + 1;
	return (long) cp;
}

/* Encode the code point c as UTF-8 into b (4 bytes at most); its length. */
static size_t
utf8_put(char *b, uint32_t c)
{
	if (c < 0x80)
	{
		b[0] = (char) c;
		return 1;
	}
	if (c < 0x800)
	{
		b[0] = (char) (0xc0 | (c >> 6));
		b[1] = (char) (0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000)
	{
		b[0] = (char) (0xe0 | (c >> 12));
		b[1] = (char) (0x80 | ((c >> 6) & 0x3f));
		b[2] = (char) (0x80 | (c & 0x3f));
		return 3;
	}
	b[0] = (char) (0xf0 | (c >> 18));
	b[1] = (char) (0x80 | ((c >> 12) & 0x3f));
	b[2] = (char) (0x80 | ((c >> 6) & 0x3f));
	b[3] = (char) (0x80 | (c & 0x3f));
	return 4;
}

/* Whether c is in one of n runs; its delta through *delta. */
static int
in_runs(const EncDateRun *r, int n, uint32_t c, int32_t *delta)
{
	int			lo = 0,
				hi = n - 1,
				at = -1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (r[mid].first <= c)
			at = mid, lo = mid + 1;
		else
			hi = mid - 1;
	}
	if (at < 0 || c > r[at].last || (c - r[at].first) % (uint32_t) r[at].step != 0)
		return 0;
	*delta = r[at].delta;
	return 1;
}

/* Whether re's IGNORECASE applies to c (_sre.unicode_iscased); its lower case in *lower. */
static int
cased(uint32_t c, uint32_t *lower)
{
	int32_t		delta;

	*lower = c;
	if (in_runs(enc_date_upper, enc_date_nupper, c, &delta))
	{
		*lower = (uint32_t) ((int64_t) c + delta);
		return 1;
	}
	return in_runs(enc_date_lower, enc_date_nlower, c, &delta);
}

/* Whether c is whitespace to re's \s. */
static int
is_space(uint32_t c)
{
	for (int i = 0; i < enc_date_nspaces; i++)
		if (c >= enc_date_spaces[i][0] && c <= enc_date_spaces[i][1])
			return 1;
	return 0;
}

/* The value of the decimal digit c (ASCII or any other Nd), or -1 (enc_unicode.c). */
static int
digit_value(uint32_t c)
{
	return enc_unicode_digit(c);
}

/* Append n bytes to the pattern (which stays NUL-ended). */
static void
put(Pat *p, const char *s, size_t n)
{
	if (p->full)
		return;
	if (p->len + n + 1 > MAX_PATTERN)
	{
		p->full = 2;
		return;
	}
	if (p->len + n + 1 > p->cap)
	{
		size_t		cap = p->cap ? p->cap * 2 : 1024;
		char	   *s2;

		while (cap < p->len + n + 1)
			cap *= 2;
		if (!(s2 = realloc(p->s, cap)))
		{
			p->full = 1;
			return;
		}
		p->s = s2;
		p->cap = cap;
	}
	memcpy(p->s + p->len, s, n);
	p->len += n;
	p->s[p->len] = '\0';
}

/* Append a NUL-ended string to the pattern. */
static void
put_str(Pat *p, const char *s)
{
	put(p, s, strlen(s));
}

/* Append the code point c, matching only itself. */
static void
put_exact(Pat *p, uint32_t c)
{
	char		buf[16];

	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
	{
		buf[0] = (char) c;
		put(p, buf, 1);
	}
	else
		put(p, buf, (size_t) snprintf(buf, sizeof(buf), "\\x{%x}", (unsigned) c));
}

/*
 * Append the literal character c as re.compile(..., IGNORECASE) matches
 * it: itself if not cased, else every code point whose lower case is c's
 * lower case or one of its extra equivalents (sre's LITERAL_UNI_IGNORE
 * and IN_UNI_IGNORE).
 */
static void
put_char(Pat *p, uint32_t c)
{
	uint32_t	lower[3],
				set[8],
				lo;
	int			nl = 1,
				n = 0;

	if (!cased(c, &lo))
	{
		put_exact(p, c);
		return;
	}
	lower[0] = lo;
	for (int i = 0; i < enc_date_nextra; i++)
		if (enc_date_extra[i][0] == lo)
		{
			lower[nl++] = enc_date_extra[i][1];
			if (enc_date_extra[i][2])
				lower[nl++] = enc_date_extra[i][2];
		}
	for (int k = 0; k < nl; k++)
	{
		uint32_t	own;

		cased(lower[k], &own);
		if (own == lower[k])
			set[n++] = lower[k];
		for (int i = 0; i < enc_date_nupper && n < 8; i++)
		{
			const EncDateRun *r = &enc_date_upper[i];
			int64_t		u = (int64_t) lower[k] - r->delta;

			if (u >= r->first && u <= r->last && (u - r->first) % r->step == 0)
				set[n++] = (uint32_t) u;
		}
	}
	if (n == 1)
		put_exact(p, set[0]);
	else
	{
		put(p, "[", 1);
		for (int i = 0; i < n; i++)
			put_exact(p, set[i]);
		put(p, "]", 1);
	}
}

/* Open the capture group of directive d, noting a name defined twice. */
static void
open_group(Pat *p, char d)
{
	for (int i = 0; i < p->ngroups; i++)
		if (p->group[i] == d)
		{
			if (!p->dup)
				p->dup = d;
			d = 0;				/* the pattern is never compiled */
		}
	if (d && p->ngroups == MAX_GROUPS)
		p->full = 2;
	else if (d)
		p->group[p->ngroups++] = d;
	put(p, "(", 1);
}

/* The length of a UTF-8 string in code points. */
static size_t
cp_len(const char *s)
{
	size_t		n = 0;

	for (; *s; s++)
		n += (*s & 0xc0) != 0x80;
	return n;
}

/*
 * Append __seqToRE(names, d): a group of the names, longest first (a
 * stable sort, as Python's), each matched as literal text; nothing if
 * they are all empty.
 */
static void
put_names(Pat *p, char d, const char *const *names, int n)
{
	const char *sorted[16];
	int			nonempty = 0;

	for (int i = 0; i < n && i < 16; i++)
	{
		int			j = i;

		while (j > 0 && cp_len(sorted[j - 1]) < cp_len(names[i]))
		{
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = names[i];
		nonempty |= names[i][0] != '\0';
	}
	if (!nonempty)
		return;
	open_group(p, d);
	for (int i = 0; i < n && i < 16; i++)
	{
		const unsigned char *s = (const unsigned char *) sorted[i];
		size_t		len = strlen(sorted[i]),
					at = 0;
		long		c;

		if (i > 0)
			put(p, "|", 1);
		while (at < len && (c = utf8_next(s, len, &at)) >= 0)
			put_char(p, (uint32_t) c);
	}
	put(p, ")", 1);
}

/* Append \s+: a run of Python's whitespace. */
static void
put_spaces(Pat *p)
{
	char		buf[32];

	put(p, "[", 1);
	for (int i = 0; i < enc_date_nspaces; i++)
		put(p, buf, (size_t) snprintf(buf, sizeof(buf), "\\x{%x}-\\x{%x}", (unsigned) enc_date_spaces[i][0],
									  (unsigned) enc_date_spaces[i][1]));
	put(p, "]+", 2);
}

static int	put_format(Pat *p, const uint32_t *cp, size_t n, int depth, uint32_t *bad);

/* Append directive d's pattern; -1 if TimeRE has no such key. */
static int
put_directive(Pat *p, uint32_t d, int depth)
{
	const char *tz[4] = {"utc", "gmt"};
	uint32_t	fmt[32],
				bad;
	size_t		n = 0;

	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
		if (numeric[i].d == (char) d && d < 128)
		{
			open_group(p, (char) d);
			put_str(p, numeric[i].re);
			put(p, ")", 1);
			return 0;
		}
	switch (d)
	{
		case '%':
			put_exact(p, '%');
			return 0;
		case 'A':
			put_names(p, 'A', f_weekday, 7);
			return 0;
		case 'a':
			put_names(p, 'a', a_weekday, 7);
			return 0;
		case 'B':
			put_names(p, 'B', f_month, 12);
			return 0;
		case 'b':
			put_names(p, 'b', a_month, 12);
			return 0;
		case 'p':
			put_names(p, 'p', am_pm, 2);
			return 0;
		case 'Z':
			for (int i = 0; i < p->ntz; i++)
				tz[2 + i] = p->tz[i];
			put_names(p, 'Z', tz, 2 + p->ntz);
			return 0;
		case 'c':
		case 'x':
		case 'X':
			if (depth > 0)
				return -1;
			for (const char *s = lc_format[d == 'c' ? 0 : d == 'x' ? 1 : 2]; *s; s++)
				fmt[n++] = (unsigned char) *s;
			return put_format(p, fmt, n, depth + 1, &bad);
	}
	return -1;
}

/* Whether c is one of the characters TimeRE.pattern() escapes. */
static int
is_regex_char(uint32_t c)
{
	return c < 128 && c && strchr("\\.^$*+?(){}[]|", (int) c) != NULL;
}

/*
 * Append TimeRE.pattern() of a format of n code points: 0, or 1 with the
 * bad directive in *bad, or 2 for a stray '%' at the end.  A '%' before
 * whitespace or a character pattern() escapes sees the backslash it put
 * there, which Python reports as a bad directive '%'.
 */
static int
put_format(Pat *p, const uint32_t *cp, size_t n, int depth, uint32_t *bad)
{
	for (size_t i = 0; i < n; i++)
	{
		if (cp[i] == '%')
		{
			if (i + 1 == n)
				return 2;
			i++;
			if (is_space(cp[i]) || is_regex_char(cp[i]))
			{
				*bad = '%';
				return 1;
			}
			if (put_directive(p, cp[i], depth) != 0)
			{
				*bad = cp[i];
				return 1;
			}
		}
		else if (is_space(cp[i]))
		{
			while (i + 1 < n && is_space(cp[i + 1]))
				i++;
			put_spaces(p);
		}
		else
			put_char(p, cp[i]);
	}
	return 0;
}

/*
 * time.tzname and time.daylight as CPython computes them on glibc: the
 * local zone's name (at most 9 bytes) in January and in July of this
 * year, the one of the larger UTC offset first, daylight when the offsets
 * differ.  _strptime's %Z names are those, lower case, with utc and gmt.
 */
static void
python_tzname(Pat *p)
{
	const time_t year = (365 * 24 + 6) * 3600;
	time_t		t = (time(NULL) / year) * year;
	char		name[2][10];
	long		zone[2];
	int			first;

	tzset();
	for (int k = 0; k < 2; k++, t += year / 2)
	{
		struct tm	tm;

		memset(name[k], 0, sizeof(name[k]));
		zone[k] = 0;
		if (localtime_r(&t, &tm))
		{
			strncpy(name[k], tm.tm_zone ? tm.tm_zone : "   ", 9);
			zone[k] = -tm.tm_gmtoff;
		}
	}
	first = zone[0] < zone[1] ? 1 : 0;
	p->ntz = zone[0] != zone[1] ? 2 : 1;
	for (int k = 0; k < p->ntz; k++)
	{
		const char *s = name[k == 0 ? first : 1 - first];
		size_t		len = strlen(s),
					at = 0,
					o = 0;
		long		c;
		uint32_t	lo;

		/* str.lower(); tzdata's names are ASCII */
		while (at < len && (c = utf8_next((const unsigned char *) s, len, &at)) >= 0)
		{
			cased((uint32_t) c, &lo);
			if (o + 4 < sizeof(p->tz[k]))
				o += utf8_put(p->tz[k] + o, lo);
		}
		p->tz[k][o] = '\0';
	}
}

/* Set the error every parse of f returns (printf-style); -1 when out of memory. */
__attribute__((format(printf, 2, 3)))
static int
set_error(EncDateFormat *f, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(f->error = malloc((size_t) n + 1)))
		return -1;
	va_start(ap, fmt);
	vsnprintf(f->error, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return 0;
}

/* Compile the pattern built from f's format into f; -1 when out of memory. */
static int
compile_pattern(EncDateFormat *f, Pat *p)
{
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
	int			errcode;
	PCRE2_SIZE	erroff;

	if (!cctx)
		return -1;
	pcre2_set_max_pattern_length(cctx, MAX_PATTERN);
	pcre2_set_parens_nest_limit(cctx, 16);
	/* an empty format is an empty pattern (p->s is NULL then): it matches only the empty value */
	f->code = pcre2_compile((PCRE2_SPTR) (p->s ? p->s : ""), p->len,
							PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_NEVER_BACKSLASH_C,
							&errcode, &erroff, cctx);
	pcre2_compile_context_free(cctx);
	if (!f->code)
	{
		PCRE2_UCHAR msg[120];

		if (errcode == PCRE2_ERROR_HEAP_FAILED)
			return -1;
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return set_error(f, "format too complex: %s", (const char *) msg);
	}
	pcre2_jit_compile(f->code, PCRE2_JIT_COMPLETE);	/* else interpreted */
	if (!(f->mctx = pcre2_match_context_create(NULL)))
		return -1;
	pcre2_set_match_limit(f->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(f->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(f->mctx, HEAP_LIMIT);
	f->ngroups = p->ngroups;
	memcpy(f->group, p->group, sizeof(f->group));
	return 0;
}

/*
 * Compile a strptime format.  NULL only when out of memory.  A format
 * Python would reject (bad directive, stray '%') still compiles; every
 * parse then fails with Python's message.
 */
EncDateFormat *
enc_date_compile(const char *format)
{
	EncDateFormat *f = calloc(1, sizeof(EncDateFormat));
	size_t		len = strlen(format),
				n = 0,
				at = 0;
	uint32_t   *cp = NULL,
				bad = 0;
	Pat			p;
	int			r = 0,
				rc = 0;
	long		c;

	memset(&p, 0, sizeof(p));
	if (!f || !(f->format = strdup(format)))
		goto oom;
	if (len > MAX_FORMAT)
		rc = set_error(f, "format longer than %d bytes", MAX_FORMAT);
	else if (!(cp = malloc(sizeof(uint32_t) * (len + 1))))
		goto oom;
	else
	{
		while (at < len && (c = utf8_next((const unsigned char *) format, len, &at)) >= 0)
			cp[n++] = (uint32_t) c;
		if (at < len)
			rc = set_error(f, "format is not valid UTF-8");
		else
		{
			python_tzname(&p);
			r = put_format(&p, cp, n, 0, &bad);
			if (r == 1)
			{
				char		b[5];

				b[utf8_put(b, bad)] = '\0';
				rc = set_error(f, "'%s' is a bad directive in format '%s'", b, format);
			}
			else if (r == 2)
				rc = set_error(f, "stray %% in format '%s'", format);
			else if (p.full == 1)
				goto oom;
			else if (p.full == 2)
				rc = set_error(f, "format too complex");
			else if (p.dup)
				rc = set_error(f, "redefinition of group name '%c'", p.dup);
			else
				rc = compile_pattern(f, &p);
		}
	}
	free(cp);
	free(p.s);
	if (rc != 0)
	{
		enc_date_free(f);
		return NULL;
	}
	return f;
oom:
	free(cp);
	free(p.s);
	enc_date_free(f);
	return NULL;
}

/* Free a compiled format. */
void
enc_date_free(EncDateFormat *f)
{
	if (!f)
		return;
	pcre2_match_context_free(f->mctx);
	pcre2_code_free(f->code);
	free(f->error);
	free(f->format);
	free(f);
}

/* Write a printf-style reason into err (if any); returns -1. */
__attribute__((format(printf, 3, 4)))
static int
fail(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err && errlen > 0)
	{
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Whether str.isprintable() holds for the non-ASCII c (near enough, for messages). */
static int
printable(uint32_t c)
{
	return !(c <= 0xa0 || c == 0xad || is_space(c) || (c >= 0x200b && c <= 0x200f) ||
			 (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
			 (c >= 0xe000 && c <= 0xf8ff) || (c >= 0xfff9 && c <= 0xfffb) || c >= 0xf0000);
}

/* Python's repr() of n bytes of UTF-8 into buf of size bytes, cut short with "..." if need be. */
static void
py_repr(char *buf, size_t size, const char *s, size_t n)
{
	char		quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	size_t		o = 0,
				at = 0;

	buf[o++] = quote;
	while (at < n)
	{
		char		e[16];
		size_t		start = at,
					el;
		long		c = utf8_next((const unsigned char *) s, n, &at);
		int			invalid = c < 0;

		if (invalid)
		{
			c = (unsigned char) s[start];
			at = start + 1;
		}
		if (c == quote || c == '\\')
			el = (size_t) snprintf(e, sizeof(e), "\\%c", (char) c);
		else if (c == '\t' || c == '\n' || c == '\r')
			el = (size_t) snprintf(e, sizeof(e), "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
		else if (c < 0x20 || c == 0x7f || invalid || (c >= 0x80 && !printable((uint32_t) c)))
			el = (size_t) snprintf(e, sizeof(e), c <= 0xff ? "\\x%02lx" : c <= 0xffff ? "\\u%04lx" : "\\U%08lx",
								   (unsigned long) c);
		else
			memcpy(e, s + start, el = at - start);
		if (o + el + 5 > size)
		{
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, e, el);
		o += el;
	}
	buf[o++] = quote;
	buf[o] = '\0';
}

/* A captured field: n bytes at s. */
typedef struct Field
{
	const char *s;
	size_t		n;
} Field;

/* int() of a field of decimal digits (any Unicode Nd; %d's leading space too); -1 if not one. */
static int
field_int(Field x, int *v)
{
	size_t		at = 0;
	int			any = 0;

	*v = 0;
	while (at < x.n)
	{
		long		c;
		int			d;

		if (x.s[at] >= '0' && x.s[at] <= '9' && *v <= 100000000)
		{
			*v = *v * 10 + (x.s[at++] - '0');
			any = 1;
			continue;
		}
		c = utf8_next((const unsigned char *) x.s, x.n, &at);
		if (c == ' ' && !any)
			continue;
		if (c < 0 || (d = digit_value((uint32_t) c)) < 0 || *v > 100000000)
			return -1;
		*v = *v * 10 + d;
		any = 1;
	}
	return any ? 0 : -1;
}

/* names.index(field.lower()), or -1 where Python raises ValueError. */
static int
name_index(Field x, const char *const *names, int n)
{
	char		low[16];
	size_t		o = 0,
				at = 0;

	while (at < x.n)
	{
		long		c = utf8_next((const unsigned char *) x.s, x.n, &at);
		int			ch = -1;

		if (c >= 'A' && c <= 'Z')
			ch = (int) c + 32;
		else if (c >= 0 && c < 0x80)
			ch = (int) c;
		for (int i = 0; i < enc_date_nlower_ascii && ch < 0; i++)
			if (enc_date_lower_ascii[i][0] == (uint32_t) c)
				ch = (int) enc_date_lower_ascii[i][1];
		if (ch < 0 || o == sizeof(low) - 1)
			return -1;
		low[o++] = (char) ch;
	}
	low[o] = '\0';
	for (int i = 0; i < n; i++)
		if (strcmp(low, names[i]) == 0)
			return i;
	return -1;
}

/* Whether y is a leap year (calendar.isleap). */
static int
is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* The ordinal of a valid date (date.toordinal: 1 January of year 1 is 1). */
static long
ordinal(int y, int m, int d)
{
	long		y1 = y - 1;

	return y1 * 365 + y1 / 4 - y1 / 100 + y1 / 400 + days_before[m] + (m > 2 && is_leap(y)) + d;
}

/* The checks of date(y, m, d) and datetime(): 0, or -1 with Python's message. */
static int
check_date(int y, int m, int d, char *err, size_t errlen)
{
	if (y < 1 || y > 9999)
		return fail(err, errlen, "year %d is out of range", y);
	if (m < 1 || m > 12)
		return fail(err, errlen, "month must be in 1..12");
	if (d < 1 || d > (m == 2 && is_leap(y) ? 29 : month_days[m]))
		return fail(err, errlen, "day is out of range for month");
	return 0;
}

/* date.fromordinal(n) into *y, *m, *d: 0, or -1 with Python's message. */
static int
from_ordinal(long n, int *y, int *m, int *d, char *err, size_t errlen)
{
	long		n400,
				n100,
				n4,
				n1;
	int			leap;

	if (n < 1)
		return fail(err, errlen, "ordinal must be >= 1");
	n--;
	n400 = n / 146097;
	n %= 146097;
	n100 = n / 36524;
	n %= 36524;
	n4 = n / 1461;
	n %= 1461;
	n1 = n / 365;
	n %= 365;
	*y = (int) (n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1);
	if (n1 == 4 || n100 == 4)
	{
		*y -= 1;
		*m = 12;
		*d = 31;
	}
	else
	{
		leap = is_leap(*y);
		*m = (int) ((n + 50) >> 5);
		if (days_before[*m] + (*m > 2 && leap) > n)
			(*m)--;
		*d = (int) (n - days_before[*m] - (*m > 2 && leap) + 1);
	}
	return check_date(*y, 1, 1, err, errlen);
}

/* date(y, m, d).weekday() of a valid date: Monday is 0. */
static int
weekday_of(int y, int m, int d)
{
	return (int) ((ordinal(y, m, d) + 6) % 7);
}

/* _calc_julian_from_U_or_W: the day of the year (maybe <= 0) of a week and weekday. */
static int
julian_from_u_or_w(int year, int week_of_year, int day_of_week, int week_starts_mon)
{
	int			first = weekday_of(year, 1, 1);

	if (!week_starts_mon)
	{
		first = (first + 1) % 7;
		day_of_week = (day_of_week + 1) % 7;
	}
	if (week_of_year == 0)
		return 1 + day_of_week - first;
	return 1 + (7 - first) % 7 + 7 * (week_of_year - 1) + day_of_week;
}

/*
 * _calc_julian_from_V: the year and day of the year of an ISO week and
 * weekday (1 to 7) into *year and *julian; 0, or -1 with Python's message
 * for a year out of range.
 */
static int
julian_from_v(int iso_year, int iso_week, int iso_weekday, int *year, int *julian, char *err,
			  size_t errlen)
{
	long		o;

	if (check_date(iso_year, 1, 4, err, errlen) != 0)
		return -1;
	o = iso_week * 7 + iso_weekday - (weekday_of(iso_year, 1, 4) + 1 + 3);
	if (o < 1)
	{
		o += ordinal(iso_year, 1, 1);
		iso_year--;
		if (check_date(iso_year, 1, 1, err, errlen) != 0)
			return -1;
		o -= ordinal(iso_year, 1, 1);
	}
	*year = iso_year;
	*julian = (int) o;
	return 0;
}

/*
 * strftime('%Y%m%d') of a valid date as glibc writes it (the year not
 * padded: 999 gives "9990101") into out: 0, or -1 if it does not fit.
 */
static int
write_date(int y, int m, int d, char *out, size_t outlen, char *err, size_t errlen)
{
	char		buf[12];
	size_t		n = 0;

	for (int div = 1000; div > 0; div /= 10)
		if (y >= div || div == 1)
			buf[n++] = (char) ('0' + y / div % 10);
	buf[n++] = (char) ('0' + m / 10);
	buf[n++] = (char) ('0' + m % 10);
	buf[n++] = (char) ('0' + d / 10);
	buf[n++] = (char) ('0' + d % 10);
	if (n + 1 > outlen)
		return fail(err, errlen, "output buffer too small");
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

/*
 * %z's field as _strptime() reads it, as microseconds east of UTC in
 * *us: 0, or -1 with Python's message.
 */
static int
parse_z(Field x, long long *us, char *err, size_t errlen)
{
	uint32_t	z[20];
	int			n = 0,
				d[20],
				sec = 0,
				frac = 0,
				digits = 0;
	size_t		at = 0;

	while (at < x.n && n < 20)
		z[n++] = (uint32_t) utf8_next((const unsigned char *) x.s, x.n, &at);
	if (n == 1 && z[0] == 'Z')
	{
		*us = 0;
		return 0;
	}
	if (n < 5)
		return fail(err, errlen, "bad %%z field");
	if (z[3] == ':')
	{
		memmove(z + 3, z + 4, sizeof(uint32_t) * (size_t) (n-- - 4));
		if (n > 5)
		{
			if (z[5] != ':')
				return fail(err, errlen, "Inconsistent use of : in %.*s", (int) x.n, x.s);
			memmove(z + 5, z + 6, sizeof(uint32_t) * (size_t) (n-- - 6));
		}
	}
	for (int i = 0; i < n; i++)
		d[i] = digit_value(z[i]);
	if (n > 5)
	{
		/* int(z[5:7]): ':' where only the second colon was given */
		if (d[5] < 0 || (n > 6 && d[6] < 0))
		{
			char		b[9];
			size_t		bl = utf8_put(b, z[5]);

			b[bl + (n > 6 ? utf8_put(b + bl, z[6]) : 0)] = '\0';
			return fail(err, errlen, "invalid literal for int() with base 10: '%s'", b);
		}
		sec = n > 6 ? d[5] * 10 + d[6] : d[5];
	}
	for (int i = 8; i < n; i++, digits++)
		frac = frac * 10 + (d[i] < 0 ? 0 : d[i]);
	while (digits++ < 6)
		frac *= 10;
	*us = ((long long) (d[1] * 10 + d[2]) * 3600 + (d[3] * 10 + d[4]) * 60 + sec) * 1000000 + frac;
	if (z[0] == '-')
		*us = -*us;
	return 0;
}

/*
 * The date of the fields captured, as _strptime() computes it, then
 * datetime()'s checks, then strftime('%Y%m%d') into out.
 */
static int
fields_to_date(const EncDateFormat *f, const Field *fl, char *out, size_t outlen, char *err,
			   size_t errlen)
{
	int			year = NONE,
				iso_year = NONE,
				month = 1,
				day = 1,
				hour = 0,
				second = 0,
				iso_week = NONE,
				week_of_year = NONE,
				week_starts_mon = 0,
				weekday = NONE,
				julian = NONE,
				leap_year_fix = 0,
				have_z = 0,
				v = 0;
	long long	offset = 0;
	Field		ampm = {"", 0};
	char		r[256];

	for (int i = 0; i < f->ngroups; i++)
		if (f->group[i] == 'p')
			ampm = fl[i];
	for (int i = 0; i < f->ngroups; i++)
	{
		Field		x = fl[i];
		char		g = f->group[i];

		int			name = g == 'A' || g == 'a' || g == 'B' || g == 'b';

		if (!name && g != 'p' && g != 'z' && g != 'Z' && field_int(x, &v) != 0)
		{
			py_repr(r, sizeof(r), x.s, x.n);
			return fail(err, errlen, "invalid literal for int() with base 10: %s", r);
		}
		if (name && (v = name_index(x, g == 'A' ? f_weekday : g == 'a' ? a_weekday : g == 'B' ? f_month : a_month,
									g == 'A' || g == 'a' ? 7 : 12)) < 0)
		{
			py_repr(r, sizeof(r), x.s, x.n);
			return fail(err, errlen, "%s is not in list", r);
		}
		switch (g)
		{
			case 'y':
				year = v + (v <= 68 ? 2000 : 1900);
				break;
			case 'Y':
				year = v;
				break;
			case 'G':
				iso_year = v;
				break;
			case 'm':
				month = v;
				break;
			case 'B':
			case 'b':
				month = v + 1;
				break;
			case 'd':
				day = v;
				break;
			case 'H':
				hour = v;
				break;
			case 'I':
				hour = v;
				if (ampm.n == 0 || name_index(ampm, am_pm, 2) == 0)
					hour = hour == 12 ? 0 : hour;
				else if (name_index(ampm, am_pm, 2) == 1)
					hour = hour == 12 ? 12 : hour + 12;
				break;
			case 'S':
				second = v;
				break;
			case 'A':
			case 'a':
				weekday = v;
				break;
			case 'w':
				weekday = v == 0 ? 6 : v - 1;
				break;
			case 'u':
				weekday = v - 1;
				break;
			case 'j':
				julian = v;
				break;
			case 'U':
			case 'W':
				week_of_year = v;
				week_starts_mon = g == 'W';
				break;
			case 'V':
				iso_week = v;
				break;
			case 'z':
				if (parse_z(x, &offset, err, errlen) != 0)
					return -1;
				have_z = 1;
				break;
			default:			/* M f p Z: checked by the pattern, unused */
				break;
		}
	}
	(void) hour;				/* always 0..23: datetime() accepts it */

	/* ISO year and week need each other and a weekday */
	if (year == NONE && iso_year != NONE)
	{
		if (iso_week == NONE || weekday == NONE)
			return fail(err, errlen, "%s", "ISO year directive '%G' must be used with the ISO week "
						"directive '%V' and a weekday directive ('%A', '%a', '%w', or '%u').");
		if (julian != NONE)
			return fail(err, errlen, "%s", "Day of the year directive '%j' is not compatible with ISO "
						"year directive '%G'. Use '%Y' instead.");
	}
	else if (week_of_year == NONE && iso_week != NONE)
	{
		if (weekday == NONE)
			return fail(err, errlen, "%s", "ISO week directive '%V' must be used with the ISO year "
						"directive '%G' and a weekday directive ('%A', '%a', '%w', or '%u').");
		return fail(err, errlen, "%s", "ISO week directive '%V' is incompatible with the year "
					"directive '%Y'. Use the ISO year '%G' instead.");
	}

	if (year == NONE && month == 2 && day == 29)
	{
		year = 1904;			/* a leap year, for the computations */
		leap_year_fix = 1;
	}
	else if (year == NONE)
		year = 1900;

	/* a week of the year and a weekday give the day of the year */
	if (julian == NONE && weekday != NONE)
	{
		if (week_of_year != NONE)
		{
			if (check_date(year, 1, 1, err, errlen) != 0)
				return -1;
			julian = julian_from_u_or_w(year, week_of_year, weekday, week_starts_mon);
		}
		else if (iso_year != NONE && iso_week != NONE &&
				 julian_from_v(iso_year, iso_week, weekday + 1, &year, &julian, err, errlen) != 0)
			return -1;
		if (julian != NONE && julian <= 0)
		{
			year -= 1;
			julian += is_leap(year) ? 366 : 365;
		}
	}
	if (julian == NONE)
	{
		if (check_date(year, month, day, err, errlen) != 0)
			return -1;
	}
	else if (check_date(year, 1, 1, err, errlen) != 0 ||
			 from_ordinal(julian - 1 + ordinal(year, 1, 1), &year, &month, &day, err, errlen) != 0)
		return -1;
	if (leap_year_fix)
		year = 1900;

	/* _strptime_datetime: timezone(timedelta(...)), then datetime(...) */
	if (have_z && (offset <= -86400000000LL || offset >= 86400000000LL))
		return fail(err, errlen, "offset must be a timedelta strictly between -timedelta(hours=24) "
					"and timedelta(hours=24)");
	if (check_date(year, month, day, err, errlen) != 0)
		return -1;
	if (second > 59)
		return fail(err, errlen, "second must be in 0..59");
	return write_date(year, month, day, out, outlen, err, errlen);
}

/*
 * Parse len bytes of UTF-8 `value` as datetime.strptime(value, format)
 * does, then write datetime.strftime('%Y%m%d') of the result (NUL-ended)
 * into out.  0 on success; -1 with a short reason in err.
 */
int
enc_date_parse(const EncDateFormat *f, const char *value, size_t len, char *out, size_t outlen,
			   char *err, size_t errlen)
{
	pcre2_match_data *md;
	Field		fl[MAX_GROUPS];
	PCRE2_SIZE	end = 0;
	int			rc;

	if (f->error)
		return fail(err, errlen, "%s", f->error);
	if (!value)
		value = "";
	if (!(md = pcre2_match_data_create(MAX_GROUPS + 1, NULL)))
		return fail(err, errlen, "out of memory");
	rc = pcre2_match(f->code, (PCRE2_SPTR) value, len, 0, 0, md, f->mctx);
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(f->code, (PCRE2_SPTR) value, len, 0, PCRE2_NO_JIT, md, f->mctx);
	if (rc > 0)
	{
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

		end = ov[1];
		for (int i = 0; i < f->ngroups; i++)
		{
			int			set = i + 1 < rc && ov[2 * i + 2] != PCRE2_UNSET;

			fl[i].s = set ? value + ov[2 * i + 2] : "";
			fl[i].n = set ? ov[2 * i + 3] - ov[2 * i + 2] : 0;
		}
	}
	pcre2_match_data_free(md);
	if (rc == PCRE2_ERROR_NOMATCH)
	{
		char		rv[256],
					rf[256];

		py_repr(rv, sizeof(rv), value, len);
		py_repr(rf, sizeof(rf), f->format, strlen(f->format));
		return fail(err, errlen, "time data %s does not match format %s", rv, rf);
	}
	if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
		return fail(err, errlen, "value is not valid UTF-8");
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
		rc == PCRE2_ERROR_JIT_STACKLIMIT)
		return fail(err, errlen, "value too complex for the format");
	if (rc <= 0)
		return fail(err, errlen, "match failed (PCRE2 error %d)", rc);
	if (end != len)
		return fail(err, errlen, "unconverted data remains: %.*s",
					(int) (len - end > 200 ? 200 : len - end), value + end);
	return fields_to_date(f, fl, out, outlen, err, errlen);
}
