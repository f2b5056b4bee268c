-- One notification per person per household per evaluation (DESIGN.md "Attention is the scarce
-- resource"): it names the most pressing change and counts the others of the same evaluation.
ALTER TABLE notifications ADD COLUMN others BIGINT NOT NULL DEFAULT 0;

-- Info-level reminders stay on the work list; an endpoint receives them only when it asks.
ALTER TABLE webhook_endpoints ADD COLUMN include_info BIGINT NOT NULL DEFAULT 0;
