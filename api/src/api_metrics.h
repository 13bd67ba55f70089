/*
 * api_metrics.h
 *	  Prometheus metrics of the REST server: requests by route and status,
 *	  upload bytes, queue depth and the comparison rate, rendered in the
 *	  text exposition format for /metrics.  Thread-safe: request threads
 *	  count concurrently.
 */
#ifndef API_METRICS_H
#define API_METRICS_H

#include <stddef.h>
#include <stdint.h>

extern void api_metrics_request(const char *route, int status);
extern void api_metrics_upload_bytes(uint64_t n);
extern void api_metrics_set_queue_depth(int64_t depth);
extern void api_metrics_set_comparison_rate(double per_second);
extern char *api_metrics_render(void);
extern void api_metrics_reset(void);

#endif							/* API_METRICS_H */
