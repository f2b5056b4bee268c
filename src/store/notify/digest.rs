//! What the weekly digest to gemeente monitors counts: signals and alerts of a week, by the
//! gemeente and wijk of their household, never the household.

use sqlx::Row;

use super::super::crypt::{self, Keys};
use super::super::{Conn, StoreError, parse_stored};
use crate::domain::{Event, Instant, Region};

/// The active webhook endpoints of the gemeente monitors, with their region (`None`: every region).
pub async fn monitor_endpoints(conn: &mut Conn) -> Result<Vec<(i64, Option<Region>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, region FROM webhook_endpoints WHERE active = 1 AND role = 'gemeente_monitor' ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let region: Option<String> = r.try_get("region")?;
            Ok((
                r.try_get("id")?,
                region.map(|s| parse_stored("region", &s)).transpose()?,
            ))
        })
        .collect()
}

/// Whether a message with this id was queued already (to any endpoint).
pub async fn queued(conn: &mut Conn, message_id: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE message_id = $1")
        .bind(message_id)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Queues a message unless one with its id exists; whether it was queued.
pub async fn enqueue_once(
    conn: &mut Conn,
    message_id: &str,
    endpoint: i64,
    payload: &str,
    now: Instant,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO outbox (message_id, endpoint_id, payload, status, attempts, next_attempt_ms, created_at_ms)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT DO NOTHING",
    )
    .bind(message_id)
    .bind(endpoint)
    .bind(payload)
    .bind(now.millis())
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// Where a counted thing happened: its household's gemeente and wijk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub gemeente: String,
    pub wijk: Option<String>,
}

/// The signals dated in [`from`, `to`) on households of `region` (every region for `None`).
pub async fn signals(
    conn: &mut Conn,
    keys: &Keys,
    region: Option<Region>,
    from: Instant,
    to: Instant,
) -> Result<Vec<(Place, Event)>, StoreError> {
    let rows = sqlx::query(
        "SELECT h.gemeente, h.wijk, h.region, e.household_id, e.payload FROM events e JOIN households h ON h.id = e.household_id
         WHERE e.type = 'signal' AND e.at_ms >= $1 AND e.at_ms < $2 ORDER BY e.id",
    )
    .bind(from.millis())
    .bind(to.millis())
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        if !in_region(region, &r.try_get::<String, _>("region")?) {
            continue;
        }
        let payload: String = r.try_get("payload")?;
        let household: String = r.try_get("household_id")?;
        let event: Event = crypt::open_event(keys, &household, &payload)?;
        out.push((place(r)?, event));
    }
    Ok(out)
}

/// Where the alerts of `rule` that fired in [`from`, `to`) on households of `region` are.
pub async fn fired(
    conn: &mut Conn,
    region: Option<Region>,
    rule: &str,
    from: Instant,
    to: Instant,
) -> Result<Vec<Place>, StoreError> {
    let rows = sqlx::query(
        "SELECT h.gemeente, h.wijk, h.region FROM alerts a JOIN households h ON h.id = a.household_id
         WHERE a.rule = $1 AND a.fired_at_ms >= $2 AND a.fired_at_ms < $3 ORDER BY a.id",
    )
    .bind(rule)
    .bind(from.millis())
    .bind(to.millis())
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        if in_region(region, &r.try_get::<String, _>("region")?) {
            out.push(place(r)?);
        }
    }
    Ok(out)
}

fn in_region(region: Option<Region>, stored: &str) -> bool {
    region.is_none_or(|r| r.as_str() == stored)
}

fn place(r: &sqlx::any::AnyRow) -> Result<Place, StoreError> {
    Ok(Place {
        gemeente: r.try_get("gemeente")?,
        wijk: r.try_get("wijk")?,
    })
}
