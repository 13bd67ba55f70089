/*
 * config.h
 *	  Settings from the environment, each also readable from a file through
 *	  NAME_FILE (the convention of the official postgres image, used with
 *	  Kubernetes secrets mounted as files).  Setting both is an error.
 */
#ifndef SVC_CONFIG_H
#define SVC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Longest value accepted from a NAME_FILE. */
#define SVC_CONFIG_MAX_FILE 65536

extern int	svc_config_get(const char *name, const char *fallback, char **value,
						   char *err, size_t errlen);
extern void svc_config_describe(const char *name, const char *value, bool secret,
								char *out, size_t outlen);

#endif							/* SVC_CONFIG_H */
