//! The facts the detectors share, derived once per evaluation: scores and signals in time order,
//! trajectory periods, the safety level, direct and stable safety, Tds, relapses and grace.

use jiff::SignedDuration;

use super::{days, minus, plus};
use crate::domain::{
    EscalationStep, Event, FlagKind, FlagLevel, Household, Instant, Perspective, SignalKind,
};
use crate::engine::Phase;
use crate::engine::rule::Definitions;

#[derive(Debug, Clone, Copy)]
pub(super) struct ScoreRef {
    pub(super) at: Instant,
    pub(super) perspective: Perspective,
    pub(super) value: u8,
    pub(super) index: usize,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SignalRef {
    pub(super) at: Instant,
    pub(super) melding: bool,
    pub(super) acute: bool,
    pub(super) neighbourhood: bool,
    pub(super) index: usize,
}

/// A drop below direct safety that is more than noise: when it was confirmed, and by what.
#[derive(Debug, Clone)]
pub(super) struct Drop {
    pub(super) at: Instant,
    pub(super) evidence: Vec<usize>,
}

/// A relapse that holds now: direct safety lost after Tds, confirmed, and not regained.
#[derive(Debug, Clone)]
pub(super) struct Relapse {
    /// When direct safety was lost.
    pub(super) lost: Instant,
    /// When the drop was first confirmed.
    pub(super) confirmed: Instant,
    pub(super) evidence: Vec<usize>,
    /// When direct safety first held again after the confirmation, not yet for long enough.
    pub(super) back_since: Option<Instant>,
    /// When the relapse ends if direct safety keeps holding (the scheduler's due time).
    pub(super) regained_at: Option<Instant>,
}

/// A stretch of time the trajectory was open: from its (re)opening to its closure.
#[derive(Debug, Clone, Copy)]
pub(super) struct Period {
    pub(super) start: Instant,
    pub(super) end: Option<(Instant, usize)>,
}

/// What the detectors share, derived once per evaluation.
pub(in crate::engine) struct Facts<'a> {
    pub(super) household: &'a Household,
    pub(super) events: &'a [Event],
    pub(super) defs: &'a Definitions,
    pub(super) now: Instant,
    pub(super) scores: Vec<ScoreRef>,
    pub(super) signals: Vec<SignalRef>,
    pub(super) periods: Vec<Period>,
    /// Intervals `[start, end)` in the current trajectory when direct safety held; `end` is
    /// `None` while it holds at `now`.
    pub(super) direct: Vec<(Instant, Option<Instant>)>,
}

impl<'a> Facts<'a> {
    pub(in crate::engine) fn new(
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

    pub(in crate::engine) fn phase(&self) -> Phase {
        let current = self.current();
        if current.end.is_some() {
            return Phase::Afgesloten;
        }
        // Derived from scores and signals only: a step of the escalation ladder is never a phase.
        if self.stable_safety(self.now) {
            Phase::StabieleVeiligheid
        } else if self.direct_safety(self.now) {
            Phase::DirecteVeiligheid
        } else {
            Phase::AcuteOnveiligheid
        }
    }

    pub(super) fn current(&self) -> Period {
        *self
            .periods
            .last()
            .expect("a household has at least one period")
    }

    pub(super) fn t0(&self) -> Instant {
        self.current().start
    }

    pub(super) fn is_open(&self) -> bool {
        self.current().end.is_none()
    }

    pub(super) fn window(&self) -> SignedDuration {
        days(self.defs.level_window_days)
    }

    /// The safety level at `t` from each perspective's latest score in the window before `t`: the
    /// typical score (the mean of those latest scores), the lowest of them, and the time of the
    /// latest.
    pub(super) fn safety_level(&self, t: Instant) -> Option<(f64, u8, Instant)> {
        let mut latest: [Option<ScoreRef>; 5] = [None; 5];
        for s in self.scores_in(minus(t, self.window()), t) {
            let slot = &mut latest[s.perspective as usize];
            if slot.is_none_or(|l| s.at >= l.at) {
                *slot = Some(*s);
            }
        }
        let scored: Vec<&ScoreRef> = latest.iter().flatten().collect();
        let lowest = scored.iter().map(|s| s.value).min()?;
        let last = scored.iter().map(|s| s.at).max()?;
        let sum: u32 = scored.iter().map(|s| u32::from(s.value)).sum();
        Some((f64::from(sum) / scored.len() as f64, lowest, last))
    }

    /// The scores in `(from, to]`; scores are in time order.
    pub(super) fn scores_in(&self, from: Instant, to: Instant) -> &[ScoreRef] {
        let start = self.scores.partition_point(|s| s.at <= from);
        let end = self.scores.partition_point(|s| s.at <= to);
        &self.scores[start..end.max(start)]
    }

    /// Direct safety at `t`: the typical latest score at least 6, no perspective's latest score
    /// below the floor, and no acute signal after the latest score.
    pub(super) fn direct_safety(&self, t: Instant) -> bool {
        match self.safety_level(t) {
            Some((typical, lowest, last))
                if typical >= f64::from(self.defs.direct_safety_min)
                    && lowest >= self.defs.direct_safety_floor =>
            {
                !self
                    .signals
                    .iter()
                    .any(|s| s.acute && s.at > last && s.at <= t)
            }
            _ => false,
        }
    }

    /// Direct safety is a step function that changes only at a score, when a score leaves the
    /// window, and at an acute signal: evaluate it at those points of the current trajectory.
    /// A stretch that ended within one visit (`relapse_visit_days`) is left out: the scores of a
    /// visit arrive one by one, and a first optimistic score followed by the others' low ones is
    /// not a moment of direct safety (it made a "relapse" of the rest of the same visit).
    pub(super) fn direct_intervals(&self) -> Vec<(Instant, Option<Instant>)> {
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
        let visit = days(self.defs.relapse_visit_days);
        intervals.retain(|(start, end)| {
            end.is_none_or(|e| e.timestamp().duration_since(start.timestamp()) > visit)
        });
        intervals
    }

    /// Tds: the first time direct safety held in the current trajectory.
    pub(super) fn tds(&self) -> Option<Instant> {
        self.direct.first().map(|(start, _)| *start)
    }

    /// Stable safety at `t` (DESIGN.md section 3): over the window before `t` enough scores, most
    /// of them high and none low, no long gap between consecutive scores, and no melding or acute
    /// signal. Single scores are noisy (a 0-10 item has a measurement error of about one point), so
    /// an occasional 7 or one missed visit does not undo it.
    pub(super) fn stable_safety(&self, t: Instant) -> bool {
        let d = self.defs;
        let from = minus(t, days(7 * d.stable_weeks));
        let in_window = self.scores_in(from, t);
        if in_window.len() < d.stable_min_scores {
            return false;
        }
        // Each visit's mean score, not each score: five perspectives scoring at one visit are
        // one measurement of the household, and a single 6 among them is noise.
        let visits = self.visit_means(in_window);
        if visits.len() < d.stable_min_scores {
            return false;
        }
        let high = visits
            .iter()
            .filter(|m| **m >= f64::from(d.stable_score_min))
            .count();
        let mostly_high = high * 100 >= usize::from(d.stable_share_percent) * visits.len();
        let none_low = visits.iter().all(|m| *m >= f64::from(d.stable_score_floor));
        let max_gap = days(d.stable_max_gap_days);
        let no_long_gap = in_window
            .windows(2)
            .all(|w| w[1].at.timestamp().duration_since(w[0].at.timestamp()) <= max_gap);
        mostly_high
            && none_low
            && no_long_gap
            && !self
                .signals
                .iter()
                .any(|s| (s.melding || s.acute) && s.at > from && s.at <= t)
    }

    /// The mean score of each visit (scores at most `relapse_visit_days` after the visit's first).
    pub(super) fn visit_means(&self, scores: &[ScoreRef]) -> Vec<f64> {
        let visit = days(self.defs.relapse_visit_days);
        let mut out: Vec<(Instant, u32, u32)> = Vec::new();
        for s in scores {
            match out.last_mut() {
                Some((first, sum, n))
                    if s.at.timestamp().duration_since(first.timestamp()) <= visit =>
                {
                    *sum += u32::from(s.value);
                    *n += 1;
                }
                _ => out.push((s.at, u32::from(s.value), 1)),
            }
        }
        out.iter()
            .map(|(_, sum, n)| f64::from(*sum) / f64::from(*n))
            .collect()
    }

    /// The moments stable safety can start holding: at each score, and when a score or a
    /// disqualifying signal leaves the window.
    pub(super) fn stable_candidates(&self) -> Vec<Instant> {
        let w = days(7 * self.defs.stable_weeks);
        let mut c: Vec<Instant> = Vec::new();
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
    pub(super) fn stable_reached(&self, from: Instant, to: Instant) -> Option<Instant> {
        self.stable_candidates()
            .into_iter()
            .filter(|c| *c >= from && *c <= to)
            .find(|c| self.stable_safety(*c))
    }

    /// The moments in `[from, to]`, in time order, at which stable safety held and was confirmed
    /// at the next visit (the first score more than `relapse_visit_days` later, at or before
    /// `to`): that visit's mean score is still at least `stable_score_min`, and no melding or
    /// acute signal came in between. Twelve lucky weeks are not enough; but a long gap before
    /// the next visit does not undo what that visit confirms.
    fn stable_confirmations(&self, from: Instant, to: Instant) -> Vec<Instant> {
        let d = self.defs;
        let visit = days(d.relapse_visit_days);
        self.stable_candidates()
            .into_iter()
            .filter(|c| *c >= from && *c <= to && self.stable_safety(*c))
            .filter(|c| {
                let Some(next) = self.scores.iter().find(|s| s.at > plus(*c, visit)) else {
                    return false;
                };
                if next.at > to {
                    return false;
                }
                let end = plus(next.at, visit);
                let at_visit: Vec<u32> = self
                    .scores
                    .iter()
                    .filter(|s| s.at >= next.at && s.at <= end)
                    .map(|s| u32::from(s.value))
                    .collect();
                let mean = f64::from(at_visit.iter().sum::<u32>()) / at_visit.len() as f64;
                mean >= f64::from(d.stable_score_min)
                    && !self
                        .signals
                        .iter()
                        .any(|s| (s.melding || s.acute) && s.at > *c && s.at <= next.at)
            })
            .collect()
    }

    /// Stable safety reached in `[from, to]`: it held and was confirmed at the next visit.
    pub(super) fn stable_confirmed(&self, from: Instant, to: Instant) -> bool {
        !self.stable_confirmations(from, to).is_empty()
    }

    /// Stable safety kept at `t`: it holds at `t`, or it was reached in the current trajectory
    /// and nothing undid it since: no confirmed drop, no melding. A trajectory is often closed
    /// when visits have thinned out, so the twelve weeks before the closure alone are not the
    /// measure of what was achieved.
    pub(super) fn stable_kept(&self, t: Instant) -> bool {
        if self.stable_safety(t) {
            return true;
        }
        let Some(since) = self.stable_confirmations(self.t0(), t).last().copied() else {
            return false;
        };
        let undone = self.tds().is_some_and(|tds| {
            self.confirmed_drops(tds)
                .iter()
                .any(|d| d.at > since && d.at <= t)
        }) || self
            .signals
            .iter()
            .any(|s| s.melding && s.at > since && s.at <= t);
        !undone
    }

    /// The confirmed drops after `tds`, in time order (DESIGN.md section 3, terugval): two
    /// perspectives below the direct-safety line at one visit, one perspective below it on two
    /// consecutive scores close together, a score at or below the severe line, or an acute
    /// signal. One perspective's single low score is not one: it is within the noise of the scale.
    pub(super) fn confirmed_drops(&self, tds: Instant) -> Vec<Drop> {
        let d = self.defs;
        let low = |s: &ScoreRef| s.at > tds && s.value < d.direct_safety_min;
        let visit = days(d.relapse_visit_days);
        let repeat = days(d.relapse_repeat_days);
        let apart = |a: &ScoreRef, b: &ScoreRef| b.at.timestamp().duration_since(a.at.timestamp());
        let mut drops: Vec<Drop> = Vec::new();
        for (i, s) in self.scores.iter().enumerate().filter(|(_, s)| low(s)) {
            if s.value <= d.relapse_severe_max {
                drops.push(Drop {
                    at: s.at,
                    evidence: vec![s.index],
                });
                continue;
            }
            let earlier = &self.scores[..i];
            let same_visit = earlier
                .iter()
                .rev()
                .take_while(|o| apart(o, s) <= visit)
                .find(|o| o.perspective != s.perspective && low(o));
            let previous = earlier
                .iter()
                .rev()
                .find(|o| o.perspective == s.perspective)
                .filter(|o| low(o) && apart(o, s) <= repeat);
            // The household's picture must have fallen below the line too: two perspectives at 5
            // while the others score 8 is not a relapse of the household.
            if let Some(o) = same_visit.or(previous)
                && !self.direct_safety(s.at)
            {
                drops.push(Drop {
                    at: s.at,
                    evidence: vec![o.index, s.index],
                });
            }
        }
        drops.extend(
            self.signals
                .iter()
                .filter(|s| s.acute && s.at > tds)
                .map(|s| Drop {
                    at: s.at,
                    evidence: vec![s.index],
                }),
        );
        drops.sort_by_key(|d| d.at);
        drops
    }

    /// The current relapse: a confirmed drop after Tds with no direct safety since.
    pub(super) fn relapse(&self) -> Option<Relapse> {
        let tds = self.tds()?;
        let drops = self.confirmed_drops(tds);
        let last = drops.last()?.at;
        // Regained only when direct safety has held for `relapse_recovery_days` since: one good
        // visit after a confirmed relapse is as noisy as one bad one before it.
        let recovery = days(self.defs.relapse_recovery_days);
        let regained = self.direct.iter().any(|(start, end)| {
            *start > last
                && end
                    .unwrap_or(self.now)
                    .timestamp()
                    .duration_since(start.timestamp())
                    >= recovery
        });
        if regained {
            return None;
        }
        let back_since = self
            .direct
            .iter()
            .find(|(start, _)| *start > last)
            .map(|(start, _)| *start);
        let regained_at = self
            .direct
            .last()
            .filter(|(start, end)| *start > last && end.is_none())
            .map(|(start, _)| plus(*start, recovery));
        // Direct safety was lost at the end of the latest stretch before the confirmation.
        let lost = self
            .direct
            .iter()
            .filter_map(|(_, end)| *end)
            .filter(|end| *end <= last)
            .max()
            .unwrap_or(tds);
        let episode: Vec<&Drop> = drops.iter().filter(|d| d.at >= lost).collect();
        let confirmed = episode.first().map_or(last, |d| d.at);
        let mut evidence: Vec<usize> = episode
            .iter()
            .flat_map(|d| d.evidence.iter().copied())
            .collect();
        evidence.sort();
        evidence.dedup();
        Some(Relapse {
            lost,
            confirmed,
            evidence,
            back_since,
            regained_at,
        })
    }

    /// The end of the latest grace period (an intervention's expected effect) at or before `now`,
    /// and whether one is running now.
    pub(super) fn grace(&self) -> (Option<Instant>, Option<Instant>) {
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

    pub(super) fn recent_evidence(&self, from: Instant) -> Vec<usize> {
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
    pub(super) fn flag_set_since(&self, kind: FlagKind) -> Option<(Instant, usize)> {
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

    /// Since when the household stands at escalation step 3 (the event that put it there), if it
    /// does: from the first step-3 escalation after the last lower step.
    pub(super) fn at_step_three_since(&self) -> Option<(Instant, usize)> {
        let mut since = None;
        for (i, e) in self.events.iter().enumerate() {
            if let Event::Escalation(x) = e {
                since = match (x.step == EscalationStep::CANNOT_STOP, since) {
                    (true, None) => Some((x.at, i)),
                    (true, kept) => kept,
                    (false, _) => None,
                };
            }
        }
        since
    }

    /// A proactive scenario recorded at or after `since`.
    pub(super) fn proactive_scenario_since(&self, since: Instant) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::ProactiveScenario(s) if s.at >= since))
    }

    /// *Vasthouden en volhouden*: at step 3 with a proactive scenario agreed since reaching it.
    pub(in crate::engine) fn holding_on(&self) -> bool {
        self.at_step_three_since()
            .is_some_and(|(since, _)| self.proactive_scenario_since(since))
    }
}
