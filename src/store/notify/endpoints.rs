//! Webhook endpoints: where a region's roles receive alerts.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::{Instant, Region};
use crate::store::{Conn, StoreError, corrupt, flag, parse_stored};

#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub region: Option<Region>,
    pub role: String,
    pub secret: String,
    pub active: bool,
    /// Whether it also receives info-level reminders.
    pub include_info: bool,
    pub disabled_why: Option<String>,
    pub created_at: Instant,
}

fn endpoint_row(r: &AnyRow) -> Result<EndpointRow, StoreError> {
    let region: Option<String> = r.try_get("region")?;
    Ok(EndpointRow {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        region: region.map(|x| parse_stored("region", &x)).transpose()?,
        role: r.try_get("role")?,
        secret: r.try_get("secret")?,
        active: r.try_get::<i64, _>("active")? != 0,
        include_info: r.try_get::<i64, _>("include_info")? != 0,
        disabled_why: r.try_get("disabled_why")?,
        created_at: Instant::from_millis(r.try_get("created_at_ms")?)
            .map_err(|e| corrupt("created_at", e))?,
    })
}

pub async fn create_endpoint(
    conn: &mut Conn,
    url: &str,
    region: Option<Region>,
    role: &str,
    include_info: bool,
    secret: &str,
    now: Instant,
) -> Result<EndpointRow, StoreError> {
    let row = sqlx::query(
        "INSERT INTO webhook_endpoints (url, region, role, include_info, secret, active, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, 1, $6)
         RETURNING id, url, region, role, include_info, secret, active, disabled_why, created_at_ms",
    )
    .bind(url)
    .bind(region.map(|r| r.as_str()))
    .bind(role)
    .bind(flag(include_info))
    .bind(secret)
    .bind(now.millis())
    .fetch_one(conn)
    .await?;
    endpoint_row(&row)
}

pub async fn endpoints(conn: &mut Conn) -> Result<Vec<EndpointRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, url, region, role, include_info, secret, active, disabled_why, created_at_ms FROM webhook_endpoints ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(endpoint_row).collect()
}

/// Active endpoints for `role` in `region` (or for every region); for an info-level reminder only
/// those that asked for them.
pub async fn endpoints_for(
    conn: &mut Conn,
    region: Region,
    role: &str,
    info: bool,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints
         WHERE active = 1 AND role = $1 AND (region IS NULL OR region = $2) AND ($3 = 0 OR include_info = 1)
         ORDER BY id",
    )
    .bind(role)
    .bind(region.as_str())
    .bind(flag(info))
    .fetch_all(conn)
    .await?)
}

/// Turns an endpoint off and dead-letters what was still queued for it (visibly, for
/// redelivery); `false` when there is no such endpoint.
pub async fn disable_endpoint(conn: &mut Conn, id: i64, why: &str) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE webhook_endpoints SET active = 0, disabled_why = $1 WHERE id = $2")
        .bind(why)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE outbox SET status = 'dead', last_error = 'endpoint disabled', claimed_until_ms = NULL
         WHERE endpoint_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// Gives the endpoint `secret`, keeping its present one as the previous secret that still signs
/// until `previous_until` (a rotation with an overlap); `None` when there is no such endpoint.
pub async fn rotate_secret(
    conn: &mut Conn,
    id: i64,
    secret: &str,
    previous_until: Instant,
) -> Result<Option<EndpointRow>, StoreError> {
    let row = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_until_ms = $1, secret = $2 WHERE id = $3
         RETURNING id, url, region, role, include_info, secret, active, disabled_why, created_at_ms",
    )
    .bind(previous_until.millis())
    .bind(secret)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(endpoint_row).transpose()
}

/// Turns a disabled endpoint on again (its receiver is back); `None` when there is no such
/// endpoint. What was dead-lettered for it stays dead until an admin redelivers it.
pub async fn enable_endpoint(conn: &mut Conn, id: i64) -> Result<Option<EndpointRow>, StoreError> {
    let row = sqlx::query(
        "UPDATE webhook_endpoints SET active = 1, disabled_why = NULL WHERE id = $1
         RETURNING id, url, region, role, include_info, secret, active, disabled_why, created_at_ms",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(endpoint_row).transpose()
}
