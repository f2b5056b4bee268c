//! Households and their events: `/api/v1/households/...`.

use super::extractor::{Allowed, AssignHouseholds, CreateHouseholds, Writing};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::body::{JsonBody, from_value};
use super::error::{ApiError, FieldError, Problem};
use super::idempotency::{Begun, IdempotencyKey, Write};
use super::paging::{self, Page, PageQuery};
use crate::app::audit::{AuditAction, Origin};
use crate::app::{access, events};
use crate::auth::Authenticated;
use crate::auth::policy::{self, Action, HouseholdScope};
use crate::domain::{
    EVENT_TYPES, Event, Household, HouseholdId, Instant, PlaceName, Region, Relation,
    TrajectoryStatus,
};
use crate::store::{self, Conn, EventRow, HouseholdFilter, HouseholdRow};

/// A household as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdView {
    #[serde(flatten)]
    household: Household,
    status: TrajectoryStatus,
    created_at: Instant,
    updated_at: Instant,
    /// Who holds regie and who are its casemanagers (only on the household itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    assignments: Option<Vec<AssignmentView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    username: String,
    relation: Relation,
}

impl HouseholdView {
    fn new(row: HouseholdRow, assignments: Option<Vec<store::AssignmentRow>>) -> Self {
        HouseholdView {
            household: row.household,
            status: row.status,
            created_at: row.created_at,
            updated_at: row.updated_at,
            assignments: assignments.map(|a| {
                a.into_iter()
                    .map(|a| AssignmentView {
                        username: a.username,
                        relation: a.relation,
                    })
                    .collect()
            }),
        }
    }
}

/// One event on a household's timeline, with who recorded it and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    id: i64,
    recorded_at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_by: Option<String>,
    #[serde(flatten)]
    event: Event,
}

impl From<EventRow> for TimelineItem {
    fn from(r: EventRow) -> Self {
        TimelineItem {
            id: r.id,
            recorded_at: r.recorded_at,
            recorded_by: r.recorded_by,
            event: r.event,
        }
    }
}

/// Checks a read of household `raw_id`; a refusal is audited and reads as "not found".
async fn readable(
    state: &AppState,
    conn: &mut Conn,
    who: &Authenticated,
    raw_id: &str,
    audit_action: AuditAction,
) -> Result<HouseholdId, ApiError> {
    match access::household(conn, who, raw_id, Action::ReadHousehold, audit_action).await? {
        Ok(id) => Ok(id),
        Err(refusal) => Err(refusal.audit(state, who).await.into()),
    }
}

/// Register a household. The casemanager or regisseur who registers it is assigned to it.
#[utoipa::path(post, path = "/api/v1/households", tag = "households",
    request_body = Household,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = HouseholdView),
        (status = 403, body = Problem, description = "The role registers no households"),
        (status = 409, body = Problem, description = "The id or reference is taken"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<CreateHouseholds>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let household = parse_household(&body)?;
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let now = state.clock.now();
    let (row, assignments) = match events::create_household(
        write.tx(),
        state.db.keys(),
        &state.rules(),
        &who,
        &household,
        now,
    )
    .await?
    {
        Ok(created) => created,
        Err(known) => {
            // Audited outside the write transaction, which stores nothing.
            drop(write);
            return Err(known.audit(&state, &who).await.into());
        }
    };
    let location = format!("/api/v1/households/{}", household.id);
    let view = HouseholdView::new(row, Some(assignments));
    write
        .commit(
            &state,
            StatusCode::CREATED,
            Some(location),
            &view,
            None::<&()>,
        )
        .await
}

fn parse_household(body: &JsonBody) -> Result<Household, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(&body.bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::invalid("", "the body must be a JSON object"));
    };
    match object.remove("type") {
        None => {}
        Some(serde_json::Value::String(t)) if t == "household" => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "type",
                "must be `household` (or left out)",
            ));
        }
    }
    from_value(value)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only households of this gemeente.
    gemeente: Option<String>,
    /// Only households of this Veilig Thuis region.
    region: Option<String>,
    /// `open` or `closed`.
    status: Option<String>,
    /// Only households changed at or after this RFC 3339 time.
    updated_since: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

pub(super) fn query_value<T: std::str::FromStr>(
    name: &str,
    raw: Option<String>,
) -> Result<Option<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    raw.map(|s| {
        s.parse::<T>()
            .map_err(|e| ApiError::InvalidQuery(vec![FieldError::new(name, e.to_string())]))
    })
    .transpose()
}

pub(super) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::InvalidQuery(vec![FieldError::new("", e.body_text())]))
}

/// List households: all of them (by metadata) for an admin, the assigned ones for casemanagers and
/// regisseurs.
#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(ListQuery),
    responses((status = 200, body = Page<HouseholdView>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<HouseholdView>>, ApiError> {
    let q = query(q)?;
    let Some(scope) = policy::household_scope(&who.actor) else {
        access::require(
            &state,
            &who,
            Action::ListHouseholds,
            AuditAction::HouseholdList,
        )
        .await?;
        return Err(ApiError::FORBIDDEN);
    };
    let filter = HouseholdFilter {
        gemeente: query_value::<PlaceName>("gemeente", q.gemeente)?,
        region: query_value::<Region>("region", q.region)?,
        status: query_value::<TrajectoryStatus>("status", q.status)?,
        updated_since: query_value::<Instant>("updated_since", q.updated_since)?,
    };
    let limit = paging::limit(q.limit)?;
    let after = q.cursor.as_deref().map(paging::decode).transpose()?;
    let visible_to = match scope {
        HouseholdScope::All => None,
        HouseholdScope::Assigned => Some(who.actor.user_id),
    };
    let mut conn = state.db.acquire().await?;
    let rows =
        store::list_households(&mut conn, &filter, visible_to, after.as_deref(), limit + 1).await?;
    drop(conn);
    let shown = rows.iter().take(usize::try_from(limit).unwrap_or(0));
    state
        .audit_shown(
            &who,
            AuditAction::HouseholdList,
            shown.map(|r| r.household.id.as_str()),
        )
        .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |r| r.household.id.to_string(),
        |r| HouseholdView::new(r, None),
    )))
}

/// One household, with who is assigned to it.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households",
    params(("id" = String, Path, description = "Household id")),
    responses((status = 200, body = HouseholdView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    Path(raw_id): Path<String>,
) -> Result<Json<HouseholdView>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let id = readable(&state, &mut conn, &who, &raw_id, AuditAction::HouseholdRead).await?;
    let row = store::household(&mut conn, &id)
        .await?
        .ok_or(ApiError::not_found("household"))?;
    let assignments = store::assignments(&mut conn, &id).await?;
    state
        .audit(
            &mut conn,
            &who,
            AuditAction::HouseholdRead,
            Some(id.as_str()),
        )
        .await?;
    Ok(Json(HouseholdView::new(row, Some(assignments))))
}

/// A household's timeline: its events in time order.
#[utoipa::path(get, path = "/api/v1/households/{id}/timeline", tag = "households",
    params(("id" = String, Path, description = "Household id"), PageQuery),
    responses((status = 200, body = Timeline), (status = 404, body = Problem)))]
pub async fn timeline(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    Path(raw_id): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Timeline>, ApiError> {
    let q = query(q)?;
    let limit = paging::limit(q.limit)?;
    let after = match q.cursor.as_deref().map(paging::decode).transpose()? {
        None => None,
        Some(c) => Some(
            c.split_once(':')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.parse::<i64>().ok()?)))
                .ok_or_else(|| {
                    ApiError::InvalidQuery(vec![FieldError::new(
                        "cursor",
                        "is not a cursor this API gave out",
                    )])
                })?,
        ),
    };
    let mut conn = state.db.acquire().await?;
    let id = readable(&state, &mut conn, &who, &raw_id, AuditAction::TimelineRead).await?;
    let row = store::household(&mut conn, &id)
        .await?
        .ok_or(ApiError::not_found("household"))?;
    let rows = store::timeline(&mut conn, state.db.keys(), &id, after, limit + 1).await?;
    state
        .audit(
            &mut conn,
            &who,
            AuditAction::TimelineRead,
            Some(id.as_str()),
        )
        .await?;
    let page = paging::page(
        rows,
        limit,
        |r| format!("{}:{}", r.event.at().millis(), r.id),
        TimelineItem::from,
    );
    Ok(Json(Timeline {
        household: HouseholdView::new(row, None),
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    household: HouseholdView,
    items: Vec<TimelineItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// Records an event on a household the actor may write.
async fn record(request: Writing<String>, kinds: &[&str]) -> Result<Response, ApiError> {
    let Writing {
        state,
        who,
        key,
        path: raw_id,
        body,
    } = request;
    let mut write = Write::open(&state, &who, key).await?;
    let checked = access::household(
        write.tx(),
        &who,
        &raw_id,
        Action::WriteHousehold,
        AuditAction::EventCreate,
    )
    .await?;
    let id = match checked {
        Ok(id) => id,
        Err(refusal) => {
            // Roll back first: on SQLite the refusal's audit row needs the write lock this holds.
            drop(write);
            return Err(refusal.audit(&state, &who).await.into());
        }
    };
    let mut write = match write.claim(&state, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let event = body.parse_event(&id, kinds)?;
    let now = state.clock.now();
    let row = events::record_event(
        write.tx(),
        state.db.keys(),
        &state.rules(),
        Origin::Request(&who),
        &event,
        now,
    )
    .await?;
    let location = format!("/api/v1/households/{id}/timeline");
    write
        .commit(
            &state,
            StatusCode::CREATED,
            Some(location),
            &TimelineItem::from(row),
            None::<&()>,
        )
        .await
}

/// Record a safety scale score. `type` and `household` may be left out. `at` is not later than now
/// (5 minutes of clock difference allowed) nor before the trajectory opened or was reopened.
#[utoipa::path(post, path = "/api/v1/households/{id}/scores", tag = "households",
    params(("id" = String, Path, description = "Household id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = crate::domain::Score,
    responses((status = 201, body = TimelineItem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn record_score(request: Writing<String>) -> Result<Response, ApiError> {
    record(request, &["score"]).await
}

/// Record a signal (melding, police incident, ...). `type` and `household` may be left out. `at` is
/// not later than now (5 minutes of clock difference allowed); it may lie before the trajectory
/// opened, since a signal is history.
#[utoipa::path(post, path = "/api/v1/households/{id}/signals", tag = "households",
    params(("id" = String, Path, description = "Household id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = crate::domain::Signal,
    responses((status = 201, body = TimelineItem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn record_signal(request: Writing<String>) -> Result<Response, ApiError> {
    record(request, &["signal"]).await
}

/// The event types `/events` takes: everything but households, scores and signals, which come
/// first in [`EVENT_TYPES`].
const OTHER_EVENTS: &[&str] = EVENT_TYPES.split_at(3).1;

/// Record another event: flag, consultation, intervention, escalation, proactive_scenario,
/// partner_withdrawal, closure or reopen (`type` is required). `at` is not later than now (5 minutes
/// of clock difference allowed) nor before the trajectory opened or was reopened; a reopen is not
/// before its closure. A closure needs a `reason`, an intervention a `description` (and an
/// `effect_expected_by` not before it).
#[utoipa::path(post, path = "/api/v1/households/{id}/events", tag = "households",
    params(("id" = String, Path, description = "Household id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = Event,
    responses((status = 201, body = TimelineItem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "Closing a closed or reopening an open trajectory"),
              (status = 422, body = Problem)))]
pub async fn record_event(request: Writing<String>) -> Result<Response, ApiError> {
    record(request, OTHER_EVENTS).await
}

/// Who works on a household.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignments {
    /// Username of the regisseur (role `regisseur`).
    regisseur: Option<String>,
    /// Usernames of the casemanagers (role `casemanager`).
    #[serde(default)]
    casemanagers: Vec<String>,
}

/// Set who holds regie of a household and who are its casemanagers (admins only). Replaces the
/// previous assignment.
#[utoipa::path(put, path = "/api/v1/households/{id}/assignments", tag = "households",
    params(("id" = String, Path, description = "Household id")),
    request_body = Assignments,
    responses((status = 200, body = [AssignmentView]), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn set_assignments(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<AssignHouseholds>,
    Path(raw_id): Path<String>,
    body: JsonBody,
) -> Result<Json<Vec<AssignmentView>>, ApiError> {
    let wanted: Assignments = body.parse()?;
    let id: HouseholdId = raw_id
        .parse()
        .map_err(|_| ApiError::not_found("household"))?;
    let wanted = events::Assignments {
        regisseur: wanted.regisseur,
        casemanagers: wanted.casemanagers,
    };
    let mut tx = state.db.begin_write().await?;
    let now = state.clock.now();
    let rows = events::set_assignments(
        &mut tx,
        &state.rules(),
        Origin::Request(&who),
        &id,
        &wanted,
        now,
    )
    .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    // Its regisseurs were told.
    state.notified();
    Ok(Json(
        rows.into_iter()
            .map(|a| AssignmentView {
                username: a.username,
                relation: a.relation,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn other_events_are_all_but_households_scores_and_signals() {
        assert_eq!(super::EVENT_TYPES[..3], ["household", "score", "signal"]);
        assert!(super::OTHER_EVENTS.contains(&"closure"));
        assert_eq!(super::OTHER_EVENTS.len(), super::EVENT_TYPES.len() - 3);
    }
}
