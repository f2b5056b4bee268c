//! `zicht import FILE`: households and their events from JSON Lines in the interchange format.
//! The whole file is parsed first (an error names its line, and nothing is stored); then each
//! household is stored in one transaction with its events and evaluated at once, so a household is
//! either imported whole or not at all. Every event is dated as [`events::dating_problem`] asks
//! (nothing in the future, the work of a trajectory not before it opened; signals may precede
//! it); the free text a recorded event needs is not asked of history from elsewhere.

use super::audit::{self, AuditAction};
use super::{alerting, events};
use crate::domain::{Event, Instant, Trajectory};
use crate::engine::History;
use crate::rules::RuleSet;
use crate::store::{self, Db, NewHouseholdError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Parse(String),
    #[error("household `{0}` exists already; import only adds new households")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses the whole text and checks when each event is dated, or says what is wrong where.
pub fn parse(text: &str, now: Instant) -> Result<Vec<History>, ImportError> {
    let histories = crate::rules::tests::histories(text).map_err(ImportError::Parse)?;
    for h in &histories {
        dated(h, now).map_err(ImportError::Parse)?;
    }
    Ok(histories)
}

/// Whether every event of the history is dated as a recorded one must be, taken in time order.
fn dated(h: &History, now: Instant) -> Result<(), String> {
    let id = &h.household.id;
    let mut trajectory = Trajectory::opening(&h.household);
    let opening = Event::Household(h.household.clone());
    if let Some(p) = events::dating_problem(&opening, trajectory, now) {
        return Err(format!("household `{id}`: {}: {}", p.field(), p.message()));
    }
    let mut sorted: Vec<&Event> = h.events.iter().collect();
    sorted.sort_by_key(|e| e.at());
    for event in sorted {
        if let Some(p) = events::dating_problem(event, trajectory, now) {
            return Err(format!(
                "household `{id}`, {} at {}: {}: {}",
                event.type_name(),
                event.at().to_wire(),
                p.field(),
                p.message()
            ));
        }
        trajectory = trajectory.after(event);
    }
    Ok(())
}

/// Stores the households and their events, evaluating each at `now`; `progress(done, total)` is
/// called after each household. Returns the number of events stored.
pub async fn import(
    db: &Db,
    rules: &RuleSet,
    histories: &[History],
    now: Instant,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, ImportError> {
    let mut events = 0;
    for (done, h) in histories.iter().enumerate() {
        let mut tx = db.begin_write().await?;
        match store::create_household(&mut tx, &h.household, now).await {
            Ok(_) => {}
            Err(NewHouseholdError::IdTaken | NewHouseholdError::ReferenceTaken) => {
                return Err(ImportError::Exists(h.household.id.to_string()));
            }
            Err(NewHouseholdError::Store(e)) => return Err(e.into()),
        }
        for event in &h.events {
            store::insert_event(&mut tx, event, None, now)
                .await
                .map_err(|e| match e {
                    store::InsertEventError::Store(e) => ImportError::Store(e),
                    other => ImportError::Parse(format!("household `{}`: {other}", h.household.id)),
                })?;
        }
        alerting::reconcile(&mut tx, rules, &h.household.id, now).await?;
        audit::record_ok(
            &mut tx,
            audit::Origin::Operator,
            AuditAction::HouseholdCreate,
            Some(h.household.id.as_str()),
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        events += h.events.len();
        progress(done + 1, histories.len());
    }
    Ok(events)
}
