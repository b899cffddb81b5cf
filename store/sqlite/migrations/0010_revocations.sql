-- 0010_revocations: what ends sealed access tokens, which are not stored
-- (models.Revocation). One row per kind and key; at and expires_at are
-- Unix microseconds, so that a token issued a moment after a revocation
-- is told from one issued a moment before.

CREATE TABLE revocations (
	kind       TEXT NOT NULL CHECK (kind IN ('token', 'family', 'user', 'client', 'grant')),
	key        TEXT NOT NULL,
	at         INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX revocations_at ON revocations (at);
CREATE INDEX revocations_expires_at ON revocations (expires_at);
