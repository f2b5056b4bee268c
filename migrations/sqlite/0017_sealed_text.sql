-- Free text encrypted at rest (issue 12, `store/crypt.rs`): event payloads, decision reasons,
-- break-the-glass reasons, reports and saved responses are stored as `v1:<key id>:<base64>`.
-- `crypt_state.plaintext` says that texts from before this migration may still be plain: the next
-- `zicht migrate` or start seals them and clears it.
CREATE TABLE crypt_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    plaintext INTEGER NOT NULL
);
INSERT INTO crypt_state (id, plaintext) VALUES (1, 1);

-- Alert transitions stay append-only; the one update allowed seals a decision's reason again
-- (first sealing, a key rotation) or removes it (`zicht retention run`), without changing anything
-- else the row says.
DROP TRIGGER alert_transitions_no_update;
CREATE TRIGGER alert_transitions_no_update BEFORE UPDATE ON alert_transitions
WHEN NOT (
    NEW.id = OLD.id AND NEW.alert_id = OLD.alert_id AND NEW.at_ms = OLD.at_ms
    AND NEW.from_state IS OLD.from_state AND NEW.to_state = OLD.to_state AND NEW.why = OLD.why
    AND NEW.actor_id IS OLD.actor_id AND NEW.actor = OLD.actor AND NEW.decision IS OLD.decision
    AND NEW.specialism IS OLD.specialism AND NEW.silenced_until_ms IS OLD.silenced_until_ms
    AND OLD.reason IS NOT NULL
)
BEGIN
    SELECT RAISE(ABORT, 'alert_transitions is append-only');
END;

-- Retention (`zicht retention run`): when a closed trajectory was anonymised.
ALTER TABLE households ADD COLUMN anonymised_at_ms INTEGER;
