//! Every read and write of household data, and every change of configuration, leaves a row in the
//! append-only audit log: who, what, which household, which request, when, and whether it was allowed.

use crate::auth::Authenticated;
use crate::domain::Instant;
use crate::store::{self, AuditEntry, AuditOutcome, Conn, StoreError};

/// What was done, as written in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    HouseholdCreate,
    HouseholdList,
    HouseholdRead,
    TimelineRead,
    EventCreate,
    AssignmentSet,
    ReportCreate,
    UserCreate,
    UserPassword,
    UserList,
    TokenCreate,
    TokenRevoke,
    AuditRead,
    AlertList,
    AlertRead,
    AlertAcknowledge,
    AlertSilence,
    WebhookChange,
    GemeenteRead,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::HouseholdCreate => "household.create",
            AuditAction::HouseholdList => "household.list",
            AuditAction::HouseholdRead => "household.read",
            AuditAction::TimelineRead => "timeline.read",
            AuditAction::EventCreate => "event.create",
            AuditAction::AssignmentSet => "assignment.set",
            AuditAction::ReportCreate => "report.create",
            AuditAction::UserCreate => "user.create",
            AuditAction::UserPassword => "user.password",
            AuditAction::UserList => "user.list",
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::AuditRead => "audit.read",
            AuditAction::AlertList => "alert.list",
            AuditAction::AlertRead => "alert.read",
            AuditAction::AlertAcknowledge => "alert.acknowledge",
            AuditAction::AlertSilence => "alert.silence",
            AuditAction::WebhookChange => "webhook.manage",
            AuditAction::GemeenteRead => "gemeente.read",
        }
    }
}

/// Records an action of an authenticated request.
pub async fn record(
    conn: &mut Conn,
    who: &Authenticated,
    action: AuditAction,
    household: Option<&str>,
    outcome: AuditOutcome,
    at: Instant,
) -> Result<(), StoreError> {
    store::append_audit(
        conn,
        &AuditEntry {
            at,
            actor_id: Some(who.actor.user_id),
            actor: &who.actor.username,
            action: action.as_str(),
            household,
            request_id: Some(&who.request_id),
            outcome,
        },
    )
    .await
}

/// Who a use case acts for.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// An authenticated request (API or pages).
    Request(&'a Authenticated),
    /// The operator of the machine: the command line, an import, the demo.
    Operator,
}

impl Origin<'_> {
    /// The user recorded as having done it, if a user did.
    pub fn user_id(self) -> Option<i64> {
        match self {
            Origin::Request(who) => Some(who.actor.user_id),
            Origin::Operator => None,
        }
    }
}

/// Records an action that was allowed, for whoever did it.
pub async fn record_ok(
    conn: &mut Conn,
    origin: Origin<'_>,
    action: AuditAction,
    household: Option<&str>,
    at: Instant,
) -> Result<(), StoreError> {
    match origin {
        Origin::Request(who) => record(conn, who, action, household, AuditOutcome::Ok, at).await,
        Origin::Operator => record_cli(conn, action, household, at).await,
    }
}

/// Records an action taken on the command line by the operator of the machine.
pub async fn record_cli(
    conn: &mut Conn,
    action: AuditAction,
    household: Option<&str>,
    at: Instant,
) -> Result<(), StoreError> {
    store::append_audit(
        conn,
        &AuditEntry {
            at,
            actor_id: None,
            actor: "cli",
            action: action.as_str(),
            household,
            request_id: None,
            outcome: AuditOutcome::Ok,
        },
    )
    .await
}
