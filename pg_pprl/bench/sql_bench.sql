-- sql_bench.sql: pg_pprl's SQL-level comparisons per second, per kernel
-- path, side by side with a plain-SQL baseline on bit(1024), in one run.
--
-- Run by scripts/bench.sh (psql -X -q -v ON_ERROR_STOP=1) against a
-- throwaway cluster with pg_pprl installed.  Single backend, no parallel
-- workers: every figure is per core.  Each query is repeated until at
-- least :min_seconds have elapsed, timed inside the server with
-- clock_timestamp().  Every path must return the same results, and the
-- plain-SQL Dice test the same count as %, or the script fails.
--
-- psql variables: na, nb (table sizes), min_seconds (per measurement).

\if :{?na}
\else
\set na 2000
\endif
\if :{?nb}
\else
\set nb 2000
\endif
\if :{?min_seconds}
\else
\set min_seconds 1.0
\endif

SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
-- JIT compiles each execution of these short, repeated queries afresh; its
-- compile time would only add noise to both sides.
SET jit = off;
SET pprl.dice_threshold = 0.8;
SET pprl.simd = auto;
-- Deterministic bit flips (random() below).
SELECT setseed(0.4242) AS seed \gset

CREATE EXTENSION IF NOT EXISTS pg_pprl;
DROP TABLE IF EXISTS bench_a, bench_b, bench_results;

-- Party A: random 1024-bit CLKs, ~50% of bits set (eight md5 digests of
-- hex), stored both as bit(1024) and as clk (the same bits, cast).
CREATE TABLE bench_a AS
SELECT i AS id,
	   ('x' || md5('a' || i || ':1') || md5('a' || i || ':2') ||
		md5('a' || i || ':3') || md5('a' || i || ':4') ||
		md5('a' || i || ':5') || md5('a' || i || ':6') ||
		md5('a' || i || ':7') || md5('a' || i || ':8'))::bit(1024) AS bits
FROM generate_series(1, :na) AS i;

-- Party B: half are copies of an A record with a random fraction f of
-- their bits flipped, f spread over 0 to 0.40 (so Dice ~ 1 - f straddles
-- the 0.8 threshold); the other half are unrelated random CLKs.
CREATE TABLE bench_b AS
WITH flips AS (
	SELECT i, (i % 41) / 100.0 AS f FROM generate_series(1, :nb / 2) AS i
), masks AS (
	SELECT fl.i,
		   string_agg(CASE WHEN random() < fl.f THEN '1' ELSE '0' END, '' ORDER BY k)::bit(1024) AS mask
	FROM flips fl, generate_series(1, 1024) AS k
	GROUP BY fl.i
)
SELECT m.i AS id, a.bits # m.mask AS bits
FROM masks m JOIN bench_a a ON a.id = 1 + (m.i * 7) % :na
UNION ALL
SELECT i AS id,
	   ('x' || md5('b' || i || ':1') || md5('b' || i || ':2') ||
		md5('b' || i || ':3') || md5('b' || i || ':4') ||
		md5('b' || i || ':5') || md5('b' || i || ':6') ||
		md5('b' || i || ':7') || md5('b' || i || ':8'))::bit(1024)
FROM generate_series(:nb / 2 + 1, :nb) AS i;

ALTER TABLE bench_a ADD COLUMN c clk;
UPDATE bench_a SET c = bits::clk;
ALTER TABLE bench_b ADD COLUMN c clk;
UPDATE bench_b SET c = bits::clk;
VACUUM ANALYZE bench_a;
VACUUM ANALYZE bench_b;

-- Both representations must hold the same bits, about half of them set.
DO $$
DECLARE
	bad bigint;
	density float8;
BEGIN
	SELECT count(*) INTO bad FROM (
		SELECT c, bits FROM bench_a UNION ALL SELECT c, bits FROM bench_b) t
	WHERE c::bit(1024) <> bits OR clk_popcount(c) <> bit_count(bits)
		OR clk_length(c) <> 1024;
	IF bad > 0 THEN
		RAISE EXCEPTION 'bench data: % rows differ between clk and bit(1024)', bad;
	END IF;
	SELECT avg(bit_count(bits)) / 1024 INTO density FROM bench_a;
	IF density NOT BETWEEN 0.45 AND 0.55 THEN
		RAISE EXCEPTION 'bench data: bit density % is not ~50%%', density;
	END IF;
END
$$;

CREATE TEMP TABLE bench_results (
	seq serial,
	method text,
	kind text,			-- 'match' (threshold count) or 'sum'
	comparisons bigint,
	runs int,
	seconds float8,
	result text
);

-- Run query q repeatedly until min_s seconds have elapsed; every run must
-- give the same (text) result.
CREATE FUNCTION pg_temp.bench(q text, min_s float8,
							  OUT runs int, OUT seconds float8, OUT result text)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	r text;
BEGIN
	runs := 0;
	t0 := clock_timestamp();
	LOOP
		EXECUTE q INTO r;
		IF runs > 0 AND r IS DISTINCT FROM result THEN
			RAISE EXCEPTION 'bench: query gave % then % on a repeat: %', result, r, q;
		END IF;
		result := r;
		runs := runs + 1;
		EXIT WHEN clock_timestamp() - t0 >= make_interval(secs => min_s);
	END LOOP;
	seconds := extract(epoch FROM clock_timestamp() - t0);
END
$$;

-- Record one measurement of query q under method/kind, repeated for at
-- least bench.min_seconds.
CREATE FUNCTION pg_temp.measure(method text, kind text, q text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	pairs bigint := (SELECT count(*) FROM bench_a) * (SELECT count(*) FROM bench_b);
	m record;
BEGIN
	SELECT * INTO m FROM pg_temp.bench(q, current_setting('bench.min_seconds')::float8);
	INSERT INTO bench_results (method, kind, comparisons, runs, seconds, result)
	VALUES (method, kind, pairs * m.runs, m.runs, m.seconds, m.result);
END
$$;

SELECT set_config('bench.min_seconds', :'min_seconds', false) AS min_seconds,
	   format('%s x %s CLKs, 1024 bits', :na, :nb) AS tables \gset
\echo SQL benchmark: :tables, Dice threshold 0.8, 1 backend (per core), >= :min_seconds s per figure

-- pg_pprl, every kernel path this CPU supports, best first.
\echo measuring pg_pprl paths ...
DO $$
DECLARE
	p text;
BEGIN
	FOR p IN SELECT path FROM pprl_simd_info() WITH ORDINALITY AS i(path, supported, active, ord)
			 WHERE supported ORDER BY ord
	LOOP
		PERFORM set_config('pprl.simd', p, false);
		IF current_setting('pprl.simd') <> p THEN
			RAISE EXCEPTION 'could not select pprl.simd path %', p;
		END IF;
		PERFORM pg_temp.measure(p || ': a.c % b.c', 'match',
			'SELECT count(*) FROM bench_a a, bench_b b WHERE a.c % b.c');
		PERFORM pg_temp.measure(p || ': sum(dice(a.c, b.c))', 'sum',
			'SELECT sum(dice(a.c, b.c)) FROM bench_a a, bench_b b');
	END LOOP;
END
$$;
SET pprl.simd = auto;

-- The plain-SQL baseline: the same exact Dice >= 0.8 test on bit(1024),
-- and the bare intersection count for reference.
\echo measuring plain-SQL baseline ...
DO $$
BEGIN
	PERFORM pg_temp.measure('plain SQL: Dice test on bit(1024)', 'baseline',
		'SELECT count(*) FROM bench_a a, bench_b b WHERE '
		'2 * bit_count(a.bits & b.bits) >= '
		|| current_setting('pprl.dice_threshold')
		|| ' * (bit_count(a.bits) + bit_count(b.bits))');
	PERFORM pg_temp.measure('plain SQL: sum(bit_count(a & b))', 'bitcount',
		'SELECT sum(bit_count(a.bits & b.bits)) FROM bench_a a, bench_b b');
END
$$;

\pset footer off
\pset title 'SQL comparisons per second (1 core); ratios against the plain-SQL rows measured above'
SELECT r.method,
	   r.comparisons,
	   r.runs,
	   round(r.seconds::numeric, 3) AS seconds,
	   round((r.comparisons / r.seconds / 1e6)::numeric, 2) AS "M cmp/s",
	   round(((r.comparisons / r.seconds) / (b.comparisons / b.seconds))::numeric, 1)
		   || 'x' AS "vs SQL Dice test",
	   round(((r.comparisons / r.seconds) / (bc.comparisons / bc.seconds))::numeric, 1)
		   || 'x' AS "vs SQL bit_count",
	   r.result
FROM bench_results r,
	 bench_results b,
	 bench_results bc
WHERE b.kind = 'baseline' AND bc.kind = 'bitcount'
ORDER BY r.seq;
\pset title
\pset footer on

-- Every path must agree, and the plain-SQL Dice test must find the same
-- pairs as %; a vacuous run (no matches) counts as a failure too.
DO $$
DECLARE
	n_match int;
	n_sum int;
	base text;
BEGIN
	SELECT count(DISTINCT result) INTO n_match FROM bench_results WHERE kind = 'match';
	SELECT count(DISTINCT result) INTO n_sum FROM bench_results WHERE kind = 'sum';
	SELECT result INTO base FROM bench_results WHERE kind = 'baseline';
	IF n_match <> 1 OR n_sum <> 1 THEN
		RAISE EXCEPTION 'MISMATCH: kernel paths disagree (% distinct counts, % distinct sums)',
			n_match, n_sum;
	END IF;
	IF EXISTS (SELECT 1 FROM bench_results WHERE kind = 'match' AND result <> base) THEN
		RAISE EXCEPTION 'MISMATCH: %% count % differs from the plain-SQL Dice test count %',
			(SELECT result FROM bench_results WHERE kind = 'match' LIMIT 1), base;
	END IF;
	IF base::bigint = 0 THEN
		RAISE EXCEPTION 'bench data: no pair reaches the threshold, the count check is vacuous';
	END IF;
END
$$;
SELECT result AS matches FROM bench_results WHERE kind = 'baseline' \gset
\echo check: all paths agree; % finds the same :matches pairs as the plain-SQL Dice test

DROP TABLE bench_a, bench_b;
