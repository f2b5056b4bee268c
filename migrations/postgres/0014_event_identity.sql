-- An event's identity, so that bulk import and the system feed store each event once however often
-- it is sent: `id:<source id>` when the source system gave the event an id (unique per household),
-- otherwise `sha256:<hex>` of its content (type, time and fields). Events recorded one at a time
-- through the API and the pages carry none (they have Idempotency-Key).
ALTER TABLE events ADD COLUMN identity TEXT;
CREATE UNIQUE INDEX events_identity ON events (household_id, identity) WHERE identity IS NOT NULL;
