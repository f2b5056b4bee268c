//! Uiteenlopende scores: the victim far below the professionals, once by much or persistently.

use super::facts::ScoreRef;
use super::{Facts, Found, days, minus, plus};
use crate::domain::Perspective;
use crate::engine::rule::{DivergenceParams, Rule};

pub(super) fn uiteenlopende_scores(
    f: &Facts<'_>,
    rule: &Rule,
    p: &DivergenceParams,
    found: &mut Found,
) {
    // How far the victim's score lies below the professionals' typical (mean) score of the same
    // days, and the professional scores it was measured against. The typical score, not the
    // highest: one optimistic professional among several is not a divergence of views.
    let below = |v: &ScoreRef| -> Option<(f64, Vec<usize>)> {
        // The scores within `days` of it on either side (scores are in time order).
        let (lo, hi) = (minus(v.at, days(p.days)), plus(v.at, days(p.days)));
        let around = &f.scores[f.scores.partition_point(|s| s.at < lo)..];
        let near: Vec<&ScoreRef> = around[..around.partition_point(|s| s.at <= hi)]
            .iter()
            .filter(|s| s.perspective.is_professional())
            .collect();
        if near.is_empty() {
            return None;
        }
        let typical = near.iter().map(|s| f64::from(s.value)).sum::<f64>() / near.len() as f64;
        Some((
            typical - f64::from(v.value),
            near.iter().map(|s| s.index).collect(),
        ))
    };
    let mut victim = f
        .scores
        .iter()
        .rev()
        .filter(|s| s.perspective == Perspective::Slachtoffer);
    let Some(latest) = victim.next() else {
        return;
    };
    let Some((gap, professionals)) = below(latest) else {
        return;
    };
    let since = |ev: &[usize]| ev.iter().map(|i| f.events[*i].at()).max();
    if gap >= f64::from(p.gap) {
        let mut evidence = professionals;
        evidence.push(latest.index);
        evidence.sort();
        let at = since(&evidence).unwrap_or(latest.at);
        found.hold(rule, rule.severity, at, evidence);
        return;
    }
    // Persistent: on average this far below over the victim's scores of the last `weeks` weeks
    // (at least `persistent_scores` of them). A mean of the paired gaps, not each gap: a single
    // score is about a point noisy on either side (Jacobson-Truax), so a run of gaps that must
    // each clear a line mostly measures luck, while their mean measures the household's lasting
    // difference of view.
    let mut evidence = professionals;
    evidence.push(latest.index);
    let mut gaps = vec![gap];
    let from = latest.at.timestamp() - days(7 * p.weeks);
    for earlier in victim.take_while(|s| s.at.timestamp() > from) {
        let Some((g, prof)) = below(earlier) else {
            continue;
        };
        gaps.push(g);
        evidence.push(earlier.index);
        evidence.extend(prof);
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    if gaps.len() >= p.persistent_scores && mean >= p.persistent_gap {
        evidence.sort();
        evidence.dedup();
        let at = latest.at.max(since(&evidence).unwrap_or(latest.at));
        found.hold(rule, rule.severity, at, evidence);
    }
}
