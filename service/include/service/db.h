/*
 * db.h
 *	  libpq helpers shared by the API and the worker: parameterised
 *	  statements checked for the result they must give (with the server's
 *	  message when asked), plain commands, and connecting with a bounded
 *	  wait (a pod started before its database comes up waits instead of
 *	  crash-looping).
 */
#ifndef SVC_DB_H
#define SVC_DB_H

#include <stddef.h>

#include <libpq-fe.h>

extern PGresult *svc_db_exec(PGconn *pg, const char *sql, int n, const char *const *params,
							 ExecStatusType want);
extern PGresult *svc_db_exec_err(PGconn *pg, const char *sql, int n, const char *const *params,
								 ExecStatusType want, char *err, size_t errlen);
extern int	svc_db_command(PGconn *pg, const char *sql);
extern int	svc_db_run(PGconn *pg, const char *sql, int n, const char *const *params);
extern int	svc_db_begin(PGconn *pg, int lock_timeout_ms);
extern PGconn *svc_db_connect_wait(const char *conninfo, int wait_seconds, char *err, size_t errlen);
extern int	svc_db_reconnect(PGconn **c, const char *conninfo);

#endif							/* SVC_DB_H */
