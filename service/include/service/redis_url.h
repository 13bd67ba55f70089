/*
 * redis_url.h
 *	  Redis connection settings from a URL (redis://[:password@]host[:port][/db]
 *	  or unix:///path) and connecting with them (AUTH, SELECT), shared by
 *	  the API and the worker.
 */
#ifndef REDIS_URL_H
#define REDIS_URL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

typedef struct RedisUrl
{
	char		host[256];
	int			port;
	char		socket[256];
	char		password[256];
	int			db;
} RedisUrl;

extern int	redis_url_parse(const char *url, RedisUrl *u, char *err, size_t errlen);
extern redisContext *redis_url_connect(const RedisUrl *u, int timeout_ms);
extern redisReply *redis_url_command(const RedisUrl *u, redisContext **rc, int timeout_ms,
									 int argc, const char **argv);

#endif							/* REDIS_URL_H */
