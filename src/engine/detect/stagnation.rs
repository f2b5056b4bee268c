//! Stagnation: no direct safety in time (or not regained after a relapse), no stable safety in
//! time.

use super::{Facts, Found, calendar_days, days, minus, plus};
use crate::domain::Instant;
use crate::engine::rule::{DirectParams, Rule, WeeksParams};

/// Direct safety does not hold at T0 + `weeks` and has not held since, on a current and
/// confirmed picture; or it is not regained `weeks` after a relapse.
pub(super) fn geen_directe_veiligheid(
    f: &Facts<'_>,
    rule: &Rule,
    p: &DirectParams,
    found: &mut Found,
) {
    let now = f.now;
    let deadline = calendar_days(f.t0(), 7 * p.weeks);
    // "Reached by week 6" asks whether the household is directly safe at week 6: one good moment
    // in week 2 of a household that scores 4 again in week 6 is no answer to that question.
    let held_since_deadline = f
        .direct
        .iter()
        .any(|(_, end)| end.is_none_or(|e| e > deadline));
    if now >= deadline && !held_since_deadline {
        let asked = answered_at(f, p, deadline);
        if now >= asked {
            found.hold(rule, rule.severity, asked, f.recent_evidence(f.t0()));
        } else {
            found.due.push(asked);
        }
        return;
    }
    if now < deadline {
        found.due.push(deadline);
    }
    // Counted from when direct safety was lost; the confirmation says the loss is real.
    if let Some(r) = f.relapse() {
        found.due.extend(r.regained_at);
        let deadline = calendar_days(r.lost, 7 * p.weeks);
        // Direct safety that held again answers this question, even while terugval waits for
        // it to last.
        if now >= deadline && r.back_since.is_none() {
            found.hold(
                rule,
                rule.severity,
                deadline.max(r.confirmed),
                r.evidence.clone(),
            );
        } else if now < deadline {
            found.due.push(deadline);
        }
    }
}

/// Stable safety not reached by Tds + `weeks` (not reset by relapses: terugval and
/// geen-directe-veiligheid after a relapse carry those). Reached means confirmed: it held at a
/// moment and still held at the next visit.
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
        return;
    }
    if f.stable_confirmed(tds, now) {
        return;
    }
    let w = days(7 * f.defs.stable_weeks);
    found.hold(
        rule,
        rule.severity,
        deadline,
        f.recent_evidence(minus(now, w)),
    );
    found.due.extend(f.stable_candidates_after_now());
}

/// When the week-6 question is answered for a household not directly safe at `deadline` (nor
/// since): at the deadline when the picture there is current (a score in the `current_days`
/// before it) and confirmed (no direct safety in those days either: one low visit after good
/// ones is within the noise of the scale, as for terugval). Otherwise at the end of the next
/// visit (`relapse_visit_days` after its first score), at the latest `current_days` after the
/// deadline (the practice card's "by week 6 to 8").
fn answered_at(f: &Facts<'_>, p: &DirectParams, deadline: Instant) -> Instant {
    let current = minus(deadline, days(p.current_days));
    let latest_score = f.scores.iter().rev().find(|s| s.at <= deadline);
    let stale = latest_score.is_none_or(|s| s.at < current);
    let held_recently = f
        .direct
        .iter()
        .filter_map(|(_, end)| *end)
        .any(|end| end > current && end <= deadline);
    if p.current_days == 0 || !(stale || held_recently) {
        return deadline;
    }
    let latest = calendar_days(deadline, p.current_days);
    f.scores
        .iter()
        .find(|s| s.at > deadline)
        .map(|s| plus(s.at, days(f.defs.relapse_visit_days)))
        .map_or(latest, |visit| visit.min(latest))
}
