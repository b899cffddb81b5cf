-- 0007_oidc keeps what OpenID Connect needs beside a code and a token: the
-- authorization request's nonce (echoed in the ID token) and the time the
-- user last entered a password (the ID token's auth_time), which a token
-- family carries through refresh rotation. NULL reads as "" / the zero time.

ALTER TABLE codes ADD COLUMN nonce TEXT;
ALTER TABLE codes ADD COLUMN auth_time INTEGER;
ALTER TABLE tokens ADD COLUMN auth_time INTEGER;
ALTER TABLE device_codes ADD COLUMN auth_time INTEGER;
