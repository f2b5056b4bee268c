-- no-transaction
-- Break-the-glass (issue 11): Veilig Thuis or the crisis service reads a household it is not
-- assigned to for a stated reason and a few hours; each such read is kept for review. The users'
-- role gains 'veilig_thuis'. SQLite changes a CHECK only by rebuilding the table, and `users` is
-- referenced by other tables, so this follows SQLite's procedure for such a change: foreign keys
-- off outside a transaction, rebuild inside one, check, foreign keys on.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('casemanager', 'regisseur', 'specialist', 'gemeente_monitor', 'signal_reporter', 'veilig_thuis', 'admin')),
    gemeente      TEXT,
    region        TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at_ms INTEGER NOT NULL,
    password_hash TEXT
);
INSERT INTO users_new (id, username, role, gemeente, region, active, created_at_ms, password_hash)
    SELECT id, username, role, gemeente, region, active, created_at_ms, password_hash FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE TABLE glass_access (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    household_id  TEXT NOT NULL REFERENCES households (id),
    reason        TEXT NOT NULL,
    opened_at_ms  INTEGER NOT NULL,
    until_ms      INTEGER NOT NULL
);
CREATE INDEX glass_access_user ON glass_access (user_id, household_id);
CREATE INDEX glass_access_household ON glass_access (household_id, id);
COMMIT;
PRAGMA foreign_keys = ON;
