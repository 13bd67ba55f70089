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
CREATE FUNCTION load_candidates(doc text) RETURNS TABLE (score float8, row_a bigint, row_b bigint)
LANGUAGE sql AS $$
	SELECT f[1]::float8, f[3]::bigint, f[5]::bigint
	  FROM (SELECT string_to_array(line, ',') f
	          FROM regexp_split_to_table(doc, E'\n') WITH ORDINALITY AS l(line, n)
	         WHERE n > 1 AND line <> '') s
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
\unset doc
RESET pprl.dice_threshold;

\else
DO $$ BEGIN RAISE NOTICE 'skipping known-answer tests: ../shared/data not found'; END $$;
\endif
