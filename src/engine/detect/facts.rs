//! The facts the detectors share: scores and signals in time order, trajectory periods, the
//! safety level, direct and stable safety, Tds, relapses and grace.
//!
//! [`Prepared`] derives once per history what does not depend on the evaluation time: the scores
//! and signals, and (memoised as they are first asked) the answers that depend only on the events
//! at or before the moment asked about: direct safety at a moment, stable safety at a moment, and
//! the confirmed drops after a Tds. [`Facts`] is that history seen at one `now`: the prefix of
//! events at or before it, and the facts of that prefix. A memoised answer is used only for a
//! moment at or before `now`, where the prefix holds every event it depends on, so it is the answer
//! the prefix alone would give.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

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

/// The confirmed drops after one Tds, in time order, and how many of them lie at or before the
/// evaluation time.
pub(super) struct Drops {
    all: Rc<[Drop]>,
    seen: usize,
}

impl std::ops::Deref for Drops {
    type Target = [Drop];

    fn deref(&self) -> &[Drop] {
        &self.all[..self.seen]
    }
}

/// Moments at which a yes/no fact is asked, in time order, each with its answer once computed.
struct Memo {
    points: Vec<Instant>,
    answers: Vec<Cell<Option<bool>>>,
}

impl Memo {
    fn new(mut points: Vec<Instant>) -> Memo {
        points.sort();
        points.dedup();
        let answers = points.iter().map(|_| Cell::new(None)).collect();
        Memo { points, answers }
    }

    /// The answer at `t` if `t` is one of the points (computed once), else `None`.
    fn get(&self, t: Instant, compute: impl FnOnce(Instant) -> bool) -> Option<bool> {
        let i = self.points.binary_search(&t).ok()?;
        Some(self.nth(i, compute))
    }

    /// The answer at the `i`th point (computed once).
    fn nth(&self, i: usize, compute: impl FnOnce(Instant) -> bool) -> bool {
        let cell = &self.answers[i];
        cell.get().unwrap_or_else(|| {
            let answer = compute(self.points[i]);
            cell.set(Some(answer));
            answer
        })
    }
}

/// What the facts of every evaluation time of one history share, derived once (see the module
/// documentation). Replay evaluates a household at each of its events and due times on one
/// `Prepared`; a single evaluation prepares the events it sees.
pub(in crate::engine) struct Prepared<'a> {
    household: &'a Household,
    events: &'a [Event],
    defs: &'a Definitions,
    scores: Vec<ScoreRef>,
    signals: Vec<SignalRef>,
    /// Indexes of the closures and reopenings, which make the trajectory periods.
    period_events: Vec<usize>,
    /// Direct safety at the moments it can change: each score, the end of its window, and each
    /// acute signal.
    direct: Memo,
    /// Stable safety at the moments it can start holding (`stable_candidates`).
    stable: Memo,
    /// For each of those moments, the visit that confirms or undoes it, over all events prepared.
    confirmations: Vec<OnceCell<Option<Confirmation>>>,
    /// The stretches of direct safety from each T0 asked about, over all events prepared.
    runs: RefCell<Vec<(Instant, Rc<[Run]>)>>,
    /// The confirmed drops after each Tds asked about.
    drops: RefCell<Vec<(Instant, Rc<[Drop]>)>>,
}

/// A stretch `[start, end)` of direct safety; `end` is `None` while it holds.
type Run = (Instant, Option<Instant>);

/// The next visit after a moment of stable safety (its first score more than
/// `relapse_visit_days` later): when it came, when it ended, and whether it confirmed stable
/// safety.
#[derive(Debug, Clone, Copy)]
struct Confirmation {
    next: Instant,
    end: Instant,
    confirmed: bool,
}

impl<'a> Prepared<'a> {
    /// `events` in time order (as [`crate::engine::History`] keeps them).
    pub(in crate::engine) fn new(
        household: &'a Household,
        events: &'a [Event],
        defs: &'a Definitions,
    ) -> Self {
        let mut scores = Vec::new();
        let mut signals = Vec::new();
        let mut period_events = Vec::new();
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
                Event::Closure(_) | Event::Reopen(_) => period_events.push(index),
                _ => {}
            }
        }
        let window = days(defs.level_window_days);
        let mut direct = Vec::with_capacity(2 * scores.len());
        for s in &scores {
            direct.push(s.at);
            direct.push(plus(s.at, window));
        }
        direct.extend(signals.iter().filter(|s| s.acute).map(|s| s.at));
        let stable = Memo::new(stable_candidates(defs, &scores, &signals));
        let confirmations = stable.points.iter().map(|_| OnceCell::new()).collect();
        Prepared {
            household,
            events,
            defs,
            scores,
            signals,
            period_events,
            direct: Memo::new(direct),
            stable,
            confirmations,
            runs: RefCell::new(Vec::new()),
            drops: RefCell::new(Vec::new()),
        }
    }

    /// Direct safety at `t` if `t` is one of the moments it can change at. Every event it depends
    /// on lies at or before `t`, so it holds for every evaluation at or after `t`.
    fn direct_at(&self, t: Instant) -> Option<bool> {
        self.direct.get(t, |t| {
            direct_safety(self.defs, &self.scores, &self.signals, t)
        })
    }

    /// Stable safety at `t` if `t` is one of the moments it can start holding (as `direct_at`).
    fn stable_at(&self, t: Instant) -> Option<bool> {
        self.stable.get(t, |t| {
            stable_safety(self.defs, &self.scores, &self.signals, t)
        })
    }

    /// Stable safety at the `i`th moment it can start holding.
    fn stable_nth(&self, i: usize) -> bool {
        self.stable.nth(i, |t| {
            stable_safety(self.defs, &self.scores, &self.signals, t)
        })
    }

    /// The visit after the `i`th moment stable safety can start holding, over all events prepared
    /// (`None` when no score follows it).
    fn confirmation(&self, i: usize) -> Option<Confirmation> {
        *self.confirmations[i].get_or_init(|| {
            let c = self.stable.points[i];
            let visit = days(self.defs.relapse_visit_days);
            let next = self
                .scores
                .get(self.scores.partition_point(|s| s.at <= plus(c, visit)))?;
            Some(Confirmation {
                next: next.at,
                end: plus(next.at, visit),
                confirmed: confirmed_at_next_visit(
                    self.defs,
                    &self.scores,
                    &self.signals,
                    c,
                    next.at,
                ),
            })
        })
    }

    /// The stretches of direct safety from `t0` on, over all events prepared: direct safety
    /// evaluated at `t0` and at each moment after it that it can change at.
    fn runs_from(&self, t0: Instant) -> Rc<[Run]> {
        if let Some((_, r)) = self.runs.borrow().iter().find(|(t, _)| *t == t0) {
            return Rc::clone(r);
        }
        let points = &self.direct.points;
        let from = points.partition_point(|p| *p <= t0);
        let first = self
            .direct_at(t0)
            .unwrap_or_else(|| direct_safety(self.defs, &self.scores, &self.signals, t0));
        let mut runs: Vec<Run> = Vec::new();
        let mut step = |p: Instant, holds: bool| match runs.last_mut() {
            Some((_, end @ None)) if !holds => *end = Some(p),
            Some((_, None)) => {}
            _ if holds => runs.push((p, None)),
            _ => {}
        };
        step(t0, first);
        for (i, p) in points.iter().enumerate().skip(from) {
            let holds = self.direct.nth(i, |t| {
                direct_safety(self.defs, &self.scores, &self.signals, t)
            });
            step(*p, holds);
        }
        let runs: Rc<[Run]> = runs.into();
        self.runs.borrow_mut().push((t0, Rc::clone(&runs)));
        runs
    }

    /// The confirmed drops after `tds` over the whole history. A drop at a moment depends only on
    /// the events at or before it, so an evaluation at `now` takes those at or before `now`.
    fn drops_after(&self, tds: Instant) -> Rc<[Drop]> {
        if let Some((_, d)) = self.drops.borrow().iter().find(|(t, _)| *t == tds) {
            return Rc::clone(d);
        }
        let d: Rc<[Drop]> = self.confirmed_drops(tds).into();
        self.drops.borrow_mut().push((tds, Rc::clone(&d)));
        d
    }

    /// The confirmed drops after `tds`, in time order (DESIGN.md section 3, terugval): two
    /// perspectives below the direct-safety line at one visit, one perspective below it on two
    /// consecutive scores close together, a score at or below the severe line, or an acute
    /// signal. One perspective's single low score is not one: it is within the noise of the scale.
    fn confirmed_drops(&self, tds: Instant) -> Vec<Drop> {
        let d = self.defs;
        let low = |s: &ScoreRef| s.at > tds && s.value < d.direct_safety_min;
        let visit = days(d.relapse_visit_days);
        let repeat = days(d.relapse_repeat_days);
        let apart = |a: &ScoreRef, b: &ScoreRef| b.at.timestamp().duration_since(a.at.timestamp());
        let mut drops: Vec<Drop> = Vec::new();
        let first = self.scores.partition_point(|s| s.at <= tds);
        for (i, s) in self
            .scores
            .iter()
            .enumerate()
            .skip(first)
            .filter(|(_, s)| low(s))
        {
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
                && !self
                    .direct_at(s.at)
                    .expect("a score's moment is a moment direct safety can change")
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
}

/// What the detectors share: a history seen at one moment, `now`.
pub(in crate::engine) struct Facts<'a> {
    prepared: &'a Prepared<'a>,
    pub(super) household: &'a Household,
    /// The events at or before `now`.
    pub(super) events: &'a [Event],
    pub(super) defs: &'a Definitions,
    pub(super) now: Instant,
    pub(super) scores: &'a [ScoreRef],
    pub(super) signals: &'a [SignalRef],
    pub(super) periods: Vec<Period>,
    /// Intervals `[start, end)` in the current trajectory when direct safety held; `end` is
    /// `None` while it holds at `now`.
    pub(super) direct: Vec<(Instant, Option<Instant>)>,
    relapse: OnceCell<Option<Relapse>>,
}

impl<'a> Facts<'a> {
    /// The prepared history seen at `now`: its events at or before `now`.
    pub(in crate::engine) fn at(prepared: &'a Prepared<'a>, now: Instant) -> Self {
        let seen = prepared.events.partition_point(|e| e.at() <= now);
        let scores = &prepared.scores[..prepared.scores.partition_point(|s| s.index < seen)];
        let signals = &prepared.signals[..prepared.signals.partition_point(|s| s.index < seen)];
        let mut periods = vec![Period {
            start: prepared.household.opened_at.start(),
            end: None,
        }];
        for &index in prepared.period_events.iter().take_while(|i| **i < seen) {
            match &prepared.events[index] {
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
            prepared,
            household: prepared.household,
            events: &prepared.events[..seen],
            defs: prepared.defs,
            now,
            scores,
            signals,
            periods,
            direct: Vec::new(),
            relapse: OnceCell::new(),
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

    /// Direct safety at `t` (at or before `now`): see [`direct_safety`].
    pub(super) fn direct_safety(&self, t: Instant) -> bool {
        let known = if t <= self.now {
            self.prepared.direct_at(t)
        } else {
            None
        };
        known.unwrap_or_else(|| direct_safety(self.defs, self.scores, self.signals, t))
    }

    /// Direct safety is a step function that changes only at a score, when a score leaves the
    /// window, and at an acute signal: evaluate it at those points of the current trajectory.
    /// A stretch that ended within one visit (`relapse_visit_days`) is left out: the scores of a
    /// visit arrive one by one, and a first optimistic score followed by the others' low ones is
    /// not a moment of direct safety (it made a "relapse" of the rest of the same visit).
    fn direct_intervals(&self) -> Vec<(Instant, Option<Instant>)> {
        let t0 = self.t0();
        if t0 > self.now {
            return Vec::new();
        }
        // The walk over the moments up to `now` is the start of the walk over all moments
        // prepared (a score's window ends after the score, so one that ends by `now` belongs to a
        // score seen): its stretches are those begun by `now`, the last one still open if it ends
        // later.
        let runs = self.prepared.runs_from(t0);
        let begun = runs.partition_point(|(start, _)| *start <= self.now);
        let mut intervals = runs[..begun].to_vec();
        if let Some((_, end)) = intervals.last_mut()
            && end.is_some_and(|e| e > self.now)
        {
            *end = None;
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

    /// Stable safety at `t` (at or before `now`): see [`stable_safety`].
    pub(super) fn stable_safety(&self, t: Instant) -> bool {
        let known = if t <= self.now {
            self.prepared.stable_at(t)
        } else {
            None
        };
        known.unwrap_or_else(|| stable_safety(self.defs, self.scores, self.signals, t))
    }

    /// The moments in `[from, to]` (`to` at or before `now`) stable safety can start holding, in
    /// time order: the prepared ones, since each lies after the score or signal it comes from.
    fn stable_candidates(&self, from: Instant, to: Instant) -> std::ops::Range<usize> {
        debug_assert!(to <= self.now, "asked about stable safety after now");
        let all = &self.prepared.stable.points;
        let lo = all.partition_point(|c| *c < from);
        let hi = all.partition_point(|c| *c <= to).max(lo);
        lo..hi
    }

    /// The moments after `now` stable safety can start holding, from the events seen so far: when
    /// a score or a disqualifying signal leaves the window (the scheduler's due times).
    pub(super) fn stable_candidates_after_now(&self) -> Vec<Instant> {
        let w = days(7 * self.defs.stable_weeks);
        let now = self.now;
        let mut c: Vec<Instant> = Vec::new();
        for s in self.scores {
            c.extend([s.at, plus(s.at, w)].into_iter().filter(|t| *t > now));
        }
        c.extend(
            self.signals
                .iter()
                .filter(|s| s.melding || s.acute)
                .map(|s| plus(s.at, w))
                .filter(|t| *t > now),
        );
        c.sort();
        c.dedup();
        c
    }

    /// The first time in `[from, to]` stable safety held.
    pub(super) fn stable_reached(&self, from: Instant, to: Instant) -> Option<Instant> {
        self.stable_candidates(from, to)
            .find(|i| self.prepared.stable_nth(*i))
            .map(|i| self.prepared.stable.points[i])
    }

    /// Whether stable safety, holding at the `i`th moment it can start holding, was confirmed at
    /// the next visit, at or before `to` (see [`confirmed_at_next_visit`]).
    fn confirmed_at_next_visit(&self, i: usize, to: Instant) -> bool {
        match self.prepared.confirmation(i) {
            None => false,
            Some(x) if x.next > to => false,
            // The whole visit and everything before it is seen.
            Some(x) if x.end <= self.now => x.confirmed,
            // The visit goes on after `now`: judged on its scores seen so far.
            Some(x) => confirmed_at_next_visit(
                self.defs,
                self.scores,
                self.signals,
                self.prepared.stable.points[i],
                x.next,
            ),
        }
    }

    /// The moments in `[from, to]`, in time order, at which stable safety held and was confirmed
    /// at the next visit.
    fn stable_confirmations(
        &self,
        from: Instant,
        to: Instant,
    ) -> impl DoubleEndedIterator<Item = Instant> + '_ {
        self.stable_candidates(from, to)
            .filter(move |i| self.prepared.stable_nth(*i) && self.confirmed_at_next_visit(*i, to))
            .map(|i| self.prepared.stable.points[i])
    }

    /// Stable safety reached in `[from, to]`: it held and was confirmed at the next visit.
    pub(super) fn stable_confirmed(&self, from: Instant, to: Instant) -> bool {
        self.stable_confirmations(from, to).next().is_some()
    }

    /// Stable safety kept at `t`: it holds at `t`, or it was reached in the current trajectory
    /// and nothing undid it since: no confirmed drop, no melding. A trajectory is often closed
    /// when visits have thinned out, so the twelve weeks before the closure alone are not the
    /// measure of what was achieved.
    pub(super) fn stable_kept(&self, t: Instant) -> bool {
        if self.stable_safety(t) {
            return true;
        }
        let Some(since) = self.stable_confirmations(self.t0(), t).next_back() else {
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

    /// The confirmed drops after `tds` up to `now`, in time order (see
    /// [`Prepared::confirmed_drops`]).
    pub(super) fn confirmed_drops(&self, tds: Instant) -> Drops {
        let all = self.prepared.drops_after(tds);
        let seen = all.partition_point(|d| d.at <= self.now);
        Drops { all, seen }
    }

    /// The current relapse: a confirmed drop after Tds with no direct safety since.
    pub(super) fn relapse(&self) -> Option<&Relapse> {
        self.relapse.get_or_init(|| self.find_relapse()).as_ref()
    }

    fn find_relapse(&self) -> Option<Relapse> {
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

/// The scores in `(from, to]` of scores in time order.
fn scores_in(scores: &[ScoreRef], from: Instant, to: Instant) -> &[ScoreRef] {
    let start = scores.partition_point(|s| s.at <= from);
    let end = scores.partition_point(|s| s.at <= to);
    &scores[start..end.max(start)]
}

/// The signals in `(from, to]` of signals in time order.
fn signals_in(signals: &[SignalRef], from: Instant, to: Instant) -> &[SignalRef] {
    let start = signals.partition_point(|s| s.at <= from);
    let end = signals.partition_point(|s| s.at <= to);
    &signals[start..end.max(start)]
}

/// The safety level at `t` from each perspective's latest score in the window before `t`: the
/// typical score (the mean of those latest scores), the lowest of them, and the time of the
/// latest.
fn safety_level(defs: &Definitions, scores: &[ScoreRef], t: Instant) -> Option<(f64, u8, Instant)> {
    let mut latest: [Option<ScoreRef>; 5] = [None; 5];
    for s in scores_in(scores, minus(t, days(defs.level_window_days)), t) {
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

/// Direct safety at `t`: the typical latest score at least 6, no perspective's latest score below
/// the floor, and no acute signal after the latest score. It depends only on the events at or
/// before `t`.
fn direct_safety(
    defs: &Definitions,
    scores: &[ScoreRef],
    signals: &[SignalRef],
    t: Instant,
) -> bool {
    match safety_level(defs, scores, t) {
        Some((typical, lowest, last))
            if typical >= f64::from(defs.direct_safety_min)
                && lowest >= defs.direct_safety_floor =>
        {
            !signals_in(signals, last, t).iter().any(|s| s.acute)
        }
        _ => false,
    }
}

/// Stable safety at `t` (DESIGN.md section 3): over the window before `t` enough scores, most of
/// them high and none low, no long gap between consecutive scores, and no melding or acute
/// signal. Single scores are noisy (a 0-10 item has a measurement error of about one point), so an
/// occasional 7 or one missed visit does not undo it. It depends only on the events at or before
/// `t`.
fn stable_safety(
    defs: &Definitions,
    scores: &[ScoreRef],
    signals: &[SignalRef],
    t: Instant,
) -> bool {
    let d = defs;
    let from = minus(t, days(7 * d.stable_weeks));
    let in_window = scores_in(scores, from, t);
    if in_window.len() < d.stable_min_scores {
        return false;
    }
    // Each visit's mean score, not each score: five perspectives scoring at one visit are one
    // measurement of the household, and a single 6 among them is noise.
    let visits = visit_means(defs, in_window);
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
        && !signals_in(signals, from, t)
            .iter()
            .any(|s| s.melding || s.acute)
}

/// The mean score of each visit (scores at most `relapse_visit_days` after the visit's first).
fn visit_means(defs: &Definitions, scores: &[ScoreRef]) -> Vec<f64> {
    let visit = days(defs.relapse_visit_days);
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
/// disqualifying signal leaves the window; in time order.
fn stable_candidates(
    defs: &Definitions,
    scores: &[ScoreRef],
    signals: &[SignalRef],
) -> Vec<Instant> {
    let w = days(7 * defs.stable_weeks);
    let mut c: Vec<Instant> = Vec::new();
    for s in scores {
        c.push(s.at);
        c.push(plus(s.at, w));
    }
    c.extend(
        signals
            .iter()
            .filter(|s| s.melding || s.acute)
            .map(|s| plus(s.at, w)),
    );
    c.sort();
    c.dedup();
    c
}

/// Whether stable safety, holding at `c`, was confirmed at the next visit, the first score more
/// than `relapse_visit_days` later, at `next`: that visit's mean score is still at least
/// `stable_score_min`, and no melding or acute signal came in between. Twelve lucky weeks are not
/// enough; but a long gap before the next visit does not undo what that visit confirms.
fn confirmed_at_next_visit(
    defs: &Definitions,
    scores: &[ScoreRef],
    signals: &[SignalRef],
    c: Instant,
    next: Instant,
) -> bool {
    let visit = days(defs.relapse_visit_days);
    let first = scores.partition_point(|s| s.at < next);
    let last = scores
        .partition_point(|s| s.at <= plus(next, visit))
        .max(first);
    let at_visit = &scores[first..last];
    let sum: u32 = at_visit.iter().map(|s| u32::from(s.value)).sum();
    let mean = f64::from(sum) / at_visit.len() as f64;
    mean >= f64::from(defs.stable_score_min)
        && !signals_in(signals, c, next)
            .iter()
            .any(|s| s.melding || s.acute)
}
