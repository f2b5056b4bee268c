//! `zicht import FILE`: households and their events from JSON Lines in the interchange format.
//! The whole file is parsed first (an error names its line, and nothing is stored); then each
//! household is stored in one transaction with its events and evaluated at once, so a household is
//! either imported whole or not at all.

use super::alerting;
use super::audit::{self, AuditAction};
use crate::domain::Instant;
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

/// Parses the whole text, or says which line is wrong.
pub fn parse(text: &str) -> Result<Vec<History>, ImportError> {
    crate::rules::tests::histories(text).map_err(ImportError::Parse)
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
