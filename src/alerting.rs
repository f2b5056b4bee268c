//! The engine applied to stored households: after each event, and when a household is due, its
//! alert state is reconciled with what the engine says holds, inside the caller's transaction.
//! The scheduler wakes for the earliest due household; nothing scans every household on a timer.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::{HouseholdId, Instant};
use crate::engine::{History, Severity, evaluate};
use crate::http::AppState;
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
/// recorded, and the household's next due time is set.
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
    let effective = rules.for_region(history.household.region);
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

    let existing = store::state_alerts(conn, id).await?;
    let mut next_due = eval.next_due;
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
                }
            }
            Some(a) if a.state == AlertState::Resolved => {
                store::update_alert(
                    conn,
                    a.id,
                    &AlertUpdate {
                        state: AlertState::Firing,
                        firing: Some(&firing),
                        fired_at: Some(now),
                        resolved_at: None,
                        silenced_until: None,
                    },
                    now,
                )
                .await?;
                let t = system("refired", Some(AlertState::Resolved), AlertState::Firing);
                store::append_transition(conn, a.id, &t, now).await?;
            }
            Some(a)
                if a.state == AlertState::Silenced
                    && a.silenced_until.is_some_and(|u| u <= now) =>
            {
                store::update_alert(
                    conn,
                    a.id,
                    &AlertUpdate {
                        state: AlertState::Firing,
                        firing: Some(&firing),
                        fired_at: None,
                        resolved_at: None,
                        silenced_until: None,
                    },
                    now,
                )
                .await?;
                let t = system(
                    "silence_expired",
                    Some(AlertState::Silenced),
                    AlertState::Firing,
                );
                store::append_transition(conn, a.id, &t, now).await?;
            }
            Some(a) => {
                if let Some(until) = a.silenced_until.filter(|u| *u > now) {
                    next_due = Some(next_due.map_or(until, |d| d.min(until)));
                }
                let changed = a.severity != c.severity || a.evidence != evidence;
                if changed {
                    store::update_alert(
                        conn,
                        a.id,
                        &AlertUpdate {
                            state: a.state,
                            firing: Some(&firing),
                            fired_at: None,
                            resolved_at: None,
                            silenced_until: a.silenced_until,
                        },
                        now,
                    )
                    .await?;
                }
                if c.severity > a.severity {
                    let t = Transition {
                        why: "severity",
                        ..system("severity", Some(a.state), a.state)
                    };
                    store::append_transition(conn, a.id, &t, now).await?;
                }
            }
        }
    }
    for a in existing.iter().filter(|a| a.state != AlertState::Resolved) {
        if !eval.conditions.iter().any(|c| c.rule == a.rule) {
            // A resolved alert is reported even when it was silenced.
            store::update_alert(
                conn,
                a.id,
                &AlertUpdate {
                    state: AlertState::Resolved,
                    firing: None,
                    fired_at: None,
                    resolved_at: Some(now),
                    silenced_until: None,
                },
                now,
            )
            .await?;
            store::append_transition(
                conn,
                a.id,
                &system("resolved", Some(a.state), AlertState::Resolved),
                now,
            )
            .await?;
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
