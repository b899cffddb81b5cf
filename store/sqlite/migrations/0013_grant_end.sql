-- 0013_grant_end records the end a user chose for a grant on the consent
-- page (API.md §11): on the code and the device code that begin the grant
-- and on every token of it, whose lives it caps, and on the consent, which
-- is remembered only until then. The consent also records when the app
-- last used its access, to the hour. All are milliseconds since the epoch;
-- NULL, the value of rows stored before, means none: a grant until
-- revoked, a consent never used.

ALTER TABLE codes ADD COLUMN grant_ends_at INTEGER;
ALTER TABLE device_codes ADD COLUMN grant_ends_at INTEGER;
ALTER TABLE tokens ADD COLUMN grant_ends_at INTEGER;
ALTER TABLE consents ADD COLUMN expires_at INTEGER;
ALTER TABLE consents ADD COLUMN last_used_at INTEGER;
