/*
 * db.c
 *	  libpq helpers (see service/db.h).  Every statement with client data
 *	  goes through PQexecParams: values are never formatted into SQL.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/db.h"

/*
 * Run a parameterised statement; NULL (the result cleared, the server's
 * primary message or libpq's in err when err is given) unless it gave want.
 */
PGresult *
svc_db_exec_err(PGconn *pg, const char *sql, int n, const char *const *params, ExecStatusType want,
				char *err, size_t errlen)
{
	PGresult   *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) == want)
		return r;
	if (err && errlen)
	{
		const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

		snprintf(err, errlen, "%s", msg ? msg : PQerrorMessage(pg));
	}
	PQclear(r);
	return NULL;
}

/* Run a parameterised statement; NULL (the result cleared) unless it gave want. */
PGresult *
svc_db_exec(PGconn *pg, const char *sql, int n, const char *const *params, ExecStatusType want)
{
	return svc_db_exec_err(pg, sql, n, params, want, NULL, 0);
}

/* Run a statement without parameters or rows (BEGIN, COMMIT); true when it worked. */
int
svc_db_command(PGconn *pg, const char *sql)
{
	PGresult   *r = PQexec(pg, sql);
	int			ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	return ok;
}

/* Run a parameterised statement that returns no rows; true when it worked. */
int
svc_db_run(PGconn *pg, const char *sql, int n, const char *const *params)
{
	PGresult   *r = svc_db_exec(pg, sql, n, params, PGRES_COMMAND_OK);

	PQclear(r);
	return r != NULL;
}

/*
 * Open a transaction whose lock waits end after lock_timeout_ms (0: the
 * server's setting), so that it gives up rather than queue in front of
 * others' locks; true when it is open.
 */
int
svc_db_begin(PGconn *pg, int lock_timeout_ms)
{
	char		sql[64];

	if (!svc_db_command(pg, "BEGIN"))
		return 0;
	if (lock_timeout_ms <= 0)
		return 1;
	snprintf(sql, sizeof(sql), "SET LOCAL lock_timeout = %d", lock_timeout_ms);
	return svc_db_command(pg, sql);
}

/*
 * Connect, retrying once a second for up to wait_seconds; NULL with a
 * message (libpq's, which names host and port, never the password).
 */
PGconn *
svc_db_connect_wait(const char *conninfo, int wait_seconds, char *err, size_t errlen)
{
	time_t		deadline = time(NULL) + wait_seconds;

	for (;;)
	{
		PGconn	   *c = PQconnectdb(conninfo);

		if (PQstatus(c) == CONNECTION_OK)
			return c;
		if (time(NULL) >= deadline)
		{
			snprintf(err, errlen, "database unreachable: %s", PQerrorMessage(c));
			PQfinish(c);
			return NULL;
		}
		PQfinish(c);
		sleep(1);
	}
}

/* A usable connection to conninfo in *c, made again if it broke; 0 when there is one. */
int
svc_db_reconnect(PGconn **c, const char *conninfo)
{
	if (*c && PQstatus(*c) == CONNECTION_OK)
		return 0;
	if (*c)
		PQfinish(*c);
	*c = PQconnectdb(conninfo);
	return PQstatus(*c) == CONNECTION_OK ? 0 : -1;
}
