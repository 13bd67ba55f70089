/*
 * api_db.h
 *	  A small pool of PostgreSQL connections shared by the request threads.
 */
#ifndef API_DB_H
#define API_DB_H

#include <libpq-fe.h>

typedef struct ApiDb ApiDb;

extern ApiDb *api_db_open(const char *conninfo, int size, int wait_seconds,
						  char *err, size_t errlen);
extern PGconn *api_db_get(ApiDb *db);
extern void api_db_put(ApiDb *db, PGconn *conn);
extern int	api_db_ping(ApiDb *db);
extern void api_db_close(ApiDb *db);

#endif							/* API_DB_H */
