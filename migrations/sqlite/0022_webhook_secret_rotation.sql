-- A webhook secret is rotated with an overlap (issue 13): the previous secret keeps signing,
-- beside the new one, until `previous_until_ms`, so a receiver can switch without losing a
-- delivery (Standard Webhooks: one signature per secret in `webhook-signature`).
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_until_ms INTEGER;
