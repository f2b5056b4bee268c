//! Reading alerts: the list, and one alert with its evidence and history.

use crate::http::extractor::{Allowed, ListAlerts};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{AlertDetail, AlertView, TransitionView};
use crate::app::access;
use crate::app::audit::AuditAction;
use crate::auth::Authenticated;
use crate::auth::policy::Action;
use crate::domain::{HouseholdId, PlaceName};
use crate::http::AppState;
use crate::http::error::{ApiError, FieldError, Problem};
use crate::http::households::{TimelineItem, query, query_value};
use crate::http::paging::{self, Page};
use crate::store::{self, AlertFilter, AlertState};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `firing`, `acknowledged`, `silenced` or `resolved`.
    state: Option<String>,
    /// A rule id, e.g. `geen-directe-veiligheid`.
    rule: Option<String>,
    household: Option<String>,
    gemeente: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// Alerts on the households the actor works on, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = Page<AlertView>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ListAlerts>,
    q: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Page<AlertView>>, ApiError> {
    if crate::auth::policy::household_scope(&who.actor)
        != Some(crate::auth::policy::HouseholdScope::Assigned)
    {
        // Admins see households by metadata only, never their alerts.
        let refusal = access::forbidden(AuditAction::AlertList);
        return Err(refusal.audit(&state, &who).await.into());
    }
    let q = query(q)?;
    // Parsed at the edge: a value that cannot be one (a NUL byte) never reaches the database.
    let filter = AlertFilter {
        state: query_value::<AlertState>("state", q.state)?,
        rule: known_rule(&state, q.rule)?,
        household: query_value::<HouseholdId>("household", q.household)?.map(|h| h.to_string()),
        gemeente: query_value::<PlaceName>("gemeente", q.gemeente)?.map(|g| g.as_str().to_owned()),
    };
    let limit = paging::limit(q.limit)?;
    let before = paging::id_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = store::list_alerts(&mut conn, &filter, who.actor.user_id, before, limit + 1).await?;
    drop(conn);
    let shown = rows.iter().take(usize::try_from(limit).unwrap_or(0));
    state
        .audit_shown(
            &who,
            AuditAction::AlertList,
            shown.map(|a| a.household.as_str()),
        )
        .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |a| a.id.to_string(),
        AlertView::from,
    )))
}

/// A rule id of the rules in force; another is refused with the ids that are.
pub(crate) fn known_rule(
    state: &AppState,
    rule: Option<String>,
) -> Result<Option<String>, ApiError> {
    let rules = state.rules();
    match rule {
        Some(r) if rules.title(&r).is_none() => Err(ApiError::InvalidQuery(vec![FieldError::new(
            "rule",
            format!("unknown rule; allowed: {}", rules.rule_ids().join(", ")),
        )])),
        rule => Ok(rule),
    }
}

/// One alert, with its evidence and history.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, body = AlertDetail), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<AlertDetail>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let alert = match access::alert(
        &mut conn,
        &who,
        id,
        Action::ReadHousehold,
        AuditAction::AlertRead,
    )
    .await?
    {
        Ok(alert) => alert,
        Err(refusal) => return Err(refusal.audit(&state, &who).await.into()),
    };
    let evidence = store::events_by_id(
        &mut conn,
        state.db.keys(),
        &alert.household,
        &alert.evidence,
    )
    .await?;
    let history = store::transitions(&mut conn, state.db.keys(), alert.id).await?;
    let household = alert.household.to_string();
    state
        .audit(&mut conn, &who, AuditAction::AlertRead, Some(&household))
        .await?;
    Ok(Json(AlertDetail {
        alert: alert.into(),
        evidence: evidence.into_iter().map(TimelineItem::from).collect(),
        history: history.into_iter().map(TransitionView::from).collect(),
    }))
}
