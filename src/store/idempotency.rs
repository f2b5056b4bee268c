//! Idempotency keys: a retried creating request returns the first response and stores nothing new.
//!
//! The key is claimed first thing in the request's write transaction. A concurrent request with
//! the same key waits on the claim (PostgreSQL's unique index, SQLite's single writer) and then
//! sees the saved response of the first; when the first rolls back, the second does the work.

use super::crypt::{Keys, Owner};
use sqlx::Row;

use super::{StoreError, Tx};
use crate::domain::Instant;

#[derive(Debug, Clone)]
pub struct SavedResponse {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

#[derive(Debug)]
pub enum IdempotencyClaim {
    /// The key is new: do the work and save the response in this transaction.
    Claimed,
    /// The same request ran before: answer with what it answered.
    Replay(SavedResponse),
    /// The key was used for a different request.
    Mismatch,
}

pub async fn claim(
    tx: &mut Tx,
    keys: &Keys,
    user_id: i64,
    key: &str,
    request_hash: &str,
    now: Instant,
) -> Result<IdempotencyClaim, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(IdempotencyClaim::Claimed);
    }
    let row = sqlx::query("SELECT request_hash, status, location, body FROM idempotency_keys WHERE user_id = $1 AND key = $2")
        .bind(user_id)
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
    if row.try_get::<String, _>("request_hash")? != request_hash {
        return Ok(IdempotencyClaim::Mismatch);
    }
    let status: Option<i64> = row.try_get("status")?;
    let body: Option<String> = row.try_get("body")?;
    match (status, body) {
        (Some(status), Some(body)) => Ok(IdempotencyClaim::Replay(SavedResponse {
            status: u16::try_from(status).map_err(|e| super::corrupt("idempotency status", e))?,
            location: row.try_get("location")?,
            body: keys.open(Owner::Idempotency(user_id, key), &body)?,
        })),
        // The claim and its response are written in one transaction, so a visible claim always has
        // its response.
        _ => Err(super::corrupt(
            "idempotency key",
            "claimed without a response",
        )),
    }
}

pub async fn save(
    tx: &mut Tx,
    keys: &Keys,
    user_id: i64,
    key: &str,
    response: &SavedResponse,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE idempotency_keys SET status = $1, location = $2, body = $3 WHERE user_id = $4 AND key = $5")
        .bind(i64::from(response.status))
        .bind(response.location.as_deref())
        .bind(keys.seal(Owner::Idempotency(user_id, key), &response.body)?)
        .bind(user_id)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
