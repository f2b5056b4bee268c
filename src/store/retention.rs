//! Retention (AVG): the closed trajectories and the removal of what is stored about one.

use sqlx::Row;

use super::{Conn, StoreError, Tx, corrupt, parse_stored};
use crate::domain::{HouseholdId, Instant, Region};

/// A closed trajectory not anonymised yet.
#[derive(Debug, Clone)]
pub struct Closed {
    pub household: HouseholdId,
    pub region: Region,
    /// Its last closure (or, without a closure event, its last change).
    pub closed_at: Instant,
    pub events: i64,
    pub alerts: i64,
}

pub async fn closed(conn: &mut Conn) -> Result<Vec<Closed>, StoreError> {
    let rows = sqlx::query(
        "SELECT h.id, h.region,
                COALESCE((SELECT MAX(e.at_ms) FROM events e WHERE e.household_id = h.id AND e.type = 'closure'),
                         h.updated_at_ms) AS closed_ms,
                (SELECT COUNT(*) FROM events e WHERE e.household_id = h.id) AS events,
                (SELECT COUNT(*) FROM alerts a WHERE a.household_id = h.id) AS alerts
         FROM households h WHERE h.status = 'closed' AND h.anonymised_at_ms IS NULL ORDER BY h.id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Closed {
                household: parse_stored("household id", &r.try_get::<String, _>("id")?)?,
                region: parse_stored("region", &r.try_get::<String, _>("region")?)?,
                closed_at: Instant::from_millis(r.try_get("closed_ms")?)
                    .map_err(|e| corrupt("closed_ms", e))?,
                events: r.try_get("events")?,
                alerts: r.try_get("alerts")?,
            })
        })
        .collect()
}

/// Removes what identifies or narrates the household: its events, the reports about it, its
/// break-the-glass reads, assignments, notifications and schedule are deleted; its reference and
/// wijk cleared; its alerts lose their evidence and their decisions' reasons. Its alerts, their
/// transitions and its audit rows are append-only and stay, under the household id alone.
pub async fn anonymise(
    tx: &mut Tx,
    household: &HouseholdId,
    now: Instant,
) -> Result<(), StoreError> {
    let id = household.as_str();
    for sql in [
        "DELETE FROM signal_reports WHERE household_id = $1
            OR reference = (SELECT reference FROM households WHERE id = $1)",
        "DELETE FROM events WHERE household_id = $1",
        "DELETE FROM glass_access WHERE household_id = $1",
        "DELETE FROM assignments WHERE household_id = $1",
        "DELETE FROM notifications WHERE household_id = $1",
        "DELETE FROM household_schedule WHERE household_id = $1",
        "UPDATE alert_transitions SET reason = NULL
         WHERE reason IS NOT NULL AND alert_id IN (SELECT id FROM alerts WHERE household_id = $1)",
        "UPDATE alerts SET evidence = '[]' WHERE household_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut **tx).await?;
    }
    sqlx::query(
        "UPDATE households SET reference = NULL, wijk = NULL, anonymised_at_ms = $1 WHERE id = $2",
    )
    .bind(now.millis())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Saved responses of idempotent requests older than `before` (a retry comes within minutes;
/// these may echo free text of any household).
pub async fn forget_saved_responses(tx: &mut Tx, before: Instant) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at_ms < $1")
            .bind(before.millis())
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}
