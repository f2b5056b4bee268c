//! Access checks as every adapter makes them: the policy answers, and every refusal is audited. A
//! refused household reads exactly like one that does not exist.

use super::audit::{self, AuditAction};
use super::{AppError, AppState};
use crate::auth::Authenticated;
use crate::auth::policy::{self, Action};
use crate::domain::{HouseholdId, Relation};
use crate::store::{self, AlertRow, AuditOutcome, Conn, StoreError};

/// A refused access, still to be audited. It is audited in a connection of its own, so the caller
/// first drops any write transaction it holds (on SQLite that holds the only write lock).
#[must_use = "a refusal is audited: call `audit` once the write transaction is dropped"]
#[derive(Debug)]
pub struct Refusal {
    household: String,
    audit_action: AuditAction,
    answer: Answer,
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    NotFound(&'static str),
    Forbidden,
    /// The household exists, but is not the actor's to know more of.
    Known,
}

/// What someone who may not read a household is told when they register it again, by its id or
/// its reference alike: that zicht knows it, and nothing else (not whose it is, nor which of the
/// two matched). DESIGN.md section 1: a known household is joined, not duplicated.
pub const KNOWN: &str = "this household is already known to zicht (by its id or its reference); \
                         ask its regisseur to add you to it";

impl Refusal {
    /// Writes the refusal to the audit log and returns the answer for the actor.
    pub async fn audit(self, app: &AppState, who: &Authenticated) -> AppError {
        let household = Some(self.household.as_str()).filter(|h| !h.is_empty());
        let recorded = async {
            let mut conn = app.db.acquire().await?;
            audit::record(
                &mut conn,
                who,
                self.audit_action,
                household,
                AuditOutcome::Denied,
                app.clock.now(),
            )
            .await
        };
        match (recorded.await, self.answer) {
            (Err(e), _) => e.into(),
            (Ok(()), Answer::NotFound(what)) => AppError::NotFound(what),
            (Ok(()), Answer::Forbidden) => AppError::Forbidden,
            (Ok(()), Answer::Known) => AppError::Conflict(KNOWN.to_owned()),
        }
    }
}

/// The actor's ties to a household at the time of the request: its assignments, and a
/// break-the-glass read while it lasts ([`Relation::Glass`]).
pub async fn relations(
    conn: &mut Conn,
    who: &Authenticated,
    household: &str,
) -> Result<Vec<Relation>, StoreError> {
    let mut relations = store::relation_of(conn, household, who.actor.user_id).await?;
    if policy::allows(&who.actor, Action::BreakGlass, &[])
        && store::glass::holds(conn, who.actor.user_id, household, who.at).await?
    {
        relations.push(Relation::Glass);
    }
    Ok(relations)
}

/// The household `raw_id` when the actor may do `action` on it, reading the assignments through
/// `conn` (a write checks inside its own transaction). Refused, and for a household that does not
/// exist alike, the answer will be "household not found".
pub async fn household(
    conn: &mut Conn,
    who: &Authenticated,
    raw_id: &str,
    action: Action,
    audit_action: AuditAction,
) -> Result<Result<HouseholdId, Refusal>, StoreError> {
    let refusal = |household: &str| not_found(household, audit_action);
    // Not an id at all (a NUL byte, a page of text): nothing to look up, and nothing the audit
    // log could hold as a household.
    let Ok(id) = raw_id.parse::<HouseholdId>() else {
        return Ok(Err(refusal("")));
    };
    let relations = relations(conn, who, id.as_str()).await?;
    if !policy::allows(&who.actor, action, &relations) {
        return Ok(Err(refusal(id.as_str())));
    }
    // A role allowed without a tie (an admin) is still told of no household that is not there.
    if relations.is_empty() && store::household(conn, &id).await?.is_none() {
        return Ok(Err(refusal(id.as_str())));
    }
    Ok(Ok(id))
}

/// The alert `id` when the actor may do `action` on its household. An alert on a household they
/// may not read is "alert not found"; one they may read but not act on (a casemanager deciding
/// on an alert) is forbidden.
pub async fn alert(
    conn: &mut Conn,
    who: &Authenticated,
    id: i64,
    action: Action,
    audit_action: AuditAction,
) -> Result<Result<AlertRow, Refusal>, StoreError> {
    let alert = store::alert(conn, id).await?;
    let household = alert
        .as_ref()
        .map(|a| a.household.to_string())
        .unwrap_or_default();
    let relations = relations(conn, who, &household).await?;
    let refusal = |answer| Refusal {
        household: household.clone(),
        audit_action,
        answer,
    };
    Ok(match alert {
        Some(a) if policy::allows(&who.actor, action, &relations) => Ok(a),
        Some(_) if policy::allows(&who.actor, Action::ReadHousehold, &relations) => {
            // They see the alert, so saying it does not exist would be a lie: refuse plainly.
            Err(refusal(Answer::Forbidden))
        }
        _ => Err(refusal(Answer::NotFound("alert"))),
    })
}

/// Checks an action that is not about one household; a refusal is audited and answered with
/// [`AppError::Forbidden`].
pub async fn require(
    app: &AppState,
    who: &Authenticated,
    action: Action,
    audit_action: AuditAction,
) -> Result<(), AppError> {
    if policy::allows(&who.actor, action, &[]) {
        return Ok(());
    }
    Err(forbidden(audit_action).audit(app, who).await)
}

/// A registration of a household that exists and that the actor may not read.
pub fn known(household: &HouseholdId) -> Refusal {
    Refusal {
        household: household.as_str().to_owned(),
        audit_action: AuditAction::HouseholdCreate,
        answer: Answer::Known,
    }
}

/// A refusal that answers "household not found", for a household the actor may not reach.
pub fn not_found(household: &str, audit_action: AuditAction) -> Refusal {
    Refusal {
        household: household.to_owned(),
        audit_action,
        answer: Answer::NotFound("household"),
    }
}

/// A refusal of an action that is not about one household.
pub fn forbidden(audit_action: AuditAction) -> Refusal {
    Refusal {
        household: String::new(),
        audit_action,
        answer: Answer::Forbidden,
    }
}
