//! The engine applied to stored households: after each event, and when a household is due, its
//! alert state is reconciled with what the engine says holds, inside the caller's transaction.
//! The scheduler wakes for the earliest due household; nothing scans every household on a timer.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::Event;
use crate::domain::{HouseholdId, Instant};
use crate::engine::{Detector, History, Severity, evaluate};
use crate::http::AppState;
use crate::notify::{self, AlertNote, Why};
use crate::rules::RuleSet;
use crate::store::{self, AlertState, AlertUpdate, Conn, Firing, StoreError, Transition};

const SYSTEM: &str = "zicht";

fn system(why: &'static str, from: Option<AlertState>, to: AlertState) -> Transition {
    Transition {
        from,
        to: Some(to),
        why,
        actor: SYSTEM.to_owned(),
        ..Transition::default()
    }
}

/// Evaluates the household at `now` and brings its stored alerts in line: new conditions fire,
/// conditions that no longer hold resolve, an ended silence fires again, new one-shots are
/// recorded, an alert nobody acknowledged is repeated and escalated, and the household's next due
/// time is set. Every transition tells its people in the same transaction.
pub async fn reconcile(
    conn: &mut Conn,
    rules: &RuleSet,
    id: &HouseholdId,
    now: Instant,
) -> Result<(), StoreError> {
    let Some(row) = store::household(conn, id).await? else {
        return Ok(());
    };
    let stored = store::history(conn, id).await?;
    let (ids, events): (Vec<i64>, Vec<_>) = stored.into_iter().unzip();
    // Stored in (time, id) order, which History keeps.
    let history = History {
        household: row.household,
        events,
    };
    let household = &history.household;
    let effective = rules.for_region(household.region);
    let eval = evaluate(&history, effective, now);
    let advice = |rule: &str| {
        effective
            .rules
            .iter()
            .find(|r| r.id == rule)
            .map_or("", |r| r.advice.as_str())
    };
    let evidence_ids =
        |indexes: &[usize]| -> Vec<i64> { indexes.iter().map(|i| ids[*i]).collect() };
    let tell = |alert: i64, rule: &str, severity: Severity, state: AlertState, why: Why| {
        (alert, rule.to_owned(), severity, state, why)
    };
    let mut news = Vec::new();

    let existing = store::state_alerts(conn, id).await?;
    let mut next_due = eval.next_due;
    let mut due_at = |t: Instant| next_due = Some(next_due.map_or(t, |d| d.min(t)));
    // A rule may set its own repeat interval; otherwise the region's.
    let repeat_of = |rule: &str| {
        let days = effective
            .rules
            .iter()
            .find(|r| r.id == rule)
            .and_then(|r| r.repeat_days);
        jiff::SignedDuration::from_hours(24 * days.unwrap_or(effective.definitions.repeat_days))
    };
    // Vasthouden en volhouden: in phase 3 with a proactive scenario the region knows; stagnation
    // alerts stay visible but are not sent again.
    let holding_on = history
        .events
        .iter()
        .any(|e| matches!(e, Event::Phase3(m) if m.at <= now))
        && history
            .events
            .iter()
            .any(|e| matches!(e, Event::ProactiveScenario(m) if m.at <= now));
    for c in &eval.conditions {
        let evidence = evidence_ids(&c.evidence);
        let firing = Firing {
            household: id,
            rule: &c.rule,
            one_shot: false,
            severity: c.severity,
            advice: advice(&c.rule),
            since: c.since,
            evidence: &evidence,
            suppressed_until: c.suppressed_until,
        };
        let update = |state, fired_at, silenced_until| AlertUpdate {
            state,
            firing: Some(&firing),
            fired_at,
            resolved_at: None,
            silenced_until,
        };
        match existing.iter().find(|a| a.rule == c.rule) {
            None => {
                if let Some(alert) = store::insert_alert(conn, &firing, now).await? {
                    store::append_transition(
                        conn,
                        alert,
                        &system("first", None, AlertState::Firing),
                        now,
                    )
                    .await?;
                    news.push(tell(
                        alert,
                        &c.rule,
                        c.severity,
                        AlertState::Firing,
                        Why::First,
                    ));
                }
            }
            Some(a) if a.state == AlertState::Resolved => {
                store::update_alert(
                    conn,
                    a.id,
                    &update(AlertState::Firing, Some(now), None),
                    now,
                )
                .await?;
                let t = system("refired", Some(AlertState::Resolved), AlertState::Firing);
                store::append_transition(conn, a.id, &t, now).await?;
                news.push(tell(
                    a.id,
                    &c.rule,
                    c.severity,
                    AlertState::Firing,
                    Why::First,
                ));
            }
            Some(a)
                if a.state == AlertState::Silenced
                    && a.silenced_until.is_some_and(|u| u <= now) =>
            {
                store::update_alert(conn, a.id, &update(AlertState::Firing, None, None), now)
                    .await?;
                let t = system(
                    "silence_expired",
                    Some(AlertState::Silenced),
                    AlertState::Firing,
                );
                store::append_transition(conn, a.id, &t, now).await?;
                // When a silence ends while the alert still fires, the regisseur hears at once.
                news.push(tell(
                    a.id,
                    &c.rule,
                    c.severity,
                    AlertState::Firing,
                    Why::SilenceExpired,
                ));
            }
            Some(a) => {
                if let Some(until) = a.silenced_until.filter(|u| *u > now) {
                    due_at(until);
                }
                if a.severity != c.severity || a.evidence != evidence {
                    store::update_alert(conn, a.id, &update(a.state, None, a.silenced_until), now)
                        .await?;
                }
                if c.severity > a.severity {
                    let t = system("severity", Some(a.state), a.state);
                    store::append_transition(conn, a.id, &t, now).await?;
                }
                let stagnation = effective.rules.iter().any(|r| {
                    r.id == c.rule
                        && matches!(
                            r.detector,
                            Detector::GeenDirecteVeiligheid(_)
                                | Detector::GeenStabieleVeiligheid(_)
                                | Detector::DalendeTrend(_)
                        )
                });
                if a.state == AlertState::Firing && !(holding_on && stagnation) {
                    let last = a.notified_at.unwrap_or(a.fired_at);
                    let repeat_at = Instant::from_timestamp(last.timestamp() + repeat_of(&c.rule));
                    if repeat_at <= now {
                        news.push(tell(
                            a.id,
                            &c.rule,
                            c.severity,
                            AlertState::Firing,
                            Why::Repeat,
                        ));
                    } else {
                        due_at(repeat_at);
                    }
                }
            }
        }
    }
    for a in existing.iter().filter(|a| a.state != AlertState::Resolved) {
        if !eval.conditions.iter().any(|c| c.rule == a.rule) {
            // A resolved alert is reported even when it was silenced.
            let update = AlertUpdate {
                state: AlertState::Resolved,
                firing: None,
                fired_at: None,
                resolved_at: Some(now),
                silenced_until: None,
            };
            store::update_alert(conn, a.id, &update, now).await?;
            store::append_transition(
                conn,
                a.id,
                &system("resolved", Some(a.state), AlertState::Resolved),
                now,
            )
            .await?;
            news.push(tell(
                a.id,
                &a.rule,
                a.severity,
                AlertState::Resolved,
                Why::Resolved,
            ));
        }
    }
    for shot in &eval.one_shots {
        let evidence = evidence_ids(&shot.evidence);
        let firing = Firing {
            household: id,
            rule: &shot.rule,
            one_shot: true,
            severity: shot.severity,
            advice: advice(&shot.rule),
            since: shot.at,
            evidence: &evidence,
            suppressed_until: None,
        };
        if let Some(alert) = store::insert_alert(conn, &firing, now).await? {
            store::append_transition(conn, alert, &system("first", None, AlertState::Firing), now)
                .await?;
            news.push(tell(
                alert,
                &shot.rule,
                shot.severity,
                AlertState::Firing,
                Why::First,
            ));
        }
    }
    for (alert, rule, severity, state, why) in news {
        let note = AlertNote {
            id: alert,
            rule: &rule,
            severity: severity.as_str(),
            state: state.as_str(),
        };
        notify::announce(conn, effective, household, &note, why, now).await?;
        match why {
            Why::First | Why::SilenceExpired => {
                store::notify::set_notified(conn, alert, now, 0).await?;
                due_at(Instant::from_timestamp(now.timestamp() + repeat_of(&rule)));
            }
            Why::Repeat => {
                // Each repeat goes one level up the region's escalation ladder, as far as it reaches.
                let level = existing
                    .iter()
                    .find(|a| a.id == alert)
                    .map_or(0, |a| a.escalation_level)
                    + 1;
                let ladder = &effective.definitions.escalation;
                if let Some(role) = usize::try_from(level - 1).ok().and_then(|i| ladder.get(i)) {
                    notify::escalate(conn, effective, household, &note, role, now).await?;
                }
                store::notify::set_notified(conn, alert, now, level).await?;
                due_at(Instant::from_timestamp(now.timestamp() + repeat_of(&rule)));
            }
            Why::Resolved | Why::Escalation => {}
        }
    }
    store::set_schedule(conn, id, next_due, now).await
}

/// Evaluates every household due at `now`, a batch per transaction; returns how many.
pub async fn run_due(state: &AppState, now: Instant) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let rules = state.rules();
        let mut tx = state.db.begin_write().await?;
        let due = store::claim_due(&mut tx, state.db.backend(), now, 100).await?;
        if due.is_empty() {
            tx.rollback().await?;
            return Ok(done);
        }
        for id in &due {
            reconcile(&mut tx, &rules, id, now).await?;
        }
        tx.commit().await?;
        state.notified();
        done += due.len();
    }
}

/// Severity order for sorting lists: most severe first.
pub fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

/// The scheduler: evaluates due households (at once on start, which catches up deadlines missed
/// while zicht was down), then sleeps until the earliest due time, a new event, or at most a
/// minute, until cancelled.
pub async fn scheduler(state: Arc<AppState>, shutdown: CancellationToken) {
    loop {
        let now = state.clock.now();
        if let Err(e) = run_due(&state, now).await {
            tracing::error!(error = %e, "scheduler run failed; retrying");
        }
        let wait = match next_wait(&state).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the schedule");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = state.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

async fn next_wait(state: &AppState) -> Result<Duration, StoreError> {
    let mut conn = state.db.acquire().await?;
    let next = store::next_due(&mut conn).await?;
    let now = state.clock.now();
    // At most a minute, so a clock jump or a missed wake-up costs little.
    let cap = Duration::from_secs(60);
    Ok(match next {
        Some(due) if due <= now => Duration::ZERO,
        Some(due) => {
            Duration::from_millis(u64::try_from(due.millis() - now.millis()).unwrap_or(0)).min(cap)
        }
        None => cap,
    })
}
