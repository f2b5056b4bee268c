-- Someone newly assigned to a household is told at once which alerts are open on it (issue 13:
-- an alert that fired before the regisseur was assigned reached them only at its repeat, a week
-- later). `why` gains 'handover', and 'break_glass' for a regisseur told that someone read their
-- household through break-the-glass. SQLite changes a CHECK only by rebuilding the table.
CREATE TABLE notifications_new (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    alert_id      INTEGER REFERENCES alerts (id),
    household_id  TEXT NOT NULL,
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    why           TEXT NOT NULL CHECK (why IN ('first', 'repeat', 'escalation', 'resolved', 'silence_expired', 'assignment', 'handover', 'break_glass')),
    created_at_ms INTEGER NOT NULL,
    read_at_ms    INTEGER,
    others        INTEGER NOT NULL DEFAULT 0
);
INSERT INTO notifications_new (id, user_id, alert_id, household_id, rule, severity, why, created_at_ms, read_at_ms, others)
    SELECT id, user_id, alert_id, household_id, rule, severity, why, created_at_ms, read_at_ms, others FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_user ON notifications (user_id, id);
