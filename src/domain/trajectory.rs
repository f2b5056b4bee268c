//! The trajectory a household is in, derived from its events, and when an event may be dated.
//!
//! T0 is when the current trajectory opened: the household's `opened_at`, or the latest reopen
//! after a closure (DESIGN.md section 3). The work of a trajectory — scores, flags, consultations,
//! interventions, steps of the ladder, scenarios, withdrawals, the closure — happens inside it, so
//! it is never dated before T0; a reopen is never dated before the closure it undoes. Signals are
//! history, not work: a melding before T0 is often why the trajectory opened, and herhaald-gemeld
//! counts meldingen over any 365 days, so a signal may be dated before T0. Nothing is dated in the
//! future beyond [`CLOCK_SKEW`].

use jiff::SignedDuration;

use super::{Event, Household, Instant};

/// How far ahead of the service's clock an event may be dated: the clocks of phones and of the
/// systems that call the API drift a little.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// The current trajectory of a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trajectory {
    /// T0: when it opened (or reopened).
    pub opened: Instant,
    /// When it closed, if it is closed.
    pub closed: Option<Instant>,
}

impl Trajectory {
    /// The trajectory a household is in after `events`, taken in time order (as a history keeps
    /// them). A reopen counts only after a closure, as in the engine.
    pub fn current(household: &Household, events: &[Event]) -> Trajectory {
        events
            .iter()
            .fold(Trajectory::opening(household), Trajectory::after)
    }

    /// The trajectory a household opens with.
    pub fn opening(household: &Household) -> Trajectory {
        Trajectory {
            opened: household.opened_at.start(),
            closed: None,
        }
    }

    /// The trajectory after the next event in time order.
    pub fn after(self, event: &Event) -> Trajectory {
        match event {
            Event::Closure(c) if self.closed.is_none() => Trajectory {
                closed: Some(c.at),
                ..self
            },
            Event::Reopen(r) if self.closed.is_some() => Trajectory {
                opened: r.at,
                closed: None,
            },
            _ => self,
        }
    }
}

/// Why an event may not carry the moment it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dating {
    /// Later than now (beyond [`CLOCK_SKEW`]).
    InFuture,
    /// Work of the trajectory dated before it opened (T0).
    BeforeOpened(Instant),
    /// A reopen dated before the closure it undoes.
    BeforeClosed(Instant),
}

/// The latest moment an event may carry at `now`.
pub fn latest_allowed(now: Instant) -> Instant {
    Instant::from_timestamp(now.timestamp() + CLOCK_SKEW)
}

/// Whether `event` may be recorded at `now` on a household in `trajectory`.
pub fn check_dating(event: &Event, trajectory: Trajectory, now: Instant) -> Result<(), Dating> {
    let at = event.at();
    if at > latest_allowed(now) {
        return Err(Dating::InFuture);
    }
    match event {
        // A household's opening date is its own T0; signals are history (see the module).
        Event::Household(_) | Event::Signal(_) => Ok(()),
        Event::Reopen(_) => match trajectory.closed {
            Some(closed) if at < closed => Err(Dating::BeforeClosed(closed)),
            _ => Ok(()),
        },
        _ if at < trajectory.opened => Err(Dating::BeforeOpened(trajectory.opened)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Closure, Milestone, Perspective, SafetyScore, Score, Signal};

    fn household() -> Household {
        serde_json::from_str(
            r#"{"id":"H-1","region":"brabant-zuidoost","gemeente":"Eindhoven","minor_children":false,"opened_at":"2025-01-06"}"#,
        )
        .unwrap()
    }

    fn at(s: &str) -> Instant {
        s.parse().unwrap()
    }

    fn score(when: &str) -> Event {
        Event::Score(Score {
            household: "H-1".parse().unwrap(),
            at: at(when),
            perspective: Perspective::Slachtoffer,
            value: SafetyScore::new(5).unwrap(),
            reason: None,
        })
    }

    fn signal(when: &str) -> Event {
        Event::Signal(Signal {
            household: "H-1".parse().unwrap(),
            at: at(when),
            kind: "melding".parse().unwrap(),
            source: "politie".parse().unwrap(),
            acute: false,
        })
    }

    fn closure(when: &str) -> Event {
        Event::Closure(Closure {
            household: "H-1".parse().unwrap(),
            at: at(when),
            reason: None,
        })
    }

    fn reopen(when: &str) -> Event {
        Event::Reopen(Milestone {
            household: "H-1".parse().unwrap(),
            at: at(when),
        })
    }

    #[test]
    fn t0_is_the_opening_date_or_the_latest_reopen_after_a_closure() {
        let h = household();
        let opened = at("2025-01-06T00:00:00+01:00");
        assert_eq!(Trajectory::current(&h, &[]).opened, opened);
        // A reopen of an open trajectory changes nothing (the store refuses it anyway).
        let t = Trajectory::current(&h, &[reopen("2025-02-01T09:00:00+01:00")]);
        assert_eq!(t.opened, opened);
        let events = [
            closure("2025-03-01T09:00:00+01:00"),
            reopen("2025-06-01T09:00:00+02:00"),
        ];
        let t = Trajectory::current(&h, &events[..1]);
        assert_eq!(t.closed, Some(at("2025-03-01T09:00:00+01:00")));
        let t = Trajectory::current(&h, &events);
        assert_eq!(
            t,
            Trajectory {
                opened: at("2025-06-01T09:00:00+02:00"),
                closed: None
            }
        );
    }

    #[test]
    fn work_is_dated_inside_the_trajectory_and_signals_may_precede_it() {
        let t = Trajectory::current(&household(), &[]);
        let now = at("2025-03-01T12:00:00+01:00");
        assert_eq!(
            check_dating(&score("2025-01-06T10:00:00+01:00"), t, now),
            Ok(())
        );
        assert_eq!(
            check_dating(&score("2019-05-01T10:00:00+02:00"), t, now),
            Err(Dating::BeforeOpened(t.opened))
        );
        assert_eq!(
            check_dating(&signal("2024-11-01T22:00:00+01:00"), t, now),
            Ok(())
        );
        assert_eq!(
            check_dating(&closure("2025-01-05T10:00:00+01:00"), t, now),
            Err(Dating::BeforeOpened(t.opened))
        );
    }

    #[test]
    fn nothing_is_dated_in_the_future_beyond_the_clock_skew() {
        let t = Trajectory::current(&household(), &[]);
        let now = at("2025-03-01T12:00:00+01:00");
        assert_eq!(
            check_dating(&score("2025-03-01T12:05:00+01:00"), t, now),
            Ok(())
        );
        assert_eq!(
            check_dating(&score("2025-03-01T12:05:01+01:00"), t, now),
            Err(Dating::InFuture)
        );
        assert_eq!(
            check_dating(&signal("2026-03-01T12:00:00+01:00"), t, now),
            Err(Dating::InFuture)
        );
    }

    #[test]
    fn a_reopen_follows_its_closure() {
        let closed = at("2025-03-01T09:00:00+01:00");
        let t = Trajectory::current(&household(), &[closure("2025-03-01T09:00:00+01:00")]);
        let now = at("2025-06-01T12:00:00+02:00");
        assert_eq!(
            check_dating(&reopen("2025-02-01T09:00:00+01:00"), t, now),
            Err(Dating::BeforeClosed(closed))
        );
        assert_eq!(
            check_dating(&reopen("2025-03-01T09:00:00+01:00"), t, now),
            Ok(())
        );
    }
}
