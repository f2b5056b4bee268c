//! Inbox notifications, webhook endpoints and the outbox of deliveries.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Conn, StoreError, corrupt, flag, parse_stored};
use crate::domain::{HouseholdId, Instant, PlaceName, Region};

/// Users to notify in `role` about a household, leaving out those who muted `rule`. Each role
/// reaches only people who may know of the household: its own regisseur and casemanagers, the
/// specialists of its region, the monitors of its gemeente.
pub async fn recipients(
    conn: &mut Conn,
    role: crate::domain::NotifyRole,
    household: &HouseholdId,
    region: Region,
    gemeente: &PlaceName,
    rule: &str,
) -> Result<Vec<i64>, StoreError> {
    use crate::domain::NotifyRole;
    let ids: Vec<i64> = match role {
        NotifyRole::Regisseur | NotifyRole::Casemanager => {
            let relation = if role == NotifyRole::Regisseur { "regisseur" } else { "casemanager" };
            sqlx::query_scalar(
                "SELECT u.id FROM assignments a JOIN users u ON u.id = a.user_id
                 WHERE a.household_id = $1 AND a.relation = $2 AND u.active = 1
                   AND NOT EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.rule = $3)
                 ORDER BY u.id",
            )
            .bind(household.as_str())
            .bind(relation)
            .bind(rule)
            .fetch_all(conn)
            .await?
        }
        NotifyRole::SpecialistPool => {
            sqlx::query_scalar(
                "SELECT u.id FROM users u WHERE u.role = 'specialist' AND u.region = $1 AND u.active = 1
                   AND NOT EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.rule = $2)
                 ORDER BY u.id",
            )
            .bind(region.as_str())
            .bind(rule)
            .fetch_all(conn)
            .await?
        }
        NotifyRole::GemeenteMonitor => {
            sqlx::query_scalar(
                "SELECT u.id FROM users u WHERE u.role = 'gemeente_monitor' AND u.gemeente = $1 AND u.active = 1
                   AND NOT EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.rule = $2)
                 ORDER BY u.id",
            )
            .bind(gemeente.as_str())
            .bind(rule)
            .fetch_all(conn)
            .await?
        }
        // Veilig Thuis is reached through its region's webhook, not an inbox.
        NotifyRole::VeiligThuis => Vec::new(),
    };
    Ok(ids)
}

#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub alert: i64,
    pub household: &'a HouseholdId,
    pub rule: &'a str,
    pub severity: &'a str,
    pub why: &'a str,
}

pub async fn insert_notification(
    conn: &mut Conn,
    user_id: i64,
    n: &NewNotification<'_>,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO notifications (user_id, alert_id, household_id, rule, severity, why, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user_id)
    .bind(n.alert)
    .bind(n.household.as_str())
    .bind(n.rule)
    .bind(n.severity)
    .bind(n.why)
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub alert: i64,
    pub household: String,
    pub rule: String,
    pub severity: String,
    pub why: String,
    pub created_at: Instant,
    pub read_at: Option<Instant>,
}

fn notification_row(r: &AnyRow) -> Result<NotificationRow, StoreError> {
    Ok(NotificationRow {
        id: r.try_get("id")?,
        alert: r.try_get("alert_id")?,
        household: r.try_get("household_id")?,
        rule: r.try_get("rule")?,
        severity: r.try_get("severity")?,
        why: r.try_get("why")?,
        created_at: Instant::from_millis(r.try_get("created_at_ms")?)
            .map_err(|e| corrupt("created_at", e))?,
        read_at: r
            .try_get::<Option<i64>, _>("read_at_ms")?
            .map(Instant::from_millis)
            .transpose()
            .map_err(|e| corrupt("read_at", e))?,
    })
}

/// A user's notifications, newest first, before `before`; only unread ones with `unread`.
pub async fn inbox(
    conn: &mut Conn,
    user_id: i64,
    unread: bool,
    rule: Option<&str>,
    before: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, alert_id, household_id, rule, severity, why, created_at_ms, read_at_ms FROM notifications
         WHERE user_id = $1 AND ($2 = 0 OR read_at_ms IS NULL) AND ($3 = '' OR rule = $3) AND id < $4 AND id > $5
         ORDER BY id DESC LIMIT $6",
    )
    .bind(user_id)
    .bind(flag(unread))
    .bind(rule.unwrap_or("").to_owned())
    .bind(before.unwrap_or(i64::MAX))
    .bind(after.unwrap_or(0))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(notification_row).collect()
}

/// Marks every notification created before `before` read (the demo's past).
pub async fn mark_read_before(conn: &mut Conn, before: Instant) -> Result<u64, StoreError> {
    Ok(sqlx::query("UPDATE notifications SET read_at_ms = created_at_ms WHERE created_at_ms < $1 AND read_at_ms IS NULL")
        .bind(before.millis())
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn unread_count(conn: &mut Conn, user_id: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at_ms IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?)
}

/// Marks a notification read; `false` when the user has no such notification.
pub async fn mark_read(
    conn: &mut Conn,
    user_id: i64,
    id: i64,
    now: Instant,
) -> Result<bool, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM notifications WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query("UPDATE notifications SET read_at_ms = $1 WHERE id = $2 AND read_at_ms IS NULL")
        .bind(now.millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(true)
}

pub async fn mutes(conn: &mut Conn, user_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT rule FROM notification_mutes WHERE user_id = $1 ORDER BY rule")
            .bind(user_id)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn set_mutes(conn: &mut Conn, user_id: i64, rules: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM notification_mutes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for rule in rules {
        sqlx::query(
            "INSERT INTO notification_mutes (user_id, rule) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(rule.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub region: Option<Region>,
    pub role: String,
    pub secret: String,
    pub active: bool,
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
    secret: &str,
    now: Instant,
) -> Result<EndpointRow, StoreError> {
    let row = sqlx::query(
        "INSERT INTO webhook_endpoints (url, region, role, secret, active, created_at_ms) VALUES ($1, $2, $3, $4, 1, $5)
         RETURNING id, url, region, role, secret, active, disabled_why, created_at_ms",
    )
    .bind(url)
    .bind(region.map(|r| r.as_str()))
    .bind(role)
    .bind(secret)
    .bind(now.millis())
    .fetch_one(conn)
    .await?;
    endpoint_row(&row)
}

pub async fn endpoints(conn: &mut Conn) -> Result<Vec<EndpointRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, url, region, role, secret, active, disabled_why, created_at_ms FROM webhook_endpoints ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(endpoint_row).collect()
}

/// Active endpoints for `role` in `region` (or for every region).
pub async fn endpoints_for(
    conn: &mut Conn,
    region: Region,
    role: &str,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE active = 1 AND role = $1 AND (region IS NULL OR region = $2) ORDER BY id",
    )
    .bind(role)
    .bind(region.as_str())
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
    pub message_id: String,
    pub endpoint: i64,
    pub url: String,
    pub secret: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: Instant,
}

/// Claims up to `limit` due deliveries for `lease`: another worker takes them only after the
/// lease ran out (a worker that died between claim and send). On PostgreSQL concurrent workers
/// skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.
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
        let row = sqlx::query(
            "UPDATE outbox SET claimed_until_ms = $1, attempts = attempts + 1 WHERE id = $2
             RETURNING id, message_id, endpoint_id, payload, attempts, created_at_ms",
        )
        .bind(now.millis() + lease_ms)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let endpoint: i64 = row.try_get("endpoint_id")?;
        let ep = sqlx::query("SELECT url, secret FROM webhook_endpoints WHERE id = $1")
            .bind(endpoint)
            .fetch_one(&mut *conn)
            .await?;
        claimed.push(Claimed {
            id: row.try_get("id")?,
            message_id: row.try_get("message_id")?,
            endpoint,
            url: ep.try_get("url")?,
            secret: ep.try_get("secret")?,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
            created_at: Instant::from_millis(row.try_get("created_at_ms")?)
                .map_err(|e| corrupt("created_at", e))?,
        });
    }
    Ok(claimed)
}

/// Records the outcome of one attempt: delivered, retry at `next`, or dead.
pub async fn record_attempt(
    conn: &mut Conn,
    id: i64,
    status: &str,
    next: Option<Instant>,
    http_status: Option<u16>,
    error: Option<&str>,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET status = $1, next_attempt_ms = COALESCE($2, next_attempt_ms), claimed_until_ms = NULL,
                last_status = $3, last_error = $4,
                delivered_at_ms = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at_ms END
         WHERE id = $6",
    )
    .bind(status)
    .bind(next.map(Instant::millis))
    .bind(http_status.map(i64::from))
    .bind(error)
    .bind(now.millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
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

/// Puts a delivery back in the queue, due now, with its attempts reset; keeps its message id.
pub async fn redeliver(conn: &mut Conn, id: i64, now: Instant) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_ms = $1, claimed_until_ms = NULL WHERE id = $2",
    )
    .bind(now.millis())
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// The time the earliest pending delivery is due.
pub async fn next_delivery(conn: &mut Conn) -> Result<Option<Instant>, StoreError> {
    let ms: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(CASE WHEN claimed_until_ms IS NOT NULL AND claimed_until_ms > next_attempt_ms
                         THEN claimed_until_ms ELSE next_attempt_ms END)
         FROM outbox WHERE status = 'pending'",
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

/// Notes that an alert was sent to its people, and at which escalation level.
pub async fn set_notified(
    conn: &mut Conn,
    alert: i64,
    at: Instant,
    level: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE alerts SET notified_at_ms = $1, escalation_level = $2 WHERE id = $3")
        .bind(at.millis())
        .bind(level)
        .bind(alert)
        .execute(conn)
        .await?;
    Ok(())
}
