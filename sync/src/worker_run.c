/*
 * worker_run.c
 *	  One run job: claim it on the primary (queued/running -> running; a run
 *	  that is gone, completed or failed is simply acknowledged), wait until
 *	  the replica has replayed the primary's WAL position from the job,
 *	  compute with pg_pprl on the replica, write the result objects under a
 *	  fresh attempt prefix, then in one primary transaction mark the run
 *	  completed and record the objects, only if it is still running: a
 *	  retried or duplicated job therefore completes a run exactly once, and
 *	  a losing attempt removes its own objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../api/src/api_token.h"
#include "worker.h"
#include "worker_out.h"

#define MAX_OBJECTS 70			/* permutations: two parties + mask */

/* A result object written by this attempt. */
typedef struct ResultObject
{
	const char *kind;
	int			dp_index;
	char		key[200];
	long long	bytes;
} ResultObject;

/* The run being computed. */
typedef struct Run
{
	const WorkerJob *job;
	double		threshold;
	char		threshold_text[32];
	char		result_type[24];
	int			parties;
	int			stages;
	char		datasets[64 * 60];	/* {enc_<pid>_0,...} for $1::regclass[] */
	char		prefix[160];	/* results/<pid>/<rid>/<attempt>/ */
	ResultObject objects[MAX_OBJECTS];
	int			nobjects;
	long long	comparisons;
	char		error[512];
	int			lost;			/* a connection failed: retry later */
} Run;

/* A usable connection to url in *c (reconnecting); 0 when there is one. */
static int
connect_db(PGconn **c, const char *url)
{
	if (*c && PQstatus(*c) == CONNECTION_OK)
		return 0;
	if (*c)
		PQfinish(*c);
	*c = PQconnectdb(url);
	return PQstatus(*c) == CONNECTION_OK ? 0 : -1;
}

/* Run a statement; NULL unless it gave `want` (message into run->error). */
static PGresult *
query(Run *run, PGconn *c, const char *sql, int n, const char *const *p, ExecStatusType want)
{
	PGresult   *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) == want)
		return r;
	snprintf(run->error, sizeof(run->error), "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
			 ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(c));
	if (PQstatus(c) != CONNECTION_OK)
		run->lost = 1;
	PQclear(r);
	return NULL;
}

/* Claim the run on the primary; 1 claimed, 0 nothing to do, -1 failure. */
static int
claim(Worker *w, Run *run)
{
	const char *p[1] = {run->job->run_id};
	PGresult   *r = query(run, w->primary,
						  "UPDATE runs r SET state = 'running', stage = 2, "
						  "time_started = coalesce(r.time_started, now()) FROM projects p "
						  "WHERE r.run_id = $1 AND p.project_id = r.project_id "
						  "AND r.state IN ('queued', 'running') AND NOT p.marked_for_deletion "
						  "RETURNING r.threshold::text, p.result_type, p.parties, "
						  "CASE WHEN r.type = 'no_mapping' THEN 2 ELSE 3 END", 1, p, PGRES_TUPLES_OK);
	int			got;

	if (!r)
		return -1;
	got = PQntuples(r) == 1;
	if (got)
	{
		snprintf(run->threshold_text, sizeof(run->threshold_text), "%s", PQgetvalue(r, 0, 0));
		run->threshold = atof(run->threshold_text);
		snprintf(run->result_type, sizeof(run->result_type), "%s", PQgetvalue(r, 0, 1));
		run->parties = atoi(PQgetvalue(r, 0, 2));
		run->stages = atoi(PQgetvalue(r, 0, 3));
	}
	PQclear(r);
	return got;
}

/*
 * Wait (bounded) until the database matched on has replayed the primary's
 * WAL position from the job; at once on the primary itself.
 */
static int
wait_replay(Worker *w, Run *run)
{
	const char *p[1] = {run->job->lsn[0] ? run->job->lsn : "0/0"};
	time_t		deadline = time(NULL) + w->replay_wait_s;

	for (;;)
	{
		PGresult   *r = query(run, w->read, "SELECT NOT pg_is_in_recovery() OR "
							  "coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", 1, p,
							  PGRES_TUPLES_OK);
		int			caught_up;

		if (!r)
			return -1;
		caught_up = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (caught_up)
			return 0;
		if (time(NULL) >= deadline || worker_stopping)
		{
			snprintf(run->error, sizeof(run->error), "the replica did not replay WAL position %s "
					 "within %d s", p[0], w->replay_wait_s);
			run->lost = 1;		/* another worker's replica may be current */
			return -1;
		}
		usleep(100 * 1000);
	}
}

/* Stream a query's rows (single-row mode) to fn; -1 with run->error on failure. */
static int
stream_rows(Run *run, PGconn *c, const char *sql, int n, const char *const *p,
			void (*fn) (void *arg, PGresult *row), void *arg)
{
	PGresult   *r;
	int			ok = 1;

	if (!PQsendQueryParams(c, sql, n, NULL, p, NULL, NULL, 0) || !PQsetSingleRowMode(c))
	{
		snprintf(run->error, sizeof(run->error), "%s", PQerrorMessage(c));
		run->lost = PQstatus(c) != CONNECTION_OK;
		return -1;
	}
	while ((r = PQgetResult(c)) != NULL)
	{
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE)
			fn(arg, r);
		else if (PQresultStatus(r) != PGRES_TUPLES_OK && ok)
		{
			ok = 0;
			snprintf(run->error, sizeof(run->error), "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
					 ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(c));
			run->lost = PQstatus(c) != CONNECTION_OK;
		}
		PQclear(r);
	}
	return ok ? 0 : -1;
}

/*
 * Begin a result object of this attempt; slot 1 begins a second one beside
 * the one in slot 0 (commit them in order: each commit takes slot 0).
 */
static WorkerOut *
begin_object_in(Worker *w, Run *run, int slot, const char *kind, int dp_index, const char *name)
{
	ResultObject *o = &run->objects[run->nobjects + slot];
	WorkerOut  *out;

	snprintf(o->key, sizeof(o->key), "%s%s", run->prefix, name);
	o->kind = kind;
	o->dp_index = dp_index;
	out = worker_out_begin(w->store, o->key);
	if (!out)
	{
		snprintf(run->error, sizeof(run->error), "object store unavailable");
		run->lost = 1;
	}
	return out;
}

/* Begin the one result object being written. */
static WorkerOut *
begin_object(Worker *w, Run *run, const char *kind, int dp_index, const char *name)
{
	return begin_object_in(w, run, 0, kind, dp_index, name);
}

/* Commit the object in slot 0. */
static int
commit_object(Run *run, WorkerOut *out)
{
	ResultObject *o = &run->objects[run->nobjects];

	if (worker_out_commit(out, &o->bytes, run->error, sizeof(run->error)) != 0)
	{
		run->lost = 1;
		return -1;
	}
	run->nobjects++;
	return 0;
}

/*
 * similarity_scores: [[[ds_a, row_a], [ds_b, row_b], score], ...] in
 * anonlink's order, and beside it the same pairs in anonlink's binary
 * candidate-pair format (anonlink.serialization, version 1): a header of
 * four bytes (version, then the sizes of a score, a dataset index and a
 * record index: 8, 4, 4), then per pair the score as a little-endian
 * double, the two dataset indices and the two record indices as
 * little-endian uint32.
 */
typedef struct ScoresOut
{
	WorkerOut  *out;
	WorkerOut  *bin;
	long long	n;
} ScoresOut;

/* Little-endian bytes of v (n of them) at p. */
static void
put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char) (v >> (8 * i));
}

static void
score_row(void *arg, PGresult *r)
{
	ScoresOut  *s = arg;
	unsigned char e[24];
	double		score = strtod(PQgetvalue(r, 0, 0), NULL);
	uint64_t	bits;

	worker_out_fmt(s->out, "%s[[%s,%s],[%s,%s],%s]", s->n++ ? "," : "", PQgetvalue(r, 0, 1),
				   PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 0));
	memcpy(&bits, &score, sizeof(bits));
	put_le(e, bits, 8);
	put_le(e + 8, strtoull(PQgetvalue(r, 0, 1), NULL, 10), 4);
	put_le(e + 12, strtoull(PQgetvalue(r, 0, 3), NULL, 10), 4);
	put_le(e + 16, strtoull(PQgetvalue(r, 0, 2), NULL, 10), 4);
	put_le(e + 20, strtoull(PQgetvalue(r, 0, 4), NULL, 10), 4);
	worker_out_bytes(s->bin, e, sizeof(e));
}

static int
compute_scores(Worker *w, Run *run)
{
	static const unsigned char header[4] = {1, 8, 4, 4};
	const char *p[2] = {run->datasets, run->threshold_text};
	ScoresOut	s = {begin_object_in(w, run, 0, "similarity_scores", -1, "similarity_scores.json"),
	NULL, 0};

	if (!s.out)
		return -1;
	if (!(s.bin = begin_object_in(w, run, 1, "similarity_scores_binary", -1, "similarity_scores.bin")))
	{
		worker_out_abort(s.out);
		return -1;
	}
	worker_out_str(s.out, "{\"similarity_scores\":[");
	worker_out_bytes(s.bin, header, sizeof(header));
	if (stream_rows(run, w->read, "SELECT score, ds_a, row_a, ds_b, row_b FROM "
					"pprl_candidates($1::regclass[], $2::float8)", 2, p, score_row, &s) != 0)
	{
		worker_out_abort(s.out);
		worker_out_abort(s.bin);
		return -1;
	}
	worker_out_str(s.out, "]}");
	if (commit_object(run, s.out) != 0)
	{
		worker_out_abort(s.bin);
		return -1;
	}
	return commit_object(run, s.bin);
}

/* groups: [[[ds, row], ...], ...], one group of two or more per element. */
typedef struct GroupsOut
{
	WorkerOut  *out;
	char		current[32];
	long long	n;
} GroupsOut;

static void
group_row(void *arg, PGresult *r)
{
	GroupsOut  *g = arg;
	const char *id = PQgetvalue(r, 0, 0);
	int			same = g->n > 0 && strcmp(id, g->current) == 0;

	/* a new group closes the last one's member and the group itself */
	worker_out_fmt(g->out, "%s%s,%s", same ? "],[" : g->n ? "]],[[" : "[[",
				   PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	snprintf(g->current, sizeof(g->current), "%s", id);
	g->n++;
}

static int
compute_groups(Worker *w, Run *run)
{
	const char *p[2] = {run->datasets, run->threshold_text};
	GroupsOut	g = {begin_object(w, run, "groups", -1, "groups.json"), "", 0};

	if (!g.out)
		return -1;
	worker_out_str(g.out, "{\"groups\":[");
	if (stream_rows(run, w->read, "SELECT group_id, ds, row_id FROM "
					"pprl_greedy_groups($1::regclass[], $2::float8) ORDER BY group_id, ds, row_id",
					2, p, group_row, &g) != 0)
	{
		worker_out_abort(g.out);
		return -1;
	}
	worker_out_str(g.out, g.n ? "]]]}" : "]}");
	return commit_object(run, g.out);
}

/*
 * permutations: each party's {"permutation": [new position by row],
 * "rows": min size} and the mask {"mask": [0/1 by position]} of the
 * smaller party, from pprl_permutations (rows come ordered by party, row).
 */
typedef struct PermOut
{
	Worker	   *w;
	Run		   *run;
	WorkerOut  *out;
	int			ds;				/* party being written, -1 before the first */
	long long	n[2];
	int			small;
	unsigned char *mask;
	long long	in_party;
	int			failed;
} PermOut;

/* Close the party object being written. */
static void
perm_close(PermOut *pm)
{
	if (pm->out)
	{
		worker_out_fmt(pm->out, "],\"rows\":%lld}", pm->n[pm->small]);
		if (commit_object(pm->run, pm->out) != 0)
			pm->failed = 1;
		pm->out = NULL;
	}
}

static void
perm_row(void *arg, PGresult *r)
{
	PermOut    *pm = arg;
	int			ds = atoi(PQgetvalue(r, 0, 0));
	long long	pos = atoll(PQgetvalue(r, 0, 2));
	char		name[32];

	if (pm->failed || ds < 0 || ds > 1)
		return;
	if (ds != pm->ds)
	{
		perm_close(pm);
		pm->ds = ds;
		pm->in_party = 0;
		snprintf(name, sizeof(name), "permutation-%d.json", ds);
		if (!(pm->out = begin_object(pm->w, pm->run, "permutation", ds, name)))
		{
			pm->failed = 1;
			return;
		}
		worker_out_str(pm->out, "{\"permutation\":[");
	}
	worker_out_fmt(pm->out, "%s%lld", pm->in_party++ ? "," : "", pos);
	if (ds == pm->small && pos >= 0 && pos < pm->n[pm->small] && PQgetvalue(r, 0, 3)[0] == 't')
		pm->mask[pos] = 1;
}

static int
compute_permutations(Worker *w, Run *run)
{
	const char *p[2] = {run->datasets, run->threshold_text};
	const char *q[1] = {run->job->project_id};
	PGresult   *r = query(run, w->read, "SELECT count(*) FILTER (WHERE dp_index = 0), "
							"count(*) FILTER (WHERE dp_index = 1) FROM encodings WHERE project_id = $1",
							1, q, PGRES_TUPLES_OK);
	PermOut		pm;
	WorkerOut  *out;
	int			rc;

	if (!r)
		return -1;
	memset(&pm, 0, sizeof(pm));
	pm.w = w;
	pm.run = run;
	pm.ds = -1;
	pm.n[0] = atoll(PQgetvalue(r, 0, 0));
	pm.n[1] = atoll(PQgetvalue(r, 0, 1));
	PQclear(r);
	pm.small = pm.n[0] <= pm.n[1] ? 0 : 1;
	if (!(pm.mask = calloc((size_t) pm.n[pm.small] + 1, 1)))
	{
		snprintf(run->error, sizeof(run->error), "out of memory");
		return -1;
	}
	rc = stream_rows(run, w->read, "SELECT ds, row_id, position, matched FROM "
					 "pprl_permutations($1::regclass[], $2::float8)", 2, p, perm_row, &pm);
	perm_close(&pm);
	if (rc != 0 || pm.failed)
	{
		worker_out_abort(pm.out);
		free(pm.mask);
		return -1;
	}
	if (!(out = begin_object(w, run, "mask", -1, "mask.json")))
	{
		free(pm.mask);
		return -1;
	}
	worker_out_str(out, "{\"mask\":[");
	for (long long i = 0; i < pm.n[pm.small]; i++)
		worker_out_str(out, i ? (pm.mask[i] ? ",1" : ",0") : (pm.mask[i] ? "1" : "0"));
	worker_out_str(out, "]}");
	free(pm.mask);
	return commit_object(run, out);
}

/* Comparisons the run makes: over common blocks, every pair of parties. */
static long long
count_comparisons(Worker *w, Run *run)
{
	const char *p[1] = {run->job->project_id};
	PGresult   *r = query(run, w->read,
						  "WITH b AS (SELECT dp_index, blk, count(*) AS n FROM encodings, "
						  "unnest(blocks) AS blk WHERE project_id = $1 GROUP BY 1, 2) "
						  "SELECT coalesce(sum(x.n * y.n), 0) FROM b x JOIN b y "
						  "ON x.blk = y.blk AND x.dp_index < y.dp_index", 1, p, PGRES_TUPLES_OK);
	long long	n = r ? atoll(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	return n;
}

/* Remove this attempt's objects (it failed, or lost the race to another). */
static void
remove_objects(Worker *w, Run *run)
{
	char		err[256];

	store_remove_prefix(w->store, run->prefix, err, sizeof(err));
}

/*
 * Record the outcome on the primary, only if the run is still running:
 * completed with its objects, or error with its message.  0 when the
 * outcome is recorded (or another attempt's is).
 */
static int
record(Worker *w, Run *run, int ok, double seconds)
{
	char		cmp[32],
				stage[8];
	const char *p[4] = {run->job->run_id, cmp, stage, run->error};
	PGresult   *r;
	int			won;

	snprintf(cmp, sizeof(cmp), "%lld", run->comparisons);
	snprintf(stage, sizeof(stage), "%d", run->stages);
	if (!ok)
	{
		remove_objects(w, run);
		r = query(run, w->primary, "UPDATE runs SET state = 'error', error_msg = $2, "
				  "time_completed = now() WHERE run_id = $1 AND state = 'running'", 2,
				  (const char *const[]) {run->job->run_id, run->error}, PGRES_COMMAND_OK);
		PQclear(r);
		return r ? 0 : -1;
	}
	if (!(r = query(run, w->primary, "BEGIN", 0, NULL, PGRES_COMMAND_OK)))
		return -1;
	PQclear(r);
	r = query(run, w->primary, "UPDATE runs SET state = 'completed', stage = $3::smallint, "
			  "time_completed = now(), total_comparisons = $2::bigint "
			  "WHERE run_id = $1 AND state = 'running'", 3, p, PGRES_COMMAND_OK);
	won = r && strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	for (int i = 0; won && i < run->nobjects; i++)
	{
		char		idx[16],
					bytes[32];
		const char *q[5] = {run->job->run_id, run->objects[i].kind, idx, run->objects[i].key, bytes};

		snprintf(idx, sizeof(idx), "%d", run->objects[i].dp_index);
		snprintf(bytes, sizeof(bytes), "%lld", run->objects[i].bytes);
		r = query(run, w->primary, "INSERT INTO run_results (run_id, kind, dp_index, object_key, bytes) "
				  "VALUES ($1, $2, $3::smallint, $4, $5::bigint) ON CONFLICT (run_id, kind, dp_index) "
				  "DO UPDATE SET object_key = excluded.object_key, bytes = excluded.bytes",
				  5, q, PGRES_COMMAND_OK);
		won = r != NULL;
		PQclear(r);
	}
	if (won && seconds > 0)
	{
		char		rate[32];
		const char *q[1] = {rate};

		snprintf(rate, sizeof(rate), "%.0f", (double) run->comparisons / seconds);
		PQclear(query(run, w->primary, "INSERT INTO metrics (rate) VALUES ($1::bigint)", 1, q,
					  PGRES_COMMAND_OK));
	}
	r = query(run, w->primary, won ? "COMMIT" : "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
	PQclear(r);
	if (!won || !r)
		remove_objects(w, run);
	return r ? 0 : -1;
}

/* Do one run job; DONE means acknowledge it. */
WorkerOutcome
worker_run(Worker *w, const WorkerJob *job)
{
	Run		   *run = calloc(1, sizeof(Run));
	char		attempt[API_TOKEN_HEX + 1];
	struct timespec t0,
				t1;
	int			ok,
				claimed;
	WorkerOutcome outcome = WORKER_DONE;

	if (!run)
		return WORKER_RETRY;
	run->job = job;
	if (connect_db(&w->primary, w->primary_url) != 0 || connect_db(&w->read, w->read_url) != 0)
	{
		free(run);
		return WORKER_RETRY;
	}
	claimed = claim(w, run);
	if (claimed <= 0)
	{
		free(run);
		return claimed == 0 ? WORKER_DONE : WORKER_RETRY;
	}
	api_token_new(attempt);
	snprintf(run->prefix, sizeof(run->prefix), "results/%s/%s/%.16s/", job->project_id, job->run_id, attempt);
	{
		size_t		off = (size_t) snprintf(run->datasets, sizeof(run->datasets), "{");

		for (int i = 0; i < run->parties && i < 64; i++)
			off += (size_t) snprintf(run->datasets + off, sizeof(run->datasets) - off, "%senc_%s_%d",
									 i ? "," : "", job->project_id, i);
		snprintf(run->datasets + off, sizeof(run->datasets) - off, "}");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok = wait_replay(w, run) == 0 && (run->comparisons = count_comparisons(w, run)) >= 0;
	if (ok)
	{
		worker_queue_progress(w, job->run_id, "total", run->comparisons);
		worker_queue_progress(w, job->run_id, "comparisons", 0);
		ok = (strcmp(run->result_type, "similarity_scores") == 0 ? compute_scores(w, run)
			  : strcmp(run->result_type, "permutations") == 0 ? compute_permutations(w, run)
			  : compute_groups(w, run)) == 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ok)
		worker_queue_progress(w, job->run_id, "comparisons", run->comparisons);
	if (!ok && (run->lost || worker_stopping))
	{
		/* not the run's fault: leave the job for a retry */
		remove_objects(w, run);
		outcome = WORKER_RETRY;
	}
	else if (record(w, run, ok, (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9) != 0)
		outcome = WORKER_RETRY;
	free(run);
	return outcome;
}
