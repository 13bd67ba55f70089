/*
 * test_util.h
 *	  The tiny harness the api unit tests share: check() records a result,
 *	  test_summary() prints the "N passed, N failed" line and gives the exit
 *	  status.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdio.h>

static int	test_passed = 0;
static int	test_failed = 0;

/* Record one check; name the failures. */
static inline void
check(int ok, const char *what)
{
	if (ok)
		test_passed++;
	else
	{
		test_failed++;
		printf("FAIL %s\n", what);
	}
}

/* Print the summary line; the process exit status. */
static inline int
test_summary(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif							/* TEST_UTIL_H */
