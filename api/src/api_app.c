/*
 * api_app.c
 *	  The REST API as a whole, started from the settings: read the
 *	  configuration (NAME or NAME_FILE), log it with secrets redacted,
 *	  connect to PostgreSQL (waiting a bounded time), open the object store,
 *	  start the readiness checks, the janitor and the HTTP server.  Any
 *	  startup error is logged and exits non-zero, so an orchestrator
 *	  notices.  pprl-api (api_main.c) and the request fuzzer run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "service/config.h"
#include "api_db.h"
#include "api_app.h"
#include "api_janitor.h"
#include "api_server.h"
#include "service/settings.h"
#include "service/store_settings.h"

enum
{
	S_LISTEN, S_DATABASE_URL, S_REDIS_URL, S_THREADS, S_IO_THREADS, S_POOL, S_DB_WAIT,
	S_MAX_CONN, S_MAX_CONN_CLIENT, S_KEEPALIVE, S_HEADER_TIMEOUT, S_BODY_TIMEOUT, S_IO_TIMEOUT,
	S_MIN_RATE, S_MAX_TRANSFERS, S_CLIENT_HEADER,
	S_MAX_HEADER, S_MAX_BODY, S_MAX_RECORDS, S_MIN_SIZE, S_MAX_SIZE, S_MAX_UPLOADS, S_MAX_UPLOADS_CLIENT,
	S_PROJECTS_MINUTE, S_MAX_PROJECTS, S_MAX_RUNS, S_MAX_ACTIVE_PROJECT, S_MAX_ACTIVE, S_JANITOR, S_STORE,
	S_COUNT = S_STORE + STORE_SETTING_COUNT
};

static SvcSetting settings[S_COUNT] = {
	{"PPRL_API_LISTEN", "127.0.0.1:8851", 0, NULL},
	{"DATABASE_URL", NULL, 0, NULL},
	{"REDIS_URL", NULL, 0, NULL},
	{"PPRL_API_THREADS", "16", 0, NULL},	/* request handlers (never waiting on clients) */
	{"PPRL_HTTP_IO_THREADS", "2", 0, NULL},	/* event loops serving the sockets */
	{"PPRL_DB_POOL", "4", 0, NULL},
	{"PPRL_DB_WAIT_SECONDS", "30", 0, NULL},
	{"PPRL_MAX_CONNECTIONS", "4096", 0, NULL},
	{"PPRL_MAX_CONNECTIONS_PER_CLIENT", "512", 0, NULL},	/* 0: no bound (behind a proxy) */
	{"PPRL_KEEPALIVE_TIMEOUT_SECONDS", "15", 0, NULL},
	{"PPRL_HEADER_TIMEOUT_SECONDS", "10", 0, NULL},
	{"PPRL_BODY_TIMEOUT_SECONDS", "30", 0, NULL},
	{"PPRL_IO_TIMEOUT_SECONDS", "60", 0, NULL},
	{"PPRL_MIN_UPLOAD_RATE", "16384", 0, NULL},	/* bytes/s over windows of PPRL_IO_TIMEOUT_SECONDS / 2 */
	{"PPRL_MAX_TRANSFERS", "64", 0, NULL},	/* uploads and result downloads at once */
	{"PPRL_CLIENT_ADDRESS_HEADER", "", 0, NULL},	/* e.g. X-Forwarded-For behind a proxy */
	{"PPRL_MAX_HEADER_BYTES", "16384", 0, NULL},
	{"PPRL_MAX_BODY_BYTES", "10737418240", 0, NULL},	/* 10 GiB, upstream's nginx limit */
	{"PPRL_MAX_RECORDS", "100000000", 0, NULL},
	{"PPRL_MIN_ENCODING_SIZE", "1", 0, NULL},	/* bytes, as upstream's defaults */
	{"PPRL_MAX_ENCODING_SIZE", "1024", 0, NULL},
	{"PPRL_MAX_UPLOADS", "16", 0, NULL},
	{"PPRL_MAX_UPLOADS_PER_CLIENT", "4", 0, NULL},
	{"PPRL_PROJECTS_PER_MINUTE", "300", 0, NULL},
	{"PPRL_MAX_PROJECTS", "10000", 0, NULL},
	{"PPRL_MAX_RUNS_PER_PROJECT", "100", 0, NULL},
	{"PPRL_MAX_ACTIVE_RUNS_PER_PROJECT", "5", 0, NULL},
	{"PPRL_MAX_ACTIVE_RUNS", "1000", 0, NULL},
	{"PPRL_JANITOR_SECONDS", "5", 0, NULL},
	STORE_SETTING_ROWS
};

/* The HTTP server's configuration from the settings. */
static void
http_config(HttpConfig *h)
{
	memset(h, 0, sizeof(*h));
	h->listen = settings[S_LISTEN].value;
	h->pool_threads = (int) svc_setting_int(&settings[S_THREADS], 1024);
	h->io_threads = (int) svc_setting_int(&settings[S_IO_THREADS], 64);
	h->max_connections = (int) svc_setting_int(&settings[S_MAX_CONN], 1000000);
	h->max_per_client = (int) svc_setting_range(&settings[S_MAX_CONN_CLIENT], 0, 1000000);
	h->keepalive_s = (int) svc_setting_int(&settings[S_KEEPALIVE], 86400);
	h->header_s = (int) svc_setting_int(&settings[S_HEADER_TIMEOUT], 86400);
	h->body_s = (int) svc_setting_int(&settings[S_BODY_TIMEOUT], 86400);
	h->io_s = (int) svc_setting_int(&settings[S_IO_TIMEOUT], 86400);
	h->min_rate = (uint64_t) svc_setting_range(&settings[S_MIN_RATE], 0, 1LL << 40);
	h->max_streams = (int) svc_setting_int(&settings[S_MAX_TRANSFERS], 100000);
	h->client_header = settings[S_CLIENT_HEADER].value;
	h->max_head = (size_t) svc_setting_int(&settings[S_MAX_HEADER], 1048576);
}

/* The request limits from the settings. */
static void
limits_config(ApiLimits *l)
{
	l->max_body_bytes = (uint64_t) svc_setting_int(&settings[S_MAX_BODY], 1LL << 50);
	l->max_records = (uint64_t) svc_setting_int(&settings[S_MAX_RECORDS], 1LL << 31);
	l->min_encoding_size = (int) svc_setting_int(&settings[S_MIN_SIZE], 8192);
	l->max_encoding_size = (int) svc_setting_int(&settings[S_MAX_SIZE], 8192);
	l->max_uploads = (int) svc_setting_int(&settings[S_MAX_UPLOADS], 1024);
	l->max_uploads_per_client = (int) svc_setting_range(&settings[S_MAX_UPLOADS_CLIENT], 0, 1024);
	l->projects_per_minute = (int) svc_setting_range(&settings[S_PROJECTS_MINUTE], 0, 1000000);
	l->max_projects = (int) svc_setting_range(&settings[S_MAX_PROJECTS], 0, 100000000);
	l->max_runs_per_project = (int) svc_setting_range(&settings[S_MAX_RUNS], 0, 1000000);
	l->max_active_runs_per_project = (int) svc_setting_range(&settings[S_MAX_ACTIVE_PROJECT], 0, 1000000);
	l->max_active_runs = (int) svc_setting_range(&settings[S_MAX_ACTIVE], 0, 100000000);
	if (l->min_encoding_size > l->max_encoding_size)
		svc_die("invalid setting", "PPRL_MIN_ENCODING_SIZE is above PPRL_MAX_ENCODING_SIZE");
}

/* Start the whole API from the settings (the environment); dies on error. */
void
api_app_start(ApiApp *app)
{
	char		err[512];
	StoreOptions so;
	ApiCtx	   *ctx = &app->ctx;

	memset(app, 0, sizeof(*app));
	svc_settings_load(settings, S_COUNT);
	http_config(&app->http);
	limits_config(&ctx->limits);
	atomic_init(&ctx->uploads, 0);
	if (!(ctx->clients = api_clients_new(4096)))
		svc_die("startup", "out of memory");
	ctx->queue = api_queue_open(settings[S_REDIS_URL].value, err, sizeof(err));
	if (!ctx->queue)
		svc_die("redis", err);
	ctx->db = api_db_open(settings[S_DATABASE_URL].value, (int) svc_setting_int(&settings[S_POOL], 256),
						  (int) svc_setting_int(&settings[S_DB_WAIT], 3600), err, sizeof(err));
	if (!ctx->db)
		svc_die("database", err);
	store_options_from_settings(&settings[S_STORE], &so);
	ctx->store = store_open(&so, err, sizeof(err));
	if (!ctx->store)
		svc_die("object store", err);
	if (!(ctx->health = api_health_start(ctx, settings[S_DATABASE_URL].value)))
		svc_die("startup", "cannot start the readiness checks");
	app->janitor = api_janitor_start(ctx, (int) svc_setting_int(&settings[S_JANITOR], 3600));
	app->server = api_server_start(&app->http, ctx, err, sizeof(err));
	if (!app->server)
		svc_die("http", err);
	svc_log("info", "listening", json_pack("{s:s}", "listen", app->http.listen));
}

/* Stop serving (requests in flight finish) and free everything. */
void
api_app_stop(ApiApp *app)
{
	http_server_stop(app->server);
	api_janitor_stop(app->janitor);
	api_health_stop(app->ctx.health);
	store_close(app->ctx.store);
	api_queue_close(app->ctx.queue);
	api_db_close(app->ctx.db);
	api_clients_free(app->ctx.clients);
	svc_settings_free(settings, S_COUNT);
}
