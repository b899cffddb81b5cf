-- 0002_device_codes adds device authorizations (RFC 8628).
--
-- A row is found by the SHA-256 of its device_code (the client's polls) or
-- of its normalized user code (the /device page). The user code is unique
-- among all rows: Create replaces an expired row that holds it.

CREATE TABLE device_codes (
	hash           TEXT PRIMARY KEY, -- SHA-256 of the device_code
	user_code_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the normalized user code
	client_id      TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	scopes         TEXT NOT NULL,
	status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
	user_id        TEXT REFERENCES users (id) ON DELETE CASCADE, -- NULL until decided
	interval_ms    INTEGER NOT NULL, -- least time between polls; grows on slow_down
	last_poll_at   INTEGER, -- NULL before the first poll
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	used_at        INTEGER -- NULL until tokens are issued
) STRICT;

CREATE INDEX device_codes_client_id ON device_codes (client_id);
CREATE INDEX device_codes_user_id ON device_codes (user_id);
CREATE INDEX device_codes_expires_at ON device_codes (expires_at);
