-- 0012_self_registered_clients lets a client have no owner: an app that
-- registered itself (RFC 7591 dynamic registration, API.md §10) has
-- owner_id NULL. SQLite cannot drop a NOT NULL constraint in place, so the
-- table is rebuilt under its own name (migrations run with foreign keys
-- off, and are checked with foreign_key_check before they commit; see
-- migrate), and every table that refers to clients keeps referring to it.

CREATE TABLE clients_new (
	id                        TEXT PRIMARY KEY,
	owner_id                  TEXT REFERENCES users (id) ON DELETE CASCADE, -- NULL: registered itself
	name                      TEXT NOT NULL,
	secret_hash               TEXT NOT NULL DEFAULT '',
	redirect_uris             TEXT NOT NULL, -- JSON array of strings
	grant_types               TEXT NOT NULL, -- JSON array of strings
	public                    INTEGER NOT NULL CHECK (public IN (0, 1)),
	created_at                INTEGER NOT NULL,
	updated_at                INTEGER NOT NULL,
	post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
	id_token_alg              TEXT NOT NULL DEFAULT ''
) STRICT;

INSERT INTO clients_new (id, owner_id, name, secret_hash, redirect_uris, grant_types, public,
	created_at, updated_at, post_logout_redirect_uris, id_token_alg)
SELECT id, owner_id, name, secret_hash, redirect_uris, grant_types, public,
	created_at, updated_at, post_logout_redirect_uris, id_token_alg
FROM clients;

DROP TABLE clients;
ALTER TABLE clients_new RENAME TO clients;

CREATE INDEX clients_owner_id ON clients (owner_id, created_at, id);
