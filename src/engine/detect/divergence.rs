//! Uiteenlopende scores: the victim far below the professionals, once by much or persistently.

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
    // How far the victim's score lies below the professionals' typical (mean) score of the same
    // days, and the professional scores it was measured against. The typical score, not the
    // highest: one optimistic professional among several is not a divergence of views.
    let below = |v: &ScoreRef| -> Option<(f64, Vec<usize>)> {
        let near: Vec<&ScoreRef> = f
            .scores
            .iter()
            .filter(|s| {
                s.perspective.is_professional()
                    && s.at.timestamp().duration_since(v.at.timestamp()).abs() <= days(p.days)
            })
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
    // Persistent: the victim this far below at each of the latest `persistent_scores` scores.
    let mut evidence = professionals;
    evidence.push(latest.index);
    let mut run = 1;
    if gap >= f64::from(p.persistent_gap) {
        for earlier in victim.by_ref() {
            if run >= p.persistent_scores {
                break;
            }
            match below(earlier) {
                Some((g, prof)) if g >= f64::from(p.persistent_gap) => {
                    evidence.push(earlier.index);
                    evidence.extend(prof);
                    run += 1;
                }
                _ => break,
            }
        }
    }
    if gap >= f64::from(p.persistent_gap) && run >= p.persistent_scores {
        evidence.sort();
        evidence.dedup();
        let at = latest.at.max(since(&evidence).unwrap_or(latest.at));
        found.hold(rule, rule.severity, at, evidence);
    }
}
