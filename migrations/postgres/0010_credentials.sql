-- Tokens expire (issue 11): every token gets an expiry when it is issued (by default 90 days).
-- Tokens issued before have none; they get 90 days from this migration, so nothing stops at once.
ALTER TABLE api_tokens ADD COLUMN expires_at_ms BIGINT;
UPDATE api_tokens SET expires_at_ms = CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) + 7776000000;
