-- Web sign-in: argon2 password hashes and server-side sessions (the cookie holds a random id; only
-- its hash is stored).

ALTER TABLE users ADD COLUMN password_hash TEXT;

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    csrf          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
