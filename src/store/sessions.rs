//! Web sign-in: password hashes and sessions.

use sqlx::Row;

use super::users::{UserRow, user, user_row};
use super::{Conn, StoreError};
use crate::domain::Instant;

pub async fn set_password_hash(
    conn: &mut Conn,
    user_id: i64,
    hash: &str,
) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// The active user with this name and their password hash, if they have one: one query, so a
/// known name costs the database what an unknown one does.
pub async fn password_hash(
    conn: &mut Conn,
    username: &str,
) -> Result<Option<(UserRow, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, username, role, gemeente, region, active, created_at_ms, password_hash
         FROM users WHERE username = $1 AND active = 1 AND password_hash IS NOT NULL",
    )
    .bind(username)
    .fetch_optional(conn)
    .await?;
    match row {
        Some(r) => Ok(Some((user_row(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

pub async fn create_session(
    conn: &mut Conn,
    id_hash: &str,
    user_id: i64,
    csrf: &str,
    now: Instant,
    expires: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now.millis())
    .bind(expires.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The user of a session that has not expired, and its CSRF token.
pub async fn session(
    conn: &mut Conn,
    id_hash: &str,
    now: Instant,
) -> Result<Option<(UserRow, String)>, StoreError> {
    let row =
        sqlx::query("SELECT user_id, csrf FROM sessions WHERE id_hash = $1 AND expires_at_ms > $2")
            .bind(id_hash)
            .bind(now.millis())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let csrf: String = row.try_get("csrf")?;
    match user(conn, row.try_get("user_id")?).await? {
        Some(u) if u.active => Ok(Some((u, csrf))),
        _ => Ok(None),
    }
}

/// Ends every session of a user (a new password, a deactivation); how many there were.
pub async fn end_sessions_of(conn: &mut Conn, user_id: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn end_session(conn: &mut Conn, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}
