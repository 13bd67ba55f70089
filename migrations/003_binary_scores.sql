-- 003_binary_scores.sql: similarity-score runs also keep their scores in
-- anonlink's binary candidate-pair format, which a client fetches straight
-- from the object store (RETURN-OBJECT-STORE-ADDRESS on .../result).

ALTER TABLE run_results DROP CONSTRAINT run_results_kind_check;
ALTER TABLE run_results ADD CONSTRAINT run_results_kind_check
	CHECK (kind IN ('groups', 'similarity_scores', 'similarity_scores_binary', 'permutation', 'mask'));
