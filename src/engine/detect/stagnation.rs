//! Stagnation: no direct safety in time (or not regained after a relapse), no stable safety in
//! time.

use super::{Facts, Found, calendar_days, days, minus};
use crate::engine::rule::{Rule, WeeksParams};

/// Direct safety not reached by T0 + `weeks`, or not regained `weeks` after a relapse.
pub(super) fn geen_directe_veiligheid(
    f: &Facts<'_>,
    rule: &Rule,
    p: &WeeksParams,
    found: &mut Found,
) {
    let now = f.now;
    if f.tds().is_some() {
        // Counted from when direct safety was lost; the confirmation says the loss is real.
        if let Some(r) = f.relapse() {
            let deadline = calendar_days(r.lost, 7 * p.weeks);
            if now >= deadline {
                found.hold(rule, rule.severity, deadline.max(r.confirmed), r.evidence);
            } else {
                found.due.push(deadline);
            }
        }
    } else {
        let deadline = calendar_days(f.t0(), 7 * p.weeks);
        if now >= deadline {
            found.hold(rule, rule.severity, deadline, f.recent_evidence(f.t0()));
        } else {
            found.due.push(deadline);
        }
    }
}

/// Stable safety not reached by Tds + `weeks` (not reset by relapses).
pub(super) fn geen_stabiele_veiligheid(
    f: &Facts<'_>,
    rule: &Rule,
    p: &WeeksParams,
    found: &mut Found,
) {
    let Some(tds) = f.tds() else {
        return;
    };
    let now = f.now;
    let deadline = calendar_days(tds, 7 * p.weeks);
    if now < deadline {
        found.due.push(deadline);
    } else if f.stable_reached(tds, now).is_none() {
        let w = days(7 * f.defs.stable_weeks);
        found.hold(
            rule,
            rule.severity,
            deadline,
            f.recent_evidence(minus(now, w)),
        );
        found
            .due
            .extend(f.stable_candidates().into_iter().filter(|c| *c > now));
    }
}
