-- 0004_token_granted_at records when a token family's grant began, so that
-- refresh rotation, which gives each refresh token a fresh lifetime, cannot
-- keep a family alive forever: its tokens end a fixed time after the grant.
-- Tokens stored before this migration have NULL, read as the zero time:
-- the server then counts from the token's own created_at.

ALTER TABLE tokens ADD COLUMN granted_at INTEGER;
