/*
 * api_queue.h
 *	  The job queue in Redis (hiredis): runs ready to compute are appended to
 *	  a stream that the workers read with a consumer group; the workers'
 *	  progress counters are read back for the run status endpoint.
 */
#ifndef API_QUEUE_H
#define API_QUEUE_H

#include <stddef.h>

#define API_QUEUE_STREAM "pprl:jobs"

typedef struct ApiQueue ApiQueue;

extern ApiQueue *api_queue_open(const char *url, char *err, size_t errlen);
extern void api_queue_close(ApiQueue *q);
extern int	api_queue_push_run(ApiQueue *q, const char *run_id, const char *project_id,
							   const char *lsn, char *err, size_t errlen);
extern int	api_queue_ping(ApiQueue *q);
extern int	api_queue_progress(ApiQueue *q, const char *run_id, long long *comparisons,
							   long long *total, long long *candidates);

#endif							/* API_QUEUE_H */
