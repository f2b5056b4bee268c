//! Alerts of an imported history: what fired in the past is recorded as history, not sent as news.
//!
//! A household imported with two years of events has alerts that fired and resolved long ago, and
//! one-shots (hermelding, ogen-en-oren, nazorg) of meldingen that nobody can act on any more.
//! [`backfill`] records them as they happened, with their own moments, and tells nobody; a state
//! alert that still fires at the end of the history is recorded from when it began and told once,
//! as a first notice; one-shots from `fresh_from` on are left to [`super::reconcile`], which tells
//! of them as of any new event. Then the household is reconciled as after any write.

use crate::app::events;
use crate::app::notify::{self, AlertNote, News, Why};
use crate::domain::{HouseholdId, Instant};
use crate::engine::{Effective, History, evaluate, simulate};
use crate::rules::RuleSet;
use crate::store::crypt::Keys;
use crate::store::{
    self, AlertState, AlertUpdate, Conn, ENGINE_ACTOR, Firing, StoreError, Transition,
    TransitionWhy,
};

/// What the backfill recorded for one household.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfilled {
    /// Alert firings recorded as history (fired and resolved, or one-shots), told to nobody.
    pub history: usize,
    /// State alerts still firing at the end, told once.
    pub firing: usize,
}

/// Records the household's past alerts as history and reconciles it at `now` (see the module).
/// State alerts of a rule the household has a stored alert for already keep their live course.
pub async fn backfill(
    conn: &mut Conn,
    keys: &Keys,
    rules: &RuleSet,
    id: &HouseholdId,
    fresh_from: Instant,
    now: Instant,
) -> Result<Backfilled, StoreError> {
    let mut done = Backfilled::default();
    let Some((history, event_ids)) = events::history(conn, keys, id).await? else {
        return Ok(done);
    };
    let effective = rules.for_region(history.household.region);
    let existing = store::state_alerts(conn, id).await?;
    let is_one_shot = |rule: &str| {
        effective
            .rules
            .iter()
            .any(|r| r.id == rule && r.is_one_shot())
    };
    let at_now = evaluate(&history, effective, now);
    let mut news = Vec::new();
    let mut firings = simulate(&history, effective, now);
    firings.retain(|f| !is_one_shot(&f.rule) && !existing.iter().any(|a| a.rule == f.rule));
    // Firings come in time order; one alert per rule, fired again after each resolution.
    let mut alerts: Vec<(String, i64)> = Vec::new();
    for f in &firings {
        let still = f.resolved_at.is_none();
        // What it said: at its start, or (still firing) now, as reconcile will see it.
        let eval_then;
        let eval = if still {
            &at_now
        } else {
            eval_then = evaluate(&history, effective, f.fired_at);
            &eval_then
        };
        let condition = eval.conditions.iter().find(|c| c.rule == f.rule);
        let evidence: Vec<i64> = condition
            .map(|c| c.evidence.iter().map(|i| event_ids[*i]).collect())
            .unwrap_or_default();
        let advice = advice(effective, &f.rule);
        let firing = Firing {
            household: id,
            rule: &f.rule,
            one_shot: false,
            severity: condition.map_or(f.severity, |c| c.severity),
            advice: &advice,
            since: condition.map_or(f.fired_at, |c| c.since),
            evidence: &evidence,
            suppressed_until: condition.and_then(|c| c.suppressed_until),
        };
        let alert = match alerts.iter().find(|(rule, _)| *rule == f.rule) {
            None => {
                let Some(alert) = store::insert_alert(conn, &firing, f.fired_at).await? else {
                    continue;
                };
                transition(
                    conn,
                    keys,
                    alert,
                    None,
                    AlertState::Firing,
                    TransitionWhy::First,
                    f.fired_at,
                )
                .await?;
                alerts.push((f.rule.clone(), alert));
                alert
            }
            Some((_, alert)) => {
                let update = AlertUpdate {
                    state: AlertState::Firing,
                    firing: Some(&firing),
                    fired_at: Some(f.fired_at),
                    resolved_at: None,
                    silenced_until: None,
                };
                store::update_alert(conn, *alert, &update, f.fired_at).await?;
                let from = Some(AlertState::Resolved);
                transition(
                    conn,
                    keys,
                    *alert,
                    from,
                    AlertState::Firing,
                    TransitionWhy::Refired,
                    f.fired_at,
                )
                .await?;
                *alert
            }
        };
        match f.resolved_at {
            Some(resolved) => {
                let update = AlertUpdate {
                    state: AlertState::Resolved,
                    firing: None,
                    fired_at: None,
                    resolved_at: Some(resolved),
                    silenced_until: None,
                };
                store::update_alert(conn, alert, &update, resolved).await?;
                let from = Some(AlertState::Firing);
                transition(
                    conn,
                    keys,
                    alert,
                    from,
                    AlertState::Resolved,
                    TransitionWhy::Resolved,
                    resolved,
                )
                .await?;
                done.history += 1;
            }
            None => {
                // Told once, now; its repeat clock starts now.
                store::notify::set_notified(conn, alert, now, 0).await?;
                news.push((alert, f.rule.clone(), firing.severity));
                done.firing += 1;
            }
        }
    }
    done.history += record_past_one_shots(
        conn, keys, effective, &history, &event_ids, &at_now, fresh_from,
    )
    .await?;
    let news: Vec<News<'_>> = news
        .iter()
        .map(|(alert, rule, severity)| News {
            alert: AlertNote {
                id: *alert,
                rule,
                severity: *severity,
                state: AlertState::Firing,
            },
            why: Why::First,
        })
        .collect();
    notify::announce(conn, effective, &history.household, &news, now).await?;
    super::reconcile(conn, keys, rules, id, now).await?;
    Ok(done)
}

/// Records the one-shots dated before `fresh_from` as they happened, told to nobody; returns how
/// many were new.
async fn record_past_one_shots(
    conn: &mut Conn,
    keys: &Keys,
    rules: Effective<'_>,
    history: &History,
    event_ids: &[i64],
    eval: &crate::engine::Evaluation,
    fresh_from: Instant,
) -> Result<usize, StoreError> {
    let mut recorded = 0;
    for shot in eval.one_shots.iter().filter(|s| s.at < fresh_from) {
        let evidence: Vec<i64> = shot.evidence.iter().map(|i| event_ids[*i]).collect();
        let advice = advice(rules, &shot.rule);
        let firing = Firing {
            household: &history.household.id,
            rule: &shot.rule,
            one_shot: true,
            severity: shot.severity,
            advice: &advice,
            since: shot.at,
            evidence: &evidence,
            suppressed_until: None,
        };
        if let Some(alert) = store::insert_alert(conn, &firing, shot.at).await? {
            transition(
                conn,
                keys,
                alert,
                None,
                AlertState::Firing,
                TransitionWhy::First,
                shot.at,
            )
            .await?;
            recorded += 1;
        }
    }
    Ok(recorded)
}

fn advice(rules: Effective<'_>, rule: &str) -> String {
    rules
        .rules
        .iter()
        .find(|r| r.id == rule)
        .map_or_else(String::new, |r| r.advice.clone())
}

async fn transition(
    conn: &mut Conn,
    keys: &Keys,
    alert: i64,
    from: Option<AlertState>,
    to: AlertState,
    why: TransitionWhy,
    at: Instant,
) -> Result<(), StoreError> {
    let t = Transition {
        from,
        to: Some(to),
        why,
        actor: ENGINE_ACTOR.to_owned(),
        ..Transition::default()
    };
    store::append_transition(conn, keys, alert, &t, at).await
}
