//! The append-only audit log. Rows are inserted, never updated or deleted (the database refuses).

use sqlx::Row;

use super::{Conn, StoreError, corrupt};
use crate::domain::Instant;

/// One access to household data or configuration.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub at: Instant,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub household: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub outcome: AuditOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Ok,
    Denied,
}

impl AuditOutcome {
    fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
        }
    }
}

pub async fn append(conn: &mut Conn, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at_ms, actor_id, actor, action, household_id, request_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.at.millis())
    .bind(entry.actor_id)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.household)
    .bind(entry.request_id)
    .bind(entry.outcome.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: Instant,
    pub actor: String,
    pub action: String,
    pub household: Option<String>,
    pub request_id: Option<String>,
    pub outcome: String,
}

/// Newest first, before the id `before`, optionally for one household.
pub async fn list(
    conn: &mut Conn,
    household: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at_ms, actor, action, household_id, request_id, outcome FROM audit_log
         WHERE ($1 = '' OR household_id = $1) AND id < $2
         ORDER BY id DESC LIMIT $3",
    )
    .bind(household.unwrap_or("").to_owned())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditRow {
                id: row.try_get("id")?,
                at: Instant::from_millis(row.try_get("at_ms")?)
                    .map_err(|e| corrupt("audit at", e))?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                household: row.try_get("household_id")?,
                request_id: row.try_get("request_id")?,
                outcome: row.try_get("outcome")?,
            })
        })
        .collect()
}
