-- Break-the-glass (issue 11): Veilig Thuis or the crisis service reads a household it is not
-- assigned to for a stated reason and a few hours; each such read is kept for review. The users'
-- role gains 'veilig_thuis'.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('casemanager', 'regisseur', 'specialist', 'gemeente_monitor', 'signal_reporter', 'veilig_thuis', 'admin'));
CREATE TABLE glass_access (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    household_id  TEXT NOT NULL REFERENCES households (id),
    reason        TEXT NOT NULL,
    opened_at_ms  BIGINT NOT NULL,
    until_ms      BIGINT NOT NULL
);
CREATE INDEX glass_access_user ON glass_access (user_id, household_id);
CREATE INDEX glass_access_household ON glass_access (household_id, id);
