-- Secrets the service makes for itself on first start, e.g. the key of the pseudonyms shown to
-- gemeente monitors (so nobody holding household ids can recompute them).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
