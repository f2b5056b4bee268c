-- Free text encrypted at rest (issue 12, `store/crypt.rs`): event payloads, decision reasons,
-- break-the-glass reasons, reports and saved responses are stored as `v1:<key id>:<base64>`.
-- `crypt_state.plaintext` says that texts from before this migration may still be plain: the next
-- `zicht migrate` or start seals them and clears it.
CREATE TABLE crypt_state (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    plaintext BIGINT NOT NULL
);
INSERT INTO crypt_state (id, plaintext) VALUES (1, 1);

-- Alert transitions stay append-only; the one update allowed seals a decision's reason again
-- (first sealing, a key rotation) or removes it (`zicht retention run`), without changing anything
-- else the row says.
CREATE FUNCTION alert_transitions_reseal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.id = OLD.id AND NEW.alert_id = OLD.alert_id AND NEW.at_ms = OLD.at_ms
       AND NEW.from_state IS NOT DISTINCT FROM OLD.from_state AND NEW.to_state = OLD.to_state
       AND NEW.why = OLD.why AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor = OLD.actor AND NEW.decision IS NOT DISTINCT FROM OLD.decision
       AND NEW.specialism IS NOT DISTINCT FROM OLD.specialism
       AND NEW.silenced_until_ms IS NOT DISTINCT FROM OLD.silenced_until_ms
       AND OLD.reason IS NOT NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
DROP TRIGGER alert_transitions_append_only ON alert_transitions;
CREATE TRIGGER alert_transitions_append_only BEFORE UPDATE OR DELETE ON alert_transitions
    FOR EACH ROW EXECUTE FUNCTION alert_transitions_reseal_only();

-- Retention (`zicht retention run`): when a closed trajectory was anonymised.
ALTER TABLE households ADD COLUMN anonymised_at_ms BIGINT;
