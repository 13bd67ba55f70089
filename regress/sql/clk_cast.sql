-- Casts between clk and bytea, bit and varbit; bit order is clkhash's.
SELECT '\x80'::bytea::clk AS first_bit, ('\x80'::bytea::clk)::varbit AS as_varbit;
SELECT B'10000000'::clk, B'0000000000000001'::clk, X'F00F'::clk;
SELECT 'gAE='::clk::bytea, 'gAE='::clk::varbit, 'gAE='::clk::bit(16);
SELECT c::bytea::clk = c AND c::varbit::clk = c AND c::bit(24)::clk = c AS round_trips
  FROM (VALUES ('AQID'::clk), ('////'), ('AAAA')) v(c);
-- Bit n of the CLK (0-based) is bit n of the bit string.
SELECT get_bit('gAE='::clk::varbit, 0) AS bit0, get_bit('gAE='::clk::varbit, 15) AS bit15,
       get_bit('gAE='::clk::varbit, 1) AS bit1;
-- Assignment casts into clk columns, with the typmod enforced.
CREATE TABLE tc (c clk(16));
INSERT INTO tc VALUES ('\x0102'::bytea), (B'1111000011110000'), (X'ABCD'::varbit);
SELECT c, clk_popcount(c) FROM tc;
INSERT INTO tc VALUES ('\x010203'::bytea);
INSERT INTO tc VALUES (B'11110000');
-- Invalid sizes.
SELECT ''::bytea::clk;
SELECT decode(repeat('00', 8193), 'hex')::clk;
SELECT B'1010101'::clk;
SELECT B'101010101'::varbit::clk;
SELECT clk_length(decode(repeat('00', 8192), 'hex')::clk);
