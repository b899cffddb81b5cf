-- 0001_init creates Beer Locker's schema.
--
-- Times are INTEGER Unix milliseconds in UTC. Scopes are one space-separated
-- string. Every reference to a user or a client cascades on delete, so
-- deleting a user or a client removes everything that hangs off it inside
-- the database, in the same statement.

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL,
	-- username_key is the lowercased username: uniqueness ignores case.
	username_key  TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE beers (
	id         TEXT PRIMARY KEY,
	owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL DEFAULT '',
	quantity   INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- Ids sort by creation time, so (owner_id, id) serves newest-first keyset
-- pagination: WHERE owner_id = ? AND id < ? ORDER BY id DESC.
CREATE INDEX beers_owner_id ON beers (owner_id, id);

CREATE TABLE clients (
	id            TEXT PRIMARY KEY,
	owner_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	secret_hash   TEXT NOT NULL DEFAULT '',
	redirect_uris TEXT NOT NULL, -- JSON array of strings
	grant_types   TEXT NOT NULL, -- JSON array of strings
	public        INTEGER NOT NULL CHECK (public IN (0, 1)),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX clients_owner_id ON clients (owner_id, created_at, id);

CREATE TABLE consents (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id)
) STRICT;

-- A child index on every foreign key keeps the cascades from scanning.
CREATE INDEX consents_client_id ON consents (client_id);

CREATE TABLE codes (
	hash           TEXT PRIMARY KEY, -- SHA-256 of the code
	client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	redirect_uri   TEXT NOT NULL,
	scopes         TEXT NOT NULL,
	code_challenge TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	used_at        INTEGER -- NULL until the code is consumed
) STRICT;

CREATE INDEX codes_client_id ON codes (client_id);
CREATE INDEX codes_user_id ON codes (user_id);
CREATE INDEX codes_expires_at ON codes (expires_at);

CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY, -- SHA-256 of the token
	kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
	client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE, -- NULL for client_credentials
	scopes     TEXT NOT NULL,
	family_id  TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	rotated_at INTEGER -- NULL until a refresh token is exchanged
) STRICT;

CREATE INDEX tokens_user_id ON tokens (user_id);
CREATE INDEX tokens_client_id ON tokens (client_id);
CREATE INDEX tokens_family_id ON tokens (family_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
