/*
 * settings.h
 *	  A program's settings table (resolved through service/config.h: NAME or
 *	  NAME_FILE), structured log lines (one JSON object per line on stderr)
 *	  and fatal startup errors.  Shared by pprl-api and pprl-worker.
 */
#ifndef SVC_SETTINGS_H
#define SVC_SETTINGS_H

#include <jansson.h>

/* One setting: its name, default (NULL: required) and whether it is secret. */
typedef struct SvcSetting
{
	const char *name;
	const char *fallback;
	int			secret;
	char	   *value;
} SvcSetting;

extern void svc_log(const char *level, const char *msg, json_t *fields);
extern void svc_die(const char *msg, const char *detail);
extern void svc_settings_load(SvcSetting *settings, int n);
extern void svc_settings_resolve(SvcSetting *settings, int n, int quiet);
extern long long svc_setting_int(const SvcSetting *s, long long max);
extern long long svc_setting_range(const SvcSetting *s, long long min, long long max);
extern void svc_settings_free(SvcSetting *settings, int n);

#endif							/* SVC_SETTINGS_H */
