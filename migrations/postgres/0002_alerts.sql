-- Alert state: one row per (household, rule) for state alerts, one per occurrence for one-shot
-- alerts; every transition in alert_transitions (append-only); and each household's next due
-- time for the scheduler.

CREATE TABLE alerts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    household_id        TEXT NOT NULL REFERENCES households (id),
    rule                TEXT NOT NULL,
    one_shot            BIGINT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'silenced', 'resolved')),
    severity            TEXT NOT NULL,
    advice              TEXT NOT NULL,
    since_ms            BIGINT NOT NULL,
    fired_at_ms         BIGINT NOT NULL,
    resolved_at_ms      BIGINT,
    evidence            TEXT NOT NULL,
    suppressed_until_ms BIGINT,
    silenced_until_ms   BIGINT,
    updated_at_ms       BIGINT NOT NULL
);
CREATE UNIQUE INDEX alerts_state_identity ON alerts (household_id, rule) WHERE one_shot = 0;
CREATE UNIQUE INDEX alerts_one_shot_identity ON alerts (household_id, rule, since_ms) WHERE one_shot = 1;
CREATE INDEX alerts_household ON alerts (household_id, id);

CREATE TABLE alert_transitions (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id          BIGINT NOT NULL REFERENCES alerts (id),
    at_ms             BIGINT NOT NULL,
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    why               TEXT NOT NULL,
    actor_id          BIGINT REFERENCES users (id),
    actor             TEXT NOT NULL,
    decision          TEXT,
    specialism        TEXT,
    reason            TEXT,
    silenced_until_ms BIGINT
);
CREATE INDEX alert_transitions_alert ON alert_transitions (alert_id, id);


CREATE TABLE household_schedule (
    household_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES households (id),
    next_due_ms     BIGINT,
    evaluated_at_ms BIGINT NOT NULL
);
CREATE INDEX household_schedule_due ON household_schedule (next_due_ms) WHERE next_due_ms IS NOT NULL;
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER alert_transitions_append_only BEFORE UPDATE OR DELETE ON alert_transitions
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION append_only();
