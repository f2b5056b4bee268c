//! Dalende trend: a significant and sizeable fall in one perspective's recent scores.

use super::facts::ScoreRef;
use super::{Facts, Found, days, minus, plus};
use crate::domain::Perspective;
use crate::engine::rule::{Rule, TrendParams};
use crate::engine::stats::{kendall_s, mann_kendall_decreasing, theil_sen_slope};

pub(super) fn dalende_trend(f: &Facts<'_>, rule: &Rule, p: &TrendParams, found: &mut Found) {
    let now = f.now;
    let from = minus(now, days(7 * p.weeks));
    for perspective in Perspective::ALL {
        let series: Vec<&ScoreRef> = f.scores[f.scores.partition_point(|s| s.at <= from)..]
            .iter()
            .filter(|s| s.perspective == *perspective)
            .collect();
        if let Some(oldest) = series.first() {
            found.due.push(plus(oldest.at, days(7 * p.weeks)));
        }
        if series.len() < p.min_scores {
            continue;
        }
        let values: Vec<f64> = series.iter().map(|s| f64::from(s.value)).collect();
        // Without more falling than rising pairs (S < 0) there is no downward trend to test; this
        // spares the exact test on most series.
        let falling = kendall_s(&values) < 0
            && mann_kendall_decreasing(&values).is_some_and(|mk| mk.p_value < p.p_value);
        if falling && drop(&series) >= p.min_drop {
            let last = series.last().map_or(now, |s| s.at);
            found.hold(
                rule,
                rule.severity,
                last,
                series.iter().map(|s| s.index).collect(),
            );
            break;
        }
    }
}

/// The fall over the series in points: the Theil-Sen slope times the series' span.
fn drop(series: &[&ScoreRef]) -> f64 {
    let (Some(first), Some(last)) = (series.first(), series.last()) else {
        return 0.0;
    };
    let day = |s: &ScoreRef| {
        s.at.timestamp()
            .duration_since(first.at.timestamp())
            .as_secs_f64()
            / 86_400.0
    };
    let points: Vec<(f64, f64)> = series
        .iter()
        .map(|s| (day(s), f64::from(s.value)))
        .collect();
    theil_sen_slope(&points).map_or(0.0, |slope| -slope * day(last))
}
