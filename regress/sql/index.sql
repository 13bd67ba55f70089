-- The pprl index access method: index scans must return exactly what a
-- sequential scan returns (same queries with the index and without it),
-- across thresholds and k, after inserts, deletes and VACUUM.

-- Deterministic 1024-bit CLKs: 8 md5 digests of (i, s).  Popcounts spread
-- by AND-ing (about 256 bits) or OR-ing (about 768) a second stream, and
-- near duplicates drop about 1/8 or 1/16 of the bits (Dice ~0.93, ~0.97).
CREATE FUNCTION ix_bits(i int, s text) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(string_agg(md5(i || ':' || s || ':' || k), '' ORDER BY k), 'hex')::clk
	  FROM generate_series(1, 8) k
$$;
CREATE FUNCTION ix_base(i int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE i % 3 WHEN 0 THEN ix_bits(i, 'a')
	                  WHEN 1 THEN ix_bits(i, 'a') & ix_bits(i, 'b')
	                  ELSE ix_bits(i, 'a') | ix_bits(i, 'b') END
$$;
CREATE FUNCTION ix_drop(c clk, i int, n int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	-- clear the bits of n AND-ed streams (density 2^-n)
	SELECT (c::varbit & ~(SELECT bit_and(ix_bits(i, 'n' || j)) FROM generate_series(1, n) j)::varbit)::clk
$$;
CREATE TABLE ix (id int PRIMARY KEY, c clk);
INSERT INTO ix SELECT i, ix_base(i) FROM generate_series(1, 1500) i;
INSERT INTO ix SELECT 10000 + i, ix_drop(ix_base(i), i, 3) FROM generate_series(1, 1500, 2) i;
INSERT INTO ix SELECT 20000 + i, ix_drop(ix_base(i), i, 4) FROM generate_series(1, 1500, 5) i;
INSERT INTO ix VALUES (-1, NULL), (-2, NULL);
CREATE TABLE ixq (qid int, c clk);
INSERT INTO ixq SELECT i, ix_base(i) FROM (VALUES (1), (2), (3), (10), (11), (12)) v(i);
INSERT INTO ixq SELECT 100 + i, ix_drop(ix_base(i), i, 2) FROM (VALUES (5), (6), (7)) v(i);
SET max_parallel_maintenance_workers = 0;
CREATE INDEX ix_c ON ix USING pprl (c);
ANALYZE ix;
SELECT entries, null_entries, popcounts > 100 AS spread, clk_bits FROM pprl_index_stats('ix_c');

-- Matches of one query at one threshold, by the given plan.
CREATE FUNCTION ix_match(q clk, t float8, how text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
	PERFORM set_config('pprl.dice_threshold', t::text, true);
	PERFORM set_config('enable_seqscan', (how = 'seq')::text, true);
	PERFORM set_config('enable_indexscan', (how = 'index')::text, true);
	PERFORM set_config('enable_bitmapscan', (how = 'bitmap')::text, true);
	SELECT array_agg(id ORDER BY id) INTO r FROM ix WHERE c % q;
	RETURN coalesce(r, '{}');
END $$;
-- The plan a query gets (one line per node, leading words only).
CREATE FUNCTION ix_plan(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		plan := plan || CASE WHEN plan = '' THEN '' ELSE ' / ' END ||
			regexp_replace(btrim(line), '^->\s+', '');
	END LOOP;
	RETURN plan;
END $$;

-- Thresholds 0.5 to 1: index scan, bitmap scan and seq scan agree.
SELECT t, sum(cardinality(ix_match(q.c, t, 'seq'))) AS matches,
       bool_and(ix_match(q.c, t, 'seq') = ix_match(q.c, t, 'index')) AS index_same,
       bool_and(ix_match(q.c, t, 'seq') = ix_match(q.c, t, 'bitmap')) AS bitmap_same
  FROM ixq q, (VALUES (0.5), (0.6), (0.7), (0.8), (0.85), (0.9), (0.95), (1.0)) v(t)
 GROUP BY t ORDER BY t;
-- A threshold of 0 matches every non-NULL CLK (the index reads all buckets).
SELECT cardinality(ix_match(c, 0, 'bitmap')) = (SELECT count(c) FROM ix) AS all_match FROM ixq WHERE qid = 1;
-- The plans really were index scans.
SET enable_seqscan = off;
SELECT ix_plan('SELECT id FROM ix WHERE c % (SELECT c FROM ixq WHERE qid = 1)');
SET enable_bitmapscan = off;
SELECT ix_plan('SELECT id FROM ix WHERE c % (SELECT c FROM ixq WHERE qid = 1)');
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Nearest neighbours: distances in the same order as a sort, and the same
-- rows wherever the distance is below the k-th (ties at k may differ).
CREATE FUNCTION ix_knn(q clk, k int, how text, OUT d float8[], OUT ids int[]) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('enable_seqscan', (how = 'seq')::text, true);
	PERFORM set_config('enable_indexscan', (how = 'index')::text, true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	SELECT array_agg(dist ORDER BY n), array_agg(id ORDER BY n) INTO d, ids
	  FROM (SELECT id, c <-> q AS dist, row_number() OVER () AS n
	          FROM (SELECT id, c FROM ix ORDER BY c <-> q LIMIT k) s) s;
END $$;
CREATE FUNCTION ix_knn_same(q clk, k int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE s record; i record; kth float8;
BEGIN
	s := ix_knn(q, k, 'seq');
	i := ix_knn(q, k, 'index');
	kth := s.d[cardinality(s.d)];
	RETURN s.d IS NOT DISTINCT FROM i.d AND
		(SELECT array_agg(x ORDER BY x) FROM unnest(s.ids, s.d) u(x, y) WHERE y < kth) IS NOT DISTINCT FROM
		(SELECT array_agg(x ORDER BY x) FROM unnest(i.ids, i.d) u(x, y) WHERE y < kth);
END $$;
SELECT k, bool_and(ix_knn_same(c, k)) AS same FROM ixq, (VALUES (1), (2), (5), (10), (50), (500)) v(k)
 GROUP BY k ORDER BY k;
SET enable_seqscan = off;
SELECT ix_plan('SELECT id FROM ix ORDER BY c <-> (SELECT c FROM ixq WHERE qid = 1) LIMIT 3');
RESET enable_seqscan;
-- The nearest of a stored CLK is itself, then its near duplicate.
SET enable_seqscan = off;
SELECT id, round((c <-> (SELECT c FROM ix WHERE id = 1))::numeric, 3) AS dist
  FROM ix ORDER BY c <-> (SELECT c FROM ix WHERE id = 1) LIMIT 3;
-- Every row comes back, NULLs last, as from a sort.
SELECT count(*) AS rows, count(*) FILTER (WHERE c IS NULL) AS nulls,
       min(n) FILTER (WHERE c IS NULL) > max(n) FILTER (WHERE c IS NOT NULL) AS nulls_last
  FROM (SELECT c, row_number() OVER () AS n FROM (SELECT c FROM ix ORDER BY c <-> (SELECT c FROM ixq WHERE qid = 2)) s) s;
-- ...in order: each distance at least the one before (several passes).
SELECT bool_and(d >= prev) AS in_order, count(*) AS rows
  FROM (SELECT d, lag(d) OVER () AS prev
          FROM (SELECT c <-> (SELECT c FROM ixq WHERE qid = 2) AS d FROM ix
                 ORDER BY c <-> (SELECT c FROM ixq WHERE qid = 2)) s) s
 WHERE d IS NOT NULL;
-- WHERE % and ORDER BY <-> together, in one index scan.
SET pprl.dice_threshold = 0.9;
SET enable_bitmapscan = off;
SELECT id FROM ix WHERE c % (SELECT c FROM ix WHERE id = 3) ORDER BY c <-> (SELECT c FROM ix WHERE id = 3), id;
SELECT ix_plan('SELECT id FROM ix WHERE c % (SELECT c FROM ix WHERE id = 3) ORDER BY c <-> (SELECT c FROM ix WHERE id = 3)');
RESET enable_seqscan;
RESET enable_bitmapscan;

-- NULL and wrong-length queries: no match, or the operator's error.
SET enable_seqscan = off;
SELECT count(*) FROM ix WHERE c % NULL::clk;
SELECT count(*) FROM ix WHERE c % '\xff00'::bytea::clk;
SELECT id FROM ix ORDER BY c <-> '\xff00'::bytea::clk LIMIT 1;
RESET enable_seqscan;

-- Inserts after the build (into existing and new pages), then a wrong length.
INSERT INTO ix SELECT 30000 + i, ix_drop(ix_base(i), i, 5) FROM generate_series(1, 1500, 3) i;
INSERT INTO ix VALUES (-3, NULL);
INSERT INTO ix VALUES (-4, '\xff00'::bytea);
SELECT entries, null_entries FROM pprl_index_stats('ix_c');
SELECT t, bool_and(ix_match(q.c, t, 'seq') = ix_match(q.c, t, 'bitmap')) AS same,
       bool_and(ix_match(q.c, t, 'seq') = ix_match(q.c, t, 'index')) AS index_same
  FROM ixq q, (VALUES (0.7), (0.9)) v(t) GROUP BY t ORDER BY t;

-- DELETE and VACUUM: gone from the index, space reused by later inserts.
DELETE FROM ix WHERE id % 2 = 0;
VACUUM ix;
SELECT entries, null_entries FROM pprl_index_stats('ix_c');
SELECT t, bool_and(ix_match(q.c, t, 'seq') = ix_match(q.c, t, 'bitmap')) AS same
  FROM ixq q, (VALUES (0.6), (0.8), (0.95)) v(t) GROUP BY t ORDER BY t;
SELECT k, bool_and(ix_knn_same(c, k)) AS same FROM ixq, (VALUES (3), (40)) v(k) GROUP BY k ORDER BY k;
CREATE TEMP TABLE ix_pages AS SELECT pages FROM pprl_index_stats('ix_c');
INSERT INTO ix SELECT 40000 + i, ix_base(i) FROM generate_series(2, 1500, 4) i;
SELECT s.pages = p.pages AS no_new_pages FROM pprl_index_stats('ix_c') s, ix_pages p;
SELECT t, bool_and(ix_match(q.c, t, 'seq') = ix_match(q.c, t, 'index')) AS same
  FROM ixq q, (VALUES (0.7), (0.9)) v(t) GROUP BY t ORDER BY t;

-- REINDEX, CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY: same answers.
REINDEX INDEX ix_c;
SELECT bool_and(ix_match(c, 0.8, 'seq') = ix_match(c, 0.8, 'bitmap')) AS same FROM ixq;
CREATE INDEX CONCURRENTLY ix_c2 ON ix USING pprl (c);
REINDEX INDEX CONCURRENTLY ix_c2;
DROP INDEX ix_c;
SELECT bool_and(ix_match(c, 0.8, 'seq') = ix_match(c, 0.8, 'bitmap')) AS same FROM ixq;
SELECT a.entries = b.entries AS same_entries
  FROM pprl_index_stats('ix_c2') a, (SELECT count(c) AS entries FROM ix) b;

-- A parallel build gives the same index contents.
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
SET maintenance_work_mem = '128MB';
CREATE INDEX ix_c3 ON ix USING pprl (c);
DROP INDEX ix_c2;
SELECT bool_and(ix_match(c, t, 'seq') = ix_match(c, t, 'bitmap')) AS same
  FROM ixq, (VALUES (0.5), (0.8), (0.95)) v(t);
SELECT k, bool_and(ix_knn_same(c, k)) AS same FROM ixq, (VALUES (1), (25)) v(k) GROUP BY k ORDER BY k;
SELECT a.entries = b.entries AND a.null_entries = b.nulls AS same_entries
  FROM pprl_index_stats('ix_c3') a, (SELECT count(c) AS entries, count(*) - count(c) AS nulls FROM ix) b;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
RESET maintenance_work_mem;

-- An index join: each row of ixq probes the index; same pairs as a seq scan.
SET pprl.dice_threshold = 0.8;
SET enable_seqscan = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT ix_plan('SELECT q.qid, ix.id FROM ixq q JOIN ix ON ix.c % q.c');
CREATE TEMP TABLE ix_join AS SELECT q.qid, ix.id FROM ixq q JOIN ix ON ix.c % q.c;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS pairs, count(*) = (SELECT count(*) FROM ix_join) AND
       NOT EXISTS (SELECT q.qid, ix.id FROM ixq q JOIN ix ON ix.c % q.c EXCEPT SELECT * FROM ix_join) AS same
  FROM ixq q JOIN ix ON ix.c % q.c;
RESET ALL;

-- Empty at build, filled later (the first CLK sets the length); unlogged.
CREATE UNLOGGED TABLE ixe (id int, c clk(1024));
CREATE INDEX ixe_c ON ixe USING pprl (c);
SELECT entries, clk_bits FROM pprl_index_stats('ixe_c');
INSERT INTO ixe SELECT id, c FROM ix WHERE id < 100;
SET enable_seqscan = off;
SELECT count(*) FROM ixe WHERE c % (SELECT c FROM ix WHERE id = 1);
RESET enable_seqscan;
SELECT entries, clk_bits FROM pprl_index_stats('ixe_c');

-- A temporary table's index (local buffers, no WAL).
CREATE TEMP TABLE ixt AS SELECT * FROM ixe;
CREATE INDEX ixt_c ON ixt USING pprl (c);
INSERT INTO ixt SELECT id + 1000, c FROM ixe;
SET enable_seqscan = off;
SELECT count(*) AS matches FROM ixt WHERE c % (SELECT c FROM ixe WHERE id = 1);
SELECT count(*) AS rows FROM (SELECT id FROM ixt ORDER BY c <-> (SELECT c FROM ixe WHERE id = 1)) s;
RESET enable_seqscan;

-- Errors: mixed lengths at build, storage parameters, not a pprl index.
CREATE TABLE ixm (c clk);
INSERT INTO ixm VALUES ('\xff00'::bytea), ('\xff00ff00'::bytea);
CREATE INDEX ON ixm USING pprl (c);
CREATE INDEX ON ixe USING pprl (c) WITH (fillfactor = 50);
SELECT * FROM pprl_index_stats('ix_pkey');
SELECT * FROM pprl_index_stats('ix');
-- The opclass passes the access method's own validation.
SELECT opcname, amvalidate(oid) FROM pg_opclass WHERE opcname = 'clk_dice_ops';
DROP TABLE ix, ixq, ixe, ixm;
DROP FUNCTION ix_match, ix_plan, ix_knn, ix_knn_same, ix_drop, ix_base, ix_bits;
