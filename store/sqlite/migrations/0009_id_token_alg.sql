-- 0009_id_token_alg: the algorithm a client chose for its ID tokens
-- (id_token_signed_response_alg, API.md §9); '' is the default, RS256.

ALTER TABLE clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT '';
