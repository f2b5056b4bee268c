//! Households, who is assigned to them, and their events.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::crypt::{self, Keys};
use super::{Conn, StoreError, Tx, corrupt, flag, parse_stored};
use crate::domain::{
    Event, Household, HouseholdId, Instant, LocalDate, PlaceName, Region, Relation,
    TrajectoryStatus,
};

#[derive(Debug, Clone)]
pub struct HouseholdRow {
    pub household: Household,
    pub status: TrajectoryStatus,
    pub created_at: Instant,
    pub updated_at: Instant,
}

fn household_row(row: &AnyRow) -> Result<HouseholdRow, StoreError> {
    let reference: Option<String> = row.try_get("reference")?;
    let wijk: Option<String> = row.try_get("wijk")?;
    let millis = |col: &str| -> Result<Instant, StoreError> {
        Instant::from_millis(row.try_get(col)?).map_err(|e| corrupt(col, e))
    };
    Ok(HouseholdRow {
        household: Household {
            id: parse_stored("household id", &row.try_get::<String, _>("id")?)?,
            reference: reference
                .map(|r| parse_stored("reference", &r))
                .transpose()?,
            region: parse_stored("region", &row.try_get::<String, _>("region")?)?,
            gemeente: parse_stored("gemeente", &row.try_get::<String, _>("gemeente")?)?,
            wijk: wijk.map(|w| parse_stored("wijk", &w)).transpose()?,
            minor_children: row.try_get::<i64, _>("minor_children")? != 0,
            opened_at: parse_stored::<LocalDate>(
                "opened_on",
                &row.try_get::<String, _>("opened_on")?,
            )?,
        },
        status: parse_stored("status", &row.try_get::<String, _>("status")?)?,
        created_at: millis("created_at_ms")?,
        updated_at: millis("updated_at_ms")?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum NewHouseholdError {
    #[error("a household with this id exists")]
    IdTaken,
    #[error("a household with this reference exists")]
    ReferenceTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn create_household(
    tx: &mut Tx,
    h: &Household,
    now: Instant,
) -> Result<HouseholdRow, NewHouseholdError> {
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM households WHERE id = $1")
        .bind(h.id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::from)?;
    if taken.is_some() {
        return Err(NewHouseholdError::IdTaken);
    }
    if let Some(reference) = &h.reference {
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM households WHERE reference = $1")
                .bind(reference.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(StoreError::from)?;
        if taken.is_some() {
            return Err(NewHouseholdError::ReferenceTaken);
        }
    }
    let row = sqlx::query(
        "INSERT INTO households (id, reference, region, gemeente, wijk, minor_children, opened_on, status,
                                 created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8)
         RETURNING id, reference, region, gemeente, wijk, minor_children, opened_on, status, created_at_ms,
                   updated_at_ms",
    )
    .bind(h.id.as_str())
    .bind(h.reference.as_ref().map(|r| r.as_str().to_owned()))
    .bind(h.region.as_str())
    .bind(h.gemeente.as_str())
    .bind(h.wijk.as_ref().map(|w| w.as_str().to_owned()))
    .bind(flag(h.minor_children))
    .bind(h.opened_at.to_wire())
    .bind(now.millis())
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from)?;
    Ok(household_row(&row)?)
}

pub async fn household(
    conn: &mut Conn,
    id: &HouseholdId,
) -> Result<Option<HouseholdRow>, StoreError> {
    sqlx::query(
        "SELECT id, reference, region, gemeente, wijk, minor_children, opened_on, status, created_at_ms, updated_at_ms
         FROM households WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(household_row)
    .transpose()
}

/// How `user_id` is tied to the household; empty when not at all or when there is no such household.
pub async fn relation_of(
    conn: &mut Conn,
    household: &str,
    user_id: i64,
) -> Result<Vec<Relation>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT relation FROM assignments WHERE household_id = $1 AND user_id = $2",
    )
    .bind(household)
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| parse_stored("relation", r)).collect()
}

#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub user_id: i64,
    pub username: String,
    pub relation: Relation,
    pub assigned_at: Instant,
}

pub async fn assignments(
    conn: &mut Conn,
    household: &HouseholdId,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT a.user_id, u.username, a.relation, a.assigned_at_ms
         FROM assignments a JOIN users u ON u.id = a.user_id
         WHERE a.household_id = $1 ORDER BY a.relation DESC, u.username",
    )
    .bind(household.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AssignmentRow {
                user_id: row.try_get("user_id")?,
                username: row.try_get("username")?,
                relation: parse_stored("relation", &row.try_get::<String, _>("relation")?)?,
                assigned_at: Instant::from_millis(row.try_get("assigned_at_ms")?)
                    .map_err(|e| corrupt("assigned_at", e))?,
            })
        })
        .collect()
}

/// Replaces who is assigned to the household: its regisseur and its casemanagers.
pub async fn set_assignments(
    tx: &mut Tx,
    household: &HouseholdId,
    regisseur: Option<i64>,
    casemanagers: &[i64],
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM assignments WHERE household_id = $1")
        .bind(household.as_str())
        .execute(&mut **tx)
        .await?;
    let wanted = regisseur
        .map(|id| (id, Relation::Regisseur))
        .into_iter()
        .chain(casemanagers.iter().map(|id| (*id, Relation::Casemanager)));
    for (user_id, relation) in wanted {
        sqlx::query(
            "INSERT INTO assignments (household_id, user_id, relation, assigned_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(household.as_str())
        .bind(user_id)
        .bind(relation.as_str())
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    touch(tx, household, now).await
}

async fn touch(tx: &mut Tx, household: &HouseholdId, now: Instant) -> Result<(), StoreError> {
    sqlx::query("UPDATE households SET updated_at_ms = $1 WHERE id = $2")
        .bind(now.millis())
        .bind(household.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub gemeente: Option<PlaceName>,
    pub region: Option<Region>,
    pub status: Option<TrajectoryStatus>,
    pub updated_since: Option<Instant>,
}

/// Households in id order after `after`, at most `limit`; only those assigned to `visible_to`
/// when it is given.
pub async fn list_households(
    conn: &mut Conn,
    filter: &HouseholdFilter,
    visible_to: Option<i64>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<HouseholdRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT h.id, h.reference, h.region, h.gemeente, h.wijk, h.minor_children, h.opened_on, h.status,
                h.created_at_ms, h.updated_at_ms
         FROM households h
         WHERE ($1 = 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.household_id = h.id AND a.user_id = $2))
           AND ($3 = '' OR h.gemeente = $3)
           AND ($4 = '' OR h.region = $4)
           AND ($5 = '' OR h.status = $5)
           AND h.updated_at_ms >= $6
           AND h.id > $7
         ORDER BY h.id
         LIMIT $8",
    )
    .bind(flag(visible_to.is_some()))
    .bind(visible_to.unwrap_or(0))
    .bind(filter.gemeente.as_ref().map_or("", |g| g.as_str()).to_owned())
    .bind(filter.region.map_or("", |r| r.as_str()))
    .bind(filter.status.map_or("", |s| s.as_str()))
    .bind(filter.updated_since.map_or(i64::MIN, Instant::millis))
    .bind(after.unwrap_or("").to_owned())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(household_row).collect()
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub event: Event,
    pub recorded_at: Instant,
    pub recorded_by: Option<String>,
}

pub(super) fn event_row(
    keys: &Keys,
    household: &HouseholdId,
    row: &AnyRow,
) -> Result<EventRow, StoreError> {
    let payload: String = row.try_get("payload")?;
    Ok(EventRow {
        id: row.try_get("id")?,
        event: crypt::open_event(keys, household.as_str(), &payload)?,
        recorded_at: Instant::from_millis(row.try_get("recorded_at_ms")?)
            .map_err(|e| corrupt("recorded_at", e))?,
        recorded_by: row.try_get("recorded_by")?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum InsertEventError {
    #[error("the trajectory is closed already")]
    AlreadyClosed,
    #[error("the trajectory is open; only a closed trajectory can be reopened")]
    NotClosed,
    #[error("a household is registered with POST /households, not as an event")]
    HouseholdEvent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends an event to its household (which must exist) and applies what it changes: a closure
/// closes the trajectory, a reopen reopens it.
pub async fn insert_event(
    tx: &mut Tx,
    keys: &Keys,
    event: &Event,
    recorded_by: Option<i64>,
    now: Instant,
) -> Result<EventRow, InsertEventError> {
    let household = event.household();
    let transition = match event {
        Event::Household(_) => return Err(InsertEventError::HouseholdEvent),
        Event::Closure(_) => Some((
            TrajectoryStatus::Open,
            TrajectoryStatus::Closed,
            InsertEventError::AlreadyClosed,
        )),
        Event::Reopen(_) => Some((
            TrajectoryStatus::Closed,
            TrajectoryStatus::Open,
            InsertEventError::NotClosed,
        )),
        _ => None,
    };
    if let Some((from, to, refusal)) = transition {
        let changed =
            sqlx::query("UPDATE households SET status = $1 WHERE id = $2 AND status = $3")
                .bind(to.as_str())
                .bind(household.as_str())
                .bind(from.as_str())
                .execute(&mut **tx)
                .await
                .map_err(StoreError::from)?
                .rows_affected();
        if changed == 0 {
            return Err(refusal);
        }
    }
    let signal_kind = match event {
        Event::Signal(s) => Some(s.kind.as_str()),
        _ => None,
    };
    let payload = crypt::seal_event(keys, event)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (household_id, type, at_ms, signal_kind, payload, recorded_at_ms, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(household.as_str())
    .bind(event.type_name())
    .bind(event.at().millis())
    .bind(signal_kind)
    .bind(payload)
    .bind(now.millis())
    .bind(recorded_by)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from)?;
    touch(tx, household, now).await?;
    let recorded_by = match recorded_by {
        Some(user) => sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await
            .map_err(StoreError::from)?,
        None => None,
    };
    Ok(EventRow {
        id,
        event: event.clone(),
        recorded_at: now,
        recorded_by,
    })
}

/// A household's events in time order (then recording order), after the cursor `(at_ms, id)`.
pub async fn timeline(
    conn: &mut Conn,
    keys: &Keys,
    household: &HouseholdId,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let (after_at, after_id) = after.unwrap_or((i64::MIN, i64::MIN));
    let rows = sqlx::query(
        "SELECT e.id, e.payload, e.recorded_at_ms, u.username AS recorded_by
         FROM events e LEFT JOIN users u ON u.id = e.recorded_by
         WHERE e.household_id = $1 AND (e.at_ms > $2 OR (e.at_ms = $2 AND e.id > $3))
         ORDER BY e.at_ms, e.id
         LIMIT $4",
    )
    .bind(household.as_str())
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| event_row(keys, household, r)).collect()
}
