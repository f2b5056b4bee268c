//! Concerns reported by signal reporters (*ogen en oren*), by household reference. Every report is
//! kept, matched to a household or not, so nothing a reporter sends is lost. A report is stored
//! first and matched afterwards ([`unchecked`], [`claim`], [`matched`]).

use sqlx::Row;

use super::crypt::{Keys, Owner};
use super::{Conn, StoreError, Tx};
use crate::domain::{HouseholdId, Instant, Reference};

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub receipt: String,
    pub received_at: Instant,
}

pub async fn insert_report(
    tx: &mut Tx,
    keys: &Keys,
    receipt: &str,
    reporter_id: i64,
    reference: &Reference,
    payload: &str,
    now: Instant,
) -> Result<ReportRow, StoreError> {
    let payload = keys.seal(Owner::Report(reference.as_str()), payload)?;
    sqlx::query(
        "INSERT INTO signal_reports (receipt, reporter_id, reference, payload, received_at_ms)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(receipt)
    .bind(reporter_id)
    .bind(reference.as_str())
    .bind(payload)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(ReportRow {
        receipt: receipt.to_owned(),
        received_at: now,
    })
}

/// A report whose household is still to be looked up.
#[derive(Debug, Clone)]
pub struct UncheckedReport {
    pub receipt: String,
    pub reporter_id: i64,
    pub reference: String,
    pub payload: String,
}

/// The oldest reports not matched yet, at most `limit`.
pub async fn unchecked(
    conn: &mut Conn,
    keys: &Keys,
    limit: i64,
) -> Result<Vec<UncheckedReport>, StoreError> {
    let rows = sqlx::query(
        "SELECT receipt, reporter_id, reference, payload FROM signal_reports
         WHERE checked_at_ms IS NULL ORDER BY received_at_ms, receipt LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let reference: String = r.try_get("reference")?;
            let payload = keys.open(
                Owner::Report(&reference),
                &r.try_get::<String, _>("payload")?,
            )?;
            Ok(UncheckedReport {
                receipt: r.try_get("receipt")?,
                reporter_id: r.try_get("reporter_id")?,
                reference,
                payload,
            })
        })
        .collect()
}

/// Takes a report to match in this transaction; `false` when another worker has it already
/// (its update holds the row until it commits, then this one finds it checked).
pub async fn claim(tx: &mut Tx, receipt: &str, now: Instant) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE signal_reports SET checked_at_ms = $1 WHERE receipt = $2 AND checked_at_ms IS NULL",
    )
    .bind(now.millis())
    .bind(receipt)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Notes the household and the signal a report became.
pub async fn matched(
    tx: &mut Tx,
    receipt: &str,
    household: &HouseholdId,
    event: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE signal_reports SET household_id = $1, event_id = $2 WHERE receipt = $3")
        .bind(household.as_str())
        .bind(event)
        .bind(receipt)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The household with this reference, if any.
pub async fn household_by_reference(
    tx: &mut Tx,
    reference: &Reference,
) -> Result<Option<HouseholdId>, StoreError> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM households WHERE reference = $1")
        .bind(reference.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    id.map(|id| super::parse_stored("household id", &id))
        .transpose()
}

/// The reports matched to `household`, as (receipt, what the reporter sent), oldest first.
pub async fn of_household(
    conn: &mut Conn,
    keys: &Keys,
    household: &HouseholdId,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT receipt, reference, payload FROM signal_reports WHERE household_id = $1
         ORDER BY received_at_ms, receipt",
    )
    .bind(household.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let reference: String = r.try_get("reference")?;
            let payload = keys.open(
                Owner::Report(&reference),
                &r.try_get::<String, _>("payload")?,
            )?;
            Ok((r.try_get("receipt")?, payload))
        })
        .collect()
}
