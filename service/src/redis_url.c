/*
 * redis_url.c
 *	  Parse a Redis URL and connect with it.  The password is sent with
 *	  AUTH as an argument vector, never formatted into a command string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/redis_url.h"

/* Parse url into u; -1 with a message when malformed. */
int
redis_url_parse(const char *url, RedisUrl *u, char *err, size_t errlen)
{
	const char *p,
			   *at;
	size_t		n;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "unix://", 7) == 0)
	{
		if (strlen(url + 7) >= sizeof(u->socket) || url[7] != '/')
			goto bad;
		strcpy(u->socket, url + 7);
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		goto bad;
	p = url + 8;
	at = strchr(p, '@');
	if (at)
	{
		const char *pw = memchr(p, ':', (size_t) (at - p));

		pw = pw ? pw + 1 : p;
		if ((size_t) (at - pw) >= sizeof(u->password))
			goto bad;
		memcpy(u->password, pw, (size_t) (at - pw));
		p = at + 1;
	}
	n = strcspn(p, ":/");
	if (n == 0 || n >= sizeof(u->host))
		goto bad;
	memcpy(u->host, p, n);
	p += n;
	u->port = 6379;
	if (*p == ':')
	{
		char	   *end;

		u->port = (int) strtol(p + 1, &end, 10);
		if (end == p + 1 || u->port < 1 || u->port > 65535)
			goto bad;
		p = end;
	}
	if (*p == '/' && p[1])
	{
		char	   *end;

		u->db = (int) strtol(p + 1, &end, 10);
		if (*end || u->db < 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "REDIS_URL must be redis://[:password@]host[:port][/db] or unix:///path");
	return -1;
}

/* One command during connection setup; whether it succeeded. */
static int
setup_command(redisContext *rc, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(rc, argc, argv, NULL);
	int			ok = r && r->type != REDIS_REPLY_ERROR;

	freeReplyObject(r);
	return ok;
}

/* Connect (with a timeout for connecting and for each command); NULL on failure. */
redisContext *
redis_url_connect(const RedisUrl *u, int timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	redisContext *rc = u->socket[0] ? redisConnectUnixWithTimeout(u->socket, tv)
		: redisConnectWithTimeout(u->host, u->port, tv);
	char		dbs[16];
	const char *auth[2] = {"AUTH", u->password},
			   *sel[2] = {"SELECT", dbs};

	if (!rc || rc->err)
		goto fail;
	redisSetTimeout(rc, tv);
	snprintf(dbs, sizeof(dbs), "%d", u->db);
	if ((u->password[0] && !setup_command(rc, 2, auth)) || (u->db && !setup_command(rc, 2, sel)))
		goto fail;
	return rc;
fail:
	if (rc)
		redisFree(rc);
	return NULL;
}

/*
 * One command on *rc, connecting first when there is no connection (so a
 * restarted Redis is picked up on the next command).  Returns the reply,
 * error replies included, or NULL after dropping a connection that failed.
 */
redisReply *
redis_url_command(const RedisUrl *u, redisContext **rc, int timeout_ms, int argc, const char **argv)
{
	redisReply *r;

	if (!*rc && !(*rc = redis_url_connect(u, timeout_ms)))
		return NULL;
	r = redisCommandArgv(*rc, argc, argv, NULL);
	if (!r)
	{
		redisFree(*rc);
		*rc = NULL;
	}
	return r;
}
