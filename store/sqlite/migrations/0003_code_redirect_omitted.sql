-- 0003_code_redirect_omitted: a code's redirect_uri is now where the code
-- was sent, even when the request named none (the client's only one), so
-- that redemption can check it is still registered (API.md §6).
-- redirect_uri_omitted says the request named none: RFC 6749 §4.1.3 then
-- lets the token request leave it out too. Codes live 60 s; one issued
-- before this migration without a redirect_uri has '' there and is refused.

ALTER TABLE codes ADD COLUMN redirect_uri_omitted INTEGER NOT NULL DEFAULT 0
	CHECK (redirect_uri_omitted IN (0, 1));
