CREATE EXTENSION pg_pprl;
SELECT 'AQ=='::clk, clk_length('AQ=='), clk_popcount('AQ==');
