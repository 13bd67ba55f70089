/*
 * enc_date.h
 *	  Dates as clkhash reads and writes them: datetime.strptime(value,
 *	  format) of CPython 3.11 in the C locale, then strftime('%Y%m%d') as
 *	  glibc writes it.  A port of _strptime._strptime: the format becomes
 *	  the regular expression Python builds from it (run by PCRE2), and
 *	  the fields it captures are turned into a date by the same steps.
 */
#ifndef ENC_DATE_H
#define ENC_DATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct EncDateFormat EncDateFormat;

/*
 * Compile a strptime format.  NULL only when out of memory.  A format
 * Python would reject (bad directive, stray '%') still compiles; every
 * parse then fails with Python's message.
 */
extern EncDateFormat *enc_date_compile(const char *format);

/*
 * Parse len bytes of UTF-8 `value` as datetime.strptime(value, format)
 * does, then write datetime.strftime('%Y%m%d') of the result (NUL-ended)
 * into out.  0 on success; -1 with a short reason in err (like Python's
 * ValueError text).  Safe to call from many threads at once on one
 * compiled format.
 */
extern int	enc_date_parse(const EncDateFormat *f, const char *value, size_t len, char *out,
						   size_t outlen, char *err, size_t errlen);

extern void enc_date_free(EncDateFormat *f);

/*
 * The Unicode data of enc_date_tables.c (generated from CPython's own by
 * scripts/test_dates.py --tables): runs of code points first, first +
 * step, ... last whose lower case is the code point plus delta.
 */
typedef struct EncDateRun
{
	uint32_t	first,
				last;
	int32_t		step,
				delta;
} EncDateRun;

extern const EncDateRun enc_date_upper[];	/* cased, not their own lower case */
extern const int enc_date_nupper;
extern const EncDateRun enc_date_lower[];	/* cased, their own lower case */
extern const int enc_date_nlower;
extern const uint32_t enc_date_extra[][3];	/* lower case: 1 or 2 more that match it */
extern const int enc_date_nextra;
extern const uint32_t enc_date_spaces[][2];	/* \s, as ranges */
extern const int enc_date_nspaces;
extern const uint32_t enc_date_lower_ascii[][2];	/* str.lower() is one ASCII char */
extern const int enc_date_nlower_ascii;

#endif							/* ENC_DATE_H */
