/*
 * api_metrics.c
 *	  A fixed table of (route, status) request counters and a few gauges,
 *	  behind one mutex; routes are the API's path templates (a small, known
 *	  set), never raw paths, so client input cannot grow the table.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_metrics.h"

#define MAX_SERIES 128
#define ROUTE_MAX 96
#define OTHER_SLOTS 16

/* One counter: requests to a route that ended with a status. */
typedef struct Series
{
	char		route[ROUTE_MAX];
	int			status;
	uint64_t	count;
} Series;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Series series[MAX_SERIES];
static int nseries;
static uint64_t upload_bytes;
static int64_t queue_depth;
static double comparison_rate;

/* The series of (route, status), or -1. */
static int
find_series(const char *route, int status)
{
	for (int i = 0; i < nseries; i++)
		if (series[i].status == status && strcmp(series[i].route, route) == 0)
			return i;
	return -1;
}

/* Add a series if there is room; -1 when the table is full. */
static int
add_series(const char *route, int status)
{
	if (nseries == MAX_SERIES)
		return -1;
	snprintf(series[nseries].route, ROUTE_MAX, "%s", route);
	series[nseries].status = status;
	series[nseries].count = 0;
	return nseries++;
}

/*
 * Count one finished request.  The last OTHER_SLOTS entries of the table are
 * kept for route "other", where routes beyond the table are counted.
 */
void
api_metrics_request(const char *route, int status)
{
	int			i;

	pthread_mutex_lock(&lock);
	i = find_series(route, status);
	if (i < 0 && nseries < MAX_SERIES - OTHER_SLOTS)
		i = add_series(route, status);
	if (i < 0)
	{
		i = find_series("other", status);
		if (i < 0)
			i = add_series("other", status);
	}
	if (i >= 0)
		series[i].count++;
	pthread_mutex_unlock(&lock);
}

/* Add bytes received in uploads. */
void
api_metrics_upload_bytes(uint64_t n)
{
	pthread_mutex_lock(&lock);
	upload_bytes += n;
	pthread_mutex_unlock(&lock);
}

/* Set the number of queued jobs. */
void
api_metrics_set_queue_depth(int64_t depth)
{
	pthread_mutex_lock(&lock);
	queue_depth = depth;
	pthread_mutex_unlock(&lock);
}

/* Set the recent comparisons per second. */
void
api_metrics_set_comparison_rate(double per_second)
{
	pthread_mutex_lock(&lock);
	comparison_rate = per_second;
	pthread_mutex_unlock(&lock);
}

/* Append printf output to a growing buffer. */
static void
appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list		ap;
	int			n;

	if (!*buf)
		return;
	for (;;)
	{
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t) n < *cap - *len)
		{
			*len += (size_t) n;
			return;
		}
		*cap = (*cap + (size_t) n) * 2;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			return;
	}
}

/* The metrics in Prometheus text format (malloc'ed; NULL when out of memory). */
char *
api_metrics_render(void)
{
	size_t		cap = 4096,
				len = 0;
	char	   *buf = malloc(cap);

	if (!buf)
		return NULL;
	buf[0] = '\0';
	pthread_mutex_lock(&lock);
	appendf(&buf, &len, &cap, "# HELP pprl_http_requests_total HTTP requests by route and status.\n"
			"# TYPE pprl_http_requests_total counter\n");
	for (int i = 0; i < nseries; i++)
		appendf(&buf, &len, &cap, "pprl_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
				series[i].route, series[i].status, (unsigned long long) series[i].count);
	appendf(&buf, &len, &cap, "# HELP pprl_upload_bytes_total Bytes received in uploads.\n"
			"# TYPE pprl_upload_bytes_total counter\npprl_upload_bytes_total %llu\n",
			(unsigned long long) upload_bytes);
	appendf(&buf, &len, &cap, "# HELP pprl_queue_depth Jobs waiting for a worker.\n"
			"# TYPE pprl_queue_depth gauge\npprl_queue_depth %lld\n", (long long) queue_depth);
	appendf(&buf, &len, &cap, "# HELP pprl_comparisons_per_second Recent comparison rate.\n"
			"# TYPE pprl_comparisons_per_second gauge\npprl_comparisons_per_second %.0f\n",
			comparison_rate);
	pthread_mutex_unlock(&lock);
	return buf;
}

/* Forget everything (tests). */
void
api_metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	nseries = 0;
	upload_bytes = 0;
	queue_depth = 0;
	comparison_rate = 0;
	pthread_mutex_unlock(&lock);
}
