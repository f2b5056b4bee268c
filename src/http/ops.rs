//! Operations: health, readiness, metrics, the OpenAPI document, and the answers for unknown
//! routes and panics.

use std::any::Any;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::extractor::{Allowed, ReadMetrics};
use super::{ApiError, AppState, Problem};
use crate::auth::Authenticated;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when not ready.
    status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", security(()), tag = "operations",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers and every migration is applied.
#[utoipa::path(get, path = "/readyz", security(()), tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.db.ready().await {
        Ok(true) => Json(Health { status: "ok" }).into_response(),
        Ok(false) | Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
            }),
        )
            .into_response(),
    }
}

/// Prometheus metrics (OpenMetrics text), for an admin's token. Carries no household data. When
/// `metrics_listen` gives metrics an address of their own, they are served there without a token,
/// and not here.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "application/openmetrics-text", body = String),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    Extension(metrics): Extension<Arc<super::metrics::Metrics>>,
    allowed: Result<Allowed<ReadMetrics>, ApiError>,
) -> Response {
    if state.settings.metrics_listen.is_some() {
        return ApiError::not_found("route").into_response();
    }
    match allowed {
        Ok(_) => metrics.response(),
        Err(e) => e.into_response(),
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(_who: Authenticated) -> Response {
    Json(super::openapi()).into_response()
}

/// An unknown URL: a Dutch page with the navigation for a browser, problem+json for the API.
pub async fn not_found(headers: HeaderMap) -> Response {
    let browser = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let error = ApiError::not_found("route");
    if browser {
        super::web::page_error(error)
    } else {
        error.into_response()
    }
}

pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    // The panic payload may quote data; it is not logged.
    tracing::error!("handler panicked");
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}
