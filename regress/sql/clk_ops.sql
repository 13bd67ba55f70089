-- Equality, ordering, hashing, bitwise operators and aggregates.
CREATE OR REPLACE FUNCTION test_clk(seed int, nbytes int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(substr(string_agg(md5(seed || ':' || j), '' ORDER BY j), 1, nbytes * 2), 'hex')::clk
	  FROM generate_series(1, (nbytes + 15) / 16) j
$$;

SELECT 'AQ=='::clk = 'AQ==' AS eq, 'AQ=='::clk = 'Ag==' AS ne1, 'AQ=='::clk <> 'AQI=' AS ne2,
       'AQ=='::clk < 'Ag==' AS lt, 'AQI='::clk > '/w==' AS longer_sorts_after;
SELECT c FROM (VALUES ('Ag=='::clk), ('AQI='), ('AQ=='), ('AQE=')) v(c) ORDER BY c;

CREATE TABLE te (id int, c clk);
INSERT INTO te SELECT i, test_clk(i % 50, 16) FROM generate_series(1, 200) i;
SELECT count(DISTINCT c) AS distinct_clks FROM te;
SELECT count(*) AS groups FROM (SELECT c FROM te GROUP BY c) g;
CREATE INDEX te_c ON te (c);
SET enable_seqscan = off;
SELECT count(*) FROM te WHERE c = test_clk(7, 16);
RESET enable_seqscan;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM te a JOIN te b ON a.c = b.c;
SELECT count(*) FROM te a JOIN te b ON a.c = b.c;
RESET enable_mergejoin;
RESET enable_nestloop;
CREATE TABLE tp (c clk) PARTITION BY HASH (c);
CREATE TABLE tp0 PARTITION OF tp FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE tp1 PARTITION OF tp FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO tp SELECT c FROM te;
SELECT (SELECT count(*) FROM tp0) + (SELECT count(*) FROM tp1) AS partitioned_rows,
       (SELECT count(*) FROM tp0) > 0 AND (SELECT count(*) FROM tp1) > 0 AS both_used;

-- Bitwise operators.
SELECT '8A=='::clk & 'ww==' AS and_, '8A=='::clk | 'ww==' AS or_,
       clk_popcount('8A=='::clk & 'ww=='), clk_popcount('8A=='::clk | 'ww==');
SELECT 'AQ=='::clk & 'AQI=';

-- Aggregates: OR and AND of a set, NULLs skipped, empty set gives NULL.
SELECT bit_or(c), bit_and(c) FROM (VALUES ('gAE='::clk), ('AQE='), (NULL), ('wAM=')) v(c);
SELECT bit_or(c) IS NULL AS empty_or FROM te WHERE false;
SELECT bit_or(c) FROM (VALUES ('AQ=='::clk), ('AQI=')) v(c);
-- Parallel aggregation gives the same answer as serial.
CREATE TABLE tagg AS SELECT i, test_clk(i, 128) c FROM generate_series(1, 3000) i;
ANALYZE tagg;
SELECT bit_or(c) AS serial_or, bit_and(c) AS serial_and FROM tagg \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT bit_or(c), bit_and(c) FROM tagg;
SELECT bit_or(c) = :'serial_or'::clk AS parallel_or_same,
       bit_and(c) = :'serial_and'::clk AS parallel_and_same,
       clk_popcount(bit_or(c)) AS or_bits FROM tagg;
-- % is parallel safe: a parallel plan finds the same pairs.
SET pprl.dice_threshold = 0.6;
SELECT count(*) FROM tagg a, tagg b WHERE a.i < 200 AND a.c % b.c;
RESET ALL;
