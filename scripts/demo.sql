-- demo.sql: link two parties' CLKs in SQL with pg_pprl and report quality
-- against the known truth.  psql variables: datadir (a folder with
-- clks_a.json, clks_b.json and truth.csv) and synthetic (true to generate
-- data with planted matches instead).
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off

CREATE TABLE party_a (row_id bigint PRIMARY KEY, clk clk);
CREATE TABLE party_b (row_id bigint PRIMARY KEY, clk clk);
CREATE TABLE truth (row_a bigint, row_b bigint);

\if :synthetic
-- 2000 random 1024-bit CLKs for A (about half the bits set); B holds noisy
-- copies (about 3% of bits flipped) of the first 1500, plus 500 strangers.
CREATE FUNCTION random_bytes(seed text, n int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(string_agg(md5(seed || ':' || j), '' ORDER BY j), 'hex')
	  FROM generate_series(1, n / 16) j
$$;
INSERT INTO party_a SELECT i, random_bytes('a' || i, 128)::clk FROM generate_series(0, 1999) i;
INSERT INTO party_b
SELECT i, CASE WHEN i < 1500
	THEN (SELECT (a.clk::varbit # (random_bytes('n1' || i, 128)::clk & random_bytes('n2' || i, 128)::clk
	                               & random_bytes('n3' || i, 128)::clk & random_bytes('n4' || i, 128)::clk
	                               & random_bytes('n5' || i, 128)::clk)::varbit)::clk
	        FROM party_a a WHERE a.row_id = (i * 7) % 2000)
	ELSE random_bytes('b' || i, 128)::clk END
  FROM generate_series(0, 1999) i;
INSERT INTO truth SELECT (i * 7) % 2000, i FROM generate_series(0, 1499) i;
\echo 'data: synthetic, 2000 + 2000 CLKs, 1500 planted matches'
\else
\set a `cat ":datadir/clks_a.json"`
\set b `cat ":datadir/clks_b.json"`
\set truth `cat ":datadir/truth.csv"`
INSERT INTO party_a SELECT ord - 1, value::clk
  FROM json_array_elements_text(:'a'::json -> 'clks') WITH ORDINALITY e(value, ord);
INSERT INTO party_b SELECT ord - 1, value::clk
  FROM json_array_elements_text(:'b'::json -> 'clks') WITH ORDINALITY e(value, ord);
INSERT INTO truth SELECT f[1]::bigint, f[2]::bigint
  FROM (SELECT string_to_array(line, ',') f FROM regexp_split_to_table(:'truth', E'\n')
         WITH ORDINALITY l(line, n) WHERE n > 1 AND line <> '') s;
\echo 'data: FEBRL4 CLKs from ../shared/data/febrl4-clks (1000 + 1000, 1000 true pairs)'
\endif

-- Link: candidates at Dice >= 0.8 and anonlink's greedy 1:1 solution.
CREATE TABLE matches AS
SELECT max(row_id) FILTER (WHERE ds = 0) AS row_a, max(row_id) FILTER (WHERE ds = 1) AS row_b
  FROM pprl_greedy_groups('{party_a,party_b}', 0.8) GROUP BY group_id;

SELECT (SELECT count(*) FROM party_a) * (SELECT count(*) FROM party_b) AS comparisons,
       (SELECT count(*) FROM pprl_candidates('{party_a,party_b}', 0.8)) AS candidates,
       count(*) AS matches,
       count(t.row_a) AS true_positives,
       round(count(t.row_a)::numeric / nullif(count(*), 0), 4) AS precision,
       round(count(t.row_a)::numeric / (SELECT count(*) FROM truth), 4) AS recall
  FROM matches m LEFT JOIN truth t ON t.row_a = m.row_a AND t.row_b = m.row_b;
