/*
 * api_unit_test.c
 *	  Unit tests of the service's framework-independent modules: tokens and
 *	  configuration.  Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <pthread.h>

#include "test_util.h"
#include "../src/api_config.h"
#include "../src/api_metrics.h"
#include "../src/api_problem.h"
#include "../src/api_token.h"


/* Tokens: format, uniqueness, hashing and matching. */
static void
test_tokens(void)
{
	char		a[API_TOKEN_HEX + 1],
				b[API_TOKEN_HEX + 1];
	uint8_t		h[API_TOKEN_SHA256],
				h2[API_TOKEN_SHA256];
	char		wrong[API_TOKEN_HEX + 1];

	check(api_token_new(a) == 0 && api_token_new(b) == 0, "tokens generated");
	check(strlen(a) == API_TOKEN_HEX && api_token_well_formed(a, strlen(a)), "48 lowercase hex");
	check(strcmp(a, b) != 0, "two tokens differ");
	api_token_hash(a, strlen(a), h);
	api_token_hash(a, strlen(a), h2);
	check(memcmp(h, h2, sizeof(h)) == 0, "hash is deterministic");
	check(api_token_matches(a, strlen(a), h), "token matches its hash");
	check(!api_token_matches(b, strlen(b), h), "other token does not match");
	memcpy(wrong, a, sizeof(wrong));
	wrong[API_TOKEN_HEX - 1] = wrong[API_TOKEN_HEX - 1] == '0' ? '1' : '0';
	check(!api_token_matches(wrong, strlen(wrong), h), "one changed character does not match");
	check(!api_token_matches(a, API_TOKEN_HEX - 1, h), "a prefix does not match");
	check(!api_token_well_formed("ABCDEF", 6), "short token malformed");
	{
		char		upper[API_TOKEN_HEX + 1];

		memset(upper, 'A', API_TOKEN_HEX);
		upper[API_TOKEN_HEX] = '\0';
		check(!api_token_well_formed(upper, API_TOKEN_HEX), "uppercase malformed");
	}
	/* SHA-256 known answer: "abc". */
	{
		static const uint8_t abc[32] = {
			0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
			0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad
		};

		api_token_hash("abc", 3, h);
		check(memcmp(h, abc, 32) == 0, "SHA-256 known answer");
	}
}

/* Configuration: NAME, NAME_FILE, both, fallbacks, redaction. */
static void
test_config(void)
{
	char	   *v;
	char		err[256],
				out[256];
	char		path[] = "/tmp/pprl-config-XXXXXX";
	int			fd = mkstemp(path);

	check(fd >= 0 && write(fd, "s3cret\n", 7) == 7, "temp file written");
	close(fd);
	unsetenv("PPRL_T");
	unsetenv("PPRL_T_FILE");
	check(api_config_get("PPRL_T", "dflt", &v, err, sizeof(err)) == 0 && strcmp(v, "dflt") == 0,
		  "fallback when unset");
	free(v);
	check(api_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == 0 && v == NULL, "unset is NULL");
	setenv("PPRL_T", "direct", 1);
	check(api_config_get("PPRL_T", "dflt", &v, err, sizeof(err)) == 0 && strcmp(v, "direct") == 0,
		  "environment value");
	free(v);
	setenv("PPRL_T_FILE", path, 1);
	check(api_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == -1 && strstr(err, "both") != NULL,
		  "both set is an error");
	unsetenv("PPRL_T");
	check(api_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == 0 && strcmp(v, "s3cret") == 0,
		  "file value, newline stripped");
	free(v);
	setenv("PPRL_T_FILE", "/nonexistent/pprl", 1);
	check(api_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == -1 && strstr(err, "/nonexistent/pprl") != NULL,
		  "missing file is an error naming it");
	unsetenv("PPRL_T_FILE");
	unlink(path);

	api_config_describe("TOKEN", "s3cret", true, out, sizeof(out));
	check(strstr(out, "s3cret") == NULL && strstr(out, "redacted") != NULL, "secret redacted");
	api_config_describe("DATABASE_URL", "postgresql://app:pw123@db:5432/x", false, out, sizeof(out));
	check(strstr(out, "pw123") == NULL && strstr(out, "postgresql://app:") != NULL &&
		  strstr(out, "@db:5432/x") != NULL, "URL password redacted");
	api_config_describe("DATABASE_URL", "host=db password=pw456 user=app", false, out, sizeof(out));
	check(strstr(out, "pw456") == NULL && strstr(out, "user=app") != NULL, "keyword password redacted");
	api_config_describe("PORT", "8851", false, out, sizeof(out));
	check(strcmp(out, "PORT=8851") == 0, "plain value shown");
	api_config_describe("X", NULL, false, out, sizeof(out));
	check(strcmp(out, "X=(unset)") == 0, "unset shown");
}

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
	test_tokens();
	test_config();
	test_problem();
	test_metrics();
	return test_summary();
}
