-- 0003_signing_keys adds the OpenID Connect signing keys (API.md §9).
--
-- private_key is the private key encrypted by package keys, opaque here.
-- UNIQUE (alg, generation) decides between instances that create the same
-- generation at once: on a first start, or rotating together.

CREATE TABLE signing_keys (
	id          TEXT PRIMARY KEY, -- the JWK kid
	alg         TEXT NOT NULL,
	generation  INTEGER NOT NULL CHECK (generation > 0),
	private_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	active_at   INTEGER NOT NULL,
	UNIQUE (alg, generation)
) STRICT;
