//! Uiteenlopende scores: the victim far below the professionals.

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
    let victim = f
        .scores
        .iter()
        .filter(|s| s.perspective == Perspective::Slachtoffer)
        .max_by_key(|s| s.at);
    let Some(v) = victim else {
        return;
    };
    let near = |s: &&ScoreRef| {
        s.perspective.is_professional()
            && s.at.timestamp().duration_since(v.at.timestamp()).abs() <= days(p.days)
    };
    if let Some(high) = f.scores.iter().filter(near).max_by_key(|s| (s.value, s.at))
        && high.value >= v.value.saturating_add(p.gap)
    {
        found.hold(
            rule,
            rule.severity,
            v.at.max(high.at),
            vec![v.index, high.index],
        );
    }
}
