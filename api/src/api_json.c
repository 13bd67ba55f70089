/*
 * api_json.c
 *	  Bounded JSON parsing of client bytes.  The depth check is one linear
 *	  pass that counts brackets outside strings (escapes skipped); it does
 *	  not validate, jansson does that afterwards on what passed.
 */
#include <stdio.h>

#include "api_json.h"

/* Whether buf nests arrays and objects at most max_depth deep. */
int
api_json_depth_ok(const char *buf, size_t len, int max_depth)
{
	int			depth = 0,
				in_string = 0;

	for (size_t i = 0; i < len; i++)
	{
		char		c = buf[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		}
		else if (c == '"')
			in_string = 1;
		else if (c == '[' || c == '{')
		{
			if (++depth > max_depth)
				return 0;
		}
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return 1;
}

/*
 * Parse a client's JSON document (duplicate keys refused); NULL with a
 * message naming the line and column, or the nesting bound.
 */
json_t *
api_json_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t	   *o;

	if (!api_json_depth_ok(buf, len, API_JSON_MAX_DEPTH))
	{
		snprintf(err, errlen, "invalid JSON: nested deeper than %d levels", API_JSON_MAX_DEPTH);
		return NULL;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		snprintf(err, errlen, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
	return o;
}
