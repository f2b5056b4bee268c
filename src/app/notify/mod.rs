//! Alerts reach the right people: the in-app inbox and signed webhooks through a transactional
//! outbox. Notifications are written in the transaction of the alert transition they report, so a
//! crash loses none; the webhook worker delivers them afterwards.

pub mod digest;
pub mod webhook;

use serde::Serialize;

use crate::auth::{Actor, policy};
use crate::domain::{Household, HouseholdId, Instant, Relation, Severity};
use crate::rules::Effective;
use crate::store::{self, AlertState, Conn, StoreError};

pub use crate::store::notify::Why;

/// Whose inbox `actor` reads: only notifications about households they may read now show.
pub fn reader(actor: &Actor) -> store::notify::Reader {
    store::notify::Reader {
        user_id: actor.user_id,
        relation: policy::working_relation(actor),
    }
}

/// What an alert notification says about the alert.
#[derive(Debug, Clone)]
pub struct AlertNote<'a> {
    pub id: i64,
    pub rule: &'a str,
    pub severity: Severity,
    pub state: AlertState,
}

/// The webhook payload: minimal and pseudonymous. No free text from scores or signals ever goes
/// out; the advice is the rule's own text. Endpoints of roles that may not see a household get
/// no household, alert id or link (`policy::webhook_names_household`). Documented in
/// `docs/webhooks.md`.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub why: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household: Option<&'a str>,
    pub region: &'a str,
    pub rule: &'a str,
    pub severity: &'a str,
    pub state: &'a str,
    pub advice: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub at: Instant,
}

/// An alert's news in one evaluation: what the alert says now, and why its people hear of it.
#[derive(Debug, Clone)]
pub struct News<'a> {
    pub alert: AlertNote<'a>,
    pub why: Why,
}

impl News<'_> {
    /// Info-level news (a reminder for the work list) is not pushed to people.
    fn pushed(&self) -> bool {
        self.alert.severity > Severity::Info
    }

    /// Which news a person hears first: the most severe, then a new alert before a repeat
    /// before a resolution.
    fn weight(&self) -> (Severity, u8) {
        let why = match self.why {
            Why::First | Why::SilenceExpired => 3,
            Why::Repeat | Why::Escalation => 2,
            Why::Resolved | Why::Assignment | Why::Handover | Why::BreakGlass => 1,
        };
        (self.alert.severity, why)
    }
}

/// Tells the people the rules name, and the webhooks of their roles in the household's region,
/// of one evaluation's news. Each person gets one inbox notification per household per
/// evaluation however many alerts changed (as Alertmanager groups by label): the most pressing
/// change, with the count of the others. Info-level reminders stay on the work list: no inbox
/// notification, and webhooks only for endpoints that ask for them.
pub async fn announce(
    conn: &mut Conn,
    rules: Effective<'_>,
    household: &Household,
    news: &[News<'_>],
    now: Instant,
) -> Result<(), StoreError> {
    // Per person: the news they hear of, by index into `news`.
    let mut heard: Vec<(i64, Vec<usize>)> = Vec::new();
    for (i, n) in news.iter().enumerate() {
        let Some(rule) = rules.rules.iter().find(|r| r.id == n.alert.rule) else {
            continue;
        };
        for role in &rule.notify {
            // Only people who may read the household are named it (`policy::named_in_inbox`).
            if let Some(relation) = policy::named_in_inbox(*role)
                && n.pushed()
            {
                let users =
                    store::notify::recipients(conn, relation, &household.id, n.alert.rule).await?;
                for user in users {
                    match heard.iter_mut().find(|(u, _)| *u == user) {
                        // Once per news, however many of the rule's roles they hold.
                        Some((_, items)) if !items.contains(&i) => items.push(i),
                        Some(_) => {}
                        None => heard.push((user, vec![i])),
                    }
                }
            }
            let info = !n.pushed();
            enqueue_webhooks(conn, household, n, &rule.advice, role.as_str(), info, now).await?;
        }
    }
    for (user, items) in heard {
        let Some(first) = items.iter().copied().max_by_key(|i| news[*i].weight()) else {
            continue;
        };
        let n = &news[first];
        let note = store::notify::NewNotification {
            alert: n.alert.id,
            household: &household.id,
            rule: n.alert.rule,
            severity: n.alert.severity,
            why: n.why,
            others: i64::try_from(items.len() - 1).unwrap_or(0),
        };
        store::notify::insert_notification(conn, user, &note, now).await?;
    }
    Ok(())
}

/// Tells the people newly tied to a household what is open on it: each hears, in one inbox
/// notification, of the most pressing open alert whose rule notifies them, with the count of the
/// others (the same grouping as [`announce`]). An alert that fired before its regisseur was
/// assigned (a casemanager registers, the regisseur is assigned at intake) would otherwise reach
/// them only at its next repeat, a week later. Info-level reminders and muted rules are left out,
/// as they are for new alerts. Returns who was told.
pub async fn hand_over(
    conn: &mut Conn,
    rules: Effective<'_>,
    household: &HouseholdId,
    newcomers: &[(i64, Relation)],
    now: Instant,
) -> Result<Vec<i64>, StoreError> {
    let mut told = Vec::new();
    if newcomers.is_empty() {
        return Ok(told);
    }
    // Most severe first, then the longest waiting: the order of the work queue.
    let open = store::open_alerts(conn, household).await?;
    for &(user, relation) in newcomers {
        let muted = store::notify::mutes(conn, user).await?;
        let theirs: Vec<&store::AlertRow> = open
            .iter()
            .filter(|a| a.severity > Severity::Info && !muted.contains(&a.rule))
            .filter(|a| {
                rules.rules.iter().any(|r| {
                    r.id == a.rule
                        && r.notify
                            .iter()
                            .any(|role| policy::named_in_inbox(*role) == Some(relation))
                })
            })
            .collect();
        let Some(first) = theirs.first() else {
            continue;
        };
        let note = store::notify::NewNotification {
            alert: first.id,
            household,
            rule: &first.rule,
            severity: first.severity,
            why: Why::Handover,
            others: i64::try_from(theirs.len() - 1).unwrap_or(0),
        };
        store::notify::insert_notification(conn, user, &note, now).await?;
        told.push(user);
    }
    Ok(told)
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
    let news = News {
        alert: alert.clone(),
        why: Why::Escalation,
    };
    enqueue_webhooks(conn, household, &news, advice, role, false, now).await
}

/// Queues the news for the webhooks of `role` in the household's region (for info-level news only
/// those that asked for it).
async fn enqueue_webhooks(
    conn: &mut Conn,
    household: &Household,
    news: &News<'_>,
    advice: &str,
    role: &str,
    info: bool,
    now: Instant,
) -> Result<(), StoreError> {
    if !policy::webhook_gets_alerts(role) {
        return Ok(());
    }
    let (alert, why) = (&news.alert, news.why);
    let endpoints = store::notify::endpoints_for(conn, household.region, role, info).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let named = policy::webhook_names_household(role);
    let payload = Payload {
        kind: "alert",
        why: why.as_str(),
        alert_id: named.then_some(alert.id),
        household: named.then_some(household.id.as_str()),
        region: household.region.as_str(),
        rule: alert.rule,
        severity: alert.severity.as_str(),
        state: alert.state.as_str(),
        advice,
        link: named.then(|| format!("/api/v1/alerts/{}", alert.id)),
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
