//! The alert state machine as a pure function: from the stored alerts of a household, what the
//! engine says holds now, and the rules, to the changes to make. No database, no clock; the caller
//! applies the plan in its transaction.

use jiff::SignedDuration;

use crate::app::notify::Why;
use crate::domain::{Instant, Severity};
use crate::engine::{Effective, Evaluation};
use crate::store::{AlertRow, AlertState, TransitionWhy};

/// What an alert says: its severity, advice, and the events that made it fire.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub severity: Severity,
    pub advice: String,
    pub since: Instant,
    /// Stored ids of the events that made it fire.
    pub evidence: Vec<i64>,
    pub suppressed_until: Option<Instant>,
}

/// Which alert a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A new alert, firing. A one-shot that exists already is left as it is (and the step
    /// ends there).
    New {
        one_shot: bool,
    },
    Existing(i64),
}

/// An alert's new state and, when it changed, what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub state: AlertState,
    pub content: Option<Content>,
    pub fired_at: Option<Instant>,
    pub resolved_at: Option<Instant>,
    pub silenced_until: Option<Instant>,
}

/// Who is told, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub why: Why,
    pub severity: Severity,
    pub state: AlertState,
    /// The escalation level the alert reaches with this notice (recorded with when it was sent);
    /// `None` when the notice does not count as one (a resolution).
    pub level: Option<i64>,
    /// The escalation role whose webhooks are told as well.
    pub escalate_to: Option<String>,
}

/// Everything that happens to one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub target: Target,
    pub rule: String,
    /// For a new alert its content (state `firing`); for an existing one its new state.
    pub write: Option<Write>,
    pub transition: Option<(Option<AlertState>, AlertState, TransitionWhy)>,
    pub notice: Option<Notice>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// When the household must be evaluated again without new events.
    pub next_due: Option<Instant>,
}

/// The changes that bring the stored alerts in line with `eval` at `now`: new conditions fire,
/// conditions that no longer hold resolve, an ended silence fires again (and is told at once), new
/// one-shots are recorded, an alert nobody acknowledged is repeated one level further up the
/// region's escalation ladder (stagnation alerts not while the region is holding on), and the
/// household's next due time is set. `event_ids` are the stored ids of the evaluated history's
/// events, by index.
pub fn plan(
    existing: &[AlertRow],
    eval: &Evaluation,
    rules: Effective<'_>,
    event_ids: &[i64],
    now: Instant,
) -> Plan {
    let rule = |id: &str| rules.rules.iter().find(|r| r.id == id);
    let advice = |id: &str| rule(id).map_or_else(String::new, |r| r.advice.clone());
    // A rule may set its own repeat interval; otherwise the region's.
    let repeat_at = |id: &str, from: Instant| {
        let days = rule(id)
            .and_then(|r| r.repeat_days)
            .unwrap_or(rules.definitions.repeat_days);
        Instant::from_timestamp(from.timestamp() + SignedDuration::from_hours(24 * days))
    };
    let evidence =
        |indexes: &[usize]| -> Vec<i64> { indexes.iter().map(|i| event_ids[*i]).collect() };
    let mut steps = Vec::new();
    let mut due = Vec::from_iter(eval.next_due);
    // A notice that starts the repeat clock: at level 0 for a first one, one level up for a
    // repeat, with the role of that level on the ladder (as far as it reaches).
    let counted = |why: Why, id: &str, severity, level: i64, due: &mut Vec<Instant>| {
        due.push(repeat_at(id, now));
        let escalate_to = usize::try_from(level - 1)
            .ok()
            .and_then(|i| rules.definitions.escalation.get(i))
            .filter(|_| why == Why::Repeat)
            .cloned();
        Notice {
            why,
            severity,
            state: AlertState::Firing,
            level: Some(level),
            escalate_to,
        }
    };

    for c in &eval.conditions {
        let content = Content {
            severity: c.severity,
            advice: advice(&c.rule),
            since: c.since,
            evidence: evidence(&c.evidence),
            suppressed_until: c.suppressed_until,
        };
        let firing = |content: Content, fired_at, silenced_until| Write {
            state: AlertState::Firing,
            content: Some(content),
            fired_at,
            resolved_at: None,
            silenced_until,
        };
        let step = |target, write, transition, notice| Step {
            target,
            rule: c.rule.clone(),
            write,
            transition,
            notice,
        };
        match existing.iter().find(|a| a.rule == c.rule) {
            None => steps.push(step(
                Target::New { one_shot: false },
                Some(firing(content, Some(now), None)),
                Some((None, AlertState::Firing, TransitionWhy::First)),
                Some(counted(Why::First, &c.rule, c.severity, 0, &mut due)),
            )),
            Some(a) if a.state == AlertState::Resolved => steps.push(step(
                Target::Existing(a.id),
                Some(firing(content, Some(now), None)),
                Some((
                    Some(AlertState::Resolved),
                    AlertState::Firing,
                    TransitionWhy::Refired,
                )),
                Some(counted(Why::First, &c.rule, c.severity, 0, &mut due)),
            )),
            // When a silence ends while the alert still fires, the regisseur hears at once.
            Some(a)
                if a.state == AlertState::Silenced
                    && a.silenced_until.is_some_and(|u| u <= now) =>
            {
                steps.push(step(
                    Target::Existing(a.id),
                    Some(firing(content, None, None)),
                    Some((
                        Some(AlertState::Silenced),
                        AlertState::Firing,
                        TransitionWhy::SilenceExpired,
                    )),
                    Some(counted(
                        Why::SilenceExpired,
                        &c.rule,
                        c.severity,
                        0,
                        &mut due,
                    )),
                ));
            }
            Some(a) => {
                due.extend(a.silenced_until.filter(|u| *u > now));
                let changed = a.severity != c.severity || a.evidence != content.evidence;
                let write = changed.then_some(Write {
                    state: a.state,
                    content: Some(content),
                    fired_at: None,
                    resolved_at: None,
                    silenced_until: a.silenced_until,
                });
                let transition = (c.severity > a.severity).then_some((
                    Some(a.state),
                    a.state,
                    TransitionWhy::Severity,
                ));
                let stagnation = rule(&c.rule).is_some_and(|r| r.detector.is_stagnation());
                let mut notice = None;
                if a.state == AlertState::Firing && !(eval.holding_on && stagnation) {
                    let next = repeat_at(&c.rule, a.notified_at.unwrap_or(a.fired_at));
                    if next <= now {
                        let level = a.escalation_level + 1;
                        notice = Some(counted(Why::Repeat, &c.rule, c.severity, level, &mut due));
                    } else {
                        due.push(next);
                    }
                }
                if write.is_some() || transition.is_some() || notice.is_some() {
                    steps.push(step(Target::Existing(a.id), write, transition, notice));
                }
            }
        }
    }
    // A resolved alert is reported even when it was silenced.
    for a in existing.iter().filter(|a| a.state != AlertState::Resolved) {
        if !eval.conditions.iter().any(|c| c.rule == a.rule) {
            steps.push(Step {
                target: Target::Existing(a.id),
                rule: a.rule.clone(),
                write: Some(Write {
                    state: AlertState::Resolved,
                    content: None,
                    fired_at: None,
                    resolved_at: Some(now),
                    silenced_until: None,
                }),
                transition: Some((Some(a.state), AlertState::Resolved, TransitionWhy::Resolved)),
                notice: Some(Notice {
                    why: Why::Resolved,
                    severity: a.severity,
                    state: AlertState::Resolved,
                    level: None,
                    escalate_to: None,
                }),
            });
        }
    }
    for shot in &eval.one_shots {
        let content = Content {
            severity: shot.severity,
            advice: advice(&shot.rule),
            since: shot.at,
            evidence: evidence(&shot.evidence),
            suppressed_until: None,
        };
        steps.push(Step {
            target: Target::New { one_shot: true },
            rule: shot.rule.clone(),
            write: Some(Write {
                state: AlertState::Firing,
                content: Some(content),
                fired_at: Some(now),
                resolved_at: None,
                silenced_until: None,
            }),
            transition: Some((None, AlertState::Firing, TransitionWhy::First)),
            // Told once; a one-shot is never repeated, so no repeat clock starts.
            notice: Some(Notice {
                why: Why::First,
                severity: shot.severity,
                state: AlertState::Firing,
                level: Some(0),
                escalate_to: None,
            }),
        });
    }
    Plan {
        steps,
        next_due: due.into_iter().min(),
    }
}

#[cfg(test)]
mod tests;
