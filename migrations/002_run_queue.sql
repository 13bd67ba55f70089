-- 002_run_queue.sql: queueing runs once every party has uploaded.
--
-- A run is created in state 'created'.  When the last party's upload
-- commits (or a run is posted after that), service_queue_ready_runs()
-- checks the parties' encoding sizes as upstream does at run start, and
-- either fails the waiting runs with upstream's messages or moves them to
-- 'queued' and returns them for the caller to append to the job queue.
-- `enqueued` records that a run's job was handed to the queue, so a run
-- whose hand-over failed (Redis down) is found and handed over again.

ALTER TABLE runs ADD COLUMN enqueued boolean NOT NULL DEFAULT false;
-- comparisons the run made (reported in its status once completed)
ALTER TABLE runs ADD COLUMN total_comparisons bigint;
CREATE INDEX runs_not_enqueued ON runs (project_id) WHERE state = 'queued' AND NOT enqueued;

CREATE FUNCTION service_queue_ready_runs(pid char(48), min_size int, max_size int)
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
	RETURN QUERY
		UPDATE runs r SET state = 'queued', stage = 2, enqueued = true
		 WHERE r.project_id = pid
		   AND (r.state = 'created' OR (r.state = 'queued' AND NOT r.enqueued))
		RETURNING r.run_id;
END $$;
COMMENT ON FUNCTION service_queue_ready_runs(char, int, int) IS
	'queue (or fail, on bad encoding sizes) the runs of a project whose parties have all uploaded';

-- Each party's partition defaults its project_id and dp_index, so that an
-- upload's COPY sends only (row_id, clk, blocks).
CREATE OR REPLACE FUNCTION service_add_project_partitions(pid char(48), nparties int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF pid !~ '^[0-9a-f]{48}$' THEN
		RAISE EXCEPTION 'invalid project id' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('CREATE TABLE %I PARTITION OF encodings FOR VALUES IN (%L) PARTITION BY LIST (dp_index)',
				   'enc_' || pid, pid);
	FOR i IN 0 .. nparties - 1 LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF %I (PRIMARY KEY (row_id), '
					   'project_id DEFAULT %L, dp_index DEFAULT %s) FOR VALUES IN (%s)',
					   'enc_' || pid || '_' || i, 'enc_' || pid, pid, i, i);
	END LOOP;
END $$;
