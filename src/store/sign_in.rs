//! Failed sign-ins per key (an account name or a client address, hashed), for throttling.

use sqlx::Row;

use super::{Conn, StoreError, Tx};
use crate::domain::Instant;

/// What is known of a key's recent failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub blocked_until: i64,
}

/// The failures of `key` since `since` (epoch ms); older ones are forgotten.
pub async fn failures(conn: &mut Conn, key: &str, since: Instant) -> Result<Failures, StoreError> {
    let row = sqlx::query(
        "SELECT failures, blocked_until_ms FROM sign_in_failures WHERE key = $1 AND last_failure_ms >= $2",
    )
    .bind(key)
    .bind(since.millis())
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(r) => Failures {
            count: r.try_get("failures")?,
            blocked_until: r.try_get("blocked_until_ms")?,
        },
        None => Failures {
            count: 0,
            blocked_until: 0,
        },
    })
}

/// Counts one more failure of `key` at `now` (starting again from one when the last was before
/// `since`); returns the new count. Atomic, also between instances.
pub async fn add_failure(
    tx: &mut Tx,
    key: &str,
    now: Instant,
    since: Instant,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sign_in_failures (key, failures, last_failure_ms, blocked_until_ms) VALUES ($1, 1, $2, 0)
         ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN sign_in_failures.last_failure_ms < $3 THEN 1 ELSE sign_in_failures.failures + 1 END,
             last_failure_ms = $2
         RETURNING failures",
    )
    .bind(key)
    .bind(now.millis())
    .bind(since.millis())
    .fetch_one(&mut **tx)
    .await?)
}

/// Refuses sign-ins of `key` until `until`.
pub async fn block(tx: &mut Tx, key: &str, until: Instant) -> Result<(), StoreError> {
    sqlx::query("UPDATE sign_in_failures SET blocked_until_ms = $1 WHERE key = $2")
        .bind(until.millis())
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Forgets the failures of `key` (a successful sign-in, or an admin's unlock); whether there were any.
pub async fn clear(conn: &mut Conn, key: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
        .bind(key)
        .execute(conn)
        .await?
        .rows_affected()
        > 0)
}
