//! Bulk writes of events with their identity (bulk import and the system feed): what a household
//! has stored under which identity, and many events in few statements.

use std::fmt::Write as _;

use super::alerts::{ALERT_COLUMNS_OF_A, alert_row};
use super::crypt::{self, Keys};
use super::{AlertRow, Conn, StoreError, Tx};
use crate::domain::{Event, HouseholdId, Instant, TrajectoryStatus};

/// The identities stored for a household's events (events recorded one at a time have none).
pub async fn identities(
    conn: &mut Conn,
    household: &HouseholdId,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT identity FROM events WHERE household_id = $1 AND identity IS NOT NULL",
    )
    .bind(household.as_str())
    .fetch_all(conn)
    .await?)
}

/// Rows per statement: 8 parameters each, far below SQLite's 32,766 and PostgreSQL's 65,535.
const CHUNK: usize = 500;

/// Appends events with their identities to one household (which must exist) and returns how many
/// were new: an identity stored already is skipped, so a resent event is stored once. The
/// household's status is the caller's (`set_status`).
pub async fn insert_events(
    tx: &mut Tx,
    keys: &Keys,
    household: &HouseholdId,
    events: &[(String, &Event)],
    recorded_by: Option<i64>,
    now: Instant,
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for chunk in events.chunks(CHUNK) {
        // Only the placeholders are generated; every value is bound.
        let mut sql = String::from(
            "INSERT INTO events (household_id, type, at_ms, signal_kind, payload, recorded_at_ms, recorded_by, identity) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 8;
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(
                sql,
                "{sep}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8
            );
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (identity, event) in chunk {
            let signal_kind = match event {
                Event::Signal(s) => Some(s.kind.as_str()),
                _ => None,
            };
            let payload = crypt::seal_event(keys, event)?;
            query = query
                .bind(household.as_str())
                .bind(event.type_name())
                .bind(event.at().millis())
                .bind(signal_kind)
                .bind(payload)
                .bind(now.millis())
                .bind(recorded_by)
                .bind(identity.as_str());
        }
        inserted += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

/// Sets whether the household's trajectory is open or closed, as its events now say.
pub async fn set_status(
    tx: &mut Tx,
    household: &HouseholdId,
    status: TrajectoryStatus,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE households SET status = $1, updated_at_ms = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now.millis())
        .bind(household.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every alert of a household, state alerts and one-shots, oldest first (for an export).
pub async fn alerts(conn: &mut Conn, household: &HouseholdId) -> Result<Vec<AlertRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS_OF_A} FROM alerts a WHERE a.household_id = $1 ORDER BY a.fired_at_ms, a.id"
    ));
    let rows = sqlx::query(sql)
        .bind(household.as_str())
        .fetch_all(conn)
        .await?;
    rows.iter().map(alert_row).collect()
}
