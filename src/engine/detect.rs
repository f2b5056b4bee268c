//! The detectors of DESIGN.md section 3 and the definitions they share.

use jiff::{SignedDuration, ToSpan};

use super::rule::{Definitions, Detector, Rule, Severity};
use super::stats::{kendall_s, mann_kendall_decreasing};
use super::{Condition, OneShot};
use crate::domain::{
    Event, FlagKind, FlagLevel, Household, Instant, Perspective, SignalKind, Specialism, amsterdam,
};

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

#[derive(Debug, Clone, Copy)]
struct ScoreRef {
    at: Instant,
    perspective: Perspective,
    value: u8,
    index: usize,
}

#[derive(Debug, Clone, Copy)]
struct SignalRef {
    at: Instant,
    melding: bool,
    acute: bool,
    neighbourhood: bool,
    index: usize,
}

/// A stretch of time the trajectory was open: from its (re)opening to its closure.
#[derive(Debug, Clone, Copy)]
struct Period {
    start: Instant,
    end: Option<(Instant, usize)>,
}

/// What the detectors share, derived once per evaluation.
pub(super) struct Facts<'a> {
    household: &'a Household,
    events: &'a [Event],
    defs: &'a Definitions,
    now: Instant,
    scores: Vec<ScoreRef>,
    signals: Vec<SignalRef>,
    periods: Vec<Period>,
    /// Intervals `[start, end)` in the current trajectory when direct safety held; `end` is
    /// `None` while it holds at `now`.
    direct: Vec<(Instant, Option<Instant>)>,
}

impl<'a> Facts<'a> {
    pub(super) fn new(
        household: &'a Household,
        events: &'a [Event],
        defs: &'a Definitions,
        now: Instant,
    ) -> Self {
        let mut scores = Vec::new();
        let mut signals = Vec::new();
        let mut periods = vec![Period {
            start: household.opened_at.start(),
            end: None,
        }];
        for (index, event) in events.iter().enumerate() {
            match event {
                Event::Score(s) => scores.push(ScoreRef {
                    at: s.at,
                    perspective: s.perspective,
                    value: s.value.get(),
                    index,
                }),
                Event::Signal(s) => signals.push(SignalRef {
                    at: s.at,
                    melding: s.kind == SignalKind::Melding,
                    acute: s.acute,
                    neighbourhood: s.source.is_neighbourhood(),
                    index,
                }),
                Event::Closure(c) => {
                    if let Some(p) = periods.last_mut().filter(|p| p.end.is_none()) {
                        p.end = Some((c.at, index));
                    }
                }
                Event::Reopen(r) if periods.last().is_some_and(|p| p.end.is_some()) => {
                    periods.push(Period {
                        start: r.at,
                        end: None,
                    });
                }
                _ => {}
            }
        }
        let mut facts = Facts {
            household,
            events,
            defs,
            now,
            scores,
            signals,
            periods,
            direct: Vec::new(),
        };
        facts.direct = facts.direct_intervals();
        facts
    }

    pub(super) fn phase(&self) -> super::Phase {
        let current = self.current();
        if current.end.is_some() {
            return super::Phase::Afgesloten;
        }
        let phase3 = self
            .events
            .iter()
            .any(|e| matches!(e, Event::Phase3(m) if m.at >= current.start));
        if phase3 || self.stable_safety(self.now) {
            super::Phase::StabieleVeiligheid
        } else if self.direct_safety(self.now) {
            super::Phase::DirecteVeiligheid
        } else {
            super::Phase::AcuteOnveiligheid
        }
    }

    fn current(&self) -> Period {
        *self
            .periods
            .last()
            .expect("a household has at least one period")
    }

    fn t0(&self) -> Instant {
        self.current().start
    }

    fn is_open(&self) -> bool {
        self.current().end.is_none()
    }

    fn window(&self) -> SignedDuration {
        days(self.defs.level_window_days)
    }

    /// The safety level at `t`: the lowest of each perspective's latest score in the window
    /// before `t`, and the time of the latest of those scores.
    fn safety_level(&self, t: Instant) -> Option<(u8, Instant)> {
        let mut latest: [Option<ScoreRef>; 5] = [None; 5];
        for s in self.scores_in(minus(t, self.window()), t) {
            let slot = &mut latest[s.perspective as usize];
            if slot.is_none_or(|l| s.at >= l.at) {
                *slot = Some(*s);
            }
        }
        let level = latest.iter().flatten().map(|s| s.value).min()?;
        let last = latest.iter().flatten().map(|s| s.at).max()?;
        Some((level, last))
    }

    /// The scores in `(from, to]`; scores are in time order.
    fn scores_in(&self, from: Instant, to: Instant) -> &[ScoreRef] {
        let start = self.scores.partition_point(|s| s.at <= from);
        let end = self.scores.partition_point(|s| s.at <= to);
        &self.scores[start..end.max(start)]
    }

    /// Direct safety at `t`: safety level at least 6 and no acute signal after the latest score.
    fn direct_safety(&self, t: Instant) -> bool {
        match self.safety_level(t) {
            Some((level, last)) if level >= self.defs.direct_safety_min => !self
                .signals
                .iter()
                .any(|s| s.acute && s.at > last && s.at <= t),
            _ => false,
        }
    }

    /// Direct safety is a step function that changes only at a score, when a score leaves the
    /// window, and at an acute signal: evaluate it at those points of the current trajectory.
    fn direct_intervals(&self) -> Vec<(Instant, Option<Instant>)> {
        let t0 = self.t0();
        let mut points: Vec<Instant> = vec![t0];
        for s in &self.scores {
            points.push(s.at);
            points.push(plus(s.at, self.window()));
        }
        points.extend(self.signals.iter().filter(|s| s.acute).map(|s| s.at));
        points.retain(|p| *p >= t0 && *p <= self.now);
        points.sort();
        points.dedup();
        let mut intervals: Vec<(Instant, Option<Instant>)> = Vec::new();
        for p in points {
            let holds = self.direct_safety(p);
            match intervals.last_mut() {
                Some((_, end @ None)) if !holds => *end = Some(p),
                Some((_, None)) => {}
                _ if holds => intervals.push((p, None)),
                _ => {}
            }
        }
        intervals
    }

    /// Tds: the first time direct safety held in the current trajectory.
    fn tds(&self) -> Option<Instant> {
        self.direct.first().map(|(start, _)| *start)
    }

    fn direct_throughout(&self, from: Instant, to: Instant) -> bool {
        self.direct
            .iter()
            .any(|(start, end)| *start <= from && end.is_none_or(|e| e > to))
    }

    /// Stable safety at `t`: direct safety over the whole window before `t`, with enough scores
    /// in it, every one high enough, and no melding or acute signal in it.
    fn stable_safety(&self, t: Instant) -> bool {
        let from = minus(t, days(7 * self.defs.stable_weeks));
        if !self.direct_throughout(from, t) {
            return false;
        }
        let in_window = self.scores_in(from, t);
        in_window.len() >= self.defs.stable_min_scores
            && in_window
                .iter()
                .all(|s| s.value >= self.defs.stable_score_min)
            && !self
                .signals
                .iter()
                .any(|s| (s.melding || s.acute) && s.at > from && s.at <= t)
    }

    /// The moments stable safety can start holding: when a direct-safety stretch, a score, or a
    /// disqualifying signal is one window old, and at each score.
    fn stable_candidates(&self) -> Vec<Instant> {
        let w = days(7 * self.defs.stable_weeks);
        let mut c: Vec<Instant> = self.direct.iter().map(|(s, _)| plus(*s, w)).collect();
        for s in &self.scores {
            c.push(s.at);
            c.push(plus(s.at, w));
        }
        c.extend(
            self.signals
                .iter()
                .filter(|s| s.melding || s.acute)
                .map(|s| plus(s.at, w)),
        );
        c.sort();
        c.dedup();
        c
    }

    /// The first time in `[from, to]` stable safety held.
    fn stable_reached(&self, from: Instant, to: Instant) -> Option<Instant> {
        self.stable_candidates()
            .into_iter()
            .filter(|c| *c >= from && *c <= to)
            .find(|c| self.stable_safety(*c))
    }

    /// Relapse events after Tds: a score below the direct-safety line, or an acute signal.
    fn relapses(&self, tds: Instant) -> Vec<(Instant, usize)> {
        let mut r: Vec<(Instant, usize)> = self
            .scores
            .iter()
            .filter(|s| s.at > tds && s.value < self.defs.direct_safety_min)
            .map(|s| (s.at, s.index))
            .chain(
                self.signals
                    .iter()
                    .filter(|s| s.acute && s.at > tds)
                    .map(|s| (s.at, s.index)),
            )
            .collect();
        r.sort();
        r
    }

    /// The current relapse, if direct safety has not been regained since: when it began and the
    /// events that make it.
    fn relapse(&self) -> Option<(Instant, Vec<usize>)> {
        let tds = self.tds()?;
        let relapses = self.relapses(tds);
        let (last, _) = *relapses.last()?;
        if self.direct.iter().any(|(start, _)| *start > last) {
            return None;
        }
        let episode_start = self
            .direct
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| *s <= last)
            .max()
            .unwrap_or(tds);
        let episode: Vec<(Instant, usize)> = relapses
            .into_iter()
            .filter(|(t, _)| *t > episode_start)
            .collect();
        Some((episode[0].0, episode.iter().map(|(_, i)| *i).collect()))
    }

    /// The end of the latest grace period (an intervention's expected effect) at or before `now`,
    /// and whether one is running now.
    fn grace(&self) -> (Option<Instant>, Option<Instant>) {
        let mut ended = None;
        let mut running = None;
        for e in self.events {
            if let Event::Intervention(i) = e
                && let Some(until) = i.effect_expected_by.map(|d| d.start())
            {
                if until > self.now {
                    running = running.max(Some(until));
                } else if until > i.at {
                    ended = ended.max(Some(until));
                }
            }
        }
        (ended, running)
    }

    fn recent_evidence(&self, from: Instant) -> Vec<usize> {
        let mut ev: Vec<usize> = self
            .scores
            .iter()
            .filter(|s| s.at >= from)
            .map(|s| s.index)
            .chain(
                self.signals
                    .iter()
                    .filter(|s| s.at >= from && (s.acute || s.melding))
                    .map(|s| s.index),
            )
            .collect();
        ev.sort();
        // The latest events say most; a long history is cut to its last 20.
        let cut = ev.len().saturating_sub(20);
        ev.split_off(cut)
    }

    /// Since when a flag has been set (at level waarschijnlijk or zeker) without interruption.
    fn flag_set_since(&self, kind: FlagKind) -> Option<(Instant, usize)> {
        let mut since = None;
        for (i, e) in self.events.iter().enumerate() {
            if let Event::Flag(f) = e
                && f.flag == kind
            {
                let set = matches!(f.level, FlagLevel::Waarschijnlijk | FlagLevel::Zeker);
                since = match (set, since) {
                    (true, None) => Some((f.at, i)),
                    (true, kept) => kept,
                    (false, _) => None,
                };
            }
        }
        since
    }
}

fn condition(rule: &Rule, severity: Severity, since: Instant, evidence: Vec<usize>) -> Condition {
    Condition {
        rule: rule.id.clone(),
        severity,
        since,
        evidence,
        suppressed_until: None,
    }
}

/// Runs one rule: pushes what holds, the one-shots due so far, and the times its outcome can
/// change.
pub(super) fn run(
    f: &Facts<'_>,
    rule: &Rule,
    conditions: &mut Vec<Condition>,
    one_shots: &mut Vec<OneShot>,
    due: &mut Vec<Instant>,
) {
    let now = f.now;
    // Closed trajectories raise no stagnation, trend or overdue alerts; only nazorg watches them.
    let open_only = !matches!(
        rule.detector,
        Detector::Nazorg(_) | Detector::VoortijdigLoslaten(_)
    );
    if open_only && !f.is_open() && !rule.is_one_shot() {
        return;
    }
    let stagnation = matches!(
        rule.detector,
        Detector::GeenDirecteVeiligheid(_)
            | Detector::GeenStabieleVeiligheid(_)
            | Detector::DalendeTrend(_)
    );
    let before = conditions.len();
    match &rule.detector {
        Detector::GeenDirecteVeiligheid(p) => {
            if f.tds().is_some() {
                if let Some((start, evidence)) = f.relapse() {
                    let deadline = calendar_days(start, 7 * p.weeks);
                    if now >= deadline {
                        conditions.push(condition(rule, rule.severity, deadline, evidence));
                    } else {
                        due.push(deadline);
                    }
                }
            } else {
                let deadline = calendar_days(f.t0(), 7 * p.weeks);
                if now >= deadline {
                    conditions.push(condition(
                        rule,
                        rule.severity,
                        deadline,
                        f.recent_evidence(f.t0()),
                    ));
                } else {
                    due.push(deadline);
                }
            }
        }
        Detector::GeenStabieleVeiligheid(p) => {
            if let Some(tds) = f.tds() {
                let deadline = calendar_days(tds, 7 * p.weeks);
                if now < deadline {
                    due.push(deadline);
                } else if f.stable_reached(tds, now).is_none() {
                    let w = days(7 * f.defs.stable_weeks);
                    conditions.push(condition(
                        rule,
                        rule.severity,
                        deadline,
                        f.recent_evidence(minus(now, w)),
                    ));
                    due.extend(f.stable_candidates().into_iter().filter(|c| *c > now));
                }
            }
        }
        Detector::Terugval => {
            if let Some((start, evidence)) = f.relapse() {
                conditions.push(condition(rule, rule.severity, start, evidence));
            }
        }
        Detector::HerhaaldGemeld(p) => {
            let from = minus(now, days(p.days));
            let window: Vec<&SignalRef> = f
                .signals
                .iter()
                .filter(|s| s.melding && s.at > from)
                .collect();
            if let Some(oldest) = window.first() {
                due.push(plus(oldest.at, days(p.days)));
            }
            if window.len() >= p.count {
                let severity = if window.len() >= p.critical_count {
                    Severity::Critical
                } else {
                    rule.severity
                };
                let evidence = window.iter().map(|s| s.index).collect();
                conditions.push(condition(rule, severity, window[p.count - 1].at, evidence));
            }
        }
        Detector::DalendeTrend(p) => {
            let from = minus(now, days(7 * p.weeks));
            for perspective in Perspective::ALL {
                let series: Vec<&ScoreRef> = f
                    .scores
                    .iter()
                    .filter(|s| s.perspective == *perspective && s.at > from)
                    .collect();
                if let Some(oldest) = series.first() {
                    due.push(plus(oldest.at, days(7 * p.weeks)));
                }
                if series.len() < p.min_scores {
                    continue;
                }
                let values: Vec<f64> = series.iter().map(|s| f64::from(s.value)).collect();
                // Without more falling than rising pairs (S < 0) there is no downward trend to test; this
                // spares the exact test on most series.
                let falling = kendall_s(&values) < 0
                    && mann_kendall_decreasing(&values).is_some_and(|mk| mk.p_value < p.p_value);
                if falling {
                    let last = series.last().map_or(now, |s| s.at);
                    conditions.push(condition(
                        rule,
                        rule.severity,
                        last,
                        series.iter().map(|s| s.index).collect(),
                    ));
                    break;
                }
            }
        }
        Detector::UiteenlopendeScores(p) => {
            let victim = f
                .scores
                .iter()
                .filter(|s| s.perspective == Perspective::Slachtoffer)
                .max_by_key(|s| s.at);
            if let Some(v) = victim {
                let near = |s: &&ScoreRef| {
                    s.perspective.is_professional()
                        && s.at.timestamp().duration_since(v.at.timestamp()).abs() <= days(p.days)
                };
                if let Some(high) = f.scores.iter().filter(near).max_by_key(|s| (s.value, s.at))
                    && high.value >= v.value.saturating_add(p.gap)
                {
                    let evidence = vec![v.index, high.index];
                    conditions.push(condition(rule, rule.severity, v.at.max(high.at), evidence));
                }
            }
        }
        Detector::MetingAchterstallig(p) => {
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
                conditions.push(condition(rule, rule.severity, deadline, evidence));
            }
            due.extend([short, long, plus(base, f.window())]);
        }
        Detector::ForensischConsult(p) => {
            if let Some((since, flag)) = f.flag_set_since(FlagKind::IntiemTerrorisme) {
                let consulted = f.events.iter().any(|e| {
                    matches!(e, Event::Consultation(c) if c.specialism == Specialism::ForensischeGgz && c.at >= since)
                });
                let deadline = calendar_days(since, p.days);
                if !consulted && now >= deadline {
                    conditions.push(condition(rule, rule.severity, deadline, vec![flag]));
                }
                due.push(deadline);
            }
        }
        Detector::GeenProactiefScenario(p) => {
            if let Some((since, flag)) = f.flag_set_since(FlagKind::GeweldNietTeStoppen) {
                let agreed = f
                    .events
                    .iter()
                    .any(|e| matches!(e, Event::ProactiveScenario(s) if s.at >= since));
                let deadline = calendar_days(since, p.days);
                if !agreed && now >= deadline {
                    conditions.push(condition(rule, rule.severity, deadline, vec![flag]));
                }
                due.push(deadline);
            }
        }
        Detector::VoortijdigLoslaten(p) => {
            let severity = if f.household.minor_children {
                p.severity_with_minor_children
            } else {
                rule.severity
            };
            let current = f.current();
            match current.end {
                Some((closed_at, closure)) => {
                    if !f.stable_safety(closed_at) {
                        conditions.push(condition(rule, severity, closed_at, vec![closure]));
                    }
                }
                None => {
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
                        && !f.stable_safety(at)
                        && f.stable_reached(at, now).is_none()
                    {
                        conditions.push(condition(rule, severity, at, vec![index]));
                        due.extend(f.stable_candidates().into_iter().filter(|c| *c > now));
                    }
                }
            }
        }
        Detector::Hermelding | Detector::OgenEnOren => {
            let wanted = |s: &SignalRef| match rule.detector {
                Detector::Hermelding => s.melding,
                _ => s.neighbourhood,
            };
            for s in f.signals.iter().filter(|s| wanted(s)) {
                let open = f
                    .periods
                    .iter()
                    .any(|p| s.at >= p.start && p.end.is_none_or(|(end, _)| s.at < end));
                if open {
                    one_shots.push(OneShot {
                        rule: rule.id.clone(),
                        severity: rule.severity,
                        at: s.at,
                        evidence: vec![s.index],
                    });
                }
            }
        }
        Detector::Nazorg(p) => {
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
                    if at <= now {
                        one_shots.push(OneShot {
                            rule: rule.id.clone(),
                            severity: rule.severity,
                            at,
                            evidence: vec![closure],
                        });
                    } else {
                        due.push(at);
                    }
                }
                let watch_until = calendar_months(closed_at, p.melding_months);
                for s in f
                    .signals
                    .iter()
                    .filter(|s| s.melding && s.at > closed_at && s.at <= watch_until)
                {
                    if reopened.is_none_or(|r| s.at < r) {
                        one_shots.push(OneShot {
                            rule: rule.id.clone(),
                            severity: Severity::Critical.max(rule.severity),
                            at: s.at,
                            evidence: vec![closure, s.index],
                        });
                    }
                }
            }
        }
    }
    if stagnation {
        let (ended, running) = f.grace();
        if let Some(until) = running {
            // A new intervention needs time to work: stagnation stays quiet until its date.
            conditions.truncate(before);
            due.push(until);
        } else if let Some(until) = ended {
            for c in &mut conditions[before..] {
                if c.since < until {
                    c.suppressed_until = Some(until);
                }
            }
        }
    }
}
