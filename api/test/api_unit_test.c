/*
 * api_unit_test.c
 *	  Unit tests of the REST server's framework-independent modules:
 *	  problem JSON and metrics.  Prints "N passed, N failed" last.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_metrics.h"
#include "api_problem.h"
#include "unit.h"

/* Problem details: fields, escaping of client text, valid JSON. */
static void
test_problem(void)
{
	char	   *s = api_problem_json(403, "Invalid access token or project doesn't exist", "/api/v1/projects/x");
	json_error_t e;
	json_t	   *o = s ? json_loads(s, 0, &e) : NULL;

	check(o != NULL, "problem is valid JSON");
	check(o && json_integer_value(json_object_get(o, "status")) == 403 &&
		  strcmp(json_string_value(json_object_get(o, "title")), "Forbidden") == 0 &&
		  strcmp(json_string_value(json_object_get(o, "type")), "about:blank") == 0 &&
		  strcmp(json_string_value(json_object_get(o, "instance")), "/api/v1/projects/x") == 0,
		  "problem fields");
	json_decref(o);
	free(s);
	/* Client text with quotes, control characters and invalid UTF-8 stays inside the string. */
	s = api_problem_json(400, "bad \"key\"\n\x01 \xff", NULL);
	o = s ? json_loads(s, 0, &e) : NULL;
	check(o != NULL, "hostile detail still gives valid JSON");
	check(o && json_object_get(o, "instance") == NULL, "no instance when none given");
	json_decref(o);
	free(s);
	s = api_problem_json(400, "quote \" newline \n", NULL);
	o = s ? json_loads(s, 0, &e) : NULL;
	check(o && strcmp(json_string_value(json_object_get(o, "detail")), "quote \" newline \n") == 0,
		  "detail text round-trips exactly");
	json_decref(o);
	free(s);
	check(strcmp(api_problem_title(413), "Payload Too Large") == 0, "413 title");
}

/* A request thread for the metrics test. */
static void *
count_requests(void *arg)
{
	(void) arg;
	for (int i = 0; i < 10000; i++)
		api_metrics_request("/projects/{pid}/clks", i % 2 ? 201 : 400);
	return NULL;
}

/* Metrics: concurrent counting, bounded series, exposition format. */
static void
test_metrics(void)
{
	pthread_t	th[4];
	char	   *text;
	char		route[32];

	api_metrics_reset();
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, count_requests, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	api_metrics_upload_bytes(1234);
	api_metrics_set_queue_depth(3);
	text = api_metrics_render();
	check(text && strstr(text, "pprl_http_requests_total{route=\"/projects/{pid}/clks\",status=\"201\"} 20000\n") &&
		  strstr(text, "status=\"400\"} 20000\n"), "concurrent counts exact");
	check(text && strstr(text, "pprl_upload_bytes_total 1234\n") && strstr(text, "pprl_queue_depth 3\n") &&
		  strstr(text, "# TYPE pprl_http_requests_total counter"), "gauges and TYPE lines");
	free(text);
	/* More routes than the table holds fold into "other". */
	for (int i = 0; i < 300; i++)
	{
		snprintf(route, sizeof(route), "/r%d", i);
		api_metrics_request(route, 200);
	}
	text = api_metrics_render();
	check(text && strstr(text, "route=\"other\",status=\"200\"}") != NULL, "series bounded");
	free(text);
	api_metrics_reset();
}

/* Run all checks. */

int
main(void)
{
	test_problem();
	test_metrics();
	return test_summary();
}
