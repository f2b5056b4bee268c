//! Uiteenlopende scores: the victim far below the professionals, once by much or twice in a row.

use super::facts::ScoreRef;
use super::{Facts, Found, days};
use crate::domain::Perspective;
use crate::engine::rule::{DivergenceParams, Rule};

pub(super) fn uiteenlopende_scores(
    f: &Facts<'_>,
    rule: &Rule,
    p: &DivergenceParams,
    found: &mut Found,
) {
    let mut victim = f
        .scores
        .iter()
        .rev()
        .filter(|s| s.perspective == Perspective::Slachtoffer);
    let Some(latest) = victim.next() else {
        return;
    };
    // How far the victim's score lies below the highest professional score of the same days.
    let below = |v: &ScoreRef| -> Option<(i16, &ScoreRef)> {
        let high = f
            .scores
            .iter()
            .filter(|s| {
                s.perspective.is_professional()
                    && s.at.timestamp().duration_since(v.at.timestamp()).abs() <= days(p.days)
            })
            .max_by_key(|s| (s.value, s.at))?;
        Some((i16::from(high.value) - i16::from(v.value), high))
    };
    let Some((gap, high)) = below(latest) else {
        return;
    };
    if gap >= i16::from(p.gap) {
        let since = latest.at.max(high.at);
        found.hold(rule, rule.severity, since, vec![latest.index, high.index]);
        return;
    }
    if gap < i16::from(p.persistent_gap) {
        return;
    }
    if let Some(previous) = victim.next()
        && let Some((earlier_gap, earlier_high)) = below(previous)
        && earlier_gap >= i16::from(p.persistent_gap)
    {
        let mut evidence = vec![previous.index, earlier_high.index, latest.index, high.index];
        evidence.sort();
        evidence.dedup();
        found.hold(rule, rule.severity, latest.at.max(high.at), evidence);
    }
}
