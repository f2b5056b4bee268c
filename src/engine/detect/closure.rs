//! Letting go and after: closing or withdrawing while stable safety does not hold, and nazorg
//! after closure.

use super::{Facts, Found, calendar_months};
use crate::domain::Event;
use crate::engine::rule::{LettingGoParams, NazorgParams, Rule, Severity};

/// A closure, or a partner withdrawing, while stable safety was not reached and kept.
pub(super) fn voortijdig_loslaten(
    f: &Facts<'_>,
    rule: &Rule,
    p: &LettingGoParams,
    found: &mut Found,
) {
    let severity = if f.household.minor_children {
        p.severity_with_minor_children
    } else {
        rule.severity
    };
    let current = f.current();
    if let Some((closed_at, closure)) = current.end {
        if !f.stable_kept(closed_at) {
            found.hold(rule, severity, closed_at, vec![closure]);
        }
        return;
    }
    let withdrawal = f
        .events
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, e)| match e {
            Event::PartnerWithdrawal(w) if w.at >= current.start => Some((w.at, i)),
            _ => None,
        });
    if let Some((at, index)) = withdrawal
        && !f.stable_kept(at)
        && f.stable_reached(at, f.now).is_none()
    {
        found.hold(rule, severity, at, vec![index]);
        found.due.extend(f.stable_candidates_after_now());
    }
}

/// Reminders after closure, and a melding after closure that asks whether to reopen.
pub(super) fn nazorg(f: &Facts<'_>, rule: &Rule, p: &NazorgParams, found: &mut Found) {
    for (i, period) in f.periods.iter().enumerate() {
        let Some((closed_at, closure)) = period.end else {
            continue;
        };
        let reopened = f.periods.get(i + 1).map(|next| next.start);
        for months in &p.reminder_months {
            let at = calendar_months(closed_at, *months);
            if reopened.is_some_and(|r| r <= at) {
                continue;
            }
            if at <= f.now {
                found.shot(rule, rule.severity, at, vec![closure]);
            } else {
                found.due.push(at);
            }
        }
        let watch_until = calendar_months(closed_at, p.melding_months);
        for s in f
            .signals
            .iter()
            .filter(|s| s.melding && s.at > closed_at && s.at <= watch_until)
        {
            if reopened.is_none_or(|r| s.at < r) {
                let severity = Severity::Critical.max(rule.severity);
                found.shot(rule, severity, s.at, vec![closure, s.index]);
            }
        }
    }
}
