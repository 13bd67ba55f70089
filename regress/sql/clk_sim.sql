-- Similarity functions and operators.
-- Deterministic test CLKs: nbytes of md5-derived bytes per seed.
CREATE OR REPLACE FUNCTION test_clk(seed int, nbytes int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(substr(string_agg(md5(seed || ':' || j), '' ORDER BY j), 1, nbytes * 2), 'hex')::clk
	  FROM generate_series(1, (nbytes + 15) / 16) j
$$;

-- Hand-checked values: A = 11110000, B = 11000011.
SELECT dice('8A==', 'ww=='), tanimoto('8A==', 'ww=='), hamming('8A==', 'ww==');
-- Identical, disjoint, and empty CLKs.
SELECT dice('8A==', '8A==') AS same, dice('8A==', 'Dw==') AS disjoint,
       dice('AA==', 'AA==') AS both_empty, dice('AA==', '8A==') AS one_empty;
SELECT tanimoto('AA==', 'AA==') AS both_empty, hamming('AA==', '/w==') AS all_differ;

-- Dice as anonlink computes it: 2|A and B| / (|A| + |B|) in double precision.
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE dice(a, b) = (2.0::float8 * bit_count((a::varbit) & (b::varbit)))
                        / (bit_count(a::varbit) + bit_count(b::varbit))) AS exact_dice,
       count(*) FILTER (WHERE hamming(a, b) = bit_count((a::varbit) # (b::varbit))) AS exact_hamming,
       count(*) FILTER (WHERE tanimoto(a, b) = bit_count((a::varbit) & (b::varbit))::float8
                        / bit_count((a::varbit) | (b::varbit))) AS exact_tanimoto,
       count(*) FILTER (WHERE clk_popcount(a) = bit_count(a::varbit)) AS exact_popcount
  FROM (SELECT test_clk(i, n) a, test_clk(i + 1000, n) b
          FROM generate_series(1, 40) i, unnest(ARRAY[1, 7, 16, 64, 128, 129, 1000]) n) s;

-- Lengths must match.
SELECT dice('AQ==', 'AQI=');
SELECT tanimoto('AQ==', 'AQI=');
SELECT hamming('AQ==', 'AQI=');
SELECT 'AQ=='::clk % 'AQI=';
SELECT 'AQ=='::clk <-> 'AQI=';

-- The % operator reads pprl.dice_threshold; equality with the threshold matches.
SHOW pprl.dice_threshold;
SELECT dice('8A==', '8w==') AS d, '8A=='::clk % '8w==' AS match_at_default;
SET pprl.dice_threshold = 0.8;
SELECT '8A=='::clk % '8w==' AS exactly_at_threshold;
SET pprl.dice_threshold = 0.81;
SELECT '8A=='::clk % '8w==' AS just_above;
SET pprl.dice_threshold = 0;
SELECT 'AA=='::clk % 'AA==' AS empty_at_zero;
SET pprl.dice_threshold = 1.5;
SET pprl.dice_threshold = -0.1;
RESET pprl.dice_threshold;

-- <-> is 1 - dice, for nearest-neighbour ORDER BY ... LIMIT k.
CREATE TABLE sim (id int, c clk(256));
INSERT INTO sim SELECT i, test_clk(i, 32) FROM generate_series(1, 200) i;
INSERT INTO sim SELECT 1000 + i, (SELECT c FROM sim WHERE id = i) | (test_clk(5000 + i, 32) & test_clk(6000 + i, 32) & test_clk(7000 + i, 32))
  FROM generate_series(1, 3) i;
SELECT id, round((c <-> (SELECT c FROM sim WHERE id = 2))::numeric, 4) AS dist
  FROM sim ORDER BY c <-> (SELECT c FROM sim WHERE id = 2), id LIMIT 3;
SELECT count(*) FILTER (WHERE (a.c <-> b.c) = 1 - dice(a.c, b.c)) = count(*) AS distance_is_one_minus_dice
  FROM sim a, sim b WHERE a.id <= 20 AND b.id <= 20;

-- Threshold join with %: the same pairs as dice >= threshold.
SET pprl.dice_threshold = 0.7;
SELECT a.id, b.id, round(dice(a.c, b.c)::numeric, 4)
  FROM sim a JOIN sim b ON a.c % b.c AND a.id < b.id ORDER BY 1, 2;
SELECT (SELECT count(*) FROM sim a, sim b WHERE a.c % b.c) =
       (SELECT count(*) FROM sim a, sim b WHERE dice(a.c, b.c) >= 0.7) AS same_pairs;
RESET pprl.dice_threshold;

-- NULLs propagate (strict functions).
SELECT dice(NULL, 'AQ=='), hamming('AQ==', NULL), clk_popcount(NULL), NULL::clk % 'AQ==';

-- Every function of the extension has a comment, a volatility and a
-- parallel-safety label; % is STABLE because it reads a setting.
SELECT p.proname, p.provolatile, p.proparallel
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_pprl')
   AND (p.proparallel <> 's' OR p.provolatile <> 'i')
 ORDER BY 1;
SELECT count(*) AS functions_without_comment
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_pprl')
   AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT count(*) AS operators_without_comment
  FROM pg_operator o JOIN pg_depend d ON d.objid = o.oid AND d.classid = 'pg_operator'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_pprl')
   AND obj_description(o.oid, 'pg_operator') IS NULL;
