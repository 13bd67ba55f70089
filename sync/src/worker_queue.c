/*
 * worker_queue.c
 *	  The job stream from the worker's side: the consumer group is created
 *	  if missing (from the stream's start, so jobs queued before any worker
 *	  existed are seen), with the epoch key beside it whose disappearance
 *	  tells that Redis lost its data.  The next job is, in this order: one
 *	  left pending on this worker (a restart under the same name), one
 *	  pending on a dead worker (not seen in pprl:workers for WORKER_DEAD_S,
 *	  see worker_alive.c), one pending on any worker for longer than the
 *	  visibility timeout (XAUTOCLAIM: alive but stuck), or a new one
 *	  (XREADGROUP).  A job is acknowledged (XACK) only once its outcome is
 *	  recorded, so a crash means a retry, never a loss, and then deleted
 *	  (XDEL), so the stream holds only work not yet done.  Workers also
 *	  queue jobs themselves (a run's tasks, its merge, the project's next
 *	  run).  Progress goes to the hash run:{id}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../api/src/api_settings.h"
#include "worker.h"

#define PROGRESS_TTL "2592000"	/* 30 days, as upstream's chart */

/* One command on the worker's Redis connection, reconnecting when needed. */
static redisReply *
command(Worker *w, int argc, const char **argv)
{
	return redis_url_command(&w->redis_url, &w->redis, 10000, argc, argv);
}

/* Set the epoch key if it is missing: 1 when this call set it, 0 when it existed, -1 on failure. */
static int
set_epoch(Worker *w)
{
	char		v[32];
	const char *argv[] = {"SET", WORKER_EPOCH, v, "NX"};
	redisReply *r;
	int			rc;

	snprintf(v, sizeof(v), "%lld", (long long) time(NULL));
	r = command(w, 4, argv);
	rc = !r || r->type == REDIS_REPLY_ERROR ? -1 : r->type == REDIS_REPLY_STATUS ? 1 : 0;
	freeReplyObject(r);
	return rc;
}

/* Create the consumer group (an existing one is fine); 0 on success. */
int
worker_queue_setup(Worker *w)
{
	const char *argv[] = {"XGROUP", "CREATE", WORKER_STREAM, WORKER_GROUP, "0", "MKSTREAM"};
	redisReply *r = command(w, 6, argv);
	int			ok = r && (r->type != REDIS_REPLY_ERROR || strstr(r->str, "BUSYGROUP"));

	freeReplyObject(r);
	return ok ? 0 : -1;
}

/*
 * Whether Redis holds none of what was queued: the epoch key (set by the
 * first worker to see Redis, here) is missing, because Redis is new or
 * lost its data.  The one worker that sets it again gets 1, makes the
 * group, and must queue again whatever was in flight; 0 otherwise (or
 * when Redis does not answer).  Only this sets the epoch, so nothing else
 * that recreates the stream can hide a loss.
 */
int
worker_queue_lost(Worker *w)
{
	if (set_epoch(w) != 1)
		return 0;
	worker_queue_setup(w);
	return 1;
}

/* Copy a field of a stream entry's field list into out. */
static void
field(const redisReply *fields, const char *name, char *out, size_t outlen)
{
	out[0] = '\0';
	for (size_t i = 0; fields && i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING && strcmp(fields->element[i]->str, name) == 0 &&
			fields->element[i + 1]->type == REDIS_REPLY_STRING)
			snprintf(out, outlen, "%s", fields->element[i + 1]->str);
}

/* Fill job from a stream entry [id, [field, value, ...]]; 1 when it is a valid job. */
static int
parse_entry(const redisReply *e, WorkerJob *job)
{
	char		kind[16],
				part[16];
	char	   *end;
	long		n;

	if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	snprintf(job->id, sizeof(job->id), "%s", e->element[0]->str);
	field(e->element[1], "kind", kind, sizeof(kind));
	field(e->element[1], "run_id", job->run_id, sizeof(job->run_id));
	field(e->element[1], "project_id", job->project_id, sizeof(job->project_id));
	field(e->element[1], "lsn", job->lsn, sizeof(job->lsn));
	field(e->element[1], "part", part, sizeof(part));
	n = strtol(part, &end, 10);
	job->part = (int) n;
	if (strcmp(kind, "run") == 0)
		job->kind = JOB_RUN;
	else if (strcmp(kind, "merge") == 0)
		job->kind = JOB_MERGE;
	else if (strcmp(kind, "task") == 0 && part[0] && *end == '\0' && n >= 0 && n < 1000000)
		job->kind = JOB_TASK;
	else
		return 0;
	return strlen(job->run_id) == 48 && strlen(job->project_id) == 48;
}

/* The first entry of an XREADGROUP reply [[stream, [entries...]]], or NULL. */
static redisReply *
first_read(redisReply *r)
{
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
		r->element[0]->elements == 2 && r->element[0]->element[1]->type == REDIS_REPLY_ARRAY &&
		r->element[0]->element[1]->elements > 0)
		return r->element[0]->element[1]->element[0];
	return NULL;
}

/*
 * Claim for this worker every job pending on workers that are dead (not
 * seen for WORKER_DEAD_S); they then come back as this worker's own.
 * A dead worker that holds nothing is removed from the group.
 */
static void
claim_from_dead(Worker *w)
{
	const char *summary[] = {"XPENDING", WORKER_STREAM, WORKER_GROUP};
	redisReply *r = command(w, 3, summary),
			   *who;

	/* [count, first id, last id, [[consumer, count], ...]] */
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 || r->element[3]->type != REDIS_REPLY_ARRAY)
	{
		freeReplyObject(r);
		return;
	}
	who = r->element[3];
	for (size_t i = 0; i < who->elements; i++)
	{
		const char *name = who->element[i]->element[0]->str;
		const char *list[] = {"XPENDING", WORKER_STREAM, WORKER_GROUP, "-", "+", "100", name};
		redisReply *p;

		if (strcmp(name, w->name) == 0 || !worker_alive_dead(w, name))
			continue;
		p = command(w, 7, list);
		for (size_t j = 0; p && p->type == REDIS_REPLY_ARRAY && j < p->elements; j++)
		{
			const char *claim[] = {"XCLAIM", WORKER_STREAM, WORKER_GROUP, w->name, "0",
			p->element[j]->element[0]->str, "JUSTID"};

			freeReplyObject(command(w, 7, claim));
		}
		if (p && p->type == REDIS_REPLY_ARRAY)
			api_log("warning", "took over the jobs of a dead worker",
					json_pack("{s:s,s:i}", "worker", name, "jobs", (int) p->elements));
		freeReplyObject(p);
	}
	freeReplyObject(r);
}

/*
 * The next job (see the top of this file for the order), waiting up to
 * block_ms for a new one.  1 with a job, 0 with none, -1 when Redis
 * fails.  An entry that is not a valid job is acknowledged and skipped.
 */
int
worker_queue_next(Worker *w, WorkerJob *job, int block_ms)
{
	char		idle[16],
				block[16];
	const char *own[] = {"XREADGROUP", "GROUP", WORKER_GROUP, w->name, "COUNT", "1",
	"STREAMS", WORKER_STREAM, "0"};
	const char *claim[] = {"XAUTOCLAIM", WORKER_STREAM, WORKER_GROUP, w->name, idle, "0-0", "COUNT", "1"};
	const char *read[] = {"XREADGROUP", "GROUP", WORKER_GROUP, w->name, "COUNT", "1", "BLOCK", block,
	"STREAMS", WORKER_STREAM, ">"};
	redisReply *r,
			   *e = NULL;
	int			got;

	snprintf(idle, sizeof(idle), "%d", w->claim_idle_ms);
	snprintf(block, sizeof(block), "%d", block_ms);
	claim_from_dead(w);
	r = command(w, 9, own);
	if (!r || r->type == REDIS_REPLY_ERROR)
	{
		/* a Redis that came back without its data: make the group again */
		if (r && strstr(r->str, "NOGROUP"))
			worker_queue_setup(w);
		freeReplyObject(r);
		return -1;
	}
	if (!(e = first_read(r)))
	{
		freeReplyObject(r);
		r = command(w, 8, claim);
		if (!r || r->type == REDIS_REPLY_ERROR)
		{
			freeReplyObject(r);
			return -1;
		}
		/* [next-cursor, [entries...], [deleted ids...]] */
		if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && r->element[1]->type == REDIS_REPLY_ARRAY &&
			r->element[1]->elements > 0)
			e = r->element[1]->element[0];
	}
	if (!e)
	{
		freeReplyObject(r);
		r = command(w, 11, read);
		if (!r || r->type == REDIS_REPLY_ERROR)
		{
			freeReplyObject(r);
			return -1;
		}
		e = first_read(r);		/* nil on timeout */
	}
	if (!e)
	{
		freeReplyObject(r);
		return 0;
	}
	memset(job, 0, sizeof(*job));
	got = parse_entry(e, job);
	freeReplyObject(r);
	if (!got && job->id[0])
	{
		worker_queue_ack(w, job);
		return 0;
	}
	return got;
}

/* Acknowledge a job (its outcome is recorded), then delete it from the stream. */
int
worker_queue_ack(Worker *w, const WorkerJob *job)
{
	const char *argv[] = {"XACK", WORKER_STREAM, WORKER_GROUP, job->id};
	const char *del[] = {"XDEL", WORKER_STREAM, job->id};
	redisReply *r = command(w, 4, argv);
	int			ok = r && r->type == REDIS_REPLY_INTEGER;

	freeReplyObject(r);
	if (ok)
		freeReplyObject(command(w, 3, del));
	return ok ? 0 : -1;
}

/*
 * Reset the idle time of a job this worker holds (XCLAIM to itself), so a
 * long merge is not taken over by another worker as if this one had died.
 */
void
worker_queue_touch(Worker *w, const WorkerJob *job)
{
	const char *argv[] = {"XCLAIM", WORKER_STREAM, WORKER_GROUP, w->name, "0", job->id, "JUSTID"};

	freeReplyObject(command(w, 7, argv));
}

/* Append a job about the run of `like` (a task for `part`); 0 when queued. */
int
worker_queue_push(Worker *w, WorkerJobKind kind, const WorkerJob *like, int part)
{
	char		p[16];
	const char *argv[] = {"XADD", WORKER_STREAM, "*", "kind",
		kind == JOB_RUN ? "run" : kind == JOB_TASK ? "task" : "merge",
	"run_id", like->run_id, "project_id", like->project_id, "lsn", like->lsn, "part", p};
	redisReply *r;
	int			ok;

	snprintf(p, sizeof(p), "%d", part);
	r = command(w, kind == JOB_TASK ? 13 : 11, argv);
	ok = r && r->type == REDIS_REPLY_STRING;
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Run one progress command on the hash run:{id}, then keep it 30 days. */
static void
progress(Worker *w, const char *op, const char *run_id, const char *name, long long value)
{
	char		key[64],
				v[32];
	const char *set[] = {op, key, name, v};
	const char *ttl[] = {"EXPIRE", key, PROGRESS_TTL};

	snprintf(key, sizeof(key), "run:%s", run_id);
	snprintf(v, sizeof(v), "%lld", value);
	freeReplyObject(command(w, 4, set));
	freeReplyObject(command(w, 3, ttl));
}

/* Set one progress counter of a run (best effort: status only). */
void
worker_queue_progress(Worker *w, const char *run_id, const char *name, long long value)
{
	progress(w, "HSET", run_id, name, value);
}

/* Add to one progress counter of a run (best effort). */
void
worker_queue_progress_add(Worker *w, const char *run_id, const char *name, long long by)
{
	progress(w, "HINCRBY", run_id, name, by);
}
