/*
 * http_route.c
 *	  Route matching: a path against the routes' templates, segment by
 *	  segment, a {name} segment matching any one non-empty segment (its
 *	  text kept as a parameter, at most 79 bytes: longer never matches).
 *	  One trailing slash is ignored.  A path that some route matches with
 *	  another method gives the methods allowed there (405 with Allow).
 */
#include <stdio.h>
#include <string.h>

#include "http_internal.h"

static const struct
{
	const char *name;
	unsigned	bit;
}			methods[] = {
	{"GET", HTTP_GET}, {"POST", HTTP_POST}, {"PUT", HTTP_PUT}, {"DELETE", HTTP_DELETE},
	{"PATCH", HTTP_PATCH}, {"OPTIONS", HTTP_OPTIONS}, {"HEAD", HTTP_HEAD}
};

/* A method's bit; 0 for a method this server knows nothing of. */
unsigned
http_method_bit(const char *method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

/* The Allow header's value for a method mask (GET brings HEAD). */
void
http_allow_header(unsigned mask, char *out, size_t outlen)
{
	size_t		n = 0;

	out[0] = '\0';
	if (mask & HTTP_GET)
		mask |= HTTP_HEAD;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (mask & methods[i].bit)
			n += (size_t) snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", n ? ", " : "",
								   methods[i].name);
}

/*
 * Whether path matches template t; the {name} segments' texts go to
 * params (at most HTTP_MAX_PARAMS).
 */
static int
matches(const char *t, const char *path, size_t plen, char params[][80])
{
	size_t		i = 0;
	int			np = 0;

	while (*t)
	{
		if (*t == '{')
		{
			const char *close = strchr(t, '}');
			size_t		seg = strcspn(path + i, "/");

			if (!close || seg == 0 || seg >= 80 || i + seg > plen || np >= HTTP_MAX_PARAMS)
				return 0;
			memcpy(params[np], path + i, seg);
			params[np++][seg] = '\0';
			i += seg;
			t = close + 1;
			continue;
		}
		if (i >= plen || path[i] != *t)
			return 0;
		i++;
		t++;
	}
	return i == plen;
}

/*
 * The route for path and the request's method, with its parameters in r;
 * NULL when none: *allowed is then the methods routes at this path take
 * (0: no such path, 404).  HEAD is served by GET routes.
 */
const HttpRoute *
http_route_match(const HttpConfig *cfg, const char *path, HttpRequest *r, unsigned *allowed)
{
	size_t		plen = strlen(path);
	unsigned	want = r->method_bit == HTTP_HEAD ? HTTP_GET : r->method_bit;
	char		params[HTTP_MAX_PARAMS][80];

	if (plen > 1 && path[plen - 1] == '/')
		plen--;
	*allowed = 0;
	for (int i = 0; i < cfg->nroutes; i++)
	{
		const HttpRoute *rt = &cfg->routes[i];

		if (!matches(rt->path, path, plen, params))
			continue;
		*allowed |= rt->methods;
		if (rt->methods & want)
		{
			memcpy(r->params, params, sizeof(params));
			return rt;
		}
	}
	return NULL;
}
