-- Alert state: one row per (household, rule) for state alerts, one per occurrence for one-shot
-- alerts; every transition in alert_transitions (append-only); and each household's next due
-- time for the scheduler.

CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY,
    household_id        TEXT NOT NULL REFERENCES households (id),
    rule                TEXT NOT NULL,
    one_shot            INTEGER NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'silenced', 'resolved')),
    severity            TEXT NOT NULL,
    advice              TEXT NOT NULL,
    since_ms            INTEGER NOT NULL,
    fired_at_ms         INTEGER NOT NULL,
    resolved_at_ms      INTEGER,
    evidence            TEXT NOT NULL,
    suppressed_until_ms INTEGER,
    silenced_until_ms   INTEGER,
    updated_at_ms       INTEGER NOT NULL
);
CREATE UNIQUE INDEX alerts_state_identity ON alerts (household_id, rule) WHERE one_shot = 0;
CREATE UNIQUE INDEX alerts_one_shot_identity ON alerts (household_id, rule, since_ms) WHERE one_shot = 1;
CREATE INDEX alerts_household ON alerts (household_id, id);

CREATE TABLE alert_transitions (
    id                INTEGER PRIMARY KEY,
    alert_id          INTEGER NOT NULL REFERENCES alerts (id),
    at_ms             INTEGER NOT NULL,
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    why               TEXT NOT NULL,
    actor_id          INTEGER REFERENCES users (id),
    actor             TEXT NOT NULL,
    decision          TEXT,
    specialism        TEXT,
    reason            TEXT,
    silenced_until_ms INTEGER
);
CREATE INDEX alert_transitions_alert ON alert_transitions (alert_id, id);

CREATE TRIGGER alert_transitions_no_update BEFORE UPDATE ON alert_transitions
BEGIN
    SELECT RAISE(ABORT, 'alert_transitions is append-only');
END;
CREATE TRIGGER alert_transitions_no_delete BEFORE DELETE ON alert_transitions
BEGIN
    SELECT RAISE(ABORT, 'alert_transitions is append-only');
END;
CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN
    SELECT RAISE(ABORT, 'alerts are never deleted');
END;

CREATE TABLE household_schedule (
    household_id    TEXT PRIMARY KEY REFERENCES households (id),
    next_due_ms     INTEGER,
    evaluated_at_ms INTEGER NOT NULL
);
CREATE INDEX household_schedule_due ON household_schedule (next_due_ms) WHERE next_due_ms IS NOT NULL;
