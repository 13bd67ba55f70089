/*
 * worker_main.c
 *	  pprl-worker: read the configuration (NAME or NAME_FILE; secrets
 *	  redacted in the log), open the object store, connect to the database
 *	  matched on and to the primary (bounded wait), join the consumer group,
 *	  then take jobs until SIGTERM or SIGINT, sweeping for stalled runs now
 *	  and then.  A signal during a job cancels its query and hands the job
 *	  back to the queue; a job that fails for a passing reason (store,
 *	  replica, connection) goes back after a pause, a bounded number of
 *	  times.  Startup errors exit non-zero.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/settings.h"
#include "service/store_settings.h"
#include "worker.h"

static PGcancel *volatile cancel_read = NULL;

enum
{
	S_DATABASE_URL, S_PRIMARY_URL, S_REDIS_URL, S_NAME, S_CLAIM_IDLE,
	S_REPLAY_WAIT, S_DB_WAIT, S_TASK_CMP, S_MAX_TASKS, S_STALL, S_ATTEMPTS, S_TMPDIR, S_HEARTBEAT,
	S_STORE, S_COUNT = S_STORE + STORE_SETTING_COUNT
};

static SvcSetting settings[S_COUNT] = {
	{"DATABASE_URL", NULL, 0, NULL},	/* the replica beside this worker */
	{"PRIMARY_URL", "", 0, NULL},	/* empty: DATABASE_URL is the primary */
	{"REDIS_URL", NULL, 0, NULL},
	{"PPRL_WORKER_NAME", "", 0, NULL},	/* empty: host name and pid */
	{"PPRL_CLAIM_IDLE_SECONDS", "300", 0, NULL},
	{"PPRL_REPLAY_WAIT_SECONDS", "120", 0, NULL},
	{"PPRL_DB_WAIT_SECONDS", "30", 0, NULL},
	{"PPRL_TASK_COMPARISONS", "500000000", 0, NULL},	/* a task's size to aim for */
	{"PPRL_MAX_TASKS", "256", 0, NULL},
	{"PPRL_STALL_SECONDS", "600", 0, NULL},	/* re-queue runs idle this long */
	{"PPRL_MAX_ATTEMPTS", "5", 0, NULL},	/* a run's consecutive failed jobs before it fails */
	{"TMPDIR", "/tmp", 0, NULL},	/* the merge's scratch files */
	{"PPRL_HEARTBEAT_FILE", "", 0, NULL},	/* touched while the loop runs (liveness) */
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

/* Connect, waiting up to wait_s, or die. */
static PGconn *
connect_or_die(const char *url, int wait_s, const char *what)
{
	char		err[512],
				msg[600];
	PGconn	   *c = svc_db_connect_wait(url, wait_s, err, sizeof(err));

	if (!c)
	{
		snprintf(msg, sizeof(msg), "%s: %s", what, err);
		svc_die("database", msg);
	}
	return c;
}

/*
 * A job that could not be done now: hand it back to the queue (a copy
 * appended, then the original acknowledged, so a crash in between only
 * duplicates it) after a pause that grows with the run's failures.  The
 * run counts its consecutive failed jobs (any job's success resets the
 * count): at max_attempts the run fails with the last error, so an object
 * store or replica that stays away ends in a clear run error rather than
 * endless retries.  When stopping, the job goes back at once.  If Redis
 * cannot take it, it stays pending and is reclaimed later.
 */
static void
retry_job(Worker *w, WorkerRun *run, const Job *job, int max_attempts)
{
	long long	failures;

	if (!worker_stopping)
	{
		failures = worker_queue_progress(w, job->run_id, JOBS_PROGRESS_FAILURES, 1, 1);
		if (failures < 1)
			failures = 1;
		svc_log("warning", "job failed, will retry", json_pack("{s:s,s:s,s:I,s:s}", "run_id", job->run_id,
																"kind", jobs_kind_name(job->kind), "failures", failures,
																"error", run->error));
		if (failures >= max_attempts)
		{
			char		why[sizeof(run->error)];
			int			n = snprintf(why, sizeof(why), "gave up after %lld failed attempts: ", failures);

			snprintf(why + n, sizeof(why) - (size_t) n, "%.*s", (int) (sizeof(why) - (size_t) n - 1), run->error);
			memcpy(run->error, why, sizeof(why));
			run->lost = 0;
			if (svc_db_reconnect(&w->primary, w->primary_url) == 0 && worker_state_fail(w, run) == 0)
				worker_queue_ack(w, job);
			return;
		}
		sleep((unsigned) (failures < 10 ? failures : 10));
	}
	if (worker_queue_push(w, job->kind, job, job->part) == 0)
		worker_queue_ack(w, job);
}

/* Do one job of any kind, with the cancel handle set for SIGTERM. */
static void
do_job(Worker *w, const Job *job, int max_attempts)
{
	WorkerRun  *run = calloc(1, sizeof(WorkerRun));
	WorkerOutcome outcome = WORKER_RETRY;

	svc_log("info", "job", json_pack("{s:s,s:s,s:i,s:s}", "kind", jobs_kind_name(job->kind), "run_id",
									 job->run_id, "part", job->part, "entry", job->id));
	if (run)
	{
		run->job = job;
		if (svc_db_reconnect(&w->primary, w->primary_url) != 0 ||
			svc_db_reconnect(&w->read, w->read_url) != 0)
			snprintf(run->error, sizeof(run->error), "database unreachable");
		else
		{
			cancel_read = PQgetCancel(w->read);
			outcome = job->kind == JOB_RUN ? worker_run(w, run)
				: job->kind == JOB_TASK ? worker_task(w, run) : worker_merge(w, run);
			{
				PGcancel   *c = cancel_read;

				cancel_read = NULL;
				PQfreeCancel(c);
			}
		}
	}
	if (outcome == WORKER_DONE)
	{
		if (!run || !run->error[0])
			worker_queue_progress(w, job->run_id, JOBS_PROGRESS_FAILURES, 0, 0);
		worker_queue_ack(w, job);
	}
	else if (run)
		retry_job(w, run, job, max_attempts);
	svc_log("info", outcome == WORKER_DONE ? "job done" : "job handed back",
			json_pack("{s:s,s:s,s:i}", "kind", jobs_kind_name(job->kind), "run_id", job->run_id, "part", job->part));
	free(run);
}

/* Start, take jobs until told to stop. */
int
main(void)
{
	Worker		w;
	Job	job;
	char		err[512],
				name[128];
	struct sigaction sa;
	int			db_wait,
				max_attempts;
	time_t		next_sweep = 0;
	StoreOptions so;

	memset(&w, 0, sizeof(w));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	svc_settings_load(settings, S_COUNT);
	w.claim_idle_ms = (int) svc_setting_int(&settings[S_CLAIM_IDLE], 86400) * 1000;
	w.replay_wait_s = (int) svc_setting_int(&settings[S_REPLAY_WAIT], 86400);
	if (redis_url_parse(settings[S_REDIS_URL].value, &w.redis_url, err, sizeof(err)) != 0)
		svc_die("redis", err);
	store_options_from_settings(&settings[S_STORE], &so);
	if (!(w.store = store_open(&so, err, sizeof(err))))
		svc_die("object store", err);
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
	db_wait = (int) svc_setting_int(&settings[S_DB_WAIT], 3600);
	w.task_comparisons = svc_setting_int(&settings[S_TASK_CMP], 1000000000000LL);
	if (w.task_comparisons < 1)
		svc_die("config", "PPRL_TASK_COMPARISONS must be at least 1");
	w.max_tasks = (int) svc_setting_int(&settings[S_MAX_TASKS], 1000);
	if (w.max_tasks < 1)
		svc_die("config", "PPRL_MAX_TASKS must be at least 1");
	w.stall_s = (int) svc_setting_int(&settings[S_STALL], 86400 * 7);
	if (w.stall_s < 1)
		svc_die("config", "PPRL_STALL_SECONDS must be at least 1");
	max_attempts = (int) svc_setting_int(&settings[S_ATTEMPTS], 1000);
	if (max_attempts < 1)
		svc_die("config", "PPRL_MAX_ATTEMPTS must be at least 1");
	w.tmpdir = settings[S_TMPDIR].value;
	worker_heartbeat_file(settings[S_HEARTBEAT].value);
	w.read = connect_or_die(w.read_url, db_wait, "database");
	w.primary = connect_or_die(w.primary_url, db_wait, "primary");
	for (int i = 0; worker_queue_setup(&w) != 0; i++)
	{
		if (i >= 30 || worker_stopping)
			svc_die("redis", "Redis unreachable");
		sleep(1);
	}
	if (worker_alive_start(&w) != 0)
		svc_die("startup", "cannot start the heartbeat thread");
	svc_log("info", "worker ready", json_pack("{s:s}", "worker", w.name));
	while (!worker_stopping)
	{
		int			got;

		worker_heartbeat();
		if (worker_queue_lost(&w))
		{
			/* a Redis new, or back without its data: everything in flight again, now */
			svc_log("warning", "Redis lost its data (or is new); queuing the runs in flight again", NULL);
			worker_state_sweep(&w, 0);
		}
		if (time(NULL) >= next_sweep)
		{
			worker_state_sweep(&w, w.stall_s);
			next_sweep = time(NULL) + (w.stall_s / 4 > 1 ? w.stall_s / 4 : 1);
		}
		got = worker_queue_next(&w, &job, 2000);
		if (got < 0)
		{
			svc_log("warning", "redis unavailable, retrying", NULL);
			sleep(1);
			continue;
		}
		if (got > 0)
			do_job(&w, &job, max_attempts);
	}
	svc_log("info", "stopping", NULL);
	worker_alive_stop(&w);
	PQfinish(w.read);
	PQfinish(w.primary);
	if (w.redis)
		redisFree(w.redis);
	store_close(w.store);
	svc_settings_free(settings, S_COUNT);
	return 0;
}
