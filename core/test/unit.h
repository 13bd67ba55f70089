/*
 * unit.h
 *	  The one harness of the C unit tests (core/, service/, api/): check()
 *	  records a result and describes the first failures printf-style,
 *	  test_summary() prints the closing "N passed, N failed" line (which
 *	  make test counts) and gives the exit status.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int	test_passed = 0;
static int	test_failed = 0;

/* Record one check; a failure is described (the first 50 of them). */
__attribute__((format(printf, 2, 3), unused))
static void
check(int ok, const char *fmt, ...)
{
	va_list		ap;

	if (ok)
	{
		test_passed++;
		return;
	}
	if (test_failed++ >= 50)
		return;
	va_start(ap, fmt);
	fputs("FAIL ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* Print the summary line; the process exit status. */
__attribute__((unused))
static int
test_summary(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif							/* UNIT_H */
