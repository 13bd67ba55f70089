/*
 * api_queue.h
 *	  The API's side of the job queue (protocol: service/jobs.h): runs ready
 *	  to compute are appended to the stream the workers read; the workers'
 *	  progress counters are read back for the run status endpoint.
 */
#ifndef API_QUEUE_H
#define API_QUEUE_H

#include <stddef.h>

#include <libpq-fe.h>

typedef struct ApiQueue ApiQueue;

extern ApiQueue *api_queue_open(const char *url, char *err, size_t errlen);
extern void api_queue_close(ApiQueue *q);
extern int	api_queue_push_run(ApiQueue *q, const char *run_id, const char *project_id,
							   const char *lsn, char *err, size_t errlen);
extern int	api_queue_ping(ApiQueue *q);
extern void api_queue_ready_runs(ApiQueue *q, PGconn *pg, const char *pid, int min_size, int max_size);
extern int	api_queue_progress(ApiQueue *q, const char *run_id, long long *comparisons,
							   long long *total, long long *candidates);

#endif							/* API_QUEUE_H */
