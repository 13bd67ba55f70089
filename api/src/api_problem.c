/*
 * api_problem.c
 *	  Problem-details bodies, built with jansson so that any detail text
 *	  (which may quote client input) is correctly escaped.
 */
#include <jansson.h>

#include "api_problem.h"

/* The standard reason phrase of the status codes the API uses. */
const char *
api_problem_title(int status)
{
	switch (status)
	{
		case 400:
			return "Bad Request";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 409:
			return "Conflict";
		case 411:
			return "Length Required";
		case 413:
			return "Payload Too Large";
		case 415:
			return "Unsupported Media Type";
		case 431:
			return "Request Header Fields Too Large";
		case 500:
			return "Internal Server Error";
		case 503:
			return "Service Unavailable";
		default:
			return "Error";
	}
}

/* A JSON string of text, or of a placeholder when text is not UTF-8. */
static json_t *
safe_string(const char *text)
{
	json_t	   *s = json_string(text ? text : "");

	return s ? s : json_string("(not representable as UTF-8)");
}

/*
 * The JSON body of a problem: malloc'ed, or NULL when out of memory.  A
 * NULL instance is left out; text that is not UTF-8 (it may quote client
 * bytes) is replaced rather than dropping the whole body.
 */
char *
api_problem_json(int status, const char *detail, const char *instance)
{
	json_t	   *o = json_object();
	char	   *s = NULL;

	if (!o)
		return NULL;
	if (json_object_set_new(o, "type", json_string("about:blank")) == 0 &&
		json_object_set_new(o, "title", json_string(api_problem_title(status))) == 0 &&
		json_object_set_new(o, "status", json_integer(status)) == 0 &&
		json_object_set_new(o, "detail", safe_string(detail)) == 0 &&
		(!instance || json_object_set_new(o, "instance", safe_string(instance)) == 0))
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(o);
	return s;
}
