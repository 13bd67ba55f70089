-- 005_party_tables_upload_sessions.sql: no lock that one project's work
-- holds can stall another's, and an upload's claim dies with its importer.
--
-- 1. Each party's encodings are a table of its own, enc_<project>_<index>
--    (row_id, clk, blocks), no longer a partition of `encodings`.  Writing
--    into a partition takes a lock on every ancestor, and creating or
--    dropping a partition needs an exclusive lock on the parent: one long
--    upload anywhere stalled every project creation and deletion, and a
--    waiting deletion stalled every upload behind it.  Standalone tables
--    are created and dropped touching nothing but themselves.
-- 2. upload_sessions: an upload in progress, named by the database backend
--    that imports it (pid and start time).  The party's claim is a row lock
--    taken inside the import's transaction, so it ends with that backend,
--    whatever happens to the API process; an upload whose backend is gone
--    left at most an unfinished object behind, which the API's janitor
--    removes (service_orphaned_uploads), and a project deletion cancels
--    the project's uploads through it.

DO $$
DECLARE
	p record;
	c record;
BEGIN
	FOR p IN SELECT inhrelid::regclass AS part FROM pg_inherits WHERE inhparent = 'encodings'::regclass LOOP
		FOR c IN SELECT inhrelid::regclass AS child FROM pg_inherits WHERE inhparent = p.part LOOP
			EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p.part, c.child);
			EXECUTE format('ALTER TABLE %s DROP COLUMN project_id, DROP COLUMN dp_index', c.child);
		END LOOP;
		EXECUTE format('DROP TABLE %s', p.part);
	END LOOP;
END $$;
DROP TABLE encodings;
DROP FUNCTION service_add_project_partitions(char, int);
DROP FUNCTION service_drop_project_partitions(char);

-- Create the tables of a new project's parties.  Names derive from the
-- (validated, hex) project id only.
CREATE FUNCTION service_add_party_tables(pid char(48), nparties int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF pid !~ '^[0-9a-f]{48}$' THEN
		RAISE EXCEPTION 'invalid project id' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR i IN 0 .. nparties - 1 LOOP
		EXECUTE format('CREATE TABLE %I (row_id bigint PRIMARY KEY, clk clk NOT NULL, blocks text[])',
					   'enc_' || pid || '_' || i);
	END LOOP;
END $$;
COMMENT ON FUNCTION service_add_party_tables(char, int) IS
	'create the encodings tables of a new project''s parties (a pprl_candidates dataset each)';

-- Drop a project's party tables (the rows of other tables cascade from
-- projects).  Waits for each table's lock as the caller's lock_timeout allows.
CREATE FUNCTION service_drop_party_tables(pid char(48)) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	IF pid !~ '^[0-9a-f]{48}$' THEN
		RAISE EXCEPTION 'invalid project id' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c
			  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
				AND c.relname ~ ('^enc_' || pid || '_[0-9]+$') LOOP
		EXECUTE format('DROP TABLE %s', t.rel);
	END LOOP;
END $$;
COMMENT ON FUNCTION service_drop_party_tables(char) IS 'drop the encodings tables of a project';

-- Claims are row locks now; an 'in_progress' row can only be left over
-- from a process that died with the old code.
UPDATE dataproviders SET uploaded = 'not_started' WHERE uploaded = 'in_progress';

CREATE TABLE upload_sessions (
	object_key		text PRIMARY KEY,
	project_id		char(48) NOT NULL,	-- no foreign key: outlives a deleted project
	dp_index		smallint NOT NULL,
	backend_pid		integer NOT NULL,
	backend_start	timestamptz NOT NULL,
	started			timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_sessions_project ON upload_sessions (project_id);
COMMENT ON TABLE upload_sessions IS 'uploads in progress, each named by the backend that imports it';

-- Start a session for the calling backend: the object it writes.
CREATE FUNCTION service_begin_upload(object text, project char(48), party int) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO upload_sessions (object_key, project_id, dp_index, backend_pid, backend_start)
	SELECT $1, $2, $3, a.pid, a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()
$$;

-- Sessions whose backend is gone (the upload died with it), taken: their
-- objects are the caller's to remove.  SKIP LOCKED: one janitor each.
CREATE FUNCTION service_orphaned_uploads() RETURNS SETOF text
LANGUAGE sql AS $$
	DELETE FROM upload_sessions s WHERE s.object_key IN (
		SELECT u.object_key FROM upload_sessions u
		 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
							WHERE a.pid = u.backend_pid AND a.backend_start = u.backend_start)
		   FOR UPDATE SKIP LOCKED)
	RETURNING s.object_key
$$;

-- Cancel the uploads in progress into a project (it is being deleted).  A
-- loop, not a filter: pg_cancel_backend must run for the matched backends
-- only, never as a condition a plan might test on other rows first.
CREATE FUNCTION service_cancel_uploads(project char(48)) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	s record;
	n integer := 0;
BEGIN
	FOR s IN SELECT a.pid AS backend FROM upload_sessions u JOIN pg_stat_activity a
			   ON a.pid = u.backend_pid AND a.backend_start = u.backend_start
			  WHERE u.project_id = project AND a.pid <> pg_backend_pid() LOOP
		IF pg_cancel_backend(s.backend) THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END $$;
