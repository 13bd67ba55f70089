/*
 * api_settings.h
 *	  A program's settings table (resolved through api_config: NAME or
 *	  NAME_FILE), structured log lines (one JSON object per line on stderr)
 *	  and fatal startup errors.  Shared by pprl-api and pprl-worker.
 */
#ifndef API_SETTINGS_H
#define API_SETTINGS_H

#include <jansson.h>

/* One setting: its name, default (NULL: required) and whether it is secret. */
typedef struct ApiSetting
{
	const char *name;
	const char *fallback;
	int			secret;
	char	   *value;
} ApiSetting;

extern void api_log(const char *level, const char *msg, json_t *fields);
extern void api_die(const char *msg, const char *detail);
extern void api_settings_load(ApiSetting *settings, int n);
extern void api_settings_resolve(ApiSetting *settings, int n, int quiet);
extern long long api_setting_int(const ApiSetting *s, long long max);
extern long long api_setting_range(const ApiSetting *s, long long min, long long max);
extern void api_settings_free(ApiSetting *settings, int n);

#endif							/* API_SETTINGS_H */
