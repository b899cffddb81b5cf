-- 0009_post_logout_redirect_uris: where RP-Initiated Logout may send the
-- browser after signing out (API.md §9), a JSON array like redirect_uris.

ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
