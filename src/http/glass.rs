//! Break-the-glass over the API: Veilig Thuis opens a time-limited read of a household of its
//! region with a reason ([`crate::app::glass`]); an admin, or the household's regisseur, reviews
//! who did so and why.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::body::JsonBody;
use super::error::{ApiError, Problem};
use crate::app::glass;
use crate::auth::Authenticated;
use crate::domain::Instant;
use crate::store::glass::GlassRow;

/// Why a household must be read without an assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlass {
    /// At least 10 characters; kept with the read for review, never logged.
    reason: Option<String>,
}

/// A break-the-glass read granted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Granted {
    household: String,
    /// The read ends by itself at this time.
    until: Instant,
}

/// One break-the-glass read, for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlassView {
    id: i64,
    username: String,
    household: String,
    reason: String,
    opened_at: Instant,
    until: Instant,
}

impl From<GlassRow> for GlassView {
    fn from(g: GlassRow) -> Self {
        GlassView {
            id: g.id,
            username: g.username,
            household: g.household.to_string(),
            reason: g.reason.as_str().to_owned(),
            opened_at: g.opened_at,
            until: g.until,
        }
    }
}

/// Break the glass: read a household of one's region without an assignment (Veilig Thuis), for a
/// stated reason and for a few hours (`break_glass_hours`, default 3). Its regisseur is told.
#[utoipa::path(post, path = "/api/v1/households/{id}/break-glass", tag = "households",
    params(("id" = String, Path, description = "Household id")),
    request_body = BreakGlass,
    responses((status = 201, body = Granted), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn open(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    Path(raw_id): Path<String>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Granted>), ApiError> {
    crate::app::access::require(
        &state,
        &who,
        crate::auth::policy::Action::BreakGlass,
        crate::app::audit::AuditAction::BreakGlass,
    )
    .await?;
    let asked: BreakGlass = body.parse()?;
    let mut tx = state.db.begin_write().await?;
    let hours = state.settings.break_glass_hours;
    match glass::open(
        &mut tx,
        state.db.keys(),
        &who,
        &raw_id,
        asked.reason.as_deref(),
        hours,
    )
    .await?
    {
        Ok(granted) => {
            tx.commit().await.map_err(crate::store::StoreError::from)?;
            state.notified();
            Ok((
                StatusCode::CREATED,
                Json(Granted {
                    household: granted.household.to_string(),
                    until: granted.until,
                }),
            ))
        }
        Err(refusal) => {
            drop(tx);
            Err(refusal.audit(&state, &who).await.into())
        }
    }
}

/// Every break-the-glass read, newest first (admins), for review.
#[utoipa::path(get, path = "/api/v1/break-glass", tag = "admin",
    responses((status = 200, body = [GlassView]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
) -> Result<Json<Vec<GlassView>>, ApiError> {
    reviewed(&state, &who, None).await
}

/// The break-the-glass reads of one household, newest first (its regisseur, admins).
#[utoipa::path(get, path = "/api/v1/households/{id}/break-glass", tag = "households",
    params(("id" = String, Path, description = "Household id")),
    responses((status = 200, body = [GlassView]), (status = 404, body = Problem)))]
pub async fn of_household(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    Path(raw_id): Path<String>,
) -> Result<Json<Vec<GlassView>>, ApiError> {
    reviewed(&state, &who, Some(&raw_id)).await
}

async fn reviewed(
    state: &AppState,
    who: &Authenticated,
    household: Option<&str>,
) -> Result<Json<Vec<GlassView>>, ApiError> {
    let mut conn = state.db.acquire().await?;
    match glass::review(&mut conn, state.db.keys(), who, household).await? {
        Ok(rows) => Ok(Json(rows.into_iter().map(GlassView::from).collect())),
        Err(refusal) => {
            drop(conn);
            Err(refusal.audit(state, who).await.into())
        }
    }
}
