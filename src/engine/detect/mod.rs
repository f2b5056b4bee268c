//! The detectors of DESIGN.md section 3: the facts they share (`facts`) and one function per
//! detector, grouped by what they watch.

mod closure;
mod divergence;
mod facts;
mod flags;
mod meldingen;
mod overdue;
mod relapse;
mod stagnation;
mod trend;

use jiff::{SignedDuration, ToSpan};

pub(super) use facts::{Facts, Prepared};

use super::rule::{Detector, Rule, Severity};
use super::{Condition, OneShot};
use crate::domain::{Instant, amsterdam};

/// What the rules found in one evaluation.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub(super) conditions: Vec<Condition>,
    pub(super) one_shots: Vec<OneShot>,
    /// The times an outcome can change without new events.
    pub(super) due: Vec<Instant>,
}

impl Found {
    fn hold(&mut self, rule: &Rule, severity: Severity, since: Instant, evidence: Vec<usize>) {
        self.conditions.push(Condition {
            rule: rule.id.clone(),
            severity,
            since,
            evidence,
            suppressed_until: None,
        });
    }

    fn shot(&mut self, rule: &Rule, severity: Severity, at: Instant, evidence: Vec<usize>) {
        self.one_shots.push(OneShot {
            rule: rule.id.clone(),
            severity,
            at,
            evidence,
        });
    }
}

/// Runs one rule: records what holds, the one-shots due so far, and the times its outcome can
/// change.
pub(super) fn run(f: &Facts<'_>, rule: &Rule, found: &mut Found) {
    // Closed trajectories raise no stagnation, trend or overdue alerts; only nazorg watches them.
    let open_only = !matches!(
        rule.detector,
        Detector::Nazorg(_) | Detector::VoortijdigLoslaten(_)
    );
    if open_only && !f.is_open() && !rule.is_one_shot() {
        return;
    }
    let before = found.conditions.len();
    match &rule.detector {
        Detector::GeenDirecteVeiligheid(p) => {
            stagnation::geen_directe_veiligheid(f, rule, p, found)
        }
        Detector::GeenStabieleVeiligheid(p) => {
            stagnation::geen_stabiele_veiligheid(f, rule, p, found)
        }
        Detector::Terugval => relapse::terugval(f, rule, found),
        Detector::HerhaaldGemeld(p) => meldingen::herhaald_gemeld(f, rule, p, found),
        Detector::Hermelding => meldingen::hermelding(f, rule, found),
        Detector::OgenEnOren => meldingen::ogen_en_oren(f, rule, found),
        Detector::DalendeTrend(p) => trend::dalende_trend(f, rule, p, found),
        Detector::UiteenlopendeScores(p) => divergence::uiteenlopende_scores(f, rule, p, found),
        Detector::MetingAchterstallig(p) => overdue::meting_achterstallig(f, rule, p, found),
        Detector::ForensischConsult(p) => flags::forensisch_consult(f, rule, p, found),
        Detector::GeenProactiefScenario(p) => flags::geen_proactief_scenario(f, rule, p, found),
        Detector::VoortijdigLoslaten(p) => closure::voortijdig_loslaten(f, rule, p, found),
        Detector::Nazorg(p) => closure::nazorg(f, rule, p, found),
    }
    if rule.detector.is_stagnation() {
        let (ended, running) = f.grace();
        if let Some(until) = running {
            // A new intervention needs time to work: stagnation stays quiet until its date.
            found.conditions.truncate(before);
            found.due.push(until);
        } else if let Some(until) = ended {
            for c in &mut found.conditions[before..] {
                if c.since < until {
                    c.suppressed_until = Some(until);
                }
            }
        }
    }
}

/// A sliding window of whole days (24 h each).
fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn minus(t: Instant, d: SignedDuration) -> Instant {
    Instant::from_timestamp(t.timestamp() - d)
}

fn plus(t: Instant, d: SignedDuration) -> Instant {
    Instant::from_timestamp(t.timestamp() + d)
}

/// A deadline `n` calendar days after `t` in Europe/Amsterdam: the same wall-clock time, so "six
/// weeks after opening" falls on the same local hour across a change to or from summer time.
fn calendar_days(t: Instant, n: i64) -> Instant {
    let zoned = t.timestamp().to_zoned(amsterdam());
    Instant::from_timestamp(
        zoned
            .checked_add(n.days())
            .map_or(t.timestamp(), |z| z.timestamp()),
    )
}

fn calendar_months(t: Instant, n: i64) -> Instant {
    let zoned = t.timestamp().to_zoned(amsterdam());
    Instant::from_timestamp(
        zoned
            .checked_add(n.months())
            .map_or(t.timestamp(), |z| z.timestamp()),
    )
}
