-- Known answers through the pprl index: FEBRL4's 5000 + 5000 clkhash CLKs
-- joined with WHERE b.clk % a.clk, each row of A probing an index on B,
-- give exactly anonlink's 5509 candidate pairs at 0.8, with the same
-- scores; and each A record's nearest B by ORDER BY <-> LIMIT 1 is its
-- best candidate.  Skipped with a notice when ../shared/data is absent.
\getenv datadir PPRL_SHARED_DATA
\if :{?datadir}
\set have_data `test -r ":datadir/febrl4/anonlink-0.8/candidates.csv" && echo true || echo false`
\else
\set have_data false
\endif
\if :have_data
\set a `cat ":datadir/febrl4/clkhash/clks_a.json"`
\set b `cat ":datadir/febrl4/clkhash/clks_b.json"`
CREATE TABLE ka AS SELECT ord - 1 AS row_id, value::clk(1024) AS clk
  FROM json_array_elements_text(:'a'::json -> 'clks') WITH ORDINALITY e(value, ord);
CREATE TABLE kb AS SELECT ord - 1 AS row_id, value::clk(1024) AS clk
  FROM json_array_elements_text(:'b'::json -> 'clks') WITH ORDINALITY e(value, ord);
CREATE TABLE kref (score float8, ds_a int, row_a bigint, ds_b int, row_b bigint);
\set path :datadir/febrl4/anonlink-0.8/candidates.csv
COPY kref FROM :'path' WITH (FORMAT csv, HEADER);
CREATE INDEX kb_clk ON kb USING pprl (clk);
ANALYZE ka;
ANALYZE kb;
SET pprl.dice_threshold = 0.8;
-- The planner's own choice: a nested loop probing the index.
CREATE FUNCTION known_plan() RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
	FOR line IN EXPLAIN (COSTS OFF) SELECT ka.row_id, kb.row_id FROM ka JOIN kb ON kb.clk % ka.clk LOOP
		plan := plan || CASE WHEN plan = '' THEN '' ELSE ' / ' END || regexp_replace(btrim(line), '^->\s+', '');
	END LOOP;
	RETURN plan;
END $$;
SELECT known_plan();
CREATE TABLE kjoin AS
SELECT dice(ka.clk, kb.clk) AS score, ka.row_id AS row_a, kb.row_id AS row_b
  FROM ka JOIN kb ON kb.clk % ka.clk;
SELECT count(*) AS pairs,
       (SELECT count(*) FROM kref) AS anonlink_pairs,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM kref r WHERE r.row_a = j.row_a AND r.row_b = j.row_b
                                        AND r.score = j.score)) AS same_pair_and_score
  FROM kjoin j;
-- Nearest neighbour of every A record: its best candidate's score.
SET enable_seqscan = off;
SELECT count(*) AS records_with_candidates,
       count(*) FILTER (WHERE nn.score = best.score) AS nearest_is_best
  FROM (SELECT row_a, max(score) AS score FROM kref GROUP BY row_a) best
  JOIN ka ON ka.row_id = best.row_a
 CROSS JOIN LATERAL (SELECT dice(kb.clk, ka.clk) AS score FROM kb ORDER BY kb.clk <-> ka.clk LIMIT 1) nn;
RESET enable_seqscan;
DROP TABLE ka, kb, kref, kjoin;
DROP FUNCTION known_plan;
\else
DO $$ BEGIN RAISE NOTICE 'skipping index known-answer tests: ../shared/data not found'; END $$;
\endif
