-- 0011_audience records where a grant's tokens are valid (RFC 8707
-- resource indicators, API.md §10): a bit set of this service's resources
-- (1 the REST API, 2 the MCP endpoint), on the code and the device code
-- that begin a grant and on every stored token. 0, the value of rows
-- stored before, means the REST API, as every token meant then.

ALTER TABLE codes ADD COLUMN audience INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device_codes ADD COLUMN audience INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN audience INTEGER NOT NULL DEFAULT 0;
