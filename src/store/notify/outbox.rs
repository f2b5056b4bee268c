//! The outbox of webhook deliveries: enqueued in the transaction of the alert they report,
//! claimed by a worker, retried, dead-lettered, redelivered; and the hourly heartbeats.

use sqlx::Row;

use crate::domain::Instant;
use crate::store::{Backend, Conn, StoreError, corrupt};

pub async fn enqueue(
    conn: &mut Conn,
    message_id: &str,
    endpoint: i64,
    payload: &str,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, endpoint_id, payload, status, attempts, next_attempt_ms, created_at_ms)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
    )
    .bind(message_id)
    .bind(endpoint)
    .bind(payload)
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery claimed by a worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    /// Names this claim: the outcome is recorded only while the delivery still carries it.
    pub token: String,
    pub message_id: String,
    pub endpoint: i64,
    pub url: String,
    /// The secrets that sign it: the endpoint's, then its previous one while a rotation's
    /// overlap lasts.
    pub secrets: Vec<String>,
    pub payload: String,
    pub attempts: i64,
    pub created_at: Instant,
}

/// Claims up to `limit` due deliveries to active endpoints for `lease`: another worker takes
/// them only after the lease ran out (a worker that died between claim and send). On PostgreSQL
/// concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.
/// Each claim gets a new token, which [`record_attempt`] must show.
pub async fn claim_deliveries(
    conn: &mut Conn,
    backend: Backend,
    now: Instant,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let ids: Vec<i64> = match backend {
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_ms <= $1
                   AND (claimed_until_ms IS NULL OR claimed_until_ms <= $1)
                   AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 1)
                 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
        }
        Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_ms <= $1
                   AND (claimed_until_ms IS NULL OR claimed_until_ms <= $1)
                   AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 1)
                 ORDER BY id LIMIT $2",
            )
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let row = sqlx::query(
            "UPDATE outbox SET claimed_until_ms = $1, attempts = attempts + 1, claim_token = $2 WHERE id = $3
             RETURNING id, message_id, endpoint_id, payload, attempts, created_at_ms",
        )
        .bind(now.millis() + lease_ms)
        .bind(token.as_str())
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let endpoint: i64 = row.try_get("endpoint_id")?;
        let ep = sqlx::query(
            "SELECT url, secret, previous_secret, previous_until_ms FROM webhook_endpoints WHERE id = $1",
        )
        .bind(endpoint)
        .fetch_one(&mut *conn)
        .await?;
        let mut secrets: Vec<String> = vec![ep.try_get("secret")?];
        let previous: Option<String> = ep.try_get("previous_secret")?;
        let until: Option<i64> = ep.try_get("previous_until_ms")?;
        if let (Some(previous), Some(until)) = (previous, until)
            && now.millis() < until
        {
            secrets.push(previous);
        }
        claimed.push(Claimed {
            id: row.try_get("id")?,
            token,
            message_id: row.try_get("message_id")?,
            endpoint,
            url: ep.try_get("url")?,
            secrets,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
            created_at: Instant::from_millis(row.try_get("created_at_ms")?)
                .map_err(|e| corrupt("created_at", e))?,
        });
    }
    Ok(claimed)
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    Delivered,
    /// To be tried again at this time.
    Retry(Instant),
    Dead,
}

/// Records the outcome of the attempt of `claim`, fenced on its token: `false` (and nothing
/// written) when the delivery no longer carries it, because another worker took it over after
/// the lease ran out or an admin queued it again. A retry or a dead letter is also not written
/// over a delivery that is no longer pending (its endpoint was disabled meanwhile); a delivery
/// that reached its receiver is always recorded as delivered while the claim holds.
pub async fn record_attempt(
    conn: &mut Conn,
    claim: &Claimed,
    outcome: AttemptStatus,
    http_status: Option<u16>,
    error: Option<&str>,
    now: Instant,
) -> Result<bool, StoreError> {
    let (status, next) = match outcome {
        AttemptStatus::Delivered => ("delivered", None),
        AttemptStatus::Retry(at) => ("pending", Some(at.millis())),
        AttemptStatus::Dead => ("dead", None),
    };
    let n = sqlx::query(
        "UPDATE outbox SET status = $1, next_attempt_ms = COALESCE($2, next_attempt_ms),
                claimed_until_ms = NULL, claim_token = NULL, last_status = $3, last_error = $4,
                delivered_at_ms = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at_ms END
         WHERE id = $6 AND claim_token = $7 AND (status = 'pending' OR $1 = 'delivered')",
    )
    .bind(status)
    .bind(next)
    .bind(http_status.map(i64::from))
    .bind(error)
    .bind(now.millis())
    .bind(claim.id)
    .bind(claim.token.as_str())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub message_id: String,
    pub endpoint: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt: Instant,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Instant,
    pub delivered_at: Option<Instant>,
}

pub async fn deliveries(
    conn: &mut Conn,
    endpoint: Option<i64>,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, message_id, endpoint_id, status, attempts, next_attempt_ms, last_status, last_error, created_at_ms,
                delivered_at_ms
         FROM outbox WHERE ($1 = 0 OR endpoint_id = $1) AND ($2 = '' OR status = $2) AND id < $3
         ORDER BY id DESC LIMIT $4",
    )
    .bind(endpoint.unwrap_or(0))
    .bind(status.unwrap_or("").to_owned())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let t = |c: &str| -> Result<Instant, StoreError> {
                Instant::from_millis(r.try_get(c)?).map_err(|e| corrupt(c, e))
            };
            Ok(DeliveryRow {
                id: r.try_get("id")?,
                message_id: r.try_get("message_id")?,
                endpoint: r.try_get("endpoint_id")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                next_attempt: t("next_attempt_ms")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                created_at: t("created_at_ms")?,
                delivered_at: r
                    .try_get::<Option<i64>, _>("delivered_at_ms")?
                    .map(Instant::from_millis)
                    .transpose()
                    .map_err(|e| corrupt("delivered_at", e))?,
            })
        })
        .collect()
}

/// What became of a request to send a delivery again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redelivery {
    Queued,
    NotFound,
    /// Its endpoint is disabled (by an admin, or after `410 Gone`): nothing is queued for it until
    /// it is enabled again.
    EndpointDisabled {
        endpoint: i64,
        why: Option<String>,
    },
}

/// Puts a delivery back in the queue, due now, with its attempts reset and any claim on it
/// void; keeps its message id. Refused while its endpoint is disabled.
pub async fn redeliver(conn: &mut Conn, id: i64, now: Instant) -> Result<Redelivery, StoreError> {
    let n = sqlx::query(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_ms = $1, claimed_until_ms = NULL,
                claim_token = NULL
         WHERE id = $2 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 1)",
    )
    .bind(now.millis())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n > 0 {
        return Ok(Redelivery::Queued);
    }
    let endpoint = sqlx::query(
        "SELECT e.id, e.disabled_why FROM outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id
         WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(match endpoint {
        None => Redelivery::NotFound,
        Some(e) => Redelivery::EndpointDisabled {
            endpoint: e.try_get("id")?,
            why: e.try_get("disabled_why")?,
        },
    })
}

/// The time the earliest pending delivery to an active endpoint is due.
pub async fn next_delivery(conn: &mut Conn) -> Result<Option<Instant>, StoreError> {
    let ms: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(CASE WHEN claimed_until_ms IS NOT NULL AND claimed_until_ms > next_attempt_ms
                         THEN claimed_until_ms ELSE next_attempt_ms END)
         FROM outbox WHERE status = 'pending'
           AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = 1)",
    )
    .fetch_one(conn)
    .await?;
    ms.map(Instant::from_millis)
        .transpose()
        .map_err(|e| corrupt("next_attempt", e))
}

/// Queues a heartbeat for every active endpoint, once per hour: `message_id` names the endpoint
/// and the hour, so concurrent workers queue it once.
pub async fn enqueue_heartbeats(conn: &mut Conn, now: Instant) -> Result<u64, StoreError> {
    let hour = now.millis().div_euclid(3_600_000);
    let payload = serde_json::json!({"type": "heartbeat", "at": now}).to_string();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE active = 1")
        .fetch_all(&mut *conn)
        .await?;
    let mut queued = 0;
    for id in ids {
        queued += sqlx::query(
            "INSERT INTO outbox (message_id, endpoint_id, payload, status, attempts, next_attempt_ms, created_at_ms)
             VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT DO NOTHING",
        )
        .bind(format!("hb_{id}_{hour}"))
        .bind(id)
        .bind(payload.as_str())
        .bind(now.millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(queued)
}
