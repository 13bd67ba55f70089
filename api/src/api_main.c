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
#include "api_settings.h"
#include "store_settings.h"

enum
{
	S_LISTEN, S_DATABASE_URL, S_REDIS_URL, S_THREADS, S_POOL, S_DB_WAIT,
	S_MAX_HEADER, S_MAX_BODY, S_MAX_RECORDS, S_MIN_SIZE, S_MAX_SIZE, S_MAX_UPLOADS, S_STORE,
	S_COUNT = S_STORE + STORE_SETTING_COUNT
};

static ApiSetting settings[S_COUNT] = {
	{"PPRL_API_LISTEN", "127.0.0.1:8851", 0, NULL},
	{"DATABASE_URL", NULL, 0, NULL},
	{"REDIS_URL", NULL, 0, NULL},
	{"PPRL_API_THREADS", "16", 0, NULL},
	{"PPRL_DB_POOL", "4", 0, NULL},
	{"PPRL_DB_WAIT_SECONDS", "30", 0, NULL},
	{"PPRL_MAX_HEADER_BYTES", "16384", 0, NULL},
	{"PPRL_MAX_BODY_BYTES", "10737418240", 0, NULL},	/* 10 GiB, upstream's nginx limit */
	{"PPRL_MAX_RECORDS", "100000000", 0, NULL},
	{"PPRL_MIN_ENCODING_SIZE", "1", 0, NULL},	/* bytes, as upstream's defaults */
	{"PPRL_MAX_ENCODING_SIZE", "1024", 0, NULL},
	{"PPRL_MAX_UPLOADS", "8", 0, NULL},
	STORE_SETTING_ROWS
};

/* Start, serve until a termination signal, stop. */
int
main(void)
{
	sigset_t	sigs;
	int			sig;
	char		err[512];
	ApiDb	   *db;
	ObjectStore *store;
	ApiQueue   *queue;
	ApiServer  *server;
	ApiServerConfig cfg;
	StoreOptions so;

	/* Block the signals before any thread starts; main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	api_settings_load(settings, S_COUNT);
	api_setting_int(&settings[S_THREADS], 1024);
	api_setting_int(&settings[S_MAX_HEADER], 1048576);
	cfg.limits.max_body_bytes = (uint64_t) api_setting_int(&settings[S_MAX_BODY], 1LL << 50);
	cfg.limits.max_records = (uint64_t) api_setting_int(&settings[S_MAX_RECORDS], 1LL << 31);
	cfg.limits.min_encoding_size = (int) api_setting_int(&settings[S_MIN_SIZE], 8192);
	cfg.limits.max_encoding_size = (int) api_setting_int(&settings[S_MAX_SIZE], 8192);
	cfg.limits.max_uploads = (int) api_setting_int(&settings[S_MAX_UPLOADS], 1024);
	if (cfg.limits.min_encoding_size > cfg.limits.max_encoding_size)
		api_die("invalid setting", "PPRL_MIN_ENCODING_SIZE is above PPRL_MAX_ENCODING_SIZE");
	queue = api_queue_open(settings[S_REDIS_URL].value, err, sizeof(err));
	if (!queue)
		api_die("redis", err);
	db = api_db_open(settings[S_DATABASE_URL].value, (int) api_setting_int(&settings[S_POOL], 256),
					 (int) api_setting_int(&settings[S_DB_WAIT], 3600), err, sizeof(err));
	if (!db)
		api_die("database", err);
	store_options_from_settings(&settings[S_STORE], &so);
	store = store_open(&so, err, sizeof(err));
	if (!store)
		api_die("object store", err);
	cfg.listen = settings[S_LISTEN].value;
	cfg.threads = settings[S_THREADS].value;
	cfg.max_header_bytes = settings[S_MAX_HEADER].value;
	cfg.db = db;
	cfg.store = store;
	cfg.queue = queue;
	server = api_server_start(&cfg, err, sizeof(err));
	if (!server)
		api_die("http", err);
	api_log("info", "listening", json_pack("{s:s}", "listen", cfg.listen));
	sigwait(&sigs, &sig);
	api_log("info", "stopping", json_pack("{s:i}", "signal", sig));
	api_server_stop(server);
	store_close(store);
	api_queue_close(queue);
	api_db_close(db);
	api_settings_free(settings, S_COUNT);
	return 0;
}
