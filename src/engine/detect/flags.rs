//! What asks for a step within days: an intiem-terrorisme flag (a forensic consultation) and
//! escalation step 3, violence that cannot be stopped (a proactive scenario).

use super::{Facts, Found, calendar_days};
use crate::domain::{Event, FlagKind, Specialism};
use crate::engine::rule::{DaysParams, Rule};

pub(super) fn forensisch_consult(f: &Facts<'_>, rule: &Rule, p: &DaysParams, found: &mut Found) {
    let Some((since, flag)) = f.flag_set_since(FlagKind::IntiemTerrorisme) else {
        return;
    };
    let consulted = f.events.iter().any(|e| {
        matches!(e, Event::Consultation(c) if c.specialism == Specialism::ForensischeGgz && c.at >= since)
    });
    let deadline = calendar_days(since, p.days);
    if !consulted && f.now >= deadline {
        found.hold(rule, rule.severity, deadline, vec![flag]);
    }
    found.due.push(deadline);
}

pub(super) fn geen_proactief_scenario(
    f: &Facts<'_>,
    rule: &Rule,
    p: &DaysParams,
    found: &mut Found,
) {
    let Some((since, escalation)) = f.at_step_three_since() else {
        return;
    };
    let deadline = calendar_days(since, p.days);
    if !f.proactive_scenario_since(since) && f.now >= deadline {
        found.hold(rule, rule.severity, deadline, vec![escalation]);
    }
    found.due.push(deadline);
}
