-- The service core: users and tokens, households with their events, signal reports,
-- idempotency keys and the append-only audit log. Times are epoch milliseconds (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('casemanager', 'regisseur', 'specialist', 'gemeente_monitor', 'signal_reporter', 'admin')),
    gemeente      TEXT,
    region        TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at_ms   INTEGER NOT NULL,
    revoked_at_ms   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE households (
    id             TEXT PRIMARY KEY,
    reference      TEXT UNIQUE,
    region         TEXT NOT NULL,
    gemeente       TEXT NOT NULL,
    wijk           TEXT,
    minor_children INTEGER NOT NULL,
    opened_on      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX households_gemeente ON households (gemeente, id);
CREATE INDEX households_region ON households (region, id);
CREATE INDEX households_updated ON households (updated_at_ms);

CREATE TABLE assignments (
    household_id   TEXT NOT NULL REFERENCES households (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    relation       TEXT NOT NULL CHECK (relation IN ('regisseur', 'casemanager')),
    assigned_at_ms INTEGER NOT NULL,
    PRIMARY KEY (household_id, user_id, relation)
);
CREATE INDEX assignments_user ON assignments (user_id, household_id);
-- 1 huishouden, 1 plan, 1 regisseur.
CREATE UNIQUE INDEX assignments_one_regisseur ON assignments (household_id) WHERE relation = 'regisseur';

CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    household_id   TEXT NOT NULL REFERENCES households (id),
    type           TEXT NOT NULL,
    at_ms          INTEGER NOT NULL,
    signal_kind    TEXT,
    payload        TEXT NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    recorded_by    INTEGER REFERENCES users (id)
);
CREATE INDEX events_household ON events (household_id, at_ms, id);

CREATE TABLE signal_reports (
    receipt        TEXT PRIMARY KEY,
    reporter_id    INTEGER NOT NULL REFERENCES users (id),
    reference      TEXT NOT NULL,
    household_id   TEXT REFERENCES households (id),
    event_id       INTEGER REFERENCES events (id),
    payload        TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL
);
CREATE INDEX signal_reports_unmatched ON signal_reports (reference) WHERE household_id IS NULL;

CREATE TABLE idempotency_keys (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER,
    location      TEXT,
    body          TEXT,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at_ms        INTEGER NOT NULL,
    actor_id     INTEGER,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    household_id TEXT,
    request_id   TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'denied'))
);
CREATE INDEX audit_log_household ON audit_log (household_id, id);

-- The audit log is append-only, whoever connects.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
