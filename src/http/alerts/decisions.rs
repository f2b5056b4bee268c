//! A regisseur's decisions on an alert: acknowledge with a decision and a reason, or silence until
//! a date. The rules are the application's (`app::decisions`); this is their JSON form.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AlertView;
use crate::app::decisions::{self, Input};
use crate::app::{AppError, access};
use crate::auth::policy::Action;
use crate::domain::{Decision, FreeText, LocalDate, Specialism};
use crate::http::error::{ApiError, Problem};
use crate::http::extractor::Writing;
use crate::http::idempotency::{Begun, Write};

/// The regisseur's decision on an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    decision: Decision,
    /// Which expertise is consulted; required with `specialist_consult`, refused with any other
    /// decision.
    #[serde(default)]
    specialism: Option<Specialism>,
    /// Why; never logged.
    reason: FreeText,
}

/// Acknowledge an alert with a decision and a reason (the household's regisseur).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", request_body = Acknowledgement,
    params(("id" = i64, Path, description = "Alert id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, body = AlertView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn acknowledge(request: Writing<i64>) -> Result<Response, ApiError> {
    let ack: Acknowledgement = request.body.parse()?;
    let input = Input::Acknowledge {
        decision: ack.decision,
        specialism: ack.specialism,
        reason: ack.reason,
    };
    decide(request, &input).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    /// Why the alert may be quiet for a while; never logged.
    reason: FreeText,
    /// The silence ends at the start of this date; if the alert still fires then, the regisseur is
    /// told at once. At most a year ahead.
    until: LocalDate,
}

/// Silence an alert until a date, with a reason (the household's regisseur).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/silence", tag = "alerts", request_body = Silence,
    params(("id" = i64, Path, description = "Alert id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, body = AlertView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn silence(request: Writing<i64>) -> Result<Response, ApiError> {
    let silence: Silence = request.body.parse()?;
    let input = Input::Silence {
        reason: silence.reason,
        until: silence.until,
    };
    decide(request, &input).await
}

/// Checks the input, then access in the write transaction, claims the idempotency key, records
/// the decision and answers with the alert as it is now.
async fn decide(request: Writing<i64>, input: &Input) -> Result<Response, ApiError> {
    let Writing {
        state,
        who,
        key,
        path: id,
        body,
    } = request;
    let (state, who, body) = (&*state, &who, &body);
    input
        .check(state.clock.now())
        .map_err(|p| AppError::Invalid(vec![p.into()]))?;
    let mut write = Write::open(state, who, key).await?;
    let audit_action = input.audit_action();
    let checked = access::alert(write.tx(), who, id, Action::DecideAlert, audit_action).await?;
    let alert = match checked {
        Ok(alert) => alert,
        Err(refusal) => {
            // Roll back first: on SQLite the refusal's audit row needs the write lock this holds.
            drop(write);
            return Err(refusal.audit(state, who).await.into());
        }
    };
    let mut write = match write.claim(state, body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let now = state.clock.now();
    let updated = decisions::decide(state, write.tx(), who, &alert, input, now).await?;
    write
        .commit(
            state,
            StatusCode::OK,
            None,
            &AlertView::from(updated),
            None::<&()>,
        )
        .await
}
