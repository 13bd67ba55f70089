/*
 * worker_merge.c
 *	  A merge job: once every task of a run is done, fetch the parts'
 *	  sorted candidates from the object store into scratch files (each part
 *	  once, streamed), merge them in anonlink's order with a heap (dropping
 *	  the copies of a pair that shares blocks in two parts), feed the sink
 *	  for the run's result type, and complete the run exactly once
 *	  (worker_result.c).  Then the parts are removed.  Memory stays bounded
 *	  by the number of parts and the solver's per-record state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker_sink.h"

/* One part being merged: its scratch file and its next candidate. */
typedef struct Source
{
	FILE	   *f;
	WorkerCand head;
} Source;

/* The merge's inputs. */
typedef struct Merge
{
	Source	   *src;
	int			nsrc;
	int		   *heap;			/* source indices, smallest head first */
	int			nheap;
	double		task_seconds;
	long long	comparisons;
} Merge;

/* Read the next candidate of a source; 0 at its end. */
static int
source_next(Source *s)
{
	if (fread(s->head.raw, 1, sizeof(s->head.raw), s->f) != sizeof(s->head.raw))
		return 0;
	s->head.score = candfmt_unpack(s->head.raw, &s->head.c);
	return 1;
}

/* Whether source x's head comes before y's in anonlink's order. */
static int
cand_less(const WorkerCand *x, const WorkerCand *y)
{
	return match_cand_less(&x->c, &y->c);
}

/* Restore the heap below position i. */
static void
sift_down(Merge *m, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					best = i,
					t;

		if (l < m->nheap && cand_less(&m->src[m->heap[l]].head, &m->src[m->heap[best]].head))
			best = l;
		if (l + 1 < m->nheap && cand_less(&m->src[m->heap[l + 1]].head, &m->src[m->heap[best]].head))
			best = l + 1;
		if (best == i)
			return;
		t = m->heap[i];
		m->heap[i] = m->heap[best];
		m->heap[best] = t;
		i = best;
	}
}

/* Append fetched bytes to a scratch file. */
static int
to_file(void *arg, const void *data, size_t len)
{
	return fwrite(data, 1, len, (FILE *) arg) == len ? 0 : -1;
}

/* A scratch file in dir, gone from the file system once closed. */
static FILE *
scratch(const char *dir)
{
	char		path[512];
	int			fd;
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/pprl-merge-XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	unlink(path);
	if (!(f = fdopen(fd, "w+b")))
		close(fd);
	return f;
}

/*
 * Fetch every part (in part order) into a scratch file and check its
 * header; 0 when all are ready.
 */
static int
fetch_parts(Worker *w, WorkerRun *run, Merge *m, PGresult *tasks)
{
	m->nsrc = PQntuples(tasks);
	m->src = calloc((size_t) m->nsrc + 1, sizeof(Source));
	m->heap = calloc((size_t) m->nsrc + 1, sizeof(int));
	if (!m->src || !m->heap)
	{
		snprintf(run->error, sizeof(run->error), "out of memory");
		return -1;
	}
	for (int i = 0; i < m->nsrc; i++)
	{
		unsigned char header[CANDFMT_HEADER_BYTES];
		char		err[256];

		m->comparisons += atoll(PQgetvalue(tasks, i, 2));
		m->task_seconds += atof(PQgetvalue(tasks, i, 3));
		if (!(m->src[i].f = scratch(w->tmpdir)))
		{
			snprintf(run->error, sizeof(run->error), "cannot create a scratch file in %s", w->tmpdir);
			run->lost = 1;
			return -1;
		}
		if (store_get(w->store, PQgetvalue(tasks, i, 1), to_file, m->src[i].f, err, sizeof(err)) != 0 ||
			fflush(m->src[i].f) != 0)
		{
			snprintf(run->error, sizeof(run->error), "fetching part %d: %s", i, err);
			run->lost = 1;
			return -1;
		}
		rewind(m->src[i].f);
		if (fread(header, 1, sizeof(header), m->src[i].f) != sizeof(header) || !candfmt_header_ok(header))
		{
			snprintf(run->error, sizeof(run->error), "part %d is not a candidate file", i);
			return -1;
		}
		if (source_next(&m->src[i]))
			m->heap[m->nheap++] = i;
	}
	for (int i = m->nheap / 2 - 1; i >= 0; i--)
		sift_down(m, i);
	return 0;
}

/*
 * Feed every candidate once, in order, to the sink; 0 when all went in.
 * Now and then it renews its hold on the job (a long merge is not a dead
 * worker) and gives up when the worker is stopping.
 */
static int
merge_into(Worker *w, WorkerRun *run, Merge *m, WorkerSink *sink)
{
	WorkerCand last;
	int			has_last = 0;
	unsigned long n = 0;
	time_t		touched = time(NULL);

	while (m->nheap > 0)
	{
		Source	   *s = &m->src[m->heap[0]];

		if (!has_last || memcmp(last.raw, s->head.raw, sizeof(last.raw)) != 0)
		{
			if (worker_sink_add(sink, &s->head) != 0)
				return -1;
			last = s->head;
			has_last = 1;
		}
		if (!source_next(s))
			m->heap[0] = m->heap[--m->nheap];
		if (m->nheap > 0)
			sift_down(m, 0);
		if ((++n & 0xffff) == 0)
		{
			if (worker_stopping)
			{
				snprintf(run->error, sizeof(run->error), "stopping");
				run->lost = 1;
				return -1;
			}
			worker_heartbeat();
			if (time(NULL) - touched >= w->claim_idle_ms / 3000)
			{
				worker_queue_touch(w, run->job);
				touched = time(NULL);
			}
		}
	}
	return 0;
}

/* Close the scratch files and free the merge. */
static void
merge_free(Merge *m)
{
	for (int i = 0; m->src && i < m->nsrc; i++)
		if (m->src[i].f)
			fclose(m->src[i].f);
	free(m->src);
	free(m->heap);
}

/* The parties' sizes (records uploaded), for the solver; 0 when all are known. */
static int
party_sizes(Worker *w, WorkerRun *run, uint32_t *sizes)
{
	const char *p[1] = {run->job->project_id};
	PGresult   *r = worker_db_query(run, w->primary,
									"SELECT d.dp_index, u.count FROM dataproviders d JOIN uploads u USING (dp_id) "
									"WHERE d.project_id = $1 AND u.state = 'ready' ORDER BY d.dp_index",
									1, p, PGRES_TUPLES_OK);
	int			n;

	if (!r)
		return -1;
	n = PQntuples(r);
	for (int i = 0; i < n && i < run->parties; i++)
		sizes[i] = (uint32_t) atoll(PQgetvalue(r, i, 1));
	PQclear(r);
	if (n != run->parties)
	{
		snprintf(run->error, sizeof(run->error), "%d of %d parties have an upload", n, run->parties);
		return -1;
	}
	return 0;
}

/* The run's tasks if all are done (NULL otherwise, or on failure). */
static PGresult *
done_tasks(Worker *w, WorkerRun *run)
{
	const char *p[1] = {run->job->run_id};
	PGresult   *r = worker_db_query(run, w->primary,
									"SELECT part, object_key, comparisons, coalesce(seconds, 0), state "
									"FROM run_tasks WHERE run_id = $1 ORDER BY part", 1, p, PGRES_TUPLES_OK);

	for (int i = 0; r && i < PQntuples(r); i++)
		if (strcmp(PQgetvalue(r, i, 4), "done") != 0)
		{
			PQclear(r);
			return NULL;
		}
	return r;
}

/* Do one merge job; DONE means acknowledge it. */
WorkerOutcome
worker_merge(Worker *w, WorkerRun *run)
{
	uint32_t	sizes[WORKER_MAX_PARTIES];
	WorkerResults res;
	WorkerSink *sink;
	Merge		m;
	PGresult   *tasks;
	struct timespec t0,
				t1;
	int			got,
				ok;
	const char *p[2] = {run->job->run_id, NULL};

	if ((got = worker_db_load_run(w, run)) <= 0)
		return got == 0 ? WORKER_DONE : WORKER_RETRY;
	if (strcmp(run->state, "running") != 0 || run->parts <= 0)
		return WORKER_DONE;
	if (!(tasks = done_tasks(w, run)))
		return run->lost ? WORKER_RETRY : WORKER_DONE;	/* the last task queues the merge */
	if (party_sizes(w, run, sizes) != 0)
	{
		PQclear(tasks);
		return run->lost ? WORKER_RETRY : worker_state_fail(w, run) == 0 ? WORKER_DONE : WORKER_RETRY;
	}
	p[1] = run->stages == 3 ? "3" : "2";
	worker_state_stage(w, run, p[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&m, 0, sizeof(m));
	worker_results_init(&res, w, run);
	ok = fetch_parts(w, run, &m, tasks) == 0;
	PQclear(tasks);
	if (ok && !(sink = worker_sink_open(&res, sizes, run->parties)))
		ok = 0;
	if (ok)
	{
		ok = merge_into(w, run, &m, sink) == 0;
		ok = worker_sink_close(sink, ok) == 0 && ok;
	}
	merge_free(&m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ok)
	{
		worker_results_discard(&res);
		if (run->lost || worker_stopping)
			return WORKER_RETRY;
		return worker_state_fail(w, run) == 0 ? WORKER_DONE : WORKER_RETRY;
	}
	res.comparisons = m.comparisons;
	if (worker_results_record(&res, m.task_seconds + (double) (t1.tv_sec - t0.tv_sec) +
							  (t1.tv_nsec - t0.tv_nsec) / 1e9) != 0)
		return WORKER_RETRY;
	worker_remove_objects(w, run->job, "parts/");
	worker_state_next_run(w, run);
	return WORKER_DONE;
}
