/*
 * api_db.h
 *	  A small pool of PostgreSQL connections shared by the request threads,
 *	  and connections of their own for long work (uploads, health checks).
 */
#ifndef API_DB_H
#define API_DB_H

#include <libpq-fe.h>

#include "service/db.h"

/* How long a request waits for a pooled connection before it is answered 503. */
#define API_DB_WAIT_MS 5000

typedef struct ApiDb ApiDb;

extern ApiDb *api_db_open(const char *conninfo, int size, int wait_seconds,
						  char *err, size_t errlen);
extern PGconn *api_db_get(ApiDb *db);
extern void api_db_put(ApiDb *db, PGconn *conn);
extern void api_db_close(ApiDb *db);
extern PGconn *api_db_connect(ApiDb *db);
extern PGresult *svc_db_exec(PGconn *pg, const char *sql, int n, const char *const *params,
							 ExecStatusType want);
extern int	svc_db_command(PGconn *pg, const char *sql);

#endif							/* API_DB_H */
