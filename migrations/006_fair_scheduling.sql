-- 006_fair_scheduling.sql: one project's many runs cannot hold up another's.
--
-- The job stream is first come, first served.  Two rules keep it fair:
--   * A project's runs are computed one at a time: of its queued runs only
--     the oldest is handed to the job queue (enqueued), and only while none
--     of its runs is enqueued or running; when that run ends, the next is
--     handed over (service_next_run, by the worker that ended it).
--   * A run has only as many task jobs in the stream as there are live
--     workers (run_tasks.queued); each finished task queues the next.
-- So another project's job waits behind at most one task per worker.

ALTER TABLE run_tasks ADD COLUMN queued boolean NOT NULL DEFAULT false;

-- Hand the project's next run to the queue, if it may go now: the oldest
-- queued run not handed over yet, when no run of the project is enqueued
-- or running.  Returns it (at most one row) for the caller to append.
CREATE FUNCTION service_next_run(project char(48)) RETURNS SETOF char(48)
LANGUAGE sql AS $$
	UPDATE runs r SET enqueued = true
	 WHERE r.run_id = (SELECT q.run_id FROM runs q WHERE q.project_id = $1 AND q.state = 'queued'
						AND NOT q.enqueued ORDER BY q.time_added, q.run_id LIMIT 1)
	   AND NOT EXISTS (SELECT 1 FROM runs a WHERE a.project_id = $1
						AND (a.state = 'running' OR (a.state = 'queued' AND a.enqueued)))
	RETURNING r.run_id
$$;

-- As in 002, except that the runs are queued in the database and only the
-- one that may go now is returned for the job queue (service_next_run).
CREATE OR REPLACE FUNCTION service_queue_ready_runs(pid char(48), min_size int, max_size int)
RETURNS SETOF char(48)
LANGUAGE plpgsql AS $$
DECLARE
	nparties	int;
	ndone		int;
	sizes		int[];
	msg			text;
BEGIN
	-- one caller at a time per project, seeing the others' commits
	SELECT p.parties INTO nparties FROM projects p WHERE p.project_id = pid FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT count(*) INTO ndone FROM dataproviders d WHERE d.project_id = pid AND d.uploaded = 'done';
	IF ndone < nparties THEN
		RETURN;
	END IF;
	SELECT array_agg(DISTINCT u.encoding_size) INTO sizes
	  FROM uploads u JOIN dataproviders d USING (dp_id)
	 WHERE d.project_id = pid AND u.state = 'ready';
	msg := CASE
		WHEN cardinality(sizes) IS DISTINCT FROM 1 THEN 'Mismatch in encoding sizes. Stopping'
		WHEN sizes[1] < min_size OR sizes[1] > max_size THEN 'Encoding size out of configured bounds'
		WHEN sizes[1] % 8 <> 0 THEN 'Encoding size must be multiple of 8 bytes (64 bits)'
	END;
	IF msg IS NOT NULL THEN
		UPDATE runs r SET state = 'error', error_msg = msg, time_completed = now()
		 WHERE r.project_id = pid AND r.state = 'created';
		RETURN;
	END IF;
	UPDATE projects p SET encoding_size = sizes[1] WHERE p.project_id = pid AND p.encoding_size IS NULL;
	UPDATE runs r SET state = 'queued', stage = 2, enqueued = false
	 WHERE r.project_id = pid AND r.state = 'created';
	RETURN QUERY SELECT * FROM service_next_run(pid);
END $$;

-- Runs to hand to the queue again (each returned once: their activity is
-- touched): those enqueued or running without a sign of work for
-- stall_seconds (their job was lost, say Redis lost its data; 0: all of
-- them, when that loss is known), and the next run of every project that
-- has queued runs but none enqueued or running (its hand-over was lost).
CREATE FUNCTION service_requeue_runs(stall_seconds int)
RETURNS TABLE (run_id char(48), project_id char(48), lsn text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	p record;
BEGIN
	RETURN QUERY
		UPDATE runs r SET last_activity = now(), enqueued = true FROM projects j
		 WHERE j.project_id = r.project_id AND NOT j.marked_for_deletion
		   AND (r.state = 'running' OR (r.state = 'queued' AND r.enqueued))
		   AND coalesce(r.last_activity, r.time_started, r.time_added)
			   <= now() - make_interval(secs => stall_seconds)
		RETURNING r.run_id, r.project_id, pg_current_wal_lsn()::text;
	FOR p IN SELECT DISTINCT q.project_id FROM runs q JOIN projects j USING (project_id)
			  WHERE q.state = 'queued' AND NOT q.enqueued AND NOT j.marked_for_deletion LOOP
		RETURN QUERY SELECT n, p.project_id, pg_current_wal_lsn()::text FROM service_next_run(p.project_id) n;
	END LOOP;
END $$;
