//! Signal reporters (*ogen en oren in de wijk*) report a concern by household reference. The
//! receipt is the same whether or not the reference is known: it reveals nothing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::body::JsonBody;
use super::error::{ApiError, Problem};
use super::households::require;
use super::idempotency::{Begun, IdempotencyKey, Write};
use crate::audit::{self, AuditAction};
use crate::auth::Authenticated;
use crate::auth::policy::Action;
use crate::domain::{Event, Instant, Reference, Signal, SignalKind, SignalSource};
use crate::store::{self, AuditOutcome};

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

/// A concern as received, from the API or the web form.
pub(crate) struct ReportInput {
    pub reference: Reference,
    pub at: Instant,
    pub kind: SignalKind,
    pub source: SignalSource,
    pub acute: bool,
    /// What the reporter sent, kept with the report.
    pub payload: String,
}

/// Files a report in `tx`: attaches it to the household with this reference (as a signal,
/// evaluated at once) or keeps it unmatched, and audits it. Returns the receipt.
async fn file_report_in(
    state: &AppState,
    tx: &mut store::Tx,
    who: &Authenticated,
    input: &ReportInput,
) -> Result<(String, Instant), ApiError> {
    let now = state.clock.now();
    let household = store::household_by_reference(tx, &input.reference).await?;
    let matched = match &household {
        Some(id) => {
            let event = Event::Signal(Signal {
                household: id.clone(),
                at: input.at,
                kind: input.kind,
                source: input.source,
                acute: input.acute,
            });
            let row = store::insert_event(tx, &event, Some(who.actor.user_id), now)
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
            crate::alerting::reconcile(tx, &state.rules(), id, now).await?;
            Some((id, row.id))
        }
        None => None,
    };
    let receipt = format!("R-{}", uuid::Uuid::new_v4().simple());
    let row = store::insert_report(
        tx,
        &receipt,
        who.actor.user_id,
        &input.reference,
        matched,
        &input.payload,
        now,
    )
    .await?;
    let household = household.as_ref().map(|h| h.as_str());
    audit::record(
        tx,
        who,
        AuditAction::ReportCreate,
        household,
        AuditOutcome::Ok,
        now,
    )
    .await?;
    Ok((row.receipt, row.received_at))
}

/// Files a report in its own transaction (the web form).
pub(crate) async fn file_report(
    state: &AppState,
    who: &Authenticated,
    input: &ReportInput,
) -> Result<(String, Instant), ApiError> {
    let mut tx = state.db.begin_write().await?;
    let payload = serde_json::json!({
        "reference": input.reference, "at": input.at, "kind": input.kind, "source": input.source, "acute": input.acute,
    });
    let input = ReportInput {
        reference: input.reference.clone(),
        at: input.at,
        kind: input.kind,
        source: input.source,
        acute: input.acute,
        payload: payload.to_string(),
    };
    let receipt = file_report_in(state, &mut tx, who, &input).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(receipt)
}

/// Report a concern (signal reporters only). Answers with a receipt and nothing else.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = Report,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 202, body = Receipt), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn report(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    require(
        &state,
        &who,
        Action::ReportSignal,
        AuditAction::ReportCreate,
    )
    .await?;
    let report: Report = body.parse()?;
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let input = ReportInput {
        reference: report.reference,
        at: report.at,
        kind: report.kind,
        source: report.source,
        acute: report.acute,
        payload: String::from_utf8_lossy(&body.bytes).into_owned(),
    };
    let (receipt, received_at) = file_report_in(&state, write.tx(), &who, &input).await?;
    let receipt = Receipt {
        receipt,
        received_at,
    };
    write
        .commit(&state, StatusCode::ACCEPTED, None, &receipt, None::<&()>)
        .await
}
