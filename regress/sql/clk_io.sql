-- Text, binary and typmod input/output of the clk type.

-- Round trips: base64 text is printed back exactly.
SELECT 'AQ=='::clk AS one_byte, 'AQI='::clk AS two_bytes, 'AQID'::clk AS three_bytes;
SELECT c::clk::text = c AS round_trip
  FROM (VALUES ('AAAAAAAAAAA='), ('//////////8='), ('gAAAAAAAAAE=')) v(c);
SELECT clk_length('AQID'), clk_popcount('AQID'), clk_popcount('//////////8=');

-- A real 1024-bit CLK as clkhash writes it.
SELECT clk_length(c), clk_popcount(c), c::text = 'FttXOHbv3khjweS35so7Jva8W3ef5uK5+HSuNPUsYNmihlvhn7QhPFkUfvHmzfw+Ycc3Mv4zdxlLaiDTG4rFvAOa7mtAL+p3TVQy3pLwTumG99/SZ5yurhWyJr/b9HX5472t5omHny6scn5tXZKhF/sT4Ucr9fzWfsa1q+K7s7I=' AS same
  FROM (SELECT 'FttXOHbv3khjweS35so7Jva8W3ef5uK5+HSuNPUsYNmihlvhn7QhPFkUfvHmzfw+Ycc3Mv4zdxlLaiDTG4rFvAOa7mtAL+p3TVQy3pLwTumG99/SZ5yurhWyJr/b9HX5472t5omHny6scn5tXZKhF/sT4Ucr9fzWfsa1q+K7s7I='::clk AS c) s;

-- Malformed text: each error says what is wrong and where.
SELECT ''::clk;
SELECT 'AQ'::clk;
SELECT 'AQ='::clk;
SELECT 'AQ==='::clk;
SELECT 'A Q=='::clk;
SELECT 'AQ==
'::clk;
SELECT 'AQ-_'::clk;
SELECT 'AQ=A'::clk;
SELECT 'Q==='::clk;
SELECT '===='::clk;
SELECT 'QR=='::clk;
SELECT 'AQJ='::clk;
SELECT repeat('A', 10928)::clk;
\set VERBOSITY verbose
SELECT 'AQ!='::clk;
\set VERBOSITY default

-- The largest CLK (65536 bits) is accepted, one byte more is not.
SELECT clk_length(replace(encode(decode(repeat('ff', 8192), 'hex'), 'base64'), E'\n', '')::clk);
SELECT clk_length(replace(encode(decode(repeat('ff', 8193), 'hex'), 'base64'), E'\n', '')::clk);

-- Type modifier clk(n).
CREATE TABLE t1024 (id int, c clk(1024));
INSERT INTO t1024 VALUES (1, replace(encode(decode(repeat('0f', 128), 'hex'), 'base64'), E'\n', '')::clk);
INSERT INTO t1024 VALUES (2, 'AQ==');
INSERT INTO t1024 VALUES (3, decode(repeat('aa', 127), 'hex'));
SELECT id, clk_length(c), clk_popcount(c) FROM t1024;
SELECT 'AQI='::clk(16), 'AQI='::clk(8);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 't1024'::regclass AND attname = 'c';
CREATE TABLE bad1 (c clk(7));
CREATE TABLE bad2 (c clk(0));
CREATE TABLE bad3 (c clk(65544));
CREATE TABLE bad4 (c clk(8, 16));
CREATE TABLE ok65536 (c clk(65536));

-- Binary send: int32 bit count, then the bytes.
SELECT clk_send('AQI=');

-- Binary receive through COPY BINARY, in files in the data directory.
CREATE FUNCTION datafile(name text) RETURNS text LANGUAGE sql
	AS $$ SELECT current_setting('data_directory') || '/' || name $$;
CREATE FUNCTION copy_file(query text, name text, direction text) RETURNS void
	LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY %s %s %L (FORMAT binary)', query, direction, datafile(name));
END $$;
CREATE TABLE tb (c clk);
INSERT INTO tb VALUES ('AQI='), ('//////////8='), (NULL);
SELECT copy_file('tb', 'pprl_clk.bin', 'TO');
CREATE TABLE tb2 (c clk);
SELECT copy_file('tb2', 'pprl_clk.bin', 'FROM');
SELECT c, clk_popcount(c) FROM tb2;
CREATE TABLE tb16 (c clk(16));
\set VERBOSITY terse
SELECT copy_file('tb16', 'pprl_clk.bin', 'FROM');
\set VERBOSITY default
-- Malformed binary input: each field is a bytea written raw, then read as clk.
CREATE FUNCTION recv_test(raw bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM copy_file(format('(SELECT %L::bytea)', raw), 'pprl_raw.bin', 'TO');
	TRUNCATE tb2;
	PERFORM copy_file('tb2', 'pprl_raw.bin', 'FROM');
	RETURN (SELECT c::text || ' popcount ' || clk_popcount(c) FROM tb2);
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT r, recv_test(r::bytea) FROM (VALUES
	('\x00000008ff'), ('\x00000010aaaa'), ('\x00000007ff'), ('\x00000000'),
	('\x00000010ff'), ('\x0000000801ff'), ('\x000001'), ('\xffffffff'),
	('\x00010008')) v(r);
