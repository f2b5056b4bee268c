-- A household's regisseur is told when its assignments change (issue 11: no silent grant of
-- access). Such a notification is about no alert: alert_id becomes optional and `why` gains
-- 'assignment'.
ALTER TABLE notifications ALTER COLUMN alert_id DROP NOT NULL;
ALTER TABLE notifications DROP CONSTRAINT notifications_why_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_why_check
    CHECK (why IN ('first', 'repeat', 'escalation', 'resolved', 'silence_expired', 'assignment'));
