//! Users and their API tokens. Tokens are stored only as SHA-256 hashes.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Conn, StoreError, Tx, flag, parse_stored};
use crate::domain::{Instant, PlaceName, Region, Role};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub gemeente: Option<PlaceName>,
    pub region: Option<Region>,
    pub active: bool,
    pub created_at: Instant,
}

pub(super) fn user_row(row: &AnyRow) -> Result<UserRow, StoreError> {
    let gemeente: Option<String> = row.try_get("gemeente")?;
    let region: Option<String> = row.try_get("region")?;
    Ok(UserRow {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: parse_stored("role", &row.try_get::<String, _>("role")?)?,
        gemeente: gemeente.map(|g| parse_stored("gemeente", &g)).transpose()?,
        region: region.map(|r| parse_stored("region", &r)).transpose()?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: Instant::from_millis(row.try_get("created_at_ms")?)
            .map_err(|e| super::corrupt("created_at", e))?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum NewUserError {
    #[error("username is taken")]
    UsernameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn create_user(
    tx: &mut Tx,
    username: &str,
    role: Role,
    gemeente: Option<&PlaceName>,
    region: Option<Region>,
    now: Instant,
) -> Result<UserRow, NewUserError> {
    let row = sqlx::query(
        "INSERT INTO users (username, role, gemeente, region, active, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, username, role, gemeente, region, active, created_at_ms",
    )
    .bind(username)
    .bind(role.as_str())
    .bind(gemeente.map(|g| g.as_str().to_owned()))
    .bind(region.map(|r| r.as_str()))
    .bind(flag(true))
    .bind(now.millis())
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from)
    .map_err(|e| {
        if e.is_unique_violation() {
            NewUserError::UsernameTaken
        } else {
            NewUserError::Store(e)
        }
    })?;
    Ok(user_row(&row)?)
}

pub async fn user(conn: &mut Conn, id: i64) -> Result<Option<UserRow>, StoreError> {
    sqlx::query("SELECT id, username, role, gemeente, region, active, created_at_ms FROM users WHERE id = $1").bind(id).fetch_optional(conn).await?.as_ref().map(user_row).transpose()
}

pub async fn find_user_by_name(
    conn: &mut Conn,
    username: &str,
) -> Result<Option<UserRow>, StoreError> {
    sqlx::query("SELECT id, username, role, gemeente, region, active, created_at_ms FROM users WHERE username = $1").bind(username).fetch_optional(conn).await?.as_ref().map(user_row).transpose()
}

/// Users ordered by id, after `after`, at most `limit`.
pub async fn list_users(
    conn: &mut Conn,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    let rows = sqlx::query("SELECT id, username, role, gemeente, region, active, created_at_ms FROM users WHERE id > $1 ORDER BY id LIMIT $2").bind(after.unwrap_or(0)).bind(limit).fetch_all(conn).await?;
    rows.iter().map(user_row).collect()
}

/// The active user holding the unrevoked, unexpired token with this hash.
pub async fn user_by_token_hash(
    conn: &mut Conn,
    token_hash: &str,
    now: Instant,
) -> Result<Option<UserRow>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.role, u.gemeente, u.region, u.active, u.created_at_ms
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at_ms IS NULL AND t.expires_at_ms > $2 AND u.active = 1",
    )
    .bind(token_hash)
    .bind(now.millis())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_row).transpose()
}

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Instant,
    pub expires_at: Instant,
    pub revoked_at: Option<Instant>,
}

fn token_row(row: &AnyRow) -> Result<TokenRow, StoreError> {
    let revoked: Option<i64> = row.try_get("revoked_at_ms")?;
    Ok(TokenRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        created_at: Instant::from_millis(row.try_get("created_at_ms")?)
            .map_err(|e| super::corrupt("token", e))?,
        expires_at: Instant::from_millis(
            row.try_get::<Option<i64>, _>("expires_at_ms")?.unwrap_or(0),
        )
        .map_err(|e| super::corrupt("token", e))?,
        revoked_at: revoked
            .map(Instant::from_millis)
            .transpose()
            .map_err(|e| super::corrupt("token", e))?,
    })
}

pub async fn create_token(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    token_hash: &str,
    now: Instant,
    expires: Instant,
) -> Result<TokenRow, StoreError> {
    let row = sqlx::query(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, user_id, name, created_at_ms, expires_at_ms, revoked_at_ms",
    )
    .bind(user_id)
    .bind(name)
    .bind(token_hash)
    .bind(now.millis())
    .bind(expires.millis())
    .fetch_one(&mut **tx)
    .await?;
    token_row(&row)
}

pub async fn list_tokens(conn: &mut Conn, user_id: i64) -> Result<Vec<TokenRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, created_at_ms, expires_at_ms, revoked_at_ms FROM api_tokens WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(token_row).collect()
}

/// Revokes a token; returns it, or `None` when there is no such token. Revoking twice keeps the
/// first revocation time.
pub async fn revoke_token(
    tx: &mut Tx,
    token_id: i64,
    now: Instant,
) -> Result<Option<TokenRow>, StoreError> {
    sqlx::query("UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL")
        .bind(now.millis())
        .bind(token_id)
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query(
        "SELECT id, user_id, name, created_at_ms, expires_at_ms, revoked_at_ms FROM api_tokens WHERE id = $1",
    )
    .bind(token_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(token_row).transpose()
}

/// How many unrevoked, unexpired tokens `user_id` holds besides `except`.
pub async fn other_valid_tokens(
    conn: &mut Conn,
    user_id: i64,
    except: i64,
    now: Instant,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_tokens
         WHERE user_id = $1 AND id <> $2 AND revoked_at_ms IS NULL AND expires_at_ms > $3",
    )
    .bind(user_id)
    .bind(except)
    .bind(now.millis())
    .fetch_one(conn)
    .await?)
}

/// Deactivates a user: they sign in no more, and every token of theirs is revoked at `now`.
pub async fn deactivate_user(tx: &mut Tx, user_id: i64, now: Instant) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET active = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE api_tokens SET revoked_at_ms = $1 WHERE user_id = $2 AND revoked_at_ms IS NULL",
    )
    .bind(now.millis())
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many active admins there are.
pub async fn active_admins(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(conn)
            .await?,
    )
}

/// On a database without users, creates the user `admin` with one token. Returns that user, or
/// `None` when users exist already (so the token is shown only on the very first start).
pub async fn bootstrap_admin(
    tx: &mut Tx,
    token_hash: &str,
    now: Instant,
    expires: Instant,
) -> Result<Option<UserRow>, StoreError> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut **tx)
        .await?;
    if users > 0 {
        return Ok(None);
    }
    let admin = match create_user(tx, "admin", Role::Admin, None, None, now).await {
        Ok(user) => user,
        // Another instance bootstrapped at the same moment.
        Err(NewUserError::UsernameTaken) => return Ok(None),
        Err(NewUserError::Store(e)) => return Err(e),
    };
    create_token(tx, admin.id, "bootstrap", token_hash, now, expires).await?;
    Ok(Some(admin))
}

/// The id of the active user `name` with `role`, or why there is none (for an error message).
pub async fn active_user_with_role(
    conn: &mut Conn,
    name: &str,
    role: Role,
) -> Result<Result<i64, String>, StoreError> {
    Ok(match find_user_by_name(conn, name).await? {
        Some(u) if u.role == role && u.active => Ok(u.id),
        Some(_) => Err(format!("`{name}` is not an active user with role {role}")),
        None => Err(format!("no user `{name}`")),
    })
}

/// The secret `name`, made (random, 32 bytes, hex) on first use and the same ever after, also
/// across instances sharing the database.
pub async fn server_secret(tx: &mut Tx, name: &str) -> Result<Vec<u8>, StoreError> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).expect("the operating system provides randomness");
    sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(hex(&fresh))
        .execute(&mut **tx)
        .await?;
    let hex: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|e| super::corrupt("server secret", e))
}

/// Lower-case hex of `bytes`, as secrets and token hashes are stored.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
