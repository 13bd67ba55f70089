/*
 * api_main.c
 *	  pprl-api: read the configuration (NAME or NAME_FILE), log it with
 *	  secrets redacted, connect to PostgreSQL (waiting a bounded time), open
 *	  the object store, serve until SIGTERM or SIGINT.  Any startup error
 *	  is logged and exits non-zero, so an orchestrator notices.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api_config.h"
#include "api_db.h"
#include "api_server.h"
#include "store.h"

/* One setting: its name, default (NULL: required) and whether it is secret. */
typedef struct Setting
{
	const char *name;
	const char *fallback;
	int			secret;
	char	   *value;
} Setting;

enum
{
	S_LISTEN, S_DATABASE_URL, S_OBJECT_STORE_URL, S_THREADS, S_POOL, S_DB_WAIT, S_MAX_HEADER, S_COUNT
};

static Setting settings[S_COUNT] = {
	{"PPRL_API_LISTEN", "127.0.0.1:8851", 0, NULL},
	{"DATABASE_URL", NULL, 0, NULL},
	{"OBJECT_STORE_URL", NULL, 0, NULL},
	{"PPRL_API_THREADS", "16", 0, NULL},
	{"PPRL_DB_POOL", "4", 0, NULL},
	{"PPRL_DB_WAIT_SECONDS", "30", 0, NULL},
	{"PPRL_MAX_HEADER_BYTES", "16384", 0, NULL},
};

/* Write one structured log line (a JSON object) to stderr. */
static void
log_line(const char *level, const char *msg, json_t *fields)
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

/* Log a fatal startup error and exit non-zero. */
static void
die(const char *msg, const char *detail)
{
	log_line("fatal", msg, json_pack("{s:s}", "detail", detail ? detail : ""));
	exit(1);
}

/* A positive integer setting, or die. */
static int
int_setting(int i, int max)
{
	char	   *end;
	long		v = strtol(settings[i].value, &end, 10);

	if (*end != '\0' || v < 1 || v > max)
		die("invalid setting", settings[i].name);
	return (int) v;
}

/* Resolve every setting; log them redacted. */
static void
load_settings(void)
{
	json_t	   *logged = json_object();
	char		err[256],
				desc[512];

	for (int i = 0; i < S_COUNT; i++)
	{
		if (api_config_get(settings[i].name, settings[i].fallback, &settings[i].value,
						   err, sizeof(err)) != 0)
			die("invalid configuration", err);
		if (!settings[i].value)
		{
			snprintf(err, sizeof(err), "%s (or %s_FILE) must be set", settings[i].name,
					 settings[i].name);
			die("invalid configuration", err);
		}
		api_config_describe(settings[i].name, settings[i].value, settings[i].secret, desc, sizeof(desc));
		json_object_set_new(logged, settings[i].name,
							json_string(strchr(desc, '=') ? strchr(desc, '=') + 1 : desc));
	}
	log_line("info", "configuration", json_pack("{s:o}", "settings", logged));
}

/* Start, serve until a termination signal, stop. */
int
main(void)
{
	sigset_t	sigs;
	int			sig;
	char		err[512];
	ApiDb	   *db;
	ObjectStore *store;
	ApiServer  *server;
	ApiServerConfig cfg;

	/* Block the signals before any thread starts; main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	load_settings();
	int_setting(S_THREADS, 1024);
	int_setting(S_MAX_HEADER, 1048576);
	db = api_db_open(settings[S_DATABASE_URL].value, int_setting(S_POOL, 256),
					 int_setting(S_DB_WAIT, 3600), err, sizeof(err));
	if (!db)
		die("database", err);
	store = store_open(settings[S_OBJECT_STORE_URL].value, err, sizeof(err));
	if (!store)
		die("object store", err);
	cfg.listen = settings[S_LISTEN].value;
	cfg.threads = settings[S_THREADS].value;
	cfg.max_header_bytes = settings[S_MAX_HEADER].value;
	cfg.db = db;
	cfg.store = store;
	server = api_server_start(&cfg, err, sizeof(err));
	if (!server)
		die("http", err);
	log_line("info", "listening", json_pack("{s:s}", "listen", cfg.listen));
	sigwait(&sigs, &sig);
	log_line("info", "stopping", json_pack("{s:i}", "signal", sig));
	api_server_stop(server);
	store_close(store);
	api_db_close(db);
	for (int i = 0; i < S_COUNT; i++)
		free(settings[i].value);
	return 0;
}
