//! A person's decision on an alert: acknowledge it with a decision and a reason, or silence it
//! until a date. The rules a decision must meet are checked here, once, for the API and the pages.

use jiff::SignedDuration;

use super::audit::{self, AuditAction, Origin};
use super::{AppError, AppState, Invalid, alerting};
use crate::auth::Authenticated;
use crate::domain::{Decision, FreeText, Instant, LocalDate, Specialism};
use crate::store::{
    self, AlertRow, AlertState, AlertUpdate, AuditOutcome, Transition, TransitionWhy, Tx,
};

/// A silence ends within this many days (a year, leap day included): an alert is never out of
/// sight for longer.
pub const SILENCE_MAX_DAYS: i64 = 366;

/// What is wrong with a decision, field by field; each adapter words it for its people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// `specialist_consult` without the specialism consulted.
    SpecialismMissing,
    /// A specialism with any other decision.
    SpecialismNotAllowed,
    /// A silence that ends today or earlier.
    UntilNotAfterToday,
    /// A silence longer than [`SILENCE_MAX_DAYS`].
    UntilTooFar,
}

impl Problem {
    pub fn field(self) -> &'static str {
        match self {
            Problem::SpecialismMissing | Problem::SpecialismNotAllowed => "specialism",
            Problem::UntilNotAfterToday | Problem::UntilTooFar => "until",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Problem::SpecialismMissing => "required with decision specialist_consult",
            Problem::SpecialismNotAllowed => "only with decision specialist_consult",
            Problem::UntilNotAfterToday => "must be a date after today",
            Problem::UntilTooFar => "must be at most a year ahead",
        }
    }
}

impl From<Problem> for Invalid {
    fn from(p: Problem) -> Self {
        Invalid::new(p.field(), p.message())
    }
}

/// A specialism goes with a specialist consult, and only with it.
pub fn check_acknowledgement(
    decision: Decision,
    specialism: Option<Specialism>,
) -> Result<(), Problem> {
    match (decision, specialism) {
        (Decision::SpecialistConsult, None) => Err(Problem::SpecialismMissing),
        (d, Some(_)) if d != Decision::SpecialistConsult => Err(Problem::SpecialismNotAllowed),
        _ => Ok(()),
    }
}

/// A silence ends after today and within [`SILENCE_MAX_DAYS`].
pub fn check_silence(until: LocalDate, now: Instant) -> Result<(), Problem> {
    let end = until.start();
    let latest = Instant::from_timestamp(
        now.timestamp() + SignedDuration::from_hours(24 * SILENCE_MAX_DAYS),
    );
    if end <= now {
        Err(Problem::UntilNotAfterToday)
    } else if end > latest {
        Err(Problem::UntilTooFar)
    } else {
        Ok(())
    }
}

/// What a person decided on an alert.
#[derive(Debug, Clone)]
pub enum Input {
    /// Acknowledge it with a decision and a reason.
    Acknowledge {
        decision: Decision,
        specialism: Option<Specialism>,
        reason: FreeText,
    },
    /// Silence it until the start of `until`, with a reason.
    Silence { reason: FreeText, until: LocalDate },
}

impl Input {
    /// The rules the input must meet, whatever the alert.
    pub fn check(&self, now: Instant) -> Result<(), Problem> {
        match self {
            Input::Acknowledge {
                decision,
                specialism,
                ..
            } => check_acknowledgement(*decision, *specialism),
            Input::Silence { until, .. } => check_silence(*until, now),
        }
    }

    /// What the audit log calls it.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            Input::Acknowledge { .. } => AuditAction::AlertAcknowledge,
            Input::Silence { .. } => AuditAction::AlertSilence,
        }
    }
}

/// Records, at `now`, a decision on an alert the actor may decide on (checked by the caller in
/// this transaction).
pub async fn decide(
    app: &AppState,
    tx: &mut Tx,
    who: &Authenticated,
    alert: &AlertRow,
    input: &Input,
    now: Instant,
) -> Result<AlertRow, AppError> {
    input
        .check(now)
        .map_err(|p| AppError::Invalid(vec![p.into()]))?;
    let transition = match input {
        Input::Acknowledge {
            decision,
            specialism,
            reason,
        } => Transition {
            to: Some(AlertState::Acknowledged),
            why: TransitionWhy::Acknowledged,
            decision: Some(decision.as_str().to_owned()),
            specialism: specialism.map(|s| s.as_str().to_owned()),
            reason: Some(reason.as_str().to_owned()),
            ..Transition::default()
        },
        Input::Silence { reason, until } => Transition {
            to: Some(AlertState::Silenced),
            why: TransitionWhy::Silenced,
            reason: Some(reason.as_str().to_owned()),
            silenced_until: Some(until.start()),
            ..Transition::default()
        },
    };
    record(app, tx, who, alert, transition, input.audit_action(), now).await
}

/// Applies the decision: refuses a resolved alert and silencing a one-shot, records the
/// transition with who and when, audits it, and re-evaluates the household (the silence's end
/// becomes a due time).
async fn record(
    app: &AppState,
    tx: &mut Tx,
    who: &Authenticated,
    alert: &AlertRow,
    mut transition: Transition,
    audit_action: AuditAction,
    now: Instant,
) -> Result<AlertRow, AppError> {
    let current = store::alert(tx, alert.id)
        .await?
        .ok_or(AppError::NotFound("alert"))?;
    let to = transition.to.unwrap_or(AlertState::Firing);
    if current.state == AlertState::Resolved {
        return Err(AppError::Conflict(
            "the alert is resolved: its condition no longer holds".into(),
        ));
    }
    if current.one_shot && to == AlertState::Silenced {
        return Err(AppError::Conflict(
            "a one-shot alert cannot be silenced; acknowledge it".into(),
        ));
    }
    transition.from = Some(current.state);
    transition.actor_id = Some(who.actor.user_id);
    transition.actor = who.actor.username.clone();
    let update = AlertUpdate {
        state: to,
        firing: None,
        fired_at: None,
        resolved_at: None,
        silenced_until: transition.silenced_until,
    };
    store::update_alert(tx, current.id, &update, now).await?;
    store::append_transition(tx, app.db.keys(), current.id, &transition, now).await?;
    alerting::reconcile(tx, app.db.keys(), &app.rules(), &current.household, now).await?;
    // Audited last: on PostgreSQL the append holds the audit chain's head until the commit, so
    // nothing after it may wait on a row another writer holds while it waits for the head.
    // The why: the decision taken on which alert; its reason stays with the alert's transition.
    let purpose = format!(
        "alert:{}:{}",
        current.id,
        transition.decision.as_deref().unwrap_or("silence")
    );
    audit::record_as(
        tx,
        Origin::Request(who),
        audit_action,
        Some(current.household.as_str()),
        AuditOutcome::Ok,
        Some(&purpose),
        now,
    )
    .await?;
    store::alert(tx, current.id)
        .await?
        .ok_or(AppError::NotFound("alert"))
}
