-- 0014_personal_tokens creates the users' personal access tokens (API.md
-- §11): a token for a user's own scripts, named by its id, found by the
-- SHA-256 hash of its value (never the value), with its scopes stored as
-- the tokens' are. Times are milliseconds since the epoch; last_used_at is
-- the hour of the last use, NULL for a token never used. Deleting the user
-- deletes their tokens.

CREATE TABLE personal_tokens (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE, -- SHA-256 of the token
	scopes       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	last_used_at INTEGER -- NULL until the token is used
) STRICT;

-- (user_id, created_at) serves the cascade, the count against the limit
-- and the newest-first list; expires_at serves the sweep.
CREATE INDEX personal_tokens_user_id ON personal_tokens (user_id, created_at);
CREATE INDEX personal_tokens_expires_at ON personal_tokens (expires_at);
