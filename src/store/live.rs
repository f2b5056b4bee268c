//! How much has happened on what a person's open pages show, as counts that only grow (events and
//! alert transitions are append-only): the live pages compare two readings to see that something
//! changed, without reading what.

use sqlx::Row;

use super::{Conn, QueueOwner, StoreError};
use crate::domain::HouseholdId;

/// The owner's work: how many households they are tied to, and how many alert transitions those
/// households have had (every alert that fires, resolves, is decided on, paused or repeated adds
/// one). Either changes whenever their work queue can.
pub async fn work_changes(conn: &mut Conn, owner: QueueOwner) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM assignments s WHERE s.user_id = $1 AND s.relation = $2) AS households,
                (SELECT COUNT(*) FROM assignments s
                   JOIN alerts a ON a.household_id = s.household_id
                   JOIN alert_transitions t ON t.alert_id = a.id
                 WHERE s.user_id = $1 AND s.relation = $2) AS transitions",
    )
    .bind(owner.user_id)
    .bind(owner.relation.as_str())
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("households")?, row.try_get("transitions")?))
}

/// One household: how many events it has and how many alert transitions.
pub async fn household_changes(
    conn: &mut Conn,
    household: &HouseholdId,
) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM events e WHERE e.household_id = $1) AS events,
                (SELECT COUNT(*) FROM alerts a JOIN alert_transitions t ON t.alert_id = a.id
                 WHERE a.household_id = $1) AS transitions",
    )
    .bind(household.as_str())
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("events")?, row.try_get("transitions")?))
}
