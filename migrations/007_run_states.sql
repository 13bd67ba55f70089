-- 007_run_states.sql: the run state machine in one place.
--
-- Every change of a run's state is one of the functions below (with
-- service_queue_ready_runs, service_next_run and service_requeue_runs of
-- 006); the API and the workers call them and never write runs.state
-- themselves, so which program moves a run from which state to which is
-- written here once:
--
--   (none)    -> created    service_create_run          API, POST .../runs
--   created   -> queued     service_queue_ready_runs    API (upload, run post) or worker
--   created   -> error      service_queue_ready_runs    bad encoding sizes
--   queued    -> running    service_claim_run           worker, run job
--   running   -> completed  service_complete_run        worker, merge
--   queued/running -> error service_fail_run            worker (data cannot be matched, gave up)
--   any       -> (gone)     DELETE FROM runs            API, DELETE .../runs/{rid} or the project
--
-- A run's tasks go pending -> done once (service_complete_task), under the
-- run's row lock, only while the run is running.

-- A new run of a project without upload errors; false when it has some.
CREATE FUNCTION service_create_run(rid char(48), pid char(48), thr float8, run_name text, run_notes text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO runs (run_id, project_id, threshold, name, notes, type)
	SELECT rid, pid, thr, run_name, run_notes,
		   CASE WHEN p.result_type = 'similarity_scores' THEN 'no_mapping' ELSE 'default' END
	  FROM projects p
	 WHERE p.project_id = pid
	   AND NOT EXISTS (SELECT 1 FROM dataproviders d WHERE d.project_id = pid AND d.uploaded = 'error');
	RETURN FOUND;
END $$;

-- Take a queued (or already running: a retried job) run; false when it is
-- gone, finished or its project is being deleted.
CREATE FUNCTION service_claim_run(rid char(48)) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE runs r SET state = 'running', stage = 2, time_started = coalesce(r.time_started, now()),
					  last_activity = now()
	  FROM projects p
	 WHERE r.run_id = rid AND p.project_id = r.project_id
	   AND r.state IN ('queued', 'running') AND NOT p.marked_for_deletion;
	RETURN FOUND;
END $$;

-- Fail a run that is still queued or running, with its message; false when
-- it had already ended.
CREATE FUNCTION service_fail_run(rid char(48), msg text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE runs SET state = 'error', error_msg = msg, time_completed = now()
	 WHERE run_id = rid AND state IN ('queued', 'running');
	RETURN FOUND;
END $$;

-- Mark a task done with its object, only if the run is running and the
-- task pending, under the run's row lock (so of two tasks finishing at once
-- exactly one sees none left); false when this attempt lost.
CREATE FUNCTION service_complete_task(rid char(48), task int, key text, ncandidates bigint, nbytes bigint,
									  by_worker text, secs float8)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM runs WHERE run_id = rid AND state = 'running' FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE run_tasks SET state = 'done', object_key = key, candidates = ncandidates, bytes = nbytes,
						 worker = by_worker, seconds = secs, time_done = now()
	 WHERE run_id = rid AND part = task AND state = 'pending';
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE runs SET last_activity = now() WHERE run_id = rid;
	RETURN true;
END $$;

-- Complete a running run with its result objects (kinds, party indices,
-- keys and sizes, one element each) and record the comparison rate; false
-- when the run was not running any more (another attempt completed it, or
-- it failed or went).  All of it in the caller's one statement.
CREATE FUNCTION service_complete_run(rid char(48), comparisons bigint, final_stage smallint,
									 kinds text[], parties smallint[], keys text[], sizes bigint[],
									 rate bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE runs SET state = 'completed', stage = final_stage, time_completed = now(),
					total_comparisons = comparisons
	 WHERE run_id = rid AND state = 'running';
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO run_results (run_id, kind, dp_index, object_key, bytes)
	SELECT rid, o.kind, o.party, o.key, o.size
	  FROM unnest(kinds, parties, keys, sizes) AS o(kind, party, key, size)
	ON CONFLICT (run_id, kind, dp_index) DO UPDATE SET object_key = excluded.object_key, bytes = excluded.bytes;
	IF rate IS NOT NULL THEN
		INSERT INTO metrics (rate) VALUES (rate);
	END IF;
	RETURN true;
END $$;
