-- The escalation ladder replaces `phase3` (DESIGN.md section 1): a step the regisseur records,
-- never a phase. A recorded `phase3` was used for "violence cannot be stopped", so it becomes
-- step 3; so does a `geweld_niet_te_stoppen` flag that was set (waarschijnlijk, zeker). A
-- suspicion (vermoeden) or a withdrawn flag (geen) becomes step 2: the violence did not stop in
-- the voluntary frame, and attention is kept rather than reset to the shared basis. Each carries
-- a reason saying where it came from. Payloads are the compact JSON of the interchange format.
UPDATE events
SET type = 'escalation',
    payload = SUBSTR(REPLACE(payload, '"type":"phase3"', '"type":"escalation"'), 1,
                     LENGTH(payload) + 3)
              || ',"step":3,"reason":"Overgezet: als fase 3 vastgelegd voordat zicht treden kende."}'
WHERE type = 'phase3';

UPDATE events
SET type = 'escalation',
    payload = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(payload,
        '"type":"flag"', '"type":"escalation"'),
        ',"flag":"geweld_niet_te_stoppen","level":"zeker"}',
        ',"step":3,"reason":"Overgezet: markering geweld niet te stoppen (zeker)."}'),
        ',"flag":"geweld_niet_te_stoppen","level":"waarschijnlijk"}',
        ',"step":3,"reason":"Overgezet: markering geweld niet te stoppen (waarschijnlijk)."}'),
        ',"flag":"geweld_niet_te_stoppen","level":"vermoeden"}',
        ',"step":2,"reason":"Overgezet: markering geweld niet te stoppen (vermoeden)."}'),
        ',"flag":"geweld_niet_te_stoppen","level":"geen"}',
        ',"step":2,"reason":"Overgezet: markering geweld niet te stoppen ingetrokken."}')
WHERE type = 'flag' AND payload LIKE '%"flag":"geweld_niet_te_stoppen"%';

-- Every household is evaluated again under the new meaning at the next scheduler run.
UPDATE household_schedule SET next_due_ms = 0;
