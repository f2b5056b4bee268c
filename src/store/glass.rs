//! Break-the-glass: time-limited reads of a household without an assignment, each with its
//! reason, kept for review (issue 11; DHIS2's "breaking the glass").

use sqlx::Row;
use sqlx::any::AnyRow;

use super::crypt::{Keys, Owner};
use super::{Conn, StoreError, corrupt, parse_stored};
use crate::domain::{FreeText, HouseholdId, Instant};

/// Records that `user_id` may read `household` until `until`, for `reason`.
pub async fn open(
    conn: &mut Conn,
    keys: &Keys,
    user_id: i64,
    household: &HouseholdId,
    reason: &FreeText,
    now: Instant,
    until: Instant,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO glass_access (user_id, household_id, reason, opened_at_ms, until_ms)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(household.as_str())
    .bind(keys.seal(Owner::Household(household.as_str()), reason.as_str())?)
    .bind(now.millis())
    .bind(until.millis())
    .fetch_one(conn)
    .await?)
}

/// Whether `user_id` holds a break-the-glass read of `household` at `now`.
pub async fn holds(
    conn: &mut Conn,
    user_id: i64,
    household: &str,
    now: Instant,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM glass_access
         WHERE user_id = $1 AND household_id = $2 AND opened_at_ms <= $3 AND until_ms > $3",
    )
    .bind(user_id)
    .bind(household)
    .bind(now.millis())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// One break-the-glass read, for review.
#[derive(Debug, Clone)]
pub struct GlassRow {
    pub id: i64,
    pub username: String,
    pub household: HouseholdId,
    pub reason: FreeText,
    pub opened_at: Instant,
    pub until: Instant,
}

fn glass_row(keys: &Keys, r: &AnyRow) -> Result<GlassRow, StoreError> {
    let millis = |col: &str| -> Result<Instant, StoreError> {
        Instant::from_millis(r.try_get(col)?).map_err(|e| corrupt(col, e))
    };
    let household: String = r.try_get("household_id")?;
    let reason = keys.open(
        Owner::Household(&household),
        &r.try_get::<String, _>("reason")?,
    )?;
    Ok(GlassRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        household: parse_stored("household id", &household)?,
        reason: parse_stored("reason", &reason)?,
        opened_at: millis("opened_at_ms")?,
        until: millis("until_ms")?,
    })
}

/// Break-the-glass reads, newest first; of one household when `household` is given.
pub async fn list(
    conn: &mut Conn,
    keys: &Keys,
    household: Option<&HouseholdId>,
    limit: i64,
) -> Result<Vec<GlassRow>, StoreError> {
    let only = if household.is_some() {
        "WHERE g.household_id = $2"
    } else {
        ""
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT g.id, u.username, g.household_id, g.reason, g.opened_at_ms, g.until_ms
         FROM glass_access g JOIN users u ON u.id = g.user_id {only}
         ORDER BY g.id DESC LIMIT $1"
    ));
    let mut query = sqlx::query(sql).bind(limit);
    if let Some(h) = household {
        query = query.bind(h.as_str());
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(|r| glass_row(keys, r)).collect()
}
