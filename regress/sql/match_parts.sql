-- A job cut into parts: pprl_parts() and pprl_candidates_part().
SELECT setseed(0.42);
CREATE FUNCTION rnd_clk() RETURNS clk LANGUAGE sql VOLATILE AS
$$ SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''), 'hex')::clk
   FROM generate_series(1, 16) $$;
CREATE TABLE mpa AS SELECT g AS row_id, rnd_clk() AS clk FROM generate_series(0, 299) g;
CREATE TABLE mpb AS SELECT g AS row_id, rnd_clk() AS clk FROM generate_series(0, 249) g;
CREATE TABLE mpc AS SELECT g AS row_id, rnd_clk() AS clk FROM generate_series(0, 199) g;
-- blocked copies: few keys, each record in one or two blocks, some in none
CREATE VIEW mpa_b AS SELECT row_id, clk, CASE WHEN row_id % 11 = 0 THEN '{}'::text[]
	ELSE ARRAY[(row_id % 3)::text, (row_id % 5)::text] END AS blocks FROM mpa;
CREATE VIEW mpb_b AS SELECT row_id, clk, ARRAY[(row_id % 3)::text, (row_id % 2)::text] AS blocks FROM mpb;
CREATE VIEW mpc_b AS SELECT row_id, clk, ARRAY[(row_id % 5)::text, 'x'] AS blocks FROM mpc;

-- The parts' comparisons add up to the whole job's, and are balanced.
SELECT count(*) AS parts, sum(comparisons) AS comparisons, sum(units) > 0 AS has_units
  FROM pprl_parts('{mpa,mpb,mpc}', 4);
SELECT max(comparisons)::float8 / avg(comparisons) < 1.5 AS balanced FROM pprl_parts('{mpa,mpb,mpc}', 4);
SELECT sum(comparisons) FROM pprl_parts('{mpa,mpb,mpc}', 1);
SELECT sum(comparisons) = (SELECT sum(comparisons) FROM pprl_parts('{mpa_b,mpb_b,mpc_b}', 1)) AS same,
       count(*) FROM pprl_parts('{mpa_b,mpb_b,mpc_b}', 5);

-- Every cut gives exactly the whole job's candidates (with blocking, after
-- removing the copies of a pair that shares blocks in two parts), and each
-- part comes in anonlink's order.
CREATE FUNCTION parts_equal(ds regclass[], t float8, n int) RETURNS boolean LANGUAGE sql AS $$
	WITH parts AS (SELECT DISTINCT c.* FROM generate_series(0, n - 1) p,
	                 pprl_candidates_part(ds, t, p, n) c),
	     whole AS (SELECT * FROM pprl_candidates(ds, t))
	SELECT NOT EXISTS (SELECT * FROM parts EXCEPT SELECT * FROM whole)
	   AND NOT EXISTS (SELECT * FROM whole EXCEPT SELECT * FROM parts)
	   AND (SELECT count(*) FROM parts) = (SELECT count(*) FROM whole) $$;
CREATE FUNCTION part_ordered(ds regclass[], t float8, p int, n int) RETURNS boolean LANGUAGE sql AS $$
	WITH c AS (SELECT c.* FROM pprl_candidates_part(ds, t, p, n) WITH ORDINALITY c(score, ds_a, row_a, ds_b, row_b, o))
	SELECT coalesce(bool_and(o = r), true) FROM (SELECT o, row_number() OVER
		(ORDER BY score DESC, ds_a, ds_b, row_a, row_b) AS r FROM c) x $$;
SELECT count(*) > 100 AS enough FROM pprl_candidates('{mpa,mpb,mpc}', 0.6);
SELECT n, parts_equal('{mpa,mpb,mpc}', 0.6, n) AS plain, parts_equal('{mpa_b,mpb_b,mpc_b}', 0.6, n) AS blocked,
       parts_equal('{mpa,mpb}', 0.65, n) AS two
  FROM unnest(ARRAY[1, 2, 3, 7, 40]) n;
-- (the blocked cut does put copies of a pair in two parts)
SELECT (SELECT count(*) FROM generate_series(0, 6) p, pprl_candidates_part('{mpa_b,mpb_b,mpc_b}', 0.6, p, 7))
     > (SELECT count(*) FROM pprl_candidates('{mpa_b,mpb_b,mpc_b}', 0.6)) AS has_copies;
SELECT bool_and(part_ordered('{mpa,mpb,mpc}', 0.6, p, 3)) AND bool_and(part_ordered('{mpa_b,mpb_b,mpc_b}', 0.6, p, 3))
	AS ordered FROM generate_series(0, 2) p;
-- More parts than work: the extra parts are empty, nothing is lost.
SELECT count(*) FILTER (WHERE comparisons = 0) > 0 AS some_empty, sum(comparisons)
  FROM pprl_parts('{mpa,mpb}', 5000);
SELECT parts_equal('{mpa,mpb}', 0.65, 5000);

-- Bad input.
SELECT * FROM pprl_candidates_part('{mpa,mpb}', 0.8, 2, 2);
SELECT * FROM pprl_candidates_part('{mpa,mpb}', 0.8, -1, 2);
SELECT * FROM pprl_candidates_part('{mpa,mpb}', 0.8, 0, 0);
SELECT * FROM pprl_candidates_part('{mpa,mpb}', 0.8, NULL, 2);
SELECT * FROM pprl_candidates_part('{mpa,mpb}', 0, 0, 2);
SELECT * FROM pprl_candidates_part('{mpa}', 0.8, 0, 2);
SELECT * FROM pprl_parts('{mpa,mpb}', 0);
SELECT * FROM pprl_parts('{mpa,mpb}', 70000);
SELECT * FROM pprl_parts('{mpa,mpb}', NULL);
