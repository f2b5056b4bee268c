//! The alert state machine on its own: no database, no clock.

use super::*;
use crate::domain::Region;
use crate::engine::{Condition, OneShot};
use crate::rules::RuleSet;

fn rules() -> RuleSet {
    // A directory that does not exist: the built-in national rules.
    crate::rules::load(std::path::Path::new("/nonexistent/zicht-rules"))
        .expect("the built-in rules are valid")
        .0
}

fn day(n: i64) -> Instant {
    let start: Instant = "2025-03-03T09:00:00+01:00".parse().expect("a time");
    Instant::from_timestamp(start.timestamp() + SignedDuration::from_hours(24 * n))
}

fn condition(rule: &str, severity: Severity) -> Condition {
    Condition {
        rule: rule.into(),
        severity,
        since: day(0),
        evidence: vec![0],
        suppressed_until: None,
    }
}

fn eval(conditions: Vec<Condition>) -> Evaluation {
    Evaluation {
        conditions,
        observations: Vec::new(),
        one_shots: Vec::new(),
        next_due: None,
        holding_on: false,
    }
}

fn alert(id: i64, rule: &str, state: AlertState, severity: Severity) -> AlertRow {
    AlertRow {
        id,
        household: "H-0001".parse().expect("an id"),
        rule: rule.into(),
        one_shot: false,
        state,
        severity,
        advice: String::new(),
        since: day(0),
        fired_at: day(0),
        resolved_at: None,
        evidence: vec![100],
        suppressed_until: None,
        silenced_until: None,
        notified_at: Some(day(0)),
        escalation_level: 0,
    }
}

const IDS: &[i64] = &[100, 101, 102];

fn plan_at(existing: &[AlertRow], eval: &Evaluation, holding_on: bool, now: Instant) -> Plan {
    let rules = rules();
    let eval = Evaluation {
        holding_on,
        ..eval.clone()
    };
    plan(existing, &eval, rules.for_region(Region::Utrecht), IDS, now)
}

#[test]
fn a_new_condition_fires_tells_and_starts_the_repeat_clock() {
    let e = eval(vec![condition("terugval", Severity::Critical)]);
    let p = plan_at(&[], &e, false, day(1));
    assert_eq!(p.steps.len(), 1);
    let step = &p.steps[0];
    assert_eq!(step.target, Target::New { one_shot: false });
    assert_eq!(
        step.transition,
        Some((None, AlertState::Firing, TransitionWhy::First))
    );
    let content = step
        .write
        .as_ref()
        .and_then(|w| w.content.as_ref())
        .expect("content");
    assert_eq!(content.evidence, vec![100], "evidence as stored event ids");
    assert!(!content.advice.is_empty(), "the rule's advice");
    let notice = step.notice.as_ref().expect("told");
    assert_eq!((notice.why, notice.level), (Why::First, Some(0)));
    assert_eq!(p.next_due, Some(day(8)), "repeated after 7 days");
}

#[test]
fn an_unchanged_alert_waits_for_its_repeat() {
    let e = eval(vec![condition("terugval", Severity::Critical)]);
    let existing = [alert(7, "terugval", AlertState::Firing, Severity::Critical)];
    let p = plan_at(&existing, &e, false, day(3));
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert_eq!(p.next_due, Some(day(7)));
}

#[test]
fn an_unacknowledged_alert_is_repeated_one_level_up_the_ladder_each_time() {
    let e = eval(vec![condition("terugval", Severity::Critical)]);
    let mut a = alert(7, "terugval", AlertState::Firing, Severity::Critical);
    let mut seen = Vec::new();
    for level in 0..3 {
        a.escalation_level = level;
        let p = plan_at(std::slice::from_ref(&a), &e, false, day(7));
        let notice = p.steps[0].notice.clone().expect("repeated");
        assert_eq!(notice.why, Why::Repeat);
        assert_eq!(notice.level, Some(level + 1));
        seen.push(notice.escalate_to);
    }
    assert_eq!(
        seen,
        [
            Some("teamcoordinator".to_owned()),
            Some("procesregie_zvh".to_owned()),
            None
        ],
        "the national ladder, as far as it reaches"
    );
}

#[test]
fn an_acknowledged_alert_is_not_repeated() {
    let e = eval(vec![condition("terugval", Severity::Critical)]);
    let existing = [alert(
        7,
        "terugval",
        AlertState::Acknowledged,
        Severity::Critical,
    )];
    let p = plan_at(&existing, &e, false, day(30));
    assert!(p.steps.is_empty());
}

#[test]
fn a_silence_that_ends_while_the_alert_holds_is_told_at_once() {
    let e = eval(vec![condition("terugval", Severity::Critical)]);
    let mut a = alert(7, "terugval", AlertState::Silenced, Severity::Critical);
    a.silenced_until = Some(day(5));
    let before = plan_at(std::slice::from_ref(&a), &e, false, day(4));
    assert!(before.steps.is_empty());
    assert_eq!(before.next_due, Some(day(5)), "due when the silence ends");
    let after = plan_at(std::slice::from_ref(&a), &e, false, day(5));
    let step = &after.steps[0];
    assert_eq!(
        step.transition,
        Some((
            Some(AlertState::Silenced),
            AlertState::Firing,
            TransitionWhy::SilenceExpired
        ))
    );
    assert_eq!(
        step.notice.as_ref().map(|n| n.why),
        Some(Why::SilenceExpired)
    );
}

#[test]
fn a_condition_that_no_longer_holds_resolves_and_is_reported_even_when_silenced() {
    let mut a = alert(7, "terugval", AlertState::Silenced, Severity::Critical);
    a.silenced_until = Some(day(20));
    let p = plan_at(&[a], &eval(Vec::new()), false, day(2));
    let step = &p.steps[0];
    let write = step.write.as_ref().expect("written");
    assert_eq!(write.state, AlertState::Resolved);
    assert_eq!(write.resolved_at, Some(day(2)));
    assert_eq!(write.silenced_until, None);
    let notice = step.notice.as_ref().expect("reported");
    assert_eq!((notice.why, notice.level), (Why::Resolved, None));
}

#[test]
fn a_resolved_alert_that_holds_again_refires() {
    let e = eval(vec![condition("terugval", Severity::Critical)]);
    let existing = [alert(
        7,
        "terugval",
        AlertState::Resolved,
        Severity::Critical,
    )];
    let p = plan_at(&existing, &e, false, day(9));
    let step = &p.steps[0];
    assert_eq!(step.target, Target::Existing(7));
    assert_eq!(
        step.transition,
        Some((
            Some(AlertState::Resolved),
            AlertState::Firing,
            TransitionWhy::Refired
        ))
    );
    assert_eq!(step.write.as_ref().and_then(|w| w.fired_at), Some(day(9)));
}

#[test]
fn a_rise_in_severity_is_a_transition_and_new_evidence_is_written() {
    let mut c = condition("herhaald-gemeld", Severity::Critical);
    c.evidence = vec![0, 1];
    let existing = [alert(
        7,
        "herhaald-gemeld",
        AlertState::Firing,
        Severity::Warning,
    )];
    let p = plan_at(&existing, &eval(vec![c]), false, day(2));
    let step = &p.steps[0];
    assert_eq!(
        step.transition,
        Some((
            Some(AlertState::Firing),
            AlertState::Firing,
            TransitionWhy::Severity
        ))
    );
    let content = step
        .write
        .as_ref()
        .and_then(|w| w.content.as_ref())
        .expect("content");
    assert_eq!(content.evidence, vec![100, 101]);
    assert!(step.notice.is_none(), "not yet due for a repeat");
}

#[test]
fn holding_on_keeps_stagnation_alerts_visible_but_quiet() {
    let e = eval(vec![
        condition("geen-stabiele-veiligheid", Severity::Warning),
        condition("terugval", Severity::Critical),
    ]);
    let existing = [
        alert(
            7,
            "geen-stabiele-veiligheid",
            AlertState::Firing,
            Severity::Warning,
        ),
        alert(8, "terugval", AlertState::Firing, Severity::Critical),
    ];
    let p = plan_at(&existing, &e, true, day(8));
    let repeated: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.notice.is_some())
        .map(|s| s.rule.as_str())
        .collect();
    assert_eq!(repeated, ["terugval"]);
}

#[test]
fn a_one_shot_is_told_once_and_starts_no_repeat_clock() {
    let mut e = eval(Vec::new());
    e.one_shots.push(OneShot {
        rule: "hermelding".into(),
        severity: Severity::Warning,
        at: day(1),
        evidence: vec![2],
    });
    let p = plan_at(&[], &e, false, day(1));
    let step = &p.steps[0];
    assert_eq!(step.target, Target::New { one_shot: true });
    assert_eq!(step.notice.as_ref().and_then(|n| n.level), Some(0));
    assert_eq!(p.next_due, None);
}
