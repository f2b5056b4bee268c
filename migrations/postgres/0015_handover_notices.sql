-- Someone newly assigned to a household is told at once which alerts are open on it (issue 13:
-- an alert that fired before the regisseur was assigned reached them only at its repeat, a week
-- later). `why` gains 'handover', and 'break_glass' for a regisseur told that someone read their
-- household through break-the-glass.
ALTER TABLE notifications DROP CONSTRAINT notifications_why_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_why_check
    CHECK (why IN ('first', 'repeat', 'escalation', 'resolved', 'silence_expired', 'assignment', 'handover', 'break_glass'));
