-- CLK encoding in SQL: pprl_encode(jsonb | text[], schema, secret).
CREATE TABLE enc_schema (s jsonb);
INSERT INTO enc_schema VALUES ('{
  "version": 3,
  "clkConfig": {"l": 256, "kdf": {"type": "HKDF", "hash": "SHA256", "salt": "c2FsdA==", "info": "aW5mbw==", "keySize": 64}},
  "features": [
    {"identifier": "id", "ignored": true},
    {"identifier": "name", "format": {"type": "string", "encoding": "utf-8", "maxLength": 30},
     "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 8}, "hash": {"type": "doubleHash"}}},
    {"identifier": "postcode", "format": {"type": "integer", "minimum": 100, "maximum": 9999},
     "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": true}, "strategy": {"bitsPerFeature": 40},
                 "missingValue": {"sentinel": ""}}}
  ]}');
CREATE TABLE people (id int, name text, postcode text);
INSERT INTO people VALUES (1, 'anna smith', '2000'), (2, 'ana smith', '2000'), (3, 'zed quux', ''),
	(4, 'anna smith', ' +2000 ');

-- The array form and the jsonb form give the same CLK; l = 256 bits.
SELECT p.id, clk_length(a) AS bits, a = j AS same
  FROM people p, enc_schema,
       LATERAL (SELECT pprl_encode(ARRAY[p.id::text, p.name, p.postcode], s, 'secret') AS a,
                       pprl_encode(jsonb_build_object('name', p.name, 'postcode', p.postcode), s, 'secret') AS j) e
 ORDER BY 1;
-- Integers are canonical before hashing (' +2000 ' is 2000); similar names are similar.
SELECT dice(x.c, y.c) = 1 AS canonical_integer
  FROM (SELECT pprl_encode(ARRAY['1', 'anna smith', '2000'], s, 'secret') c FROM enc_schema) x,
       (SELECT pprl_encode(ARRAY['4', 'anna smith', ' +2000 '], s, 'secret') c FROM enc_schema) y;
SELECT dice(x.c, y.c) > 0.7 AS similar, dice(x.c, z.c) < 0.5 AS dissimilar
  FROM (SELECT pprl_encode(ARRAY['', 'anna smith', '2000'], s, 'secret') c FROM enc_schema) x,
       (SELECT pprl_encode(ARRAY['', 'ana smith', '2000'], s, 'secret') c FROM enc_schema) y,
       (SELECT pprl_encode(ARRAY['', 'zed quux', ''], s, 'secret') c FROM enc_schema) z;
-- Another secret, another CLK; ignored features change nothing.
SELECT pprl_encode(ARRAY['1', 'anna smith', '2000'], s, 'secret') <> pprl_encode(ARRAY['1', 'anna smith', '2000'], s, 'other')
       AS secret_matters,
       pprl_encode(ARRAY['1', 'anna smith', '2000'], s, 'secret') = pprl_encode(ARRAY['99', 'anna smith', '2000'], s, 'secret')
       AS ignored_ignored
  FROM enc_schema;
-- INSERT ... SELECT over a table (the schema parsed once per call site).
CREATE TABLE people_clk AS
  SELECT id AS row_id, pprl_encode(to_jsonb(p) - 'id', (SELECT s FROM enc_schema), 'secret') AS clk FROM people p;
SELECT count(*), count(DISTINCT clk) FROM people_clk;

-- Errors name the feature; the secret never appears.
SELECT pprl_encode(ARRAY['1', 'anna smith', '20000'], s, 'hush-hush') FROM enc_schema;
SELECT pprl_encode(ARRAY['1', 'anna smith', 'x'], s, 'hush-hush') FROM enc_schema;
SELECT pprl_encode(ARRAY['1', 'anna smith'], s, 'hush-hush') FROM enc_schema;
SELECT pprl_encode('{"name": "anna"}'::jsonb, s, 'hush-hush') FROM enc_schema;
SELECT pprl_encode('{"name": ["anna"], "postcode": "2000"}'::jsonb, s, 'hush-hush') FROM enc_schema;
SELECT pprl_encode('[1, 2]'::jsonb, s, 'hush-hush') FROM enc_schema;
SELECT pprl_encode(ARRAY['1', 'a', '2000'], '{"version": 3}', 'hush-hush');
SELECT pprl_encode(ARRAY['1', 'a', '2000'], jsonb_set(s, '{features,1,hashing,comparison,type}', '"soundex"'), 'hush-hush')
  FROM enc_schema;
SELECT pprl_encode(ARRAY['1', 'a', '2000'], jsonb_set(s, '{features,1,hashing,comparison,n}', '65'), 'hush-hush') FROM enc_schema;
SELECT pprl_encode(ARRAY['1', 'a', '2000'], jsonb_set(s, '{version}', '7'), 'hush-hush') FROM enc_schema;
SELECT pprl_encode(NULL::text[], s, 'x') IS NULL AS strict FROM enc_schema;
