/*
 * api_health.h
 *	  Readiness, checked in the background: a thread asks the database (on
 *	  a connection of its own), Redis and the object store once a second;
 *	  /readyz answers from the last result at once, so a probe never waits
 *	  on a busy pool or a hung dependency (a check that hangs is itself
 *	  reported: not ready).  /healthz only says the process serves.
 */
#ifndef API_HEALTH_H
#define API_HEALTH_H

typedef struct ApiHealth ApiHealth;
struct ApiCtx;

extern ApiHealth *api_health_start(struct ApiCtx *ctx, const char *conninfo);
extern void api_health_stop(ApiHealth *h);

#endif							/* API_HEALTH_H */
