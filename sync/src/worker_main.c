/*
 * worker_main.c
 *	  pprl-worker: read the configuration (NAME or NAME_FILE; secrets
 *	  redacted in the log), open the object store, connect to the database
 *	  matched on and to the primary (bounded wait), join the consumer group,
 *	  then take jobs until SIGTERM or SIGINT.  A signal during a job cancels
 *	  its query; the job is left unacknowledged, so another worker reclaims
 *	  it after the visibility timeout.  Startup errors exit non-zero.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../api/src/api_settings.h"
#include "../../api/src/store_settings.h"
#include "worker.h"

volatile sig_atomic_t worker_stopping = 0;
static PGcancel *volatile cancel_read = NULL;

enum
{
	S_DATABASE_URL, S_PRIMARY_URL, S_REDIS_URL, S_NAME, S_CLAIM_IDLE,
	S_REPLAY_WAIT, S_DB_WAIT, S_STORE, S_COUNT = S_STORE + STORE_SETTING_COUNT
};

static ApiSetting settings[S_COUNT] = {
	{"DATABASE_URL", NULL, 0, NULL},	/* the replica beside this worker */
	{"PRIMARY_URL", "", 0, NULL},	/* empty: DATABASE_URL is the primary */
	{"REDIS_URL", NULL, 0, NULL},
	{"PPRL_WORKER_NAME", "", 0, NULL},	/* empty: host name and pid */
	{"PPRL_CLAIM_IDLE_SECONDS", "300", 0, NULL},
	{"PPRL_REPLAY_WAIT_SECONDS", "120", 0, NULL},
	{"PPRL_DB_WAIT_SECONDS", "30", 0, NULL},
	STORE_SETTING_ROWS
};

/* SIGTERM/SIGINT: stop taking jobs and cancel the query in flight. */
static void
on_signal(int sig)
{
	char		err[64];

	(void) sig;
	worker_stopping = 1;
	if (cancel_read)
		PQcancel(cancel_read, err, sizeof(err));	/* async-signal-safe */
}

/* Connect, retrying until the deadline, or die. */
static PGconn *
connect_or_die(const char *url, int wait_s, const char *what)
{
	time_t		deadline = time(NULL) + wait_s;

	for (;;)
	{
		PGconn	   *c = PQconnectdb(url);

		if (PQstatus(c) == CONNECTION_OK)
			return c;
		if (time(NULL) >= deadline || worker_stopping)
		{
			char		msg[512];

			/* libpq's message names host and port, never the password */
			snprintf(msg, sizeof(msg), "%s unreachable: %s", what, PQerrorMessage(c));
			PQfinish(c);
			api_die("database", msg);
		}
		PQfinish(c);
		sleep(1);
	}
}

/* Start, take jobs until told to stop. */
int
main(void)
{
	Worker		w;
	WorkerJob	job;
	char		err[512],
				name[128];
	struct sigaction sa;
	int			db_wait;
	StoreOptions so;

	memset(&w, 0, sizeof(w));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	api_settings_load(settings, S_COUNT);
	w.claim_idle_ms = (int) api_setting_int(&settings[S_CLAIM_IDLE], 86400) * 1000;
	w.replay_wait_s = (int) api_setting_int(&settings[S_REPLAY_WAIT], 86400);
	if (redis_url_parse(settings[S_REDIS_URL].value, &w.redis_url, err, sizeof(err)) != 0)
		api_die("redis", err);
	store_options_from_settings(&settings[S_STORE], &so);
	if (!(w.store = store_open(&so, err, sizeof(err))))
		api_die("object store", err);
	if (settings[S_NAME].value[0])
		snprintf(name, sizeof(name), "%s", settings[S_NAME].value);
	else
	{
		char		host[64] = "worker";

		gethostname(host, sizeof(host) - 1);
		snprintf(name, sizeof(name), "%s-%d", host, (int) getpid());
	}
	w.name = name;
	w.read_url = settings[S_DATABASE_URL].value;
	w.primary_url = settings[S_PRIMARY_URL].value[0] ? settings[S_PRIMARY_URL].value : w.read_url;
	db_wait = (int) api_setting_int(&settings[S_DB_WAIT], 3600);
	w.read = connect_or_die(w.read_url, db_wait, "database");
	w.primary = connect_or_die(w.primary_url, db_wait, "primary");
	for (int i = 0; worker_queue_setup(&w) != 0; i++)
	{
		if (i >= 30 || worker_stopping)
			api_die("redis", "Redis unreachable");
		sleep(1);
	}
	api_log("info", "worker ready", json_pack("{s:s}", "worker", w.name));
	while (!worker_stopping)
	{
		int			got = worker_queue_next(&w, &job, 2000);
		WorkerOutcome outcome;

		if (got < 0)
		{
			api_log("warning", "redis unavailable, retrying", NULL);
			sleep(1);
			continue;
		}
		if (got == 0)
			continue;
		api_log("info", "job", json_pack("{s:s,s:s}", "run_id", job.run_id, "entry", job.id));
		cancel_read = w.read ? PQgetCancel(w.read) : NULL;
		outcome = worker_run(&w, &job);
		{
			PGcancel   *c = cancel_read;

			cancel_read = NULL;
			PQfreeCancel(c);
		}
		if (outcome == WORKER_DONE)
			worker_queue_ack(&w, &job);
		api_log("info", outcome == WORKER_DONE ? "job done" : "job left for retry",
				json_pack("{s:s}", "run_id", job.run_id));
	}
	api_log("info", "stopping", NULL);
	PQfinish(w.read);
	PQfinish(w.primary);
	if (w.redis)
		redisFree(w.redis);
	store_close(w.store);
	api_settings_free(settings, S_COUNT);
	return 0;
}
