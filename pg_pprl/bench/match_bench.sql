-- match_bench.sql: linking two datasets end to end in SQL (candidates plus
-- greedy solve), pg_pprl with parallel workers, pg_pprl on one core, and
-- the plain-SQL equivalent, side by side in one run.
--
-- Data: :n + :n random 1024-bit CLKs (about half the bits set); the first
-- :n/2 records of B are noisy copies of A records (each bit flipped with
-- probability 1/32), the rest are strangers.  Threshold 0.8.
-- Run by scripts/bench.sh; psql variables n (default 100000) and
-- baseline_n (plain-SQL sample size, default 2000).
\if :{?n}
\else
\set n 100000
\endif
\if :{?baseline_n}
\else
\set baseline_n 2000
\endif
SET client_min_messages = warning;
SET jit = off;

CREATE EXTENSION IF NOT EXISTS pg_pprl;
DROP TABLE IF EXISTS mb_a, mb_b, mb_noise, mb_results;
CREATE FUNCTION pg_temp.bytes(seed text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(md5(seed || ':1') || md5(seed || ':2') || md5(seed || ':3') || md5(seed || ':4') ||
	              md5(seed || ':5') || md5(seed || ':6') || md5(seed || ':7') || md5(seed || ':8'), 'hex')
$$;
CREATE TABLE mb_a AS SELECT i::bigint AS row_id, pg_temp.bytes('a' || i)::clk AS clk
  FROM generate_series(0, :n - 1) i;
CREATE TABLE mb_b AS SELECT i::bigint AS row_id,
	CASE WHEN i < :n / 2
	THEN (a.clk::varbit #
	      (pg_temp.bytes('n' || i)::clk & pg_temp.bytes('m' || i)::clk & pg_temp.bytes('o' || i)::clk &
	       pg_temp.bytes('p' || i)::clk & pg_temp.bytes('q' || i)::clk)::varbit)::clk
	ELSE pg_temp.bytes('b' || i)::clk END AS clk
  FROM generate_series(0, :n - 1) i LEFT JOIN mb_a a ON a.row_id = (i * 7919) % :n;
ANALYZE mb_a, mb_b;
CREATE TABLE mb_results (method text, comparisons float8, seconds float8, groups bigint, note text);

-- Time one statement inside the server.
CREATE FUNCTION pg_temp.timed(q text, OUT seconds float8, OUT result bigint) LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE q INTO result;
	seconds := extract(epoch FROM clock_timestamp() - t0);
END $$;

SELECT current_setting('max_parallel_workers_per_gather') AS workers \gset
INSERT INTO mb_results
SELECT 'pg_pprl, ' || :'workers' || ' workers + leader', (:n)::float8 * :n, seconds, result, 'measured'
  FROM pg_temp.timed('SELECT count(DISTINCT group_id) FROM pprl_greedy_groups(''{mb_a,mb_b}'', 0.8)');
SET max_parallel_workers_per_gather = 0;
INSERT INTO mb_results
SELECT 'pg_pprl, 1 core', (:n)::float8 * :n, seconds, result, 'measured'
  FROM pg_temp.timed('SELECT count(DISTINCT group_id) FROM pprl_greedy_groups(''{mb_a,mb_b}'', 0.8)');
-- Plain SQL on a sample (the full run would take hours), 1 core: the
-- candidate join alone, with the Dice test on bit(1024).
INSERT INTO mb_results
SELECT 'plain SQL candidates (sample, extrapolated)', (:n)::float8 * :n,
       seconds * ((:n)::float8 * :n) / ((:baseline_n)::float8 * :baseline_n), NULL,
       format('measured %s x %s in %s s', :baseline_n, :baseline_n, round(seconds::numeric, 2))
  FROM pg_temp.timed(format($q$
	SELECT count(*) FROM (SELECT clk::varbit AS v FROM mb_a WHERE row_id < %1$s) a,
	                     (SELECT clk::varbit AS v FROM mb_b WHERE row_id < %1$s) b
	 WHERE 2 * bit_count(a.v & b.v) >= 0.8 * (bit_count(a.v) + bit_count(b.v))$q$, :baseline_n));

SELECT method, round((comparisons / seconds / 1e6)::numeric, 1) AS "M cmp/s",
       round(seconds::numeric, 2) AS seconds, groups,
       round((max(seconds) FILTER (WHERE method = 'pg_pprl, 1 core') OVER () / seconds)::numeric, 2) AS "speedup vs 1 core",
       note
  FROM mb_results ORDER BY seconds;
-- Quality of the last run's matching against the planted copies.
SELECT count(*) FILTER (WHERE rb < :n / 2 AND ra = (rb * 7919) % :n) AS true_positives,
       count(*) AS matches, :n / 2 AS planted
  FROM (SELECT max(row_id) FILTER (WHERE ds = 0) AS ra, max(row_id) FILTER (WHERE ds = 1) AS rb
          FROM pprl_greedy_groups('{mb_a,mb_b}', 0.8) GROUP BY group_id) g;
DROP TABLE mb_a, mb_b, mb_results;
