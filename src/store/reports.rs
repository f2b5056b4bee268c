//! Concerns reported by signal reporters (*ogen en oren*), by household reference. Every report is
//! kept, matched to a household or not, so nothing a reporter sends is lost.

use super::{StoreError, Tx};
use crate::domain::{HouseholdId, Instant, Reference};

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub receipt: String,
    pub received_at: Instant,
}

pub async fn insert_report(
    tx: &mut Tx,
    receipt: &str,
    reporter_id: i64,
    reference: &Reference,
    matched: Option<(&HouseholdId, i64)>,
    payload: &str,
    now: Instant,
) -> Result<ReportRow, StoreError> {
    sqlx::query(
        "INSERT INTO signal_reports (receipt, reporter_id, reference, household_id, event_id, payload, received_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(receipt)
    .bind(reporter_id)
    .bind(reference.as_str())
    .bind(matched.map(|(h, _)| h.as_str().to_owned()))
    .bind(matched.map(|(_, event)| event))
    .bind(payload)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(ReportRow {
        receipt: receipt.to_owned(),
        received_at: now,
    })
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
