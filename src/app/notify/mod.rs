//! Alerts reach the right people: the in-app inbox and signed webhooks through a transactional
//! outbox. Notifications are written in the transaction of the alert transition they report, so a
//! crash loses none; the webhook worker delivers them afterwards.

pub mod webhook;

use serde::Serialize;

use crate::domain::{Household, Instant, Severity};
use crate::rules::Effective;
use crate::store::{self, AlertState, Conn, StoreError};

pub use crate::store::notify::Why;

/// What an alert notification says about the alert.
#[derive(Debug, Clone)]
pub struct AlertNote<'a> {
    pub id: i64,
    pub rule: &'a str,
    pub severity: Severity,
    pub state: AlertState,
}

/// The webhook payload: minimal and pseudonymous. No free text from scores or signals ever goes
/// out; the advice is the rule's own text. Documented in `docs/webhooks.md`.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub why: &'a str,
    pub alert_id: i64,
    pub household: &'a str,
    pub region: &'a str,
    pub rule: &'a str,
    pub severity: &'a str,
    pub state: &'a str,
    pub advice: &'a str,
    pub link: String,
    pub at: Instant,
}

/// Tells the people the rule names (inbox) and the webhooks of their roles in the household's
/// region.
pub async fn announce(
    conn: &mut Conn,
    rules: Effective<'_>,
    household: &Household,
    alert: &AlertNote<'_>,
    why: Why,
    now: Instant,
) -> Result<(), StoreError> {
    let Some(rule) = rules.rules.iter().find(|r| r.id == alert.rule) else {
        return Ok(());
    };
    let note = store::notify::NewNotification {
        alert: alert.id,
        household: &household.id,
        rule: alert.rule,
        severity: alert.severity,
        why,
    };
    let mut told = Vec::new();
    for role in &rule.notify {
        let users = store::notify::recipients(
            conn,
            *role,
            &household.id,
            household.region,
            &household.gemeente,
            alert.rule,
        )
        .await?;
        for user in users {
            // One notification per person, however many of the rule's roles they hold.
            if !told.contains(&user) {
                store::notify::insert_notification(conn, user, &note, now).await?;
                told.push(user);
            }
        }
        enqueue_webhooks(
            conn,
            household,
            alert,
            &rule.advice,
            role.as_str(),
            why,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Sends the alert to the webhooks of escalation `role` in the household's region.
pub async fn escalate(
    conn: &mut Conn,
    rules: Effective<'_>,
    household: &Household,
    alert: &AlertNote<'_>,
    role: &str,
    now: Instant,
) -> Result<(), StoreError> {
    let advice = rules
        .rules
        .iter()
        .find(|r| r.id == alert.rule)
        .map_or("", |r| r.advice.as_str());
    enqueue_webhooks(conn, household, alert, advice, role, Why::Escalation, now).await
}

async fn enqueue_webhooks(
    conn: &mut Conn,
    household: &Household,
    alert: &AlertNote<'_>,
    advice: &str,
    role: &str,
    why: Why,
    now: Instant,
) -> Result<(), StoreError> {
    let endpoints = store::notify::endpoints_for(conn, household.region, role).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let payload = Payload {
        kind: "alert",
        why: why.as_str(),
        alert_id: alert.id,
        household: household.id.as_str(),
        region: household.region.as_str(),
        rule: alert.rule,
        severity: alert.severity.as_str(),
        state: alert.state.as_str(),
        advice,
        link: format!("/api/v1/alerts/{}", alert.id),
        at: now,
    };
    let body = serde_json::to_string(&payload).map_err(|e| store::corrupt("payload", e))?;
    for endpoint in endpoints {
        // The id receivers deduplicate on: fixed at enqueue, the same on every retry.
        let message_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        store::notify::enqueue(conn, &message_id, endpoint, &body, now).await?;
    }
    Ok(())
}
