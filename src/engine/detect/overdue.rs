//! Meting achterstallig: no score for too long.

use super::{Facts, Found, calendar_days, plus};
use crate::engine::rule::{OverdueParams, Rule};

pub(super) fn meting_achterstallig(
    f: &Facts<'_>,
    rule: &Rule,
    p: &OverdueParams,
    found: &mut Found,
) {
    let now = f.now;
    let last = f.scores.iter().map(|s| s.at).filter(|t| *t >= f.t0()).max();
    let base = last.unwrap_or(f.t0());
    let short = calendar_days(base, p.days_without_direct_safety);
    let long = calendar_days(base, p.days);
    let deadline = if f.direct_safety(now) { long } else { short };
    if now >= deadline {
        let evidence = f
            .scores
            .iter()
            .filter(|s| Some(s.at) == last)
            .map(|s| s.index)
            .collect();
        found.hold(rule, rule.severity, deadline, evidence);
    }
    found.due.extend([short, long, plus(base, f.window())]);
}
