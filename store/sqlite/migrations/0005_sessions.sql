-- 0003_sessions adds browser sessions and the consent pages open in them.
--
-- A session is found by the SHA-256 of the id its cookie carries; deleting
-- the row ends the session for every copy of the cookie. A pending consent
-- is found by the SHA-256 of its transaction id and belongs to one session:
-- it goes with the session, and the session goes with its user.

CREATE TABLE sessions (
	hash       TEXT PRIMARY KEY, -- SHA-256 of the session id
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE pending_consents (
	tx_hash      TEXT PRIMARY KEY, -- SHA-256 of the transaction id
	session_hash TEXT NOT NULL REFERENCES sessions (hash) ON DELETE CASCADE,
	kind         TEXT NOT NULL,
	request      TEXT NOT NULL, -- the flow's request, as the flow encoded it
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	taken_at     INTEGER -- NULL until the user decides
) STRICT;

CREATE INDEX pending_consents_session ON pending_consents (session_hash, created_at);
CREATE INDEX pending_consents_expires_at ON pending_consents (expires_at);
