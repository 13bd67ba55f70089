/*
 * api_problem.h
 *	  RFC 7807 problem details, the error body of every failed request, as
 *	  the Anonlink Entity Service sends them: {"type", "title", "status",
 *	  "detail", "instance"} with Content-Type application/problem+json.
 */
#ifndef API_PROBLEM_H
#define API_PROBLEM_H

extern char *api_problem_json(int status, const char *detail, const char *instance);
extern const char *api_problem_title(int status);

#endif							/* API_PROBLEM_H */
