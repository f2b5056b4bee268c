//! The detection engine: a pure function of (household history, rules, time). No I/O, no wall
//! clock. The live service, the scheduler, the rule tests, replay and the benchmarks all call it.

mod detect;
mod rule;
mod stats;

pub use rule::{
    DETECTORS, DaysParams, Definitions, Detector, DirectParams, DivergenceParams,
    HerhaaldGemeldParams, LettingGoParams, NazorgParams, NotifyRole, OverdueParams, Rule, Severity,
    TrendParams, WeeksParams,
};

use std::cell::RefCell;
use std::rc::Rc;

use crate::domain::{EscalationStep, Event, Household, Instant};

/// The rules in force for one household: the national rules, or a region's with its overrides.
#[derive(Debug, Clone, Copy)]
pub struct Effective<'a> {
    pub definitions: &'a Definitions,
    pub rules: &'a [Rule],
}

/// Everything known about one household, its events in time order.
#[derive(Debug, Clone)]
pub struct History {
    pub household: Household,
    pub events: Vec<Event>,
}

impl History {
    /// Sorts the events by time (stable: same-time events keep their order).
    pub fn new(household: Household, mut events: Vec<Event>) -> History {
        events.sort_by_key(Event::at);
        History { household, events }
    }
}

/// A condition that holds: the state of a state alert at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub rule: String,
    pub severity: Severity,
    /// Since when it holds (its natural start, as far as the history tells).
    pub since: Instant,
    /// Indexes into the history's events that made it fire.
    pub evidence: Vec<usize>,
    /// Set when a grace period kept this alert quiet until this moment.
    pub suppressed_until: Option<Instant>,
}

/// A one-shot notification: something happened that someone must hear of.
#[derive(Debug, Clone, PartialEq)]
pub struct OneShot {
    pub rule: String,
    pub severity: Severity,
    pub at: Instant,
    pub evidence: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The state alerts that hold at the evaluation time.
    pub conditions: Vec<Condition>,
    /// The observations that hold (rules with `observation = true`): for the situatieplaat only.
    pub observations: Vec<Condition>,
    /// The one-shot notifications due at or before the evaluation time.
    pub one_shots: Vec<OneShot>,
    /// The next moment the outcome can change without new events (the scheduler's due time).
    pub next_due: Option<Instant>,
    /// *Vasthouden en volhouden*: at escalation step 3 with a proactive scenario agreed, the
    /// region knows; stagnation alerts stay visible but are not sent again.
    pub holding_on: bool,
}

/// Evaluates the household at `now`, seeing only the events at or before `now`.
pub fn evaluate(history: &History, rules: Effective<'_>, now: Instant) -> Evaluation {
    let seen = history.events.partition_point(|e| e.at() <= now);
    Evaluator::new(history, rules, seen).at(now)
}

/// A household's history prepared for evaluation at any moment before its first event not
/// prepared: [`evaluate`] prepares the events it sees and evaluates once; [`simulate`] prepares
/// the events up to its end and evaluates at each event and due time. Both evaluate through
/// [`Evaluator::at`], so replay gives what the live service gives at each of those moments.
struct Evaluator<'a> {
    history: &'a History,
    rules: Effective<'a>,
    prepared: detect::Prepared<'a>,
    /// The state alerts (before inhibition) that held at each moment a one-shot was judged at.
    held: RefCell<Vec<(Instant, Rc<[Condition]>)>>,
}

impl<'a> Evaluator<'a> {
    /// Prepares the first `prepared` events of the history.
    fn new(history: &'a History, rules: Effective<'a>, prepared: usize) -> Self {
        Evaluator {
            history,
            rules,
            prepared: detect::Prepared::new(
                &history.household,
                &history.events[..prepared],
                rules.definitions,
            ),
            held: RefCell::new(Vec::new()),
        }
    }

    /// The evaluation at `now`, which lies before the first event not prepared.
    fn at(&self, now: Instant) -> Evaluation {
        let (history, rules) = (self.history, self.rules);
        let seen = history.events.partition_point(|e| e.at() <= now);
        let facts = detect::Facts::at(&self.prepared, now);
        let mut found = detect::Found::default();
        for rule in rules.rules.iter().filter(|r| r.enabled) {
            detect::run(&facts, rule, &mut found);
        }
        let detect::Found {
            mut conditions,
            mut one_shots,
            mut due,
        } = found;
        // Inhibition (as in Alertmanager): a rule stays quiet while a rule that inhibits it holds.
        let holds = |c: &[Condition], id: &String| c.iter().any(|x| x.rule == *id);
        let inhibited = |c: &[Condition], id: &str| {
            rules
                .rules
                .iter()
                .find(|r| r.id == id)
                .is_some_and(|r| r.inhibited_by.iter().any(|s| holds(c, s)))
        };
        let quiet: Vec<bool> = conditions
            .iter()
            .map(|c| inhibited(&conditions, &c.rule))
            .collect();
        let mut quiet = quiet.into_iter();
        conditions.retain(|_| !quiet.next().unwrap_or(false));
        let observes = |c: &Condition| rules.rules.iter().any(|r| r.id == c.rule && r.observation);
        let (observations, conditions): (Vec<Condition>, Vec<Condition>) =
            conditions.into_iter().partition(observes);
        // A one-shot is judged at its own moment, so that what replay printed never changes later.
        one_shots.retain(|shot| {
            let sources = rules.rules.iter().find(|r| r.id == shot.rule);
            if sources.is_none_or(|r| r.inhibited_by.is_empty()) {
                return true;
            }
            !inhibited(&self.states_at(shot.at)[..], &shot.rule)
        });
        one_shots
            .sort_by(|a: &OneShot, b: &OneShot| a.at.cmp(&b.at).then_with(|| a.rule.cmp(&b.rule)));
        // An event dated after `now` (recorded ahead of its time) counts from its moment on.
        due.extend(history.events.get(seen).map(Event::at));
        let next_due = due.into_iter().filter(|t| *t > now).min();
        Evaluation {
            conditions,
            observations,
            one_shots,
            next_due,
            holding_on: facts.holding_on(),
        }
    }

    /// The state alerts that hold at `t` (before inhibition), for judging a one-shot at its moment
    /// (at or before the evaluation time). Found once per moment: they depend on nothing later.
    fn states_at(&self, t: Instant) -> Rc<[Condition]> {
        if let Some((_, held)) = self.held.borrow().iter().find(|(at, _)| *at == t) {
            return Rc::clone(held);
        }
        let rules = self.rules;
        let facts = detect::Facts::at(&self.prepared, t);
        let mut found = detect::Found::default();
        let sources = rules
            .rules
            .iter()
            .filter(|r| r.enabled && rules.rules.iter().any(|o| o.inhibited_by.contains(&r.id)));
        for rule in sources {
            detect::run(&facts, rule, &mut found);
        }
        let held: Rc<[Condition]> = found.conditions.into();
        self.held.borrow_mut().push((t, Rc::clone(&held)));
        held
    }
}

/// One firing of an alert over a stretch of history, as `zicht replay` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub rule: String,
    pub fired_at: Instant,
    pub resolved_at: Option<Instant>,
    pub severity: Severity,
}

/// Replays a household's history up to `until`: evaluates at every event and every due time, and
/// returns each firing (state alerts with when they resolved, one-shots once), in time order.
pub fn simulate(history: &History, rules: Effective<'_>, until: Instant) -> Vec<Firing> {
    let evaluator = Evaluator::new(
        history,
        rules,
        history.events.partition_point(|e| e.at() <= until),
    );
    let mut firings: Vec<Firing> = Vec::new();
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut one_shots_seen = 0usize;
    let mut times: Vec<Instant> = history
        .events
        .iter()
        .map(Event::at)
        .filter(|t| *t <= until)
        .collect();
    times.dedup();
    let mut next_event = 0usize;
    let mut t = match times.first() {
        Some(t) => *t,
        None => return firings,
    };
    loop {
        let eval = evaluator.at(t);
        for c in &eval.conditions {
            match open.iter().find(|(rule, _)| *rule == c.rule) {
                Some((_, i)) => {
                    let firing = &mut firings[*i];
                    firing.severity = firing.severity.max(c.severity);
                }
                None => {
                    open.push((c.rule.clone(), firings.len()));
                    firings.push(Firing {
                        rule: c.rule.clone(),
                        fired_at: t,
                        resolved_at: None,
                        severity: c.severity,
                    });
                }
            }
        }
        open.retain(|(rule, i)| {
            let holds = eval.conditions.iter().any(|c| c.rule == *rule);
            if !holds {
                firings[*i].resolved_at = Some(t);
            }
            holds
        });
        for shot in eval.one_shots.iter().skip(one_shots_seen) {
            firings.push(Firing {
                rule: shot.rule.clone(),
                fired_at: shot.at,
                resolved_at: None,
                severity: shot.severity,
            });
        }
        one_shots_seen = eval.one_shots.len();
        while next_event < times.len() && times[next_event] <= t {
            next_event += 1;
        }
        let next = match (times.get(next_event).copied(), eval.next_due) {
            (Some(e), Some(d)) => e.min(d),
            (Some(e), None) => e,
            (None, Some(d)) => d,
            (None, None) => break,
        };
        if next > until {
            break;
        }
        t = next;
    }
    firings.sort_by(|a, b| {
        a.fired_at
            .cmp(&b.fired_at)
            .then_with(|| a.rule.cmp(&b.rule))
    });
    firings
}

/// [`simulate`] for many households, on the machine's cores: households are independent, so each
/// core takes the next household not yet taken. The firings of each household, in the order of
/// `histories`, are what `simulate` gives for it.
pub fn simulate_all<'r>(
    histories: &[History],
    rules: impl Fn(&History) -> Effective<'r> + Sync,
    until: Instant,
) -> Vec<Vec<Firing>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(histories.len());
    if workers <= 1 {
        return histories
            .iter()
            .map(|h| simulate(h, rules(h), until))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<Firing>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(h) = histories.get(i) else {
                            break mine;
                        };
                        mine.push((i, simulate(h, rules(h), until)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, f)| f).collect()
}

/// The phase a household is in (visie *Gefaseerd samen werken aan veiligheid*), as far as the
/// history tells: herstel (phase 4) is a professional judgement zicht does not derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    AcuteOnveiligheid,
    DirecteVeiligheid,
    StabieleVeiligheid,
    Afgesloten,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::AcuteOnveiligheid,
        Phase::DirecteVeiligheid,
        Phase::StabieleVeiligheid,
        Phase::Afgesloten,
    ];

    /// The Dutch name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Phase::AcuteOnveiligheid => "1 · acute onveiligheid",
            Phase::DirecteVeiligheid => "2 · directe veiligheid",
            Phase::StabieleVeiligheid => "3 · stabiele veiligheid",
            Phase::Afgesloten => "afgesloten",
        }
    }
}

/// The household's phase at `now`, from its scores and signals only: closed; phase 3 when stable
/// safety holds; phase 2 while direct safety holds; otherwise phase 1. Never from an escalation
/// step.
pub fn phase(history: &History, definitions: &Definitions, now: Instant) -> Phase {
    let seen = history.events.partition_point(|e| e.at() <= now);
    let prepared = detect::Prepared::new(&history.household, &history.events[..seen], definitions);
    detect::Facts::at(&prepared, now).phase()
}

/// The household's step on the escalation ladder at `now`: the latest the regisseur recorded, or
/// step 1 when none is. A different axis from the phase: neither is derived from the other.
pub fn escalation_step(history: &History, now: Instant) -> EscalationStep {
    history
        .events
        .iter()
        .take_while(|e| e.at() <= now)
        .filter_map(|e| match e {
            Event::Escalation(x) => Some(x.step),
            _ => None,
        })
        .last()
        .unwrap_or(EscalationStep::FIRST)
}
