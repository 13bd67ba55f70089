-- Known answers: Dice scores must equal, bit for bit, what the anonlink
-- library computed for the same CLKs (../shared/data, see its README).
-- Skipped with a notice when that data is absent.
\getenv datadir PPRL_SHARED_DATA
\if :{?datadir}
\set have_data `test -r ":datadir/febrl4-clks/clks_a.json" && echo true || echo false`
\else
\set have_data false
\endif
\if :have_data

-- Load a clkhash JSON file {"clks": [...]} as (row_id, clk), rows 0-based.
CREATE FUNCTION load_clks(doc text) RETURNS TABLE (row_id bigint, clk clk)
LANGUAGE sql AS $$
	SELECT ord - 1, value::clk FROM json_array_elements_text(doc::json -> 'clks') WITH ORDINALITY AS e(value, ord)
$$;
-- Parse anonlink's candidates.csv (score,ds_a,row_a,ds_b,row_b).
CREATE FUNCTION load_candidates(doc text)
RETURNS TABLE (pos bigint, score float8, ds_a int, row_a bigint, ds_b int, row_b bigint)
LANGUAGE sql AS $$
	SELECT n - 2, f[1]::float8, f[2]::int, f[3]::bigint, f[4]::int, f[5]::bigint
	  FROM (SELECT n, string_to_array(line, ',') f
	          FROM regexp_split_to_table(doc, E'\n') WITH ORDINALITY AS l(line, n)
	         WHERE n > 1 AND line <> '') s
$$;
-- Parse anonlink's groups.json into one text per group: "ds:row,ds:row,...".
CREATE FUNCTION load_groups(doc text) RETURNS SETOF text LANGUAGE sql AS $$
	SELECT string_agg((m->>0) || ':' || (m->>1), ',' ORDER BY (m->>0)::int, (m->>1)::bigint)
	  FROM json_array_elements(doc::json -> 'groups') WITH ORDINALITY AS g(grp, gi),
	       json_array_elements(grp) m
	 GROUP BY gi
$$;
-- The same text for pprl_greedy_groups() output.
CREATE FUNCTION solved_groups(datasets regclass[], t float8) RETURNS SETOF text LANGUAGE sql AS $$
	SELECT string_agg(ds || ':' || row_id, ',' ORDER BY ds, row_id)
	  FROM pprl_greedy_groups(datasets, t) GROUP BY group_id
$$;
-- Compare pprl_candidates() with a reference list, row by row in order.
CREATE FUNCTION same_candidates(datasets regclass[], t float8, ref regclass) RETURNS TABLE (rows bigint, same_position bigint)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT count(*), count(*) FILTER (WHERE (m.score, m.ds_a, m.row_a, m.ds_b, m.row_b) =
		                                        (r.score, r.ds_a, r.row_a, r.ds_b, r.row_b))
		  FROM (SELECT row_number() OVER () - 1 AS pos, * FROM pprl_candidates(%L, %s)) m
		  FULL JOIN %s r USING (pos)$q$, datasets, t, ref);
END $$;
-- Compare pprl_greedy_groups() with reference groups, as sets.
CREATE FUNCTION same_groups(datasets regclass[], t float8, doc text)
RETURNS TABLE (groups bigint, reference bigint, differing bigint) LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM solved_groups(datasets, t)), (SELECT count(*) FROM load_groups(doc)),
	       (SELECT count(*) FROM ((SELECT * FROM solved_groups(datasets, t) EXCEPT SELECT * FROM load_groups(doc))
	                              UNION ALL
	                              (SELECT * FROM load_groups(doc) EXCEPT SELECT * FROM solved_groups(datasets, t))) x)
$$;

-- FEBRL4, 1000 x 1000 CLKs, threshold 0.8.
\set doc `cat ":datadir/febrl4-clks/clks_a.json"`
CREATE TABLE fa AS SELECT * FROM load_clks(:'doc');
\set doc `cat ":datadir/febrl4-clks/clks_b.json"`
CREATE TABLE fb AS SELECT * FROM load_clks(:'doc');
\set doc `cat ":datadir/febrl4-clks/anonlink-0.8/candidates.csv"`
CREATE TABLE fc AS SELECT * FROM load_candidates(:'doc');
SELECT (SELECT count(*) FROM fa) AS a, (SELECT count(*) FROM fb) AS b, count(*) AS candidates,
       count(*) FILTER (WHERE dice(fa.clk, fb.clk) = fc.score) AS exact_scores
  FROM fc JOIN fa ON fa.row_id = fc.row_a JOIN fb ON fb.row_id = fc.row_b;
-- The full cross join finds exactly the same pairs.
SET pprl.dice_threshold = 0.8;
CREATE TABLE fall AS SELECT fa.row_id AS row_a, fb.row_id AS row_b FROM fa, fb WHERE fa.clk % fb.clk;
SELECT (SELECT count(*) FROM (SELECT row_a, row_b FROM fall EXCEPT SELECT row_a, row_b FROM fc) x) AS extra,
       (SELECT count(*) FROM (SELECT row_a, row_b FROM fc EXCEPT SELECT row_a, row_b FROM fall) x) AS missing;
-- The matching engine lists the same candidates in the same order, and its
-- greedy solution has the same groups.
SELECT * FROM same_candidates('{fa,fb}', 0.8, 'fc');
\set doc `cat ":datadir/febrl4-clks/anonlink-0.8/groups.json"`
SELECT * FROM same_groups('{fa,fb}', 0.8, :'doc');

-- anonlink's example data, 3313 x 3266 CLKs, threshold 0.81.
\set doc `cat ":datadir/anonlink-example/clks-1.json"`
CREATE TABLE ea AS SELECT * FROM load_clks(:'doc');
\set doc `cat ":datadir/anonlink-example/clks-2.json"`
CREATE TABLE eb AS SELECT * FROM load_clks(:'doc');
\set doc `cat ":datadir/anonlink-example/anonlink-0.81/candidates.csv"`
CREATE TABLE ec AS SELECT * FROM load_candidates(:'doc');
SELECT count(*) AS candidates, count(*) FILTER (WHERE dice(ea.clk, eb.clk) = ec.score) AS exact_scores
  FROM ec JOIN ea ON ea.row_id = ec.row_a JOIN eb ON eb.row_id = ec.row_b;
SET pprl.dice_threshold = 0.81;
CREATE TABLE eall AS SELECT ea.row_id AS row_a, eb.row_id AS row_b, dice(ea.clk, eb.clk) AS score
  FROM ea, eb WHERE ea.clk % eb.clk;
-- Pairs anonlink's C++ kernel misses are exactly those scoring the threshold
-- itself (its integer popcount bound); pg_pprl keeps them, as anonlink's
-- Python implementation does.
SELECT count(*) AS extra, count(*) FILTER (WHERE score = 0.81) AS extra_at_threshold
  FROM (SELECT row_a, row_b, score FROM eall
        EXCEPT SELECT row_a, row_b, score FROM ec) x;
SELECT count(*) AS missing FROM (SELECT row_a, row_b FROM ec EXCEPT SELECT row_a, row_b FROM eall) x;
SELECT * FROM same_candidates('{ea,eb}', 0.81, 'ec');
\set doc `cat ":datadir/anonlink-example/anonlink-0.81/groups.json"`
SELECT * FROM same_groups('{ea,eb}', 0.81, :'doc');

-- FEBRL4 5000 x 5000 CLKs from clkhash: every listed score is exact.
\set doc `cat ":datadir/febrl4/clkhash/clks_a.json"`
CREATE TABLE ga AS SELECT * FROM load_clks(:'doc');
\set doc `cat ":datadir/febrl4/clkhash/clks_b.json"`
CREATE TABLE gb AS SELECT * FROM load_clks(:'doc');
\set doc `cat ":datadir/febrl4/anonlink-0.8/candidates.csv"`
CREATE TABLE gc AS SELECT * FROM load_candidates(:'doc');
SET pprl.dice_threshold = 0.8;
SELECT count(*) AS candidates, count(*) FILTER (WHERE dice(ga.clk, gb.clk) = gc.score) AS exact_scores,
       count(*) FILTER (WHERE ga.clk % gb.clk) AS at_or_above_threshold
  FROM gc JOIN ga ON ga.row_id = gc.row_a JOIN gb ON gb.row_id = gc.row_b;
SELECT * FROM same_candidates('{ga,gb}', 0.8, 'gc');
\set doc `cat ":datadir/febrl4/anonlink-0.8/groups.json"`
SELECT * FROM same_groups('{ga,gb}', 0.8, :'doc');
\unset doc
RESET pprl.dice_threshold;

\else
DO $$ BEGIN RAISE NOTICE 'skipping known-answer tests: ../shared/data not found'; END $$;
\endif
