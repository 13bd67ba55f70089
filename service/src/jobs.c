/*
 * jobs.c
 *	  The job queue's protocol (see service/jobs.h): a job as stream entry
 *	  fields and back, and the progress hash.  Commands are built with
 *	  hiredis' argument vectors, never by formatting data into a command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/jobs.h"

#define PROGRESS_TTL "2592000"	/* 30 days, as upstream's chart */

static const char *const kind_names[] = {"run", "task", "merge"};

/* The kind's name in the stream ("run", "task", "merge"). */
const char *
jobs_kind_name(JobKind kind)
{
	return kind_names[kind];
}

/* Append a job to the stream; 0 when Redis took it. */
int
jobs_append(const RedisUrl *u, redisContext **rc, int timeout_ms, const Job *job)
{
	char		part[16];
	const char *argv[] = {"XADD", JOBS_STREAM, "*", "kind", kind_names[job->kind], "run_id", job->run_id,
	"project_id", job->project_id, "lsn", job->lsn[0] ? job->lsn : "0/0", "part", part};
	redisReply *r;
	int			ok;

	snprintf(part, sizeof(part), "%d", job->part);
	r = redis_url_command(u, rc, timeout_ms, job->kind == JOB_TASK ? 13 : 11, argv);
	ok = r && r->type == REDIS_REPLY_STRING;
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Copy a field of a stream entry's field list into out. */
static void
field(const redisReply *fields, const char *name, char *out, size_t outlen)
{
	out[0] = '\0';
	for (size_t i = 0; fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING && strcmp(fields->element[i]->str, name) == 0 &&
			fields->element[i + 1]->type == REDIS_REPLY_STRING)
			snprintf(out, outlen, "%s", fields->element[i + 1]->str);
}

/*
 * A job from a stream entry [id, [field, value, ...]]: 1 when it is a valid
 * job, 0 otherwise (job->id is set whenever the entry has an id).
 */
int
jobs_parse(const redisReply *e, Job *job)
{
	char		kind[16],
				part[16];
	char	   *end;
	long		n;

	memset(job, 0, sizeof(*job));
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

/* The progress hash of a run: run:<id>. */
void
jobs_progress_key(const char *run_id, char *out, size_t outlen)
{
	snprintf(out, outlen, "run:%s", run_id);
}

/* A decimal integer from a reply element (nil or garbage: 0). */
static long long
reply_number(const redisReply *e)
{
	return e && e->type == REDIS_REPLY_STRING ? atoll(e->str) : 0;
}

/*
 * A run's progress as the workers count it (comparisons done, total
 * comparisons, candidates); zeros when Redis has none, -1 when it fails.
 */
int
jobs_progress_read(const RedisUrl *u, redisContext **rc, int timeout_ms, const char *run_id,
				   long long *comparisons, long long *total, long long *candidates)
{
	char		key[64];
	const char *argv[] = {"HMGET", key, JOBS_PROGRESS_COMPARISONS, JOBS_PROGRESS_TOTAL,
	JOBS_PROGRESS_CANDIDATES};
	redisReply *r;

	jobs_progress_key(run_id, key, sizeof(key));
	r = redis_url_command(u, rc, timeout_ms, 5, argv);
	*comparisons = *total = *candidates = 0;
	if (!r || r->type == REDIS_REPLY_ERROR)
	{
		freeReplyObject(r);
		return -1;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3)
	{
		*comparisons = reply_number(r->element[0]);
		*total = reply_number(r->element[1]);
		*candidates = reply_number(r->element[2]);
	}
	freeReplyObject(r);
	return 0;
}

/*
 * Set (add = 0) or add to (add = 1) one progress field of a run, then keep
 * the hash 30 days.  The field's new value (best effort: 0 when Redis fails).
 */
long long
jobs_progress_update(const RedisUrl *u, redisContext **rc, int timeout_ms, const char *run_id,
					 const char *field_name, long long value, int add)
{
	char		key[64],
				v[32];
	const char *set[] = {add ? "HINCRBY" : "HSET", key, field_name, v};
	const char *ttl[] = {"EXPIRE", key, PROGRESS_TTL};
	redisReply *r;
	long long	now = add ? 0 : value;

	jobs_progress_key(run_id, key, sizeof(key));
	snprintf(v, sizeof(v), "%lld", value);
	r = redis_url_command(u, rc, timeout_ms, 4, set);
	if (add && r && r->type == REDIS_REPLY_INTEGER)
		now = r->integer;
	freeReplyObject(r);
	freeReplyObject(redis_url_command(u, rc, timeout_ms, 3, ttl));
	return now;
}
