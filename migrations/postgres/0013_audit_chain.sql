-- A tamper-evident audit log: every row carries its place in a chain (`seq`, 1, 2, 3, … without
-- gaps), the hash of the row before it (`prev_hash`) and its own `hash`, SHA-256 over a canonical
-- encoding of its content and `prev_hash` (`store/audit.rs`). `purpose` says why, where the action
-- has a why (a decision, a stated reason); it never holds free text.
ALTER TABLE audit_log ADD COLUMN purpose TEXT;
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

-- The head of the chain: one row, the last row's seq, id and hash. An append locks it
-- (`FOR UPDATE`) in the writing transaction, so two instances on one database append one after
-- the other. Rows that existed before this migration (`id <= legacy_max_id`) are chained once,
-- in id order, when zicht next migrates or starts.
CREATE TABLE audit_chain (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    seq           BIGINT NOT NULL,
    last_id       BIGINT NOT NULL,
    hash          TEXT NOT NULL,
    legacy_max_id BIGINT NOT NULL,
    -- The last day (Europe/Amsterdam, YYYY-MM-DD) the head was logged and sent to the `audit`
    -- webhooks: once a day, by one instance.
    published_on  TEXT
);
INSERT INTO audit_chain (id, seq, last_id, hash, legacy_max_id)
SELECT 1, 0, 0, '0000000000000000000000000000000000000000000000000000000000000000',
       COALESCE(MAX(id), 0)
FROM audit_log;

-- Still append-only; the one update allowed gives a row from before the chain its place in it,
-- once, without changing anything it says.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL
       AND OLD.id <= (SELECT legacy_max_id FROM audit_chain WHERE id = 1)
       AND NEW.id = OLD.id AND NEW.at_ms = OLD.at_ms
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor = OLD.actor AND NEW.action = OLD.action
       AND NEW.household_id IS NOT DISTINCT FROM OLD.household_id
       AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id
       AND NEW.outcome = OLD.outcome
       AND NEW.purpose IS NOT DISTINCT FROM OLD.purpose THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE FUNCTION audit_chain_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit chain head is never deleted';
END;
$$;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE OR TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_keep();
