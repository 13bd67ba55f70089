-- index_bench.sql: the pprl index against sequential scans, one backend.
-- Run by scripts/bench-index.sh with :stored, :queries (COPY files of
-- row_id <tab> base64 CLK) and :nq (queries per figure).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION pg_pprl;
CREATE TABLE stored (row_id bigint, clk clk(1024));
COPY stored FROM :'stored';
CREATE TABLE all_queries (qid int, clk clk(1024));
COPY all_queries FROM :'queries';
CREATE TABLE queries AS SELECT * FROM all_queries WHERE qid < :nq;
VACUUM ANALYZE stored;

-- Milliseconds a statement takes.
CREATE FUNCTION timed(sql text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE sql;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

-- Run a query (returning a count and a digest) once per query CLK, by the
-- index or by a sequential scan: mean ms per query, rows, and a digest of
-- all answers to compare the two.
CREATE FUNCTION run(sql text, t float8, how text, OUT ms float8, OUT rows bigint, OUT answers text)
LANGUAGE plpgsql AS $$
DECLARE q record; t0 timestamptz; n bigint; d text; acc text := '';
BEGIN
	PERFORM set_config('pprl.dice_threshold', t::text, true);
	PERFORM set_config('enable_seqscan', (how = 'seq')::text, true);
	PERFORM set_config('enable_indexscan', (how = 'index')::text, true);
	PERFORM set_config('enable_bitmapscan', (how = 'index')::text, true);
	ms := 0;
	rows := 0;
	FOR q IN SELECT clk FROM queries ORDER BY qid LOOP
		t0 := clock_timestamp();
		EXECUTE sql INTO n, d USING q.clk;
		ms := ms + extract(epoch FROM clock_timestamp() - t0) * 1000;
		rows := rows + n;
		acc := acc || coalesce(d, '') || ';';
	END LOOP;
	ms := ms / (SELECT count(*) FROM queries);
	answers := md5(acc);
END $$;

\echo
\echo '-- index build (ms) --'
SELECT count(*) AS stored_clks FROM stored;
SET max_parallel_maintenance_workers = 0;
SELECT round(timed('CREATE INDEX stored_serial ON stored USING pprl (clk)')::numeric) AS build_serial_ms;
DROP INDEX stored_serial;
SET max_parallel_maintenance_workers = 1;
SELECT round(timed('CREATE INDEX stored_clk ON stored USING pprl (clk)')::numeric) AS build_1_worker_ms;
SELECT entries, pages, pg_size_pretty(pg_relation_size('stored_clk')) AS index_size,
       pg_size_pretty(pg_relation_size('stored')) AS table_size
  FROM pprl_index_stats('stored_clk');

-- warm both paths once
SELECT count(*) FROM stored WHERE clk <-> (SELECT clk FROM queries LIMIT 1) < 0.1;
SELECT (run('SELECT count(*), NULL FROM stored WHERE clk % $1', 0.8, 'index')).rows IS NOT NULL AS warm;

CREATE TEMP TABLE results AS
WITH q(figure, sql, t) AS (VALUES
	('WHERE clk % q, t = 0.8', 'SELECT count(*), string_agg(row_id::text, '','' ORDER BY row_id) FROM stored WHERE clk % $1', 0.8),
	('WHERE clk % q, t = 0.95', 'SELECT count(*), string_agg(row_id::text, '','' ORDER BY row_id) FROM stored WHERE clk % $1', 0.95),
	('ORDER BY clk <-> q LIMIT 10', 'SELECT count(*), string_agg(d::text, '','' ORDER BY n) FROM (SELECT d, row_number() OVER () AS n FROM (SELECT clk <-> $1 AS d FROM stored ORDER BY clk <-> $1 LIMIT 10) s) s', 0.8)
)
SELECT figure, i.ms AS index_ms, s.ms AS seq_ms, i.rows AS index_rows, s.rows AS seq_rows,
       i.answers = s.answers AS same
  FROM q, LATERAL run(q.sql, q.t, 'index') i, LATERAL run(q.sql, q.t, 'seq') s;

\echo
\echo '-- one query CLK against the stored CLKs, one backend: mean ms per query --'
SELECT figure, round(index_ms::numeric, 2) AS index_ms, round(seq_ms::numeric, 2) AS seq_scan_ms,
       round((seq_ms / index_ms)::numeric, 1) || 'x' AS speedup, index_rows AS rows, same AS same_answers
  FROM results;
SELECT round(index_ms::numeric, 2) AS index_ms_threshold_0_8,
       round((177.579 / index_ms)::numeric, 1) || 'x' AS vs_rdkit_177_6_ms
  FROM results WHERE figure = 'WHERE clk % q, t = 0.8';

\echo
\echo '-- what the popcount bound lets a % query skip (all 5000 dataset B queries) --'
CREATE FUNCTION skipped(t float8) RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('pprl.dice_threshold', t::text, true);
	RETURN (SELECT avg(s.skipped) FROM all_queries q, pprl_index_stats('stored_clk', q.clk) s);
END $$;
SELECT t AS threshold, round((100 * skipped(t))::numeric, 2) || '%' AS entries_skipped
  FROM (VALUES (0.7), (0.75), (0.8), (0.85), (0.9), (0.95)) v(t);

\echo
\echo '-- the planner''s own choice (no enable_* settings) --'
CREATE FUNCTION plan_of(sql text, t float8) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; q text := (SELECT clk::text FROM queries ORDER BY qid LIMIT 1);
BEGIN
	PERFORM set_config('pprl.dice_threshold', t::text, true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || replace(sql, '$1', quote_literal(q) || '::clk') LOOP
		IF line ~ 'Scan' THEN
			RETURN regexp_replace(btrim(line), '^->\s+', '');
		END IF;
	END LOOP;
END $$;
SELECT query, plan_of(sql, t) AS plan FROM (VALUES
	('WHERE clk % q, t = 0.8', 'SELECT row_id FROM stored WHERE clk % $1', 0.8),
	('WHERE clk % q, t = 0.95', 'SELECT row_id FROM stored WHERE clk % $1', 0.95),
	('WHERE clk % q, t = 0.3 (most rows match)', 'SELECT row_id FROM stored WHERE clk % $1', 0.3),
	('ORDER BY clk <-> q LIMIT 10', 'SELECT row_id FROM stored ORDER BY clk <-> $1 LIMIT 10', 0.8),
	('ORDER BY clk <-> q (all rows)', 'SELECT row_id FROM stored ORDER BY clk <-> $1', 0.8)) v(query, sql, t);

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM results WHERE NOT same OR index_rows <> seq_rows) THEN
		RAISE EXCEPTION 'index and sequential scan answers differ';
	END IF;
END $$;
