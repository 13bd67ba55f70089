-- 004_run_tasks.sql: a run split into tasks that many workers share.
--
-- The worker that takes a run's job plans it: it cuts the comparisons into
-- `parts` tasks of roughly equal size (pprl_parts), records them here and
-- queues one job per task.  Each task's sorted candidates go to the object
-- store; the worker that finishes the last task queues the merge, which
-- merges the parts in order, solves and writes the results.  Completing a
-- task is recorded once (state pending -> done, under the run's row lock),
-- so a retried or duplicated task job changes nothing.

ALTER TABLE runs ADD COLUMN parts integer CHECK (parts > 0);
-- last sign of work on the run (planned, a task done); a queued or running
-- run that shows none for long is handed to the queue again
ALTER TABLE runs ADD COLUMN last_activity timestamptz;

CREATE TABLE run_tasks (
	run_id			char(48) NOT NULL REFERENCES runs ON DELETE CASCADE,
	part			integer NOT NULL CHECK (part >= 0),
	comparisons		bigint NOT NULL CHECK (comparisons >= 0),
	state			text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
	object_key		text,		-- the task's candidates (anonlink's binary format)
	candidates		bigint,
	bytes			bigint,
	worker			text,		-- who did it, for the balance report
	seconds			float8,
	time_done		timestamptz,
	PRIMARY KEY (run_id, part)
);
COMMENT ON TABLE run_tasks IS 'the tasks of a run cut into parts, and where each part''s candidates are';
