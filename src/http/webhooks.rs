//! Webhook endpoints and their deliveries (admins): configure, list, disable, enable again, see
//! deliveries, redeliver (not to a disabled endpoint).

use super::extractor::{Allowed, ManageWebhooks, ReadWebhooks};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::body::JsonBody;
use super::error::{ApiError, FieldError, Problem};
use super::households::query;
use super::idempotency::{Begun, IdempotencyKey, Write};
use super::paging::{self, Page};
use crate::app::AppError;
use crate::app::audit::{self, AuditAction, Origin};
use crate::domain::{Instant, Region};
use crate::store::{self};

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    id: i64,
    url: String,
    /// Only alerts of households in this region; absent for every region.
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    /// The role it stands for: `regisseur`, `casemanager`, `specialist_pool`, `veilig_thuis`,
    /// `gemeente_monitor`, an escalation level such as `teamcoordinator`, or `audit` (the audit
    /// chain's head once a day, nothing else).
    role: String,
    /// Whether it also receives info-level reminders (kept off the webhooks by default).
    include_info: bool,
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_why: Option<String>,
    created_at: Instant,
}

impl From<store::notify::EndpointRow> for EndpointView {
    fn from(e: store::notify::EndpointRow) -> Self {
        EndpointView {
            id: e.id,
            url: e.url,
            region: e.region,
            role: e.role,
            include_info: e.include_info,
            active: e.active,
            disabled_why: e.disabled_why,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewEndpointView {
    #[serde(flatten)]
    endpoint: EndpointView,
    /// The signing secret (`whsec_…`), shown only in this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://…` (or `http://` for a receiver on the same machine).
    url: String,
    #[serde(default)]
    region: Option<Region>,
    role: String,
    /// Also send info-level reminders (such as an overdue score), which otherwise stay on the
    /// casemanager's work list. Default false.
    #[serde(default)]
    include_info: bool,
}

/// Configure a webhook endpoint (admins only). The signing secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewEndpoint,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = NewEndpointView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ManageWebhooks>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let new: NewEndpoint = body.parse()?;
    let url = reqwest::Url::parse(&new.url)
        .map_err(|e| ApiError::invalid("url", format!("not a URL: {e}")))?;
    let loopback = url
        .host_str()
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
        return Err(ApiError::invalid(
            "url",
            "must be https:// (http:// only on this machine)",
        ));
    }
    let ladder = state.rules().escalation_roles();
    // `audit` receives the audit chain's head once a day, and no alert.
    let known = crate::engine::NotifyRole::WIRE.contains(&new.role.as_str())
        || ladder.contains(&new.role)
        || new.role == audit::HEAD_ROLE;
    if !known {
        let mut allowed: Vec<String> = crate::engine::NotifyRole::WIRE
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        allowed.extend(ladder);
        allowed.push(audit::HEAD_ROLE.to_owned());
        return Err(ApiError::invalid(
            "role",
            format!(
                "unknown role `{}`; allowed: {}",
                new.role,
                allowed.join(", ")
            ),
        ));
    }
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(w) => w,
        Begun::Replay(r) => return Ok(r),
    };
    let now = state.clock.now();
    let secret = crate::app::notify::webhook::new_secret();
    let row = store::notify::create_endpoint(
        write.tx(),
        url.as_str(),
        new.region,
        &new.role,
        new.include_info,
        &secret,
        now,
    )
    .await?;
    audit::record_ok(
        write.tx(),
        Origin::Request(&who),
        AuditAction::WebhookChange,
        None,
        now,
    )
    .await?;
    let location = format!("/api/v1/webhooks/{}", row.id);
    let first = NewEndpointView {
        endpoint: row.clone().into(),
        secret: Some(secret),
    };
    let replayed = NewEndpointView {
        endpoint: row.into(),
        secret: None,
    };
    write
        .commit(
            &state,
            StatusCode::CREATED,
            Some(location),
            &first,
            Some(&replayed),
        )
        .await
}

/// Webhook endpoints, without their secrets (admins only).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = [EndpointView]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ReadWebhooks>,
) -> Result<Json<Vec<EndpointView>>, ApiError> {
    let mut conn = state.db.acquire().await?;
    state
        .audit(&mut conn, &who, AuditAction::WebhookRead, None)
        .await?;
    Ok(Json(
        store::notify::endpoints(&mut conn)
            .await?
            .into_iter()
            .map(EndpointView::from)
            .collect(),
    ))
}

/// Disable a webhook endpoint (admins only); its pending deliveries stay visible.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn disable(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ManageWebhooks>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin_write().await?;
    if !store::notify::disable_endpoint(&mut tx, id, "disabled by an admin").await? {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    state
        .audit(&mut tx, &who, AuditAction::WebhookChange, None)
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled webhook endpoint again, once its receiver accepts deliveries (admins only).
/// What was dead-lettered for it stays dead until it is redelivered.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn enable(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ManageWebhooks>,
    Path(id): Path<i64>,
) -> Result<Json<EndpointView>, ApiError> {
    let mut tx = state.db.begin_write().await?;
    let Some(row) = store::notify::enable_endpoint(&mut tx, id).await? else {
        return Err(ApiError::not_found("webhook endpoint"));
    };
    state
        .audit(&mut tx, &who, AuditAction::WebhookChange, None)
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    state.notified();
    Ok(Json(row.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How long the present secret keeps signing beside the new one, in hours (1 to 168;
    /// default 24): the time the receiver has to switch.
    #[serde(default = "overlap_default")]
    overlap_hours: i64,
}

fn overlap_default() -> i64 {
    24
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedView {
    #[serde(flatten)]
    endpoint: EndpointView,
    /// The new signing secret (`whsec_…`), shown only in this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// Until then deliveries carry a signature with the previous secret too.
    previous_secret_until: Instant,
}

/// Rotate an endpoint's signing secret (admins only). The new secret is in this answer only;
/// the present one keeps signing beside it for `overlap_hours`, so the receiver can switch
/// without rejecting a delivery (each delivery then carries one signature per secret).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", request_body = Rotation,
    params(("id" = i64, Path, description = "Endpoint id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, body = RotatedView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ManageWebhooks>,
    Path(id): Path<i64>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let rotation: Rotation = body.parse()?;
    if !(1..=168).contains(&rotation.overlap_hours) {
        return Err(ApiError::invalid(
            "overlap_hours",
            "must be from 1 to 168 hours",
        ));
    }
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(w) => w,
        Begun::Replay(r) => return Ok(r),
    };
    let now = state.clock.now();
    let until = Instant::from_timestamp(
        now.timestamp() + jiff::SignedDuration::from_hours(rotation.overlap_hours),
    );
    let secret = crate::app::notify::webhook::new_secret();
    let Some(row) = store::notify::rotate_secret(write.tx(), id, &secret, until).await? else {
        return Err(ApiError::not_found("webhook endpoint"));
    };
    audit::record_ok(
        write.tx(),
        Origin::Request(&who),
        AuditAction::WebhookChange,
        None,
        now,
    )
    .await?;
    let first = RotatedView {
        endpoint: row.clone().into(),
        secret: Some(secret),
        previous_secret_until: until,
    };
    let replayed = RotatedView {
        endpoint: row.into(),
        secret: None,
        previous_secret_until: until,
    };
    write
        .commit(&state, StatusCode::OK, None, &first, Some(&replayed))
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    id: i64,
    /// The `webhook-id` header: the same on every attempt.
    message_id: String,
    endpoint_id: i64,
    /// `pending`, `delivered` or `dead`.
    status: String,
    attempts: i64,
    next_attempt: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_at: Option<Instant>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    endpoint: Option<i64>,
    /// `pending`, `delivered` or `dead`.
    status: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// Webhook deliveries, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks", params(DeliveryQuery),
    responses((status = 200, body = Page<DeliveryView>), (status = 403, body = Problem)))]
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ReadWebhooks>,
    q: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let q = query(q)?;
    if let Some(s) = q
        .status
        .as_deref()
        .filter(|s| !["pending", "delivered", "dead"].contains(s))
    {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "status",
            format!("unknown status `{s}`; allowed: pending, delivered, dead"),
        )]));
    }
    let limit = paging::limit(q.limit)?;
    let before = paging::id_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = store::notify::deliveries(
        &mut conn,
        q.endpoint,
        q.status.as_deref(),
        before,
        limit + 1,
    )
    .await?;
    state
        .audit(&mut conn, &who, AuditAction::WebhookRead, None)
        .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |d| d.id.to_string(),
        |d| DeliveryView {
            id: d.id,
            message_id: d.message_id,
            endpoint_id: d.endpoint,
            status: d.status,
            attempts: d.attempts,
            next_attempt: d.next_attempt,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        },
    )))
}

/// Send a delivery again, now, with the same `webhook-id` (admins only). Refused while its endpoint
/// is disabled (by an admin, or after the receiver answered `410 Gone`).
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/redeliver", tag = "webhooks",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 202), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The delivery's endpoint is disabled: enable it first", body = Problem)))]
pub async fn redeliver(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ManageWebhooks>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.begin_write().await?;
    match store::notify::redeliver(&mut tx, id, state.clock.now()).await? {
        store::notify::Redelivery::Queued => {}
        store::notify::Redelivery::NotFound => return Err(ApiError::not_found("delivery")),
        store::notify::Redelivery::EndpointDisabled { endpoint, why } => {
            let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
            return Err(ApiError::App(AppError::Conflict(format!(
                "delivery {id} goes to webhook endpoint {endpoint}, which is disabled{why}; \
                 nothing is sent to it until an admin enables it again \
                 (POST /api/v1/webhooks/{endpoint}/enable, once the receiver accepts deliveries), \
                 then redeliver"
            ))));
        }
    }
    state
        .audit(&mut tx, &who, AuditAction::WebhookChange, None)
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    state.notified();
    Ok(StatusCode::ACCEPTED)
}
