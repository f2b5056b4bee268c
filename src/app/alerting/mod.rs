//! The engine applied to stored households: after each event, and when a household is due, its
//! alert state is reconciled with what the engine says holds, inside the caller's transaction.
//! [`plan`] decides (a pure function); [`reconcile`] loads, plans and applies.

pub mod backfill;
pub mod plan;

use crate::app::AppState;
use crate::app::events;
use crate::app::notify::{self, AlertNote, News};
use crate::domain::{Household, HouseholdId, Instant};
use crate::engine::{Effective, evaluate};
use crate::rules::RuleSet;
use crate::store::crypt::Keys;
use crate::store::{self, AlertUpdate, Conn, ENGINE_ACTOR, Firing, StoreError, Transition};

use plan::{Plan, Target};

/// Evaluates the household at `now` and brings its stored alerts in line (see [`plan::plan`]).
/// Every transition tells its people in the same transaction.
pub async fn reconcile(
    conn: &mut Conn,
    keys: &Keys,
    rules: &RuleSet,
    id: &HouseholdId,
    now: Instant,
) -> Result<(), StoreError> {
    let Some((history, event_ids)) = events::history(conn, keys, id).await? else {
        return Ok(());
    };
    let effective = rules.for_region(history.household.region);
    let eval = evaluate(&history, effective, now);
    let existing = store::state_alerts(conn, id).await?;
    let plan = plan::plan(&existing, &eval, effective, &event_ids, now);
    apply(conn, keys, effective, &history.household, plan, now).await
}

/// Writes a plan: each alert's state, content and transition, the notices to its people, and the
/// household's next due time.
async fn apply(
    conn: &mut Conn,
    keys: &Keys,
    rules: Effective<'_>,
    household: &Household,
    plan: Plan,
    now: Instant,
) -> Result<(), StoreError> {
    let mut news = Vec::new();
    for step in plan.steps {
        let firing = step
            .write
            .as_ref()
            .and_then(|w| w.content.as_ref())
            .map(|c| Firing {
                household: &household.id,
                rule: &step.rule,
                one_shot: matches!(step.target, Target::New { one_shot: true }),
                severity: c.severity,
                advice: &c.advice,
                since: c.since,
                evidence: &c.evidence,
                suppressed_until: c.suppressed_until,
            });
        let alert = match (step.target, &firing) {
            (Target::New { .. }, Some(firing)) => {
                match store::insert_alert(conn, firing, now).await? {
                    Some(id) => id,
                    // A one-shot recorded before: nothing new.
                    None => continue,
                }
            }
            (Target::New { .. }, None) => continue,
            (Target::Existing(id), _) => {
                if let Some(w) = &step.write {
                    let update = AlertUpdate {
                        state: w.state,
                        firing: firing.as_ref(),
                        fired_at: w.fired_at,
                        resolved_at: w.resolved_at,
                        silenced_until: w.silenced_until,
                    };
                    store::update_alert(conn, id, &update, now).await?;
                }
                id
            }
        };
        if let Some((from, to, why)) = step.transition {
            let t = Transition {
                from,
                to: Some(to),
                why,
                actor: ENGINE_ACTOR.to_owned(),
                ..Transition::default()
            };
            store::append_transition(conn, keys, alert, &t, now).await?;
        }
        if let Some(notice) = step.notice {
            let note = AlertNote {
                id: alert,
                rule: &step.rule,
                severity: notice.severity,
                state: notice.state,
            };
            if let Some(role) = &notice.escalate_to {
                notify::escalate(conn, rules, household, &note, role, now).await?;
            }
            if let Some(level) = notice.level {
                store::notify::set_notified(conn, alert, now, level).await?;
            }
            news.push((note.id, step.rule.clone(), notice));
        }
    }
    // One evaluation's news reaches each person once.
    let news: Vec<News<'_>> = news
        .iter()
        .map(|(id, rule, notice)| News {
            alert: AlertNote {
                id: *id,
                rule,
                severity: notice.severity,
                state: notice.state,
            },
            why: notice.why,
        })
        .collect();
    notify::announce(conn, rules, household, &news, now).await?;
    store::set_schedule(conn, &household.id, plan.next_due, now).await
}

/// Evaluates every household due at `now`, a batch per transaction; returns how many.
pub async fn run_due(app: &AppState, now: Instant) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let rules = app.rules();
        let mut tx = app.db.begin_write().await?;
        let due = store::claim_due(&mut tx, app.db.backend(), now, 100).await?;
        if due.is_empty() {
            tx.rollback().await?;
            return Ok(done);
        }
        for id in &due {
            reconcile(&mut tx, app.db.keys(), &rules, id, now).await?;
        }
        tx.commit().await?;
        app.notified();
        done += due.len();
    }
}
