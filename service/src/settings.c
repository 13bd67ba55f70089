/*
 * settings.c
 *	  Resolve a settings table, log it redacted, and the log/die helpers
 *	  that every daemon of the service uses, so that their configuration
 *	  and logs look the same to an operator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/config.h"
#include "service/settings.h"

/* Write one structured log line (a JSON object; consumes fields) to stderr. */
void
svc_log(const char *level, const char *msg, json_t *fields)
{
	json_t	   *o = fields ? fields : json_object();
	char	   *s;

	json_object_set_new(o, "ts", json_integer((json_int_t) time(NULL)));
	json_object_set_new(o, "level", json_string(level));
	json_object_set_new(o, "msg", json_string(msg));
	s = json_dumps(o, JSON_COMPACT);
	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
	json_decref(o);
}

/* Log a fatal startup error and exit non-zero (so an orchestrator notices). */
void
svc_die(const char *msg, const char *detail)
{
	svc_log("fatal", msg, json_pack("{s:s}", "detail", detail ? detail : ""));
	exit(1);
}

/*
 * Resolve every setting or die; log them all, secrets redacted, unless
 * quiet (command-line tools keep stderr for their own messages).
 */
void
svc_settings_resolve(SvcSetting *settings, int n, int quiet)
{
	json_t	   *logged = json_object();
	char		err[256],
				desc[512];

	for (int i = 0; i < n; i++)
	{
		if (svc_config_get(settings[i].name, settings[i].fallback, &settings[i].value,
						   err, sizeof(err)) != 0)
			svc_die("invalid configuration", err);
		if (!settings[i].value)
		{
			snprintf(err, sizeof(err), "%s (or %s_FILE) must be set", settings[i].name,
					 settings[i].name);
			svc_die("invalid configuration", err);
		}
		svc_config_describe(settings[i].name, settings[i].value, settings[i].secret, desc, sizeof(desc));
		json_object_set_new(logged, settings[i].name,
							json_string(strchr(desc, '=') ? strchr(desc, '=') + 1 : desc));
	}
	if (quiet)
		json_decref(logged);
	else
		svc_log("info", "configuration", json_pack("{s:o}", "settings", logged));
}

/* Resolve every setting or die, and log them (daemons). */
void
svc_settings_load(SvcSetting *settings, int n)
{
	svc_settings_resolve(settings, n, 0);
}

/* A setting as an integer from min to max; an invalid one stops the program. */
long long
svc_setting_range(const SvcSetting *s, long long min, long long max)
{
	char	   *end;
	long long	v = strtoll(s->value, &end, 10);

	if (!s->value[0] || *end != '\0' || v < min || v > max)
		svc_die("invalid setting", s->name);
	return v;
}

/* A setting as a positive integer up to max. */
long long
svc_setting_int(const SvcSetting *s, long long max)
{
	return svc_setting_range(s, 1, max);
}

/* Free the resolved values. */
void
svc_settings_free(SvcSetting *settings, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(settings[i].value);
		settings[i].value = NULL;
	}
}
