//! Live pages: a signed-in person's open page learns *that* something it shows has changed (their
//! unread count, their work queue, the household on screen), never what. Opening a watch is checked
//! and audited like the read it follows; the readings after that are not audited one by one.

use super::audit::AuditAction;
use super::{AppError, AppState, access};
use crate::auth::Authenticated;
use crate::auth::policy::{self, Action};
use crate::domain::HouseholdId;
use crate::store::{self, Conn, QueueOwner, StoreError};

/// What one open page watches.
#[derive(Debug, Clone)]
pub struct Watch {
    user_id: i64,
    /// The person's work queue, for those who have one.
    work: Option<QueueOwner>,
    /// The household on screen, if any.
    household: Option<HouseholdId>,
}

/// A reading of what a watch covers, as counts of things the person may see (never their
/// content): two readings differ when something changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Unread notifications: the count in the header.
    pub unread: i64,
    /// The work queue: households and alert transitions on them.
    pub work: (i64, i64),
    /// The household on screen: events and alert transitions.
    pub household: (i64, i64),
}

/// Starts watching for `who`, and the household `household` (as asked: it is checked like a
/// household read) when given. A household the person may not read is refused, audited, and
/// answered as not found. The watch is audited once, here.
pub async fn watch(
    app: &AppState,
    who: &Authenticated,
    household: Option<&str>,
) -> Result<Watch, AppError> {
    let mut conn = app.db.acquire().await?;
    let household = match household {
        None => None,
        Some(raw) => {
            match access::household(
                &mut conn,
                who,
                raw,
                Action::ReadHousehold,
                AuditAction::LiveOpen,
            )
            .await?
            {
                Ok(id) => Some(id),
                Err(refusal) => {
                    drop(conn);
                    return Err(refusal.audit(app, who).await);
                }
            }
        }
    };
    app.audit(
        &mut conn,
        who,
        AuditAction::LiveOpen,
        household.as_ref().map(HouseholdId::as_str),
    )
    .await?;
    Ok(Watch {
        user_id: who.actor.user_id,
        work: policy::working_relation(&who.actor).map(|relation| QueueOwner {
            user_id: who.actor.user_id,
            relation,
        }),
        household,
    })
}

impl Watch {
    /// Reads what the watch covers now. `None` once the person may no longer read the household
    /// on screen (its assignments changed): the watch is over.
    pub async fn snapshot(
        &self,
        conn: &mut Conn,
        who: &Authenticated,
    ) -> Result<Option<Snapshot>, StoreError> {
        let mut snapshot = Snapshot {
            unread: store::notify::unread_count(conn, super::notify::reader(&who.actor)).await?,
            ..Snapshot::default()
        };
        if let Some(owner) = self.work {
            snapshot.work = store::work_changes(conn, owner).await?;
        }
        if let Some(id) = &self.household {
            let relations = store::relation_of(conn, id.as_str(), self.user_id).await?;
            if !policy::allows(&who.actor, Action::ReadHousehold, &relations) {
                return Ok(None);
            }
            snapshot.household = store::household_changes(conn, id).await?;
        }
        Ok(Some(snapshot))
    }

    pub fn household(&self) -> Option<&HouseholdId> {
        self.household.as_ref()
    }
}
