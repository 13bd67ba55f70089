-- pg_pprl 0.1.0: the clk type, similarity functions and operators.
\echo Use "CREATE EXTENSION pg_pprl" to load this file. \quit

-- ---------------------------------------------------------------- type --

CREATE TYPE clk;

CREATE FUNCTION clk_in(cstring, oid, integer) RETURNS clk
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_out(clk) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_recv(internal, oid, integer) RETURNS clk
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_send(clk) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_typmod_out(integer) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE clk (
	INPUT = clk_in,
	OUTPUT = clk_out,
	RECEIVE = clk_recv,
	SEND = clk_send,
	TYPMOD_IN = clk_typmod_in,
	TYPMOD_OUT = clk_typmod_out,
	STORAGE = external
);

COMMENT ON TYPE clk IS 'CLK: a Bloom-filter record encoding, 8 to 65536 bits (a multiple of 8), base64 text as clkhash writes it, popcount cached';
COMMENT ON FUNCTION clk_in(cstring, oid, integer) IS 'I/O';
COMMENT ON FUNCTION clk_out(clk) IS 'I/O';
COMMENT ON FUNCTION clk_recv(internal, oid, integer) IS 'I/O';
COMMENT ON FUNCTION clk_send(clk) IS 'I/O';
COMMENT ON FUNCTION clk_typmod_in(cstring[]) IS 'I/O';
COMMENT ON FUNCTION clk_typmod_out(integer) IS 'I/O';

-- --------------------------------------------------------------- casts --

CREATE FUNCTION clk(clk, integer, boolean) RETURNS clk
	AS 'MODULE_PATHNAME', 'clk_enforce_typmod' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk(clk, integer, boolean) IS 'length coercion: reject values whose length differs from clk(n)';
CREATE CAST (clk AS clk) WITH FUNCTION clk(clk, integer, boolean) AS IMPLICIT;

CREATE FUNCTION clk_to_bytea(clk) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_from_bytea(bytea) RETURNS clk
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_to_varbit(clk) RETURNS varbit
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_from_varbit(varbit) RETURNS clk
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_to_bytea(clk) IS 'cast clk to bytea: the raw bytes';
COMMENT ON FUNCTION clk_from_bytea(bytea) IS 'cast bytea to clk: 1 to 8192 raw bytes';
COMMENT ON FUNCTION clk_to_varbit(clk) IS 'cast clk to bit/varbit, same bit order';
COMMENT ON FUNCTION clk_from_varbit(varbit) IS 'cast bit/varbit to clk: length a multiple of 8, 8 to 65536 bits';

CREATE CAST (clk AS bytea) WITH FUNCTION clk_to_bytea(clk);
CREATE CAST (bytea AS clk) WITH FUNCTION clk_from_bytea(bytea) AS ASSIGNMENT;
CREATE CAST (clk AS varbit) WITH FUNCTION clk_to_varbit(clk);
CREATE CAST (varbit AS clk) WITH FUNCTION clk_from_varbit(varbit) AS ASSIGNMENT;
CREATE CAST (clk AS bit) WITH FUNCTION clk_to_varbit(clk);
CREATE CAST (bit AS clk) WITH FUNCTION clk_from_varbit(varbit) AS ASSIGNMENT;

-- ----------------------------------------------------------- functions --

CREATE FUNCTION clk_popcount(clk) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_length(clk) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION dice(clk, clk) RETURNS float8
	AS 'MODULE_PATHNAME', 'clk_dice' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION tanimoto(clk, clk) RETURNS float8
	AS 'MODULE_PATHNAME', 'clk_tanimoto' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hamming(clk, clk) RETURNS integer
	AS 'MODULE_PATHNAME', 'clk_hamming' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_popcount(clk) IS 'number of set bits (cached in the value)';
COMMENT ON FUNCTION clk_length(clk) IS 'length in bits';
COMMENT ON FUNCTION dice(clk, clk) IS 'Dice coefficient 2|A and B| / (|A| + |B|), as anonlink computes it; 0 for two empty CLKs';
COMMENT ON FUNCTION tanimoto(clk, clk) IS 'Tanimoto (Jaccard) coefficient |A and B| / |A or B|; 0 for two empty CLKs';
COMMENT ON FUNCTION hamming(clk, clk) IS 'Hamming distance: number of differing bits';

-- ----------------------------------------------------------- operators --

CREATE FUNCTION clk_dice_match(clk, clk) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_dice_match(clk, clk) IS 'implementation of %: dice >= pprl.dice_threshold (stable: reads the setting)';
CREATE OPERATOR % (
	LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_dice_match,
	COMMUTATOR = '%', RESTRICT = matchingsel, JOIN = matchingjoinsel
);
COMMENT ON OPERATOR % (clk, clk) IS 'Dice similarity at or above pprl.dice_threshold';

CREATE FUNCTION clk_dice_distance(clk, clk) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_dice_distance(clk, clk) IS 'implementation of <->: 1 - dice';
CREATE OPERATOR <-> (
	LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_dice_distance, COMMUTATOR = '<->'
);
COMMENT ON OPERATOR <-> (clk, clk) IS 'Dice distance 1 - dice(a, b), for ORDER BY ... LIMIT k';

CREATE FUNCTION clk_and(clk, clk) RETURNS clk
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_or(clk, clk) RETURNS clk
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_and(clk, clk) IS 'bitwise AND of two CLKs of equal length';
COMMENT ON FUNCTION clk_or(clk, clk) IS 'bitwise OR of two CLKs of equal length';
CREATE OPERATOR & (LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_and, COMMUTATOR = '&');
CREATE OPERATOR | (LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_or, COMMUTATOR = '|');
COMMENT ON OPERATOR & (clk, clk) IS 'bitwise AND';
COMMENT ON OPERATOR | (clk, clk) IS 'bitwise OR';

CREATE FUNCTION clk_eq(clk, clk) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_ne(clk, clk) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_cmp(clk, clk) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_hash(clk) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_hash_extended(clk, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_eq(clk, clk) IS 'implementation of =: same length and bits';
COMMENT ON FUNCTION clk_ne(clk, clk) IS 'implementation of <>';
COMMENT ON FUNCTION clk_cmp(clk, clk) IS 'btree support: order by length, then bits';
COMMENT ON FUNCTION clk_hash(clk) IS 'hash support';
COMMENT ON FUNCTION clk_hash_extended(clk, bigint) IS 'hash support (extended, for partitioning)';

CREATE OPERATOR = (
	LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_eq, COMMUTATOR = '=', NEGATOR = '<>',
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
	LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_ne, COMMUTATOR = '<>', NEGATOR = '=',
	RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR = (clk, clk) IS 'equal: same length and bits';
COMMENT ON OPERATOR <> (clk, clk) IS 'not equal';

-- Ordering operators exist only to give = a btree opclass (DISTINCT,
-- GROUP BY, merge joins); the order itself is by length, then bits.
CREATE FUNCTION clk_lt(clk, clk) RETURNS boolean
	AS 'SELECT clk_cmp($1, $2) < 0' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_le(clk, clk) RETURNS boolean
	AS 'SELECT clk_cmp($1, $2) <= 0' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_gt(clk, clk) RETURNS boolean
	AS 'SELECT clk_cmp($1, $2) > 0' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clk_ge(clk, clk) RETURNS boolean
	AS 'SELECT clk_cmp($1, $2) >= 0' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clk_lt(clk, clk) IS 'implementation of <';
COMMENT ON FUNCTION clk_le(clk, clk) IS 'implementation of <=';
COMMENT ON FUNCTION clk_gt(clk, clk) IS 'implementation of >';
COMMENT ON FUNCTION clk_ge(clk, clk) IS 'implementation of >=';
CREATE OPERATOR < (LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_lt, COMMUTATOR = '>', NEGATOR = '>=', RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_le, COMMUTATOR = '>=', NEGATOR = '>', RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_gt, COMMUTATOR = '<', NEGATOR = '<=', RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = clk, RIGHTARG = clk, PROCEDURE = clk_ge, COMMUTATOR = '<=', NEGATOR = '<', RESTRICT = scalargesel, JOIN = scalargejoinsel);
COMMENT ON OPERATOR < (clk, clk) IS 'less than (by length, then bits)';
COMMENT ON OPERATOR <= (clk, clk) IS 'less than or equal (by length, then bits)';
COMMENT ON OPERATOR > (clk, clk) IS 'greater than (by length, then bits)';
COMMENT ON OPERATOR >= (clk, clk) IS 'greater than or equal (by length, then bits)';

CREATE OPERATOR CLASS clk_ops DEFAULT FOR TYPE clk USING btree AS
	OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
	FUNCTION 1 clk_cmp(clk, clk);
CREATE OPERATOR CLASS clk_hash_ops DEFAULT FOR TYPE clk USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 clk_hash(clk),
	FUNCTION 2 clk_hash_extended(clk, bigint);

-- ---------------------------------------------------------- aggregates --

CREATE AGGREGATE bit_or(clk) (
	SFUNC = clk_or, STYPE = clk, COMBINEFUNC = clk_or, PARALLEL = SAFE
);
CREATE AGGREGATE bit_and(clk) (
	SFUNC = clk_and, STYPE = clk, COMBINEFUNC = clk_and, PARALLEL = SAFE
);
COMMENT ON AGGREGATE bit_or(clk) IS 'bitwise OR of all non-null CLKs (equal lengths)';
COMMENT ON AGGREGATE bit_and(clk) IS 'bitwise AND of all non-null CLKs (equal lengths)';

-- ------------------------------------------------------------ settings --

CREATE FUNCTION pprl_simd_info(OUT path text, OUT supported boolean, OUT active boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pprl_simd_info() IS 'popcount kernel paths: which this CPU supports and which pprl.simd made active';

-- ------------------------------------------------------------ matching --

CREATE FUNCTION pprl_candidates(datasets regclass[], threshold float8, k integer DEFAULT NULL)
	RETURNS TABLE (score float8, ds_a integer, row_a bigint, ds_b integer, row_b bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000;
COMMENT ON FUNCTION pprl_candidates(regclass[], float8, integer) IS 'candidate pairs with Dice >= threshold across all pairs of datasets (tables or views with row_id bigint, clk clk), in anonlink''s order';

CREATE FUNCTION pprl_greedy_groups(datasets regclass[], threshold float8, k integer DEFAULT NULL)
	RETURNS TABLE (group_id bigint, ds integer, row_id bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000;
COMMENT ON FUNCTION pprl_greedy_groups(regclass[], float8, integer) IS 'anonlink''s greedy solution over the candidates: one row per member of each group of two or more';

CREATE FUNCTION pprl_permutations(datasets regclass[], threshold float8, k integer DEFAULT NULL)
	RETURNS TABLE (ds integer, row_id bigint, "position" bigint, matched boolean)
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000
	-- Find pprl_greedy_groups in the extension's schema, wherever that is.
	SET search_path FROM CURRENT
AS $$
DECLARE
	n0 bigint;
	n1 bigint;
	s integer;					-- the smaller dataset's index
BEGIN
	IF datasets IS NULL OR cardinality(datasets) <> 2 THEN
		RAISE EXCEPTION 'permutations need exactly two datasets'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Checked here too so the error does not carry the query below as context.
	IF threshold IS NULL OR NOT (threshold > 0 AND threshold <= 1) THEN
		RAISE EXCEPTION 'threshold must be greater than 0 and at most 1, not %', threshold
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('SELECT count(*) FROM %s', datasets[1]) INTO n0;
	EXECUTE format('SELECT count(*) FROM %s', datasets[2]) INTO n1;
	s := CASE WHEN n0 <= n1 THEN 0 ELSE 1 END;
	-- Matched pairs share a position: the smaller dataset's records take the
	-- positions 0 .. n-1 in an order drawn from the OS CSPRNG
	-- (gen_random_uuid), each matched partner takes its record's position,
	-- and the larger dataset's other records fill its remaining positions
	-- in random order.
	RETURN QUERY EXECUTE format($q$
		WITH pairs AS (
			SELECT max(g.row_id) FILTER (WHERE g.ds = %3$s) AS r_small,
			       max(g.row_id) FILTER (WHERE g.ds = 1 - %3$s) AS r_large
			  FROM pprl_greedy_groups($1, $2, $3) g GROUP BY g.group_id),
		small AS (
			SELECT t.row_id::bigint AS row_id, row_number() OVER (ORDER BY gen_random_uuid()) - 1 AS pos
			  FROM %1$s t),
		matched_large AS (
			SELECT p.r_large AS row_id, sm.pos FROM pairs p JOIN small sm ON sm.row_id = p.r_small),
		free_pos AS (
			SELECT f.pos, row_number() OVER (ORDER BY gen_random_uuid()) AS rn
			  FROM (SELECT generate_series(0, %4$s - 1) AS pos EXCEPT SELECT pos FROM matched_large) f),
		other_large AS (
			SELECT t.row_id::bigint AS row_id, row_number() OVER (ORDER BY gen_random_uuid()) AS rn
			  FROM %2$s t WHERE t.row_id::bigint NOT IN (SELECT ml.row_id FROM matched_large ml))
		SELECT %3$s, sm.row_id, sm.pos, sm.row_id IN (SELECT p.r_small FROM pairs p) FROM small sm
		UNION ALL
		SELECT 1 - %3$s, ml.row_id, ml.pos, true FROM matched_large ml
		UNION ALL
		SELECT 1 - %3$s, o.row_id, f.pos, false FROM other_large o JOIN free_pos f USING (rn)
		ORDER BY 1, 2$q$,
		datasets[s + 1], datasets[2 - s], s, greatest(n0, n1))
	USING datasets, threshold, k;
END $$;
COMMENT ON FUNCTION pprl_permutations(regclass[], float8, integer) IS 'two-party result as permutations: each record''s new position (matched pairs share one, drawn from the OS CSPRNG); the smaller dataset''s matched column, ordered by position, is the mask';

-- Matching cut into parts (for workers on several servers)
CREATE FUNCTION pprl_candidates_part(datasets regclass[], threshold float8, part integer, parts integer)
	RETURNS TABLE (score float8, ds_a integer, row_a bigint, ds_b integer, row_b bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 10000;
COMMENT ON FUNCTION pprl_candidates_part(regclass[], float8, integer, integer) IS 'the candidates of part `part` (0-based) of the job cut into `parts` of roughly equal comparison counts, in anonlink''s order; with blocking, merge the sorted parts and drop adjacent duplicates';

CREATE FUNCTION pprl_parts(datasets regclass[], parts integer)
	RETURNS TABLE (part integer, units integer, comparisons bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION pprl_parts(regclass[], integer) IS 'how pprl_candidates_part cuts the job into parts: work units and comparisons (before the popcount filter) of each part';

-- CLK encoding, bit for bit as clkhash (schemas v1 to v3)
CREATE FUNCTION pprl_encode(record jsonb, schema jsonb, secret text) RETURNS clk
	AS 'MODULE_PATHNAME', 'pprl_encode_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pprl_encode(jsonb, jsonb, text) IS 'the CLK clkhash makes of a record (feature values by identifier) with a linkage schema and secret; pass the secret as a bound parameter';
CREATE FUNCTION pprl_encode(record text[], schema jsonb, secret text) RETURNS clk
	AS 'MODULE_PATHNAME', 'pprl_encode_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pprl_encode(text[], jsonb, text) IS 'the CLK clkhash makes of a record (every feature''s value in schema order) with a linkage schema and secret; pass the secret as a bound parameter';

-- ---------------------------------------------------------------- index --

CREATE FUNCTION pprl_index_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION pprl_index_handler(internal) IS 'handler of the pprl index access method';
CREATE ACCESS METHOD pprl TYPE INDEX HANDLER pprl_index_handler;
COMMENT ON ACCESS METHOD pprl IS 'CLKs by popcount: exact WHERE clk % q and ORDER BY clk <-> q, reading only the popcounts that can reach the threshold';

CREATE OPERATOR CLASS clk_dice_ops DEFAULT FOR TYPE clk USING pprl AS
	OPERATOR 1 % (clk, clk),
	OPERATOR 2 <-> (clk, clk) FOR ORDER BY float_ops;

CREATE FUNCTION pprl_index_stats(index regclass, query clk DEFAULT NULL,
	OUT entries bigint, OUT null_entries bigint, OUT pages bigint, OUT popcounts integer,
	OUT clk_bits integer, OUT entries_read bigint, OUT pages_read bigint, OUT skipped float8)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION pprl_index_stats(regclass, clk) IS 'a pprl index''s entries, NULL entries, pages and distinct popcounts; with a query CLK, the entries and pages a WHERE clk % query scan reads at pprl.dice_threshold and the fraction of entries it skips';
