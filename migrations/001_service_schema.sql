-- 001_service_schema.sql: the entity service's tables.
--
-- Follows the Anonlink Entity Service's data model, with three deliberate
-- differences: tokens are stored as SHA-256 digests (never in clear), state
-- columns are text with CHECK constraints (adding a state needs no enum
-- migration), and encodings live in a table partitioned by project and
-- sub-partitioned by data provider, with pg_pprl's clk type and block keys,
-- so that each party's partition is a dataset pprl_candidates() can link
-- directly, and deleting a project drops its partitions instead of deleting
-- rows.

CREATE EXTENSION IF NOT EXISTS pg_pprl;

CREATE TABLE projects (
	project_id		char(48) PRIMARY KEY CHECK (project_id ~ '^[0-9a-f]{48}$'),
	time_added		timestamptz NOT NULL DEFAULT now(),
	result_token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(result_token_sha256) = 32),
	schema			jsonb NOT NULL,
	encoding_size	integer CHECK (encoding_size BETWEEN 1 AND 8192),
	name			text NOT NULL DEFAULT '',
	notes			text NOT NULL DEFAULT '',
	parties			smallint NOT NULL DEFAULT 2 CHECK (parties >= 2),
	result_type		text NOT NULL CHECK (result_type IN ('groups', 'permutations', 'similarity_scores')),
	uses_blocking	boolean NOT NULL DEFAULT false,
	marked_for_deletion boolean NOT NULL DEFAULT false,
	CHECK (parties = 2 OR result_type = 'groups')
);
COMMENT ON TABLE projects IS 'linkage projects; the result token is kept only as its SHA-256';

-- One row per party; dp_index is the party's dataset index (0-based).
CREATE TABLE dataproviders (
	dp_id			bigserial PRIMARY KEY,
	project_id		char(48) NOT NULL REFERENCES projects ON DELETE CASCADE,
	dp_index		smallint NOT NULL CHECK (dp_index >= 0),
	update_token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(update_token_sha256) = 32),
	uploaded		text NOT NULL DEFAULT 'not_started'
		CHECK (uploaded IN ('not_started', 'in_progress', 'done', 'error')),
	UNIQUE (project_id, dp_index)
);
CREATE INDEX dataproviders_uploaded ON dataproviders (uploaded);
COMMENT ON TABLE dataproviders IS 'the parties of a project, one update token each (SHA-256 only)';

CREATE TABLE uploads (
	upload_id		bigserial PRIMARY KEY,
	ts				timestamptz NOT NULL DEFAULT now(),
	dp_id			bigint NOT NULL REFERENCES dataproviders ON DELETE CASCADE,
	receipt_token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(receipt_token_sha256) = 32),
	object_key		text,
	state			text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready', 'error')),
	encoding_size	integer CHECK (encoding_size BETWEEN 1 AND 8192),
	count			bigint NOT NULL DEFAULT 0 CHECK (count >= 0),
	block_count		bigint NOT NULL DEFAULT 1 CHECK (block_count >= 0),
	error_msg		text,
	-- primary WAL position after the upload committed, for read-your-writes on replicas
	commit_lsn		pg_lsn
);
CREATE INDEX uploads_dp ON uploads (dp_id);
COMMENT ON TABLE uploads IS 'one upload per party; the receipt token is kept only as its SHA-256';

-- Encodings: partition per project (LIST on project_id), sub-partition per
-- party (LIST on dp_index); see service_add_project_partitions().  Every
-- partition has the blocks column, so pprl_candidates() always blocks: a
-- project without blocking stores one default block, '{1}', per record.
CREATE TABLE encodings (
	project_id		char(48) NOT NULL,
	dp_index		smallint NOT NULL,
	row_id			bigint NOT NULL,
	clk				clk NOT NULL,
	blocks			text[]
) PARTITION BY LIST (project_id);
COMMENT ON TABLE encodings IS 'uploaded CLKs: one partition per project, one sub-partition per party (a pprl_candidates dataset)';

CREATE TABLE runs (
	run_id			char(48) PRIMARY KEY CHECK (run_id ~ '^[0-9a-f]{48}$'),
	project_id		char(48) NOT NULL REFERENCES projects ON DELETE CASCADE,
	name			text NOT NULL DEFAULT '',
	notes			text NOT NULL DEFAULT '',
	threshold		float8 NOT NULL CHECK (threshold > 0 AND threshold <= 1),
	state			text NOT NULL DEFAULT 'created'
		CHECK (state IN ('created', 'queued', 'running', 'completed', 'error')),
	stage			smallint NOT NULL DEFAULT 1,
	type			text NOT NULL CHECK (type IN ('default', 'no_mapping')),
	time_added		timestamptz NOT NULL DEFAULT now(),
	time_started	timestamptz,
	time_completed	timestamptz,
	error_msg		text
);
CREATE INDEX runs_project ON runs (project_id);
CREATE INDEX runs_state ON runs (state);

-- Where a run's results are: object-store keys (groups, similarity scores,
-- permutations and the mask) by kind and, for permutations, party.
CREATE TABLE run_results (
	run_id			char(48) NOT NULL REFERENCES runs ON DELETE CASCADE,
	kind			text NOT NULL CHECK (kind IN ('groups', 'similarity_scores', 'permutation', 'mask')),
	dp_index		smallint NOT NULL DEFAULT -1,
	object_key		text NOT NULL,
	bytes			bigint,
	PRIMARY KEY (run_id, kind, dp_index)
);

CREATE TABLE metrics (
	id				bigserial PRIMARY KEY,
	ts				timestamptz NOT NULL DEFAULT now(),
	rate			bigint NOT NULL CHECK (rate >= 0)
);

-- Create a project's encodings partition and one sub-partition per party.
-- Partition names derive from the (validated, hex) project id only.
CREATE FUNCTION service_add_project_partitions(pid char(48), nparties int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF pid !~ '^[0-9a-f]{48}$' THEN
		RAISE EXCEPTION 'invalid project id' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('CREATE TABLE %I PARTITION OF encodings FOR VALUES IN (%L) PARTITION BY LIST (dp_index)',
				   'enc_' || pid, pid);
	FOR i IN 0 .. nparties - 1 LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF %I (PRIMARY KEY (row_id)) FOR VALUES IN (%s)',
					   'enc_' || pid || '_' || i, 'enc_' || pid, i);
	END LOOP;
END $$;
COMMENT ON FUNCTION service_add_project_partitions(char, int) IS 'create the encodings partitions of a new project';

-- Drop a project's encodings at once (the rows of other tables cascade).
CREATE FUNCTION service_drop_project_partitions(pid char(48)) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF pid !~ '^[0-9a-f]{48}$' THEN
		RAISE EXCEPTION 'invalid project id' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('DROP TABLE IF EXISTS %I', 'enc_' || pid);
END $$;
COMMENT ON FUNCTION service_drop_project_partitions(char) IS 'drop the encodings partitions of a project';
