-- Known answers of the encoder in SQL: FEBRL4 (v3 schema) and clkhash's
-- dirty data (v1 schema) encoded with pprl_encode equal clkhash 0.18's CLKs
-- bit for bit.  Skipped with a notice when ../shared/data is absent.
\getenv datadir PPRL_SHARED_DATA
\if :{?datadir}
\set have_data `test -r ":datadir/febrl4/clkhash/clks_a.json" && echo true || echo false`
\else
\set have_data false
\endif
\if :have_data
CREATE TABLE f4 (rec_id text, given_name text, surname text, street_number text, address_1 text,
	address_2 text, suburb text, postcode text, state text, date_of_birth text, soc_sec_id text,
	row_id bigint GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START 0));
\set path :datadir/febrl4/dataset4a.csv
COPY f4 (rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state,
	date_of_birth, soc_sec_id) FROM :'path' WITH (FORMAT csv, HEADER);
\set schema `cat ":datadir/febrl4/febrl_schema_v3.json"`
\set secret `cat ":datadir/febrl4/clkhash/secret.txt"`
\set ref `cat ":datadir/febrl4/clkhash/clks_a.json"`
SELECT count(*) AS records,
       count(*) FILTER (WHERE pprl_encode(ARRAY[rec_id, given_name, surname, street_number, address_1, address_2,
                                                suburb, postcode, state, date_of_birth, soc_sec_id],
                                          :'schema', :'secret') = r.clk) AS equal_to_clkhash
  FROM f4 JOIN (SELECT ord - 1 AS row_id, value::clk AS clk
                  FROM json_array_elements_text(:'ref'::json -> 'clks') WITH ORDINALITY e(value, ord)) r USING (row_id);
-- the jsonb form, from the row itself
SELECT count(*) FILTER (WHERE pprl_encode(to_jsonb(f4) - 'row_id', :'schema', :'secret') = r.clk) AS jsonb_equal
  FROM f4 JOIN (SELECT ord - 1 AS row_id, value::clk AS clk
                  FROM json_array_elements_text(:'ref'::json -> 'clks') WITH ORDINALITY e(value, ord)) r USING (row_id);
-- in parallel workers too
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT count(*) FILTER (WHERE pprl_encode(ARRAY[rec_id, given_name, surname, street_number, address_1, address_2,
                                                suburb, postcode, state, date_of_birth, soc_sec_id],
                                          :'schema', :'secret') IS NOT NULL) AS encoded_in_parallel FROM f4;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

CREATE TABLE dirty (c text[], row_id bigint GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START 0));
CREATE TEMP TABLE dirty_raw (line text);
\set path :datadir/clkhash-dirty/dirty_1000_50_1.csv
COPY dirty_raw FROM :'path' WITH (FORMAT text);
-- the file has no quotes: split on commas, header dropped
INSERT INTO dirty (c) SELECT string_to_array(line, ',') FROM dirty_raw WHERE line NOT LIKE 'rec_id,%';
\set schema `cat ":datadir/clkhash-dirty/dirty-data-schema.json"`
\set secret `cat ":datadir/clkhash-dirty/secret.txt"`
\set ref `cat ":datadir/clkhash-dirty/clks_1.json"`
SELECT count(*) AS records, count(*) FILTER (WHERE pprl_encode(c, :'schema', :'secret') = r.clk) AS equal_to_clkhash
  FROM dirty JOIN (SELECT ord - 1 AS row_id, value::clk AS clk
                     FROM json_array_elements_text(:'ref'::json -> 'clks') WITH ORDINALITY e(value, ord)) r USING (row_id);
\else
DO $$ BEGIN RAISE NOTICE 'skipping encoder known-answer tests: ../shared/data not found'; END $$;
\endif
