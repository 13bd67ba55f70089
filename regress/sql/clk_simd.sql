-- Kernel paths: every path this CPU supports gives identical results.
CREATE OR REPLACE FUNCTION test_clk(seed int, nbytes int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(substr(string_agg(md5(seed || ':' || j), '' ORDER BY j), 1, nbytes * 2), 'hex')::clk
	  FROM generate_series(1, (nbytes + 15) / 16) j
$$;

SELECT count(*) AS paths, count(*) FILTER (WHERE active) AS active,
       bool_and(supported) FILTER (WHERE path IN ('portable')) AS portable_everywhere
  FROM pprl_simd_info();
SHOW pprl.simd;
SET pprl.simd = 'portable';
SELECT path FROM pprl_simd_info() WHERE active;
SET pprl.simd = 'sse9';
RESET pprl.simd;

-- Data of many lengths (1 to 300 bytes, and the 1024-bit CLK size),
-- dense, sparse, empty and full.
CREATE TABLE kd AS
SELECT n, i, a, b FROM (
	SELECT n, i, test_clk(i, n) a, test_clk(i + 7, n) b
	  FROM generate_series(1, 300) n, generate_series(1, 3) i
	UNION ALL
	SELECT 128, i, test_clk(i, 128) & test_clk(i + 1, 128) & test_clk(i + 2, 128), test_clk(i + 3, 128)
	  FROM generate_series(1, 50) i
	UNION ALL
	SELECT n, 0, decode(repeat('00', n), 'hex')::clk, decode(repeat('ff', n), 'hex')::clk
	  FROM unnest(ARRAY[1, 8, 63, 64, 65, 128, 8192]) n
) s;

-- One fingerprint of all results per path (popcount is recomputed by the
-- path's kernel through the bytea cast).
CREATE FUNCTION path_fingerprint() RETURNS text LANGUAGE sql AS $$
	SELECT md5(string_agg(concat_ws(',', dice(a, b), tanimoto(a, b), hamming(a, b),
	                                clk_popcount(a::bytea::clk), clk_popcount(a | b),
	                                clk_popcount(a & b), a % b, a <-> b), ';' ORDER BY n, i))
	  FROM kd
$$;
CREATE TABLE fingerprints (path text, fp text);
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT path FROM pprl_simd_info() WHERE supported LOOP
		PERFORM set_config('pprl.simd', p.path, true);
		INSERT INTO fingerprints VALUES (p.path, path_fingerprint());
	END LOOP;
END $$;
SELECT count(DISTINCT fp) AS distinct_results, count(*) > 0 AS some_paths FROM fingerprints;
-- The popcount cached at input equals the portable path's recount.
SET pprl.simd = 'portable';
SELECT count(*) FILTER (WHERE clk_popcount(a) <> bit_count(a::varbit)) AS wrong_popcounts FROM kd;
RESET pprl.simd;
