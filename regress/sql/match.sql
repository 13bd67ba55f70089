-- Matching engine: pprl_candidates() and pprl_greedy_groups().
CREATE TABLE ma (row_id bigint, clk clk);
CREATE TABLE mb (row_id bigint, clk clk);
CREATE TABLE mc (row_id bigint, clk clk);
-- A0, B0, C0 are pairwise similar (one group of three); A1 ~ B1 and A1 ~ C1
-- but B1 !~ C1, so C1 stays out of {A1, B1}; row_ids are not 0-based.
INSERT INTO ma VALUES (10, '\xfff0'::bytea), (11, '\x03ff'::bytea), (12, '\x8001'::bytea);
INSERT INTO mb VALUES (20, '\xfff0'::bytea), (21, '\x07fe'::bytea);
INSERT INTO mc VALUES (30, '\xffe0'::bytea), (31, '\x09ff'::bytea);

SELECT * FROM pprl_candidates('{ma,mb,mc}', 0.9);
SELECT * FROM pprl_greedy_groups('{ma,mb,mc}', 0.9);
-- Two parties: 1:1 greedy.
SELECT * FROM pprl_greedy_groups('{ma,mb}', 0.9);
-- Ties: equal scores order by dataset a, dataset b, then row a, row b.
SELECT * FROM pprl_candidates(ARRAY['mc', 'ma', 'mb']::regclass[], 0.5) WHERE score = 1 OR ds_a = 1;
CREATE TABLE mta (row_id bigint, clk clk);
CREATE TABLE mtb (row_id bigint, clk clk);
INSERT INTO mta VALUES (3, '\xff00'::bytea), (1, '\xff00'::bytea), (2, '\xff00'::bytea);
INSERT INTO mtb VALUES (9, '\xff00'::bytea), (8, '\xff00'::bytea);
SELECT * FROM pprl_candidates('{mta,mtb}', 1);
SELECT * FROM pprl_greedy_groups('{mta,mtb}', 1);
-- A pair exactly at the threshold is kept.
SELECT score, row_a, row_b FROM pprl_candidates('{ma,mb}', 0.9) WHERE score = 0.9;

-- Views and other column types work as datasets (row_id cast to bigint).
CREATE VIEW mv AS SELECT row_id::int AS row_id, clk FROM mb WHERE row_id = 20;
SELECT * FROM pprl_candidates('{ma,mv}', 0.9);

-- Empty datasets and datasets of one record.
CREATE TABLE mempty (row_id bigint, clk clk);
SELECT count(*) FROM pprl_candidates('{ma,mempty}', 0.5);
SELECT count(*) FROM pprl_greedy_groups('{mempty,mempty}', 0.5);
CREATE TABLE mone (row_id bigint, clk clk);
INSERT INTO mone VALUES (1, '\xfff0'::bytea);
SELECT * FROM pprl_greedy_groups('{mone,mb}', 0.8);

-- Bad input.
SELECT * FROM pprl_candidates('{ma}', 0.8);
SELECT * FROM pprl_candidates('{ma,mb}', 0);
SELECT * FROM pprl_candidates('{ma,mb}', 1.01);
SELECT * FROM pprl_candidates('{ma,mb}', 'NaN');
SELECT * FROM pprl_candidates('{ma,mb}', NULL);
SELECT * FROM pprl_candidates(NULL, 0.8);
SELECT * FROM pprl_candidates(ARRAY['ma', NULL]::regclass[], 0.8);
CREATE TABLE mlong (row_id bigint, clk clk);
INSERT INTO mlong VALUES (1, 'AQID');
SELECT * FROM pprl_candidates('{ma,mlong}', 0.8);
CREATE TABLE mnull (row_id bigint, clk clk);
INSERT INTO mnull VALUES (1, NULL);
SELECT * FROM pprl_candidates('{ma,mnull}', 0.8);
CREATE TABLE mnullid (row_id bigint, clk clk);
INSERT INTO mnullid VALUES (NULL, 'AQI=');
SELECT * FROM pprl_candidates('{mnullid,ma}', 0.8);
CREATE TABLE mdup (row_id bigint, clk clk);
INSERT INTO mdup VALUES (5, 'AQI='), (5, 'AQI=');
SELECT * FROM pprl_candidates('{ma,mdup}', 0.8);
CREATE TABLE mnocol (id bigint, clk clk);
SELECT * FROM pprl_candidates('{ma,mnocol}', 0.8);
SELECT * FROM pprl_candidates('{ma,no_such_table}', 0.8);

-- Blocking: records meet only within a shared block; a pair in several
-- blocks appears once; NULL or empty blocks meet nobody.
CREATE TABLE ba (row_id bigint, clk clk, blocks text[]);
CREATE TABLE bb (row_id bigint, clk clk, blocks text[]);
INSERT INTO ba VALUES (1, '\xfff0'::bytea, '{x,y}'), (2, '\x03ff'::bytea, '{y}'), (3, '\xfff0'::bytea, NULL),
	(4, '\xfff0'::bytea, '{}');
INSERT INTO bb VALUES (7, '\xfff0'::bytea, '{x,y,z}'), (8, '\x07fe'::bytea, '{q}'), (9, '\xfff0'::bytea, '{y,NULL}');
SELECT * FROM pprl_candidates('{ba,bb}', 0.5);
SELECT * FROM pprl_greedy_groups('{ba,bb}', 0.5);
CREATE VIEW ba_all AS SELECT row_id, clk FROM ba;
CREATE VIEW bb_all AS SELECT row_id, clk FROM bb;
SELECT * FROM pprl_candidates('{ba_all,bb_all}', 0.5);
SELECT * FROM pprl_candidates('{ba,bb_all}', 0.5);

-- Top-k as anonlink applies it: each first-dataset record keeps its k best,
-- then at most k per record on both sides, walking in order.
SELECT * FROM pprl_candidates('{ba_all,bb_all}', 0.5, 1);
SELECT * FROM pprl_candidates('{ba_all,bb_all}', 0.5, 2);
SELECT * FROM pprl_candidates('{ba_all,bb_all}', 0.5, 0);
SELECT * FROM pprl_candidates('{ba_all,bb_all}', 0.5, -3);

-- Large enough for parallel workers (over 4M comparisons): the same
-- candidates and groups with and without them, blocked or not, with top-k.
CREATE FUNCTION pg_temp.bytes(seed text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(md5(seed || ':1') || md5(seed || ':2') || md5(seed || ':3') || md5(seed || ':4'), 'hex')
$$;
CREATE TABLE pa AS SELECT i::bigint AS row_id, pg_temp.bytes('a' || i)::clk AS clk,
	ARRAY[(i % 3)::text, 'all'] AS blocks FROM generate_series(0, 2199) i;
CREATE TABLE pb AS SELECT i::bigint AS row_id,
	CASE WHEN i % 2 = 0 THEN (a.clk::varbit # (pg_temp.bytes('n' || i)::clk & pg_temp.bytes('m' || i)::clk
	                           & pg_temp.bytes('o' || i)::clk)::varbit)::clk
	ELSE pg_temp.bytes('b' || i)::clk END AS clk,
	ARRAY[(i % 3)::text, 'all'] AS blocks
  FROM generate_series(0, 2199) i JOIN pa a ON a.row_id = (i * 7) % 2200;
CREATE VIEW pa_all AS SELECT row_id, clk FROM pa;
CREATE VIEW pb_all AS SELECT row_id, clk FROM pb;
-- Run q with a setting at value v1, then at v2; count rows and differences.
CREATE FUNCTION pg_temp.same_under(setting text, v1 text, v2 text, q text)
RETURNS TABLE (rows bigint, differ bigint) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config(setting, v1, true);
	EXECUTE 'CREATE TEMP TABLE r1 AS ' || q;
	PERFORM set_config(setting, v2, true);
	EXECUTE 'CREATE TEMP TABLE r2 AS ' || q;
	RETURN QUERY SELECT (SELECT count(*) FROM r2),
		(SELECT count(*) FROM ((TABLE r1 EXCEPT ALL TABLE r2) UNION ALL (TABLE r2 EXCEPT ALL TABLE r1)) x);
	DROP TABLE r1, r2;
END $$;
CREATE FUNCTION pg_temp.same(q text) RETURNS TABLE (rows bigint, differ bigint) LANGUAGE sql AS $$
	SELECT * FROM pg_temp.same_under('max_parallel_workers_per_gather', '0', '2', q)
$$;
SELECT * FROM pg_temp.same($$SELECT row_number() OVER () AS pos, * FROM pprl_candidates('{pa_all,pb_all}', 0.6)$$);
SELECT * FROM pg_temp.same($$SELECT * FROM pprl_greedy_groups('{pa_all,pb_all}', 0.6)$$);
SELECT * FROM pg_temp.same($$SELECT row_number() OVER () AS pos, * FROM pprl_candidates('{pa,pb}', 0.6, 1)$$);
SELECT * FROM pg_temp.same($$SELECT row_number() OVER () AS pos, * FROM pprl_candidates('{pa_all,pb_all,pa_all}', 0.6)$$);

-- Beyond work_mem, candidates spill to sorted runs on disk and merge back:
-- the same results (duplicates across blocks and top-k included).
CREATE FUNCTION pg_temp.same_spill(q text) RETURNS TABLE (rows bigint, differ bigint) LANGUAGE sql AS $$
	SELECT * FROM pg_temp.same_under('work_mem', '256MB', '64kB', q)
$$;
SELECT * FROM pg_temp.same_spill($$SELECT row_number() OVER () AS pos, * FROM pprl_candidates('{pa_all,pb_all}', 0.55)$$);
SELECT * FROM pg_temp.same_spill($$SELECT row_number() OVER () AS pos, * FROM pprl_candidates('{pa,pb}', 0.55)$$);
SELECT * FROM pg_temp.same_spill($$SELECT row_number() OVER () AS pos, * FROM pprl_candidates('{pa,pb}', 0.55, 2)$$);
SELECT * FROM pg_temp.same_spill($$SELECT * FROM pprl_greedy_groups('{pa_all,pb_all,pa_all}', 0.55)$$);

-- Permutations: matched pairs share a position; the smaller dataset fills
-- 0..n-1, the larger 0..m-1; the mask is the smaller side's matched flags.
CREATE TEMP TABLE perm AS SELECT * FROM pprl_permutations('{pa_all,pb_all}', 0.8);
SELECT ds, count(*), count(DISTINCT position) AS positions, min(position), max(position),
       count(*) FILTER (WHERE matched) AS matched
  FROM perm GROUP BY ds ORDER BY ds;
SELECT count(*) AS pairs_sharing_a_position
  FROM perm x JOIN perm y ON x.ds = 0 AND y.ds = 1 AND x.position = y.position AND x.matched AND y.matched
  JOIN (SELECT max(row_id) FILTER (WHERE ds = 0) ra, max(row_id) FILTER (WHERE ds = 1) rb
          FROM pprl_greedy_groups('{pa_all,pb_all}', 0.8) GROUP BY group_id) g
    ON g.ra = x.row_id AND g.rb = y.row_id;
-- Unequal sizes: the smaller dataset (here the second) defines the mask.
CREATE VIEW pb_half AS SELECT row_id, clk FROM pb WHERE row_id < 1000;
SELECT ds, count(*), max(position), count(*) FILTER (WHERE matched) AS matched
  FROM pprl_permutations('{pa_all,pb_half}', 0.8) GROUP BY ds ORDER BY ds;
-- Positions are drawn afresh: two runs differ.
SELECT count(*) FILTER (WHERE x.position <> y.position) > 0 AS reshuffled
  FROM perm x JOIN pprl_permutations('{pa_all,pb_all}', 0.8) y USING (ds, row_id);
\set VERBOSITY terse
SELECT * FROM pprl_permutations('{pa_all,pb_all,pa_all}', 0.8);
SELECT * FROM pprl_permutations('{pa_all,pb_all}', 0);
\set VERBOSITY default

-- A cancelled call (here by statement_timeout, mid-way through a job of
-- tens of millions of candidates that spill) leaves no temporary files.
SET work_mem = '64kB';
SET statement_timeout = '300ms';
SELECT count(*) FROM pprl_greedy_groups('{pa_all,pb_all,pa_all,pb_all}', 0.3);
RESET statement_timeout;
RESET work_mem;
SELECT count(*) AS temp_files_left FROM pg_ls_tmpdir();
