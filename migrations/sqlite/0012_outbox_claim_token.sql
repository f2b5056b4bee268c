-- A claim of a delivery carries a token: the worker that sent it records the outcome only while
-- its token is still the delivery's, so a worker whose lease ran out (and whose delivery another
-- worker took over) or whose delivery an admin queued again overwrites nothing.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
