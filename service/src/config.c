/*
 * config.c
 *	  NAME / NAME_FILE settings and their redacted description for logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/config.h"

/* Read a whole (small) file; strips one trailing newline.  NULL on error. */
static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	size_t		n;

	if (!f)
	{
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(SVC_CONFIG_MAX_FILE + 1);
	if (!buf)
	{
		fclose(f);
		snprintf(err, errlen, "out of memory reading %s", path);
		return NULL;
	}
	n = fread(buf, 1, SVC_CONFIG_MAX_FILE + 1, f);
	if (ferror(f) || n > SVC_CONFIG_MAX_FILE)
	{
		snprintf(err, errlen, ferror(f) ? "cannot read %s" : "%s is larger than %d bytes",
				 path, SVC_CONFIG_MAX_FILE);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return buf;
}

/*
 * The value of setting `name`: from the environment variable NAME, or from
 * the file named by NAME_FILE, or `fallback` (which may be NULL: unset).
 * *value is malloc'ed (or NULL when unset).  Returns 0, or -1 with a
 * message in err when both are set or the file cannot be read.
 */
int
svc_config_get(const char *name, const char *fallback, char **value, char *err, size_t errlen)
{
	char		file_var[256];
	const char *direct = getenv(name);
	const char *path;

	snprintf(file_var, sizeof(file_var), "%s_FILE", name);
	path = getenv(file_var);
	*value = NULL;
	if (direct && path)
	{
		snprintf(err, errlen, "both %s and %s are set; set only one", name, file_var);
		return -1;
	}
	if (path)
	{
		*value = read_file(path, err, errlen);
		return *value ? 0 : -1;
	}
	if (direct || fallback)
	{
		*value = strdup(direct ? direct : fallback);
		if (!*value)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/*
 * "name=value" for the startup log; secrets show only whether they are set,
 * and passwords inside connection strings (scheme://user:password@host, or
 * libpq's password=...) are masked even when the setting is not secret.
 */
void
svc_config_describe(const char *name, const char *value, bool secret, char *out, size_t outlen)
{
	const char *scheme,
			   *at,
			   *colon;

	if (!value)
	{
		snprintf(out, outlen, "%s=(unset)", name);
		return;
	}
	if (secret)
	{
		snprintf(out, outlen, "%s=<redacted, %zu characters>", name, strlen(value));
		return;
	}
	scheme = strstr(value, "://");
	at = scheme ? strchr(scheme + 3, '@') : NULL;
	colon = scheme ? strchr(scheme + 3, ':') : NULL;
	if (at && colon && colon < at)
		snprintf(out, outlen, "%s=%.*s:<redacted>%s", name, (int) (colon - value), value, at);
	else if ((at = strstr(value, "password=")) != NULL)
	{
		/* libpq keyword form: hide the value up to the next space. */
		const char *end = strchr(at, ' ');

		snprintf(out, outlen, "%s=%.*spassword=<redacted>%s", name, (int) (at - value), value,
				 end ? end : "");
	}
	else
		snprintf(out, outlen, "%s=%s", name, value);
}
