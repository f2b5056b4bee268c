-- Notifications: the in-app inbox, admin-configured webhook endpoints, and the outbox of webhook
-- deliveries, all written in the transaction of the alert transition they report.

ALTER TABLE alerts ADD COLUMN notified_at_ms INTEGER;
ALTER TABLE alerts ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    alert_id      INTEGER NOT NULL REFERENCES alerts (id),
    household_id  TEXT NOT NULL,
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    why           TEXT NOT NULL CHECK (why IN ('first', 'repeat', 'escalation', 'resolved', 'silence_expired')),
    created_at_ms INTEGER NOT NULL,
    read_at_ms    INTEGER
);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE notification_mutes (
    user_id INTEGER NOT NULL REFERENCES users (id),
    rule    TEXT NOT NULL,
    PRIMARY KEY (user_id, rule)
);

CREATE TABLE webhook_endpoints (
    id             INTEGER PRIMARY KEY,
    url            TEXT NOT NULL,
    region         TEXT,
    role           TEXT NOT NULL,
    secret         TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    disabled_why   TEXT,
    created_at_ms  INTEGER NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    claimed_until_ms INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    created_at_ms   INTEGER NOT NULL,
    delivered_at_ms INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_ms);
CREATE INDEX outbox_endpoint ON outbox (endpoint_id, id);
