//! Alerts: list, one with its evidence and history ([`reads`]), acknowledge, silence
//! ([`decisions`]). Access follows the household's: a refusal reads like an alert that does not
//! exist.

pub mod decisions;
pub mod reads;

use serde::Serialize;
use utoipa::ToSchema;

use super::households::TimelineItem;
use crate::domain::{Instant, Severity};
use crate::store::{AlertRow, TransitionRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    id: i64,
    household: String,
    rule: String,
    /// One-shot alerts (hermelding, ogen-en-oren, nazorg) notify once and never resolve.
    one_shot: bool,
    /// `firing`, `acknowledged`, `silenced` or `resolved`.
    state: String,
    severity: Severity,
    /// What the person notified should do.
    advice: String,
    /// Since when the condition holds (for one-shots: when it happened).
    since: Instant,
    /// When zicht raised this firing.
    fired_at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_at: Option<Instant>,
    /// A grace period (a new intervention) kept this alert quiet until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_until: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    silenced_until: Option<Instant>,
    /// Ids of the events (scores, signals) that made it fire.
    evidence_ids: Vec<i64>,
}

impl From<AlertRow> for AlertView {
    fn from(a: AlertRow) -> Self {
        AlertView {
            id: a.id,
            household: a.household.to_string(),
            rule: a.rule,
            one_shot: a.one_shot,
            state: a.state.as_str().to_owned(),
            severity: a.severity,
            advice: a.advice,
            since: a.since,
            fired_at: a.fired_at,
            resolved_at: a.resolved_at,
            suppressed_until: a.suppressed_until,
            silenced_until: a.silenced_until,
            evidence_ids: a.evidence,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    to: String,
    /// `first`, `refired`, `resolved`, `severity`, `acknowledged`, `silenced`, `silence_expired`.
    why: String,
    /// The user, or `zicht` for the engine.
    actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    specialism: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    silenced_until: Option<Instant>,
}

impl From<TransitionRow> for TransitionView {
    fn from(t: TransitionRow) -> Self {
        TransitionView {
            at: t.at,
            from: t.from,
            to: t.to,
            why: t.why.as_str().to_owned(),
            actor: t.actor,
            decision: t.decision,
            specialism: t.specialism,
            reason: t.reason,
            silenced_until: t.silenced_until,
        }
    }
}

/// An alert with the events that made it fire and everything that happened to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub(super) alert: AlertView,
    pub(super) evidence: Vec<TimelineItem>,
    pub(super) history: Vec<TransitionView>,
}
