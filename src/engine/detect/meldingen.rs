//! Signals: repeated meldingen, a hermelding on an open trajectory, and the ogen en oren in de wijk.

use super::facts::SignalRef;
use super::{Facts, Found, days, minus, plus};
use crate::engine::rule::{HerhaaldGemeldParams, Rule, Severity};

/// At least `count` meldingen in any `days`; critical from `critical_count`.
pub(super) fn herhaald_gemeld(
    f: &Facts<'_>,
    rule: &Rule,
    p: &HerhaaldGemeldParams,
    found: &mut Found,
) {
    let from = minus(f.now, days(p.days));
    let window: Vec<&SignalRef> = f
        .signals
        .iter()
        .filter(|s| s.melding && s.at > from)
        .collect();
    if let Some(oldest) = window.first() {
        found.due.push(plus(oldest.at, days(p.days)));
    }
    if window.len() >= p.count {
        let severity = if window.len() >= p.critical_count {
            Severity::Critical
        } else {
            rule.severity
        };
        let evidence = window.iter().map(|s| s.index).collect();
        found.hold(rule, severity, window[p.count - 1].at, evidence);
    }
}

/// A new melding while the trajectory is open.
pub(super) fn hermelding(f: &Facts<'_>, rule: &Rule, found: &mut Found) {
    on_open_trajectory(f, rule, found, |s| s.melding);
}

/// A signal from a neighbourhood partner on a monitored household. A melding from one is announced
/// by hermelding (or the herhaald-gemeld or terugval it is evidence of): one signal, one alert.
pub(super) fn ogen_en_oren(f: &Facts<'_>, rule: &Rule, found: &mut Found) {
    on_open_trajectory(f, rule, found, |s| s.neighbourhood && !s.melding);
}

fn on_open_trajectory(
    f: &Facts<'_>,
    rule: &Rule,
    found: &mut Found,
    wanted: impl Fn(&SignalRef) -> bool,
) {
    for s in f.signals.iter().filter(|s| wanted(s)) {
        let open = f
            .periods
            .iter()
            .any(|p| s.at >= p.start && p.end.is_none_or(|(end, _)| s.at < end));
        if open {
            found.shot(rule, rule.severity, s.at, vec![s.index]);
        }
    }
}
