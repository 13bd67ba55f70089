/*
 * fuzz_request.c
 *	  libFuzzer over the whole request path: the real REST API (api_app.c:
 *	  libmicrohttpd, the HTTP layer, the router and every handler) started
 *	  in this process against a real PostgreSQL, Redis and file object
 *	  store (scripts/fuzz-request.sh starts them), fed each input as one
 *	  raw HTTP exchange over loopback.
 *
 *	  An input picks a method, a route (or raw path bytes), which token to
 *	  present and how to frame the body, then gives extra header bytes and
 *	  the body.  The route's ids and tokens are those of a real project
 *	  (made anew every FIXTURE_EVERY inputs, so uploads can succeed), so
 *	  inputs reach the handlers' depths.  Every answer must come within
 *	  ANSWER_MS and none may be a 5xx other than 501 (a feature off with
 *	  the file store): a client's bytes, however bad, are a client error.
 *	  The process crashing, ASan/UBSan or a stall is a finding.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api_app.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXTURE_EVERY 200
#define ANSWER_MS 15000
#define MAX_OUT (4u << 20)

static ApiApp app;
static int	port;
static char pid[64],
			result_token[64],
			update_token[2][64];
static unsigned long inputs;

/* Die with a message: a finding. */
static void
finding(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_request: %s: %.2000s\n", what, detail ? detail : "");
	abort();
}

/* One raw exchange: send, half-close, read until the server closes. */
static size_t
exchange(char *req, size_t len, char *out, size_t outmax)
{
	struct sockaddr_in a;
	int			s = socket(AF_INET, SOCK_STREAM, 0);
	size_t		got = 0;
	struct timespec t0,
				t1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *) &a, sizeof(a)) != 0)
		finding("cannot connect to the server", NULL);
	for (size_t off = 0; off < len;)
	{
		ssize_t		n = send(s, req + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;				/* the server closed early: fine */
		off += (size_t) n;
	}
	shutdown(s, SHUT_WR);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;)
	{
		struct pollfd pf = {s, POLLIN, 0};
		ssize_t		n;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > ANSWER_MS)
		{
			req[len < 4000 ? len : 4000] = '\0';
			finding("no answer in time (a stall)", req);
		}
		if (poll(&pf, 1, 100) <= 0)
			continue;
		n = recv(s, out + got, outmax - got - 1, 0);
		if (n <= 0)
			break;
		got += (size_t) n;
		if (got >= outmax - 1)
			got = 0;			/* keep the tail: statuses are checked as they come */
	}
	close(s);
	out[got] = '\0';
	if (getenv("FUZZ_SLOW_MS"))
	{
		long		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;

		if (ms > atol(getenv("FUZZ_SLOW_MS")))
			fprintf(stderr, "slow exchange (%ld ms): %.200s\n", ms, req);
	}
	return got;
}

/* A JSON answer's field. */
static void
field(json_t *o, const char *k, char *out, size_t n)
{
	snprintf(out, n, "%s", json_string_value(json_object_get(o, k)) ? json_string_value(json_object_get(o, k)) : "");
}

/* A fresh project to aim at: its id and tokens. */
static void
new_fixture(void)
{
	static const char body[] = "{\"schema\": {\"clkConfig\": {\"l\": 16}}, \"result_type\": \"groups\"}";
	char		req[512],
			   *out = malloc(65536);
	const char *json;
	json_t	   *o;

	snprintf(req, sizeof(req), "POST /api/v1/projects HTTP/1.1\r\nHost: f\r\nConnection: close\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
	exchange(req, strlen(req), out, 65536);
	json = strstr(out, "\r\n\r\n");
	o = json ? json_loads(json + 4, 0, NULL) : NULL;
	if (!o)
		finding("cannot create the fixture project", out);
	field(o, "project_id", pid, sizeof(pid));
	field(o, "result_token", result_token, sizeof(result_token));
	snprintf(update_token[0], sizeof(update_token[0]), "%s",
			 json_string_value(json_array_get(json_object_get(o, "update_tokens"), 0)));
	snprintf(update_token[1], sizeof(update_token[1]), "%s",
			 json_string_value(json_array_get(json_object_get(o, "update_tokens"), 1)));
	json_decref(o);
	free(out);
}

/* Start the API once, on a port of its own, with short deadlines. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char		listen[32];

	(void) argc;
	(void) argv;
	port = 20000 + (int) (getpid() % 20000);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	setenv("PPRL_API_LISTEN", listen, 1);
	setenv("PPRL_HEADER_TIMEOUT_SECONDS", "1", 0);	/* an incomplete head waits this long */
	setenv("PPRL_KEEPALIVE_TIMEOUT_SECONDS", "1", 0);
	setenv("PPRL_BODY_TIMEOUT_SECONDS", "1", 0);
	setenv("PPRL_MAX_BODY_BYTES", "1048576", 0);
	setenv("PPRL_PROJECTS_PER_MINUTE", "0", 0);
	setenv("PPRL_MAX_PROJECTS", "0", 0);
	setenv("PPRL_MAX_RUNS_PER_PROJECT", "0", 0);
	setenv("PPRL_MAX_ACTIVE_RUNS_PER_PROJECT", "0", 0);
	setenv("PPRL_MAX_UPLOADS_PER_CLIENT", "0", 0);
	api_app_start(&app);
	new_fixture();
	return 0;
}

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "BREW"};
static const char *const paths[] = {
	"/healthz", "/readyz", "/metrics", "/api/v1/status", "/api/v1/version", "/api/v1/projects",
	"/api/v1/projects/%P", "/api/v1/projects/%P/clks", "/api/v1/projects/%P/binaryclks",
	"/api/v1/projects/%P/authorize-external-upload", "/api/v1/projects/%P/runs",
	"/api/v1/projects/%P/runs/%R", "/api/v1/projects/%P/runs/%R/status", "/api/v1/projects/%P/runs/%R/result",
	"/api/v1/projects/%P/", "/api/v1/nothing"
};

/* Append the path template t with %P (project id) and %R (a run id, or raw bytes) filled in. */
static size_t
put_path(char *b, size_t n, const char *t, const uint8_t *raw, size_t rawlen)
{
	size_t		o = 0;

	for (; *t && o + 100 < n; t++)
	{
		if (t[0] == '%' && t[1] == 'P')
			o += (size_t) snprintf(b + o, n - o, "%s", pid), t++;
		else if (t[0] == '%' && t[1] == 'R')
		{
			for (size_t i = 0; i < rawlen && i < 48 && o + 1 < n; i++)
				b[o++] = (char) (raw[i] > ' ' && raw[i] < 127 && raw[i] != '/' ? raw[i] : 'a');
			t++;
		}
		else
			b[o++] = *t;
	}
	b[o] = '\0';
	return o;
}

/* Check every status line of the answer: no 5xx but 501. */
static void
check_answer(const char *out, const char *req)
{
	for (const char *p = out; (p = strstr(p, "HTTP/1.1 ")) != NULL; p += 9)
	{
		int			status = atoi(p + 9);

		if (status >= 500 && status != 501)
			finding("a 5xx answer to a client's bytes", out);
		(void) req;
	}
}

/* One input: [method][route][token][framing][header bytes...] 0xFF [body...]. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *req,
			   *out;
	const uint8_t *sep;
	size_t		hlen,
				blen,
				o;
	const char *tokens[4];
	unsigned	framing;

	if (size < 4)
		return 0;
	if (!req && (!(req = malloc(2u << 20)) || !(out = malloc(MAX_OUT))))
		return 0;
	if (++inputs % FIXTURE_EVERY == 0)
		new_fixture();
	tokens[0] = NULL;
	tokens[1] = result_token;
	tokens[2] = update_token[0];
	tokens[3] = update_token[1];
	sep = memchr(data + 4, 0xFF, size - 4);
	hlen = sep ? (size_t) (sep - (data + 4)) : size - 4;
	blen = sep ? size - 4 - hlen - 1 : 0;
	if (hlen + blen > (1u << 20))
		return 0;
	o = (size_t) snprintf(req, 4096, "%s ", methods[data[0] % 8]);
	if (data[1] & 0x80)
	{
		/* raw path bytes from the header part */
		for (size_t i = 0; i < hlen && i < 200 && data[4 + i] != '\n'; i++)
			req[o++] = (char) data[4 + i];
	}
	else
		o += put_path(req + o, 4096 - o, paths[data[1] % (sizeof(paths) / sizeof(paths[0]))], data + 4, hlen);
	/* Connection: close, so the exchange ends when the server is done (pipelined
	 * requests in the body get no answer after the first) */
	o += (size_t) snprintf(req + o, 4096 - o, " HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n");
	if (tokens[data[2] % 4])
		o += (size_t) snprintf(req + o, 4096 - o, "Authorization: %s\r\n", tokens[data[2] % 4]);
	if (data[2] & 0x10)
		o += (size_t) snprintf(req + o, 4096 - o, "Content-Type: application/json\r\n");
	if (data[2] & 0x20)
		o += (size_t) snprintf(req + o, 4096 - o, "Hash-Count: %u\r\nHash-Size: 2\r\n", (unsigned) (blen / 2));
	framing = data[3] % 4;
	if (framing == 0)
		o += (size_t) snprintf(req + o, 4096 - o, "Content-Length: %zu\r\n", blen);
	else if (framing == 1)
		o += (size_t) snprintf(req + o, 4096 - o, "Transfer-Encoding: chunked\r\n");
	/* framing 2: none; 3: the header bytes decide */
	if (!(data[1] & 0x80))
	{
		memcpy(req + o, data + 4, hlen);
		o += hlen;
	}
	memcpy(req + o, "\r\n", 2);
	o += 2;
	if (framing == 1)
		o += (size_t) sprintf(req + o, "%zx\r\n", blen);
	memcpy(req + o, sep ? sep + 1 : (const uint8_t *) "", blen);
	o += blen;
	if (framing == 1)
		o += (size_t) sprintf(req + o, "\r\n0\r\n\r\n");
	exchange(req, o, out, MAX_OUT);
	check_answer(out, req);
	return 0;
}
