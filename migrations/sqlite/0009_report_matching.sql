-- A report is matched to its household after the reporter has their receipt (issue 11), so the
-- reporter's request does the same work whether or not the reference is known. checked_at_ms is
-- when the matching ran; NULL: still to do.
ALTER TABLE signal_reports ADD COLUMN checked_at_ms INTEGER;
UPDATE signal_reports SET checked_at_ms = received_at_ms;
CREATE INDEX signal_reports_unchecked ON signal_reports (received_at_ms) WHERE checked_at_ms IS NULL;
