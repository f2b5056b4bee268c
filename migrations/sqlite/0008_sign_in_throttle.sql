-- Sign-in throttling (issue 11): failed sign-ins per account name and per client address, in the
-- database so that neither a restart nor a second instance forgets them. Keys are hashes of what
-- was typed, never the text: a password typed into the name field is not kept.
CREATE TABLE sign_in_failures (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    last_failure_ms  INTEGER NOT NULL,
    blocked_until_ms INTEGER NOT NULL
);
