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
    /// A page opened its live stream (once per stream, never per event).
    LiveOpen,
    /// The casusoverleg agenda was read; one row per household it showed.
    AgendaRead,
    SignIn,
    SignInThrottled,
    UserUnlock,
    UserDeactivate,
    /// A read of a household without an assignment, for a stated reason (break-the-glass).
    BreakGlass,
    /// The list of break-the-glass reads was read for review.
    BreakGlassList,
    /// The metrics were asked for (audited when refused).
    MetricsRead,
    /// A person's notifications were shown (API, Berichten, or pushed on the inbox stream); one
    /// row per household they named.
    InboxRead,
    /// The API's inbox stream was opened (once per stream).
    InboxStream,
    /// An admin read the webhook endpoints or their deliveries.
    WebhookRead,
    /// An admin read a user's tokens (without their secrets).
    TokenList,
    /// Someone read who accessed a household (its access log on the situatieplaat).
    AccessLogRead,
    /// The operator rotated the key that seals free text (purpose: the old and the new key id).
    KeysRotate,
    /// Everything about a household was exported for a subject-access request (purpose: its
    /// case number).
    SubjectAccess,
    /// A closed trajectory past its retention period was anonymised.
    Retention,
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
            AuditAction::LiveOpen => "live.open",
            AuditAction::AgendaRead => "agenda.read",
            AuditAction::SignIn => "session.sign_in",
            AuditAction::SignInThrottled => "session.sign_in_throttled",
            AuditAction::UserUnlock => "user.unlock",
            AuditAction::UserDeactivate => "user.deactivate",
            AuditAction::BreakGlass => "household.break_glass",
            AuditAction::BreakGlassList => "break_glass.list",
            AuditAction::MetricsRead => "metrics.read",
            AuditAction::InboxRead => "inbox.read",
            AuditAction::InboxStream => "inbox.stream",
            AuditAction::WebhookRead => "webhook.read",
            AuditAction::TokenList => "token.list",
            AuditAction::AccessLogRead => "household.access_log",
            AuditAction::KeysRotate => "keys.rotate",
            AuditAction::SubjectAccess => "household.subject_access",
            AuditAction::Retention => "household.retention",
        }
    }
}

impl super::AppState {
    /// Records, at the present moment, an action that was allowed to an authenticated request.
    pub async fn audit(
        &self,
        conn: &mut Conn,
        who: &Authenticated,
        action: AuditAction,
        household: Option<&str>,
    ) -> Result<(), StoreError> {
        record(
            conn,
            who,
            action,
            household,
            AuditOutcome::Ok,
            self.clock.now(),
        )
        .await
    }
}

impl super::AppState {
    /// Records a read that showed `households` (in one transaction): one row for the read, and
    /// one row for each household it named, since each is an access to that household.
    pub async fn audit_shown<'a>(
        &self,
        who: &Authenticated,
        action: AuditAction,
        households: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
        let households: std::collections::BTreeSet<&str> = households.into_iter().collect();
        let mut tx = self.db.begin_write().await?;
        let now = self.clock.now();
        record(&mut tx, who, action, None, AuditOutcome::Ok, now).await?;
        for household in households {
            record(&mut tx, who, action, Some(household), AuditOutcome::Ok, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The webhook role of endpoints that receive the audit chain's head once a day (and nothing but
/// it and the heartbeats: no rule notifies this role).
pub const HEAD_ROLE: &str = "audit";

/// Once a day (the scheduler's first run on a new Amsterdam day, in one instance of all that share
/// the database): logs the head of the audit chain and queues it for the `audit` webhooks, so that
/// a copy outside the database shows a rewrite of the whole chain. Answers the head published.
pub async fn publish_head(
    app: &super::AppState,
    now: Instant,
) -> Result<Option<store::ChainHead>, StoreError> {
    let day = now.local_date().to_wire();
    let mut tx = app.db.begin_write().await?;
    if !store::claim_audit_publication(&mut tx, &day).await? {
        return Ok(None);
    }
    let head = store::audit_head(&mut tx).await?;
    let payload = serde_json::json!({
        "type": "audit.head",
        "at": now,
        "row": head.id,
        "seq": head.seq,
        "hash": head.hash,
    })
    .to_string();
    let queued = store::enqueue_audit_head(&mut tx, HEAD_ROLE, &day, &payload, now).await?;
    tx.commit().await?;
    if queued > 0 {
        app.outbox.notify_one();
    }
    tracing::info!(row = head.id, seq = head.seq, hash = %head.hash, "audit chain head");
    Ok(Some(head))
}

/// Who a use case acts for.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// An authenticated request (API or pages).
    Request(&'a Authenticated),
    /// The operator of the machine: the command line, an import, the demo.
    Operator,
    /// Someone signing in: the account when the name is one (else nobody), never what was typed.
    SignIn {
        user_id: Option<i64>,
        username: Option<&'a str>,
        request_id: &'a str,
    },
}

impl Origin<'_> {
    /// The user recorded as having done it, if a user did.
    pub fn user_id(self) -> Option<i64> {
        match self {
            Origin::Request(who) => Some(who.actor.user_id),
            Origin::Operator => None,
            Origin::SignIn { user_id, .. } => user_id,
        }
    }
}

/// Records an action of an authenticated request, allowed or refused.
pub async fn record(
    conn: &mut Conn,
    who: &Authenticated,
    action: AuditAction,
    household: Option<&str>,
    outcome: AuditOutcome,
    at: Instant,
) -> Result<(), StoreError> {
    record_as(
        conn,
        Origin::Request(who),
        action,
        household,
        outcome,
        None,
        at,
    )
    .await
}

/// Records an action that was allowed, for whoever did it.
pub async fn record_ok(
    conn: &mut Conn,
    origin: Origin<'_>,
    action: AuditAction,
    household: Option<&str>,
    at: Instant,
) -> Result<(), StoreError> {
    record_as(conn, origin, action, household, AuditOutcome::Ok, None, at).await
}

/// Records an action with its outcome and, where it has one, its purpose: why it was done, as a
/// short value that never holds free text (`acknowledge:bijschalen`; a stated reason stays where
/// it was written, encrypted with it, and the purpose names that record).
pub async fn record_as(
    conn: &mut Conn,
    origin: Origin<'_>,
    action: AuditAction,
    household: Option<&str>,
    outcome: AuditOutcome,
    purpose: Option<&str>,
    at: Instant,
) -> Result<(), StoreError> {
    let (actor, request_id) = match origin {
        Origin::Request(who) => (who.actor.username.as_str(), Some(who.request_id.as_str())),
        // The operator of the machine, on its command line.
        Origin::Operator => ("cli", None),
        Origin::SignIn {
            username,
            request_id,
            ..
        } => (username.unwrap_or("(unknown)"), Some(request_id)),
    };
    store::append_audit(
        conn,
        &AuditEntry {
            at,
            actor_id: origin.user_id(),
            actor,
            action: action.as_str(),
            household,
            request_id,
            outcome,
            purpose,
        },
    )
    .await
}
