//! Signal reporters (*ogen en oren in de wijk*) report a concern by household reference. The
//! receipt is the same whether or not the reference is known: it reveals nothing.

use super::extractor::{Allowed, ReportSignals};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::body::JsonBody;
use super::error::{ApiError, Problem};
use super::idempotency::{Begun, IdempotencyKey, Write};
use crate::app::reports;
use crate::domain::{Instant, Reference, SignalKind, SignalSource};

/// A concern about a household, known to the reporter by its reference.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    reference: Reference,
    at: Instant,
    kind: SignalKind,
    source: SignalSource,
    acute: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// Quote this when asked about the report.
    receipt: String,
    received_at: Instant,
}

/// Report a concern (signal reporters only). Answers with a receipt and nothing else.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = Report,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 202, body = Receipt), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn report(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ReportSignals>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let report: Report = body.parse()?;
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let input = reports::Report {
        reference: report.reference,
        at: report.at,
        kind: report.kind,
        source: report.source,
        acute: report.acute,
    };
    let payload = String::from_utf8_lossy(&body.bytes);
    let now = state.clock.now();
    let filed = reports::file(
        write.tx(),
        state.db.keys(),
        &state.limits,
        &who,
        &input,
        &payload,
        now,
    )
    .await?;
    let receipt = Receipt {
        receipt: filed.receipt,
        received_at: filed.received_at,
    };
    write
        .commit(&state, StatusCode::ACCEPTED, None, &receipt, None::<&()>)
        .await
}
