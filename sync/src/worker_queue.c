/*
 * worker_queue.c
 *	  The job stream from the worker's side: the consumer group is created
 *	  if missing (from the stream's start, so jobs queued before any worker
 *	  existed are seen), with the epoch key beside it whose disappearance
 *	  tells that Redis lost its data.  The next job is, in this order: one
 *	  left pending on this worker (a restart under the same name), one
 *	  pending on a dead worker (not seen in pprl:workers for JOBS_DEAD_S,
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

#include "service/settings.h"
#include "worker.h"

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
	const char *argv[] = {"SET", JOBS_EPOCH, v, "NX"};
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
	const char *argv[] = {"XGROUP", "CREATE", JOBS_STREAM, JOBS_GROUP, "0", "MKSTREAM"};
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
 * seen for JOBS_DEAD_S); they then come back as this worker's own.
 * A dead worker that holds nothing is removed from the group.
 */
static void
claim_from_dead(Worker *w)
{
	const char *summary[] = {"XPENDING", JOBS_STREAM, JOBS_GROUP};
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
		const char *list[] = {"XPENDING", JOBS_STREAM, JOBS_GROUP, "-", "+", "100", name};
		redisReply *p;

		if (strcmp(name, w->name) == 0 || !worker_alive_dead(w, name))
			continue;
		p = command(w, 7, list);
		for (size_t j = 0; p && p->type == REDIS_REPLY_ARRAY && j < p->elements; j++)
		{
			const char *claim[] = {"XCLAIM", JOBS_STREAM, JOBS_GROUP, w->name, "0",
			p->element[j]->element[0]->str, "JUSTID"};

			freeReplyObject(command(w, 7, claim));
		}
		if (p && p->type == REDIS_REPLY_ARRAY)
			svc_log("warning", "took over the jobs of a dead worker",
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
worker_queue_next(Worker *w, Job *job, int block_ms)
{
	char		idle[16],
				block[16];
	const char *own[] = {"XREADGROUP", "GROUP", JOBS_GROUP, w->name, "COUNT", "1",
	"STREAMS", JOBS_STREAM, "0"};
	const char *claim[] = {"XAUTOCLAIM", JOBS_STREAM, JOBS_GROUP, w->name, idle, "0-0", "COUNT", "1"};
	const char *read[] = {"XREADGROUP", "GROUP", JOBS_GROUP, w->name, "COUNT", "1", "BLOCK", block,
	"STREAMS", JOBS_STREAM, ">"};
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
	got = jobs_parse(e, job);
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
worker_queue_ack(Worker *w, const Job *job)
{
	const char *argv[] = {"XACK", JOBS_STREAM, JOBS_GROUP, job->id};
	const char *del[] = {"XDEL", JOBS_STREAM, job->id};
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
worker_queue_touch(Worker *w, const Job *job)
{
	const char *argv[] = {"XCLAIM", JOBS_STREAM, JOBS_GROUP, w->name, "0", job->id, "JUSTID"};

	freeReplyObject(command(w, 7, argv));
}

/* Append a job about the run of `like` (a task for `part`); 0 when queued. */
int
worker_queue_push(Worker *w, JobKind kind, const Job *like, int part)
{
	Job			job = *like;

	job.kind = kind;
	job.part = part;
	return jobs_append(&w->redis_url, &w->redis, 10000, &job);
}

/* Set (add = 0) or add to (add = 1) a progress counter of a run (best effort: status only). */
long long
worker_queue_progress(Worker *w, const char *run_id, const char *name, long long value, int add)
{
	return jobs_progress_update(&w->redis_url, &w->redis, 10000, run_id, name, value, add);
}
