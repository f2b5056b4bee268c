//! Alerts: list, one with its evidence and history, acknowledge, silence. Access follows the
//! household's: a refusal reads like an alert that does not exist.

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
use super::households::{TimelineItem, household_access, query, refuse_household, require};
use super::idempotency::{Begun, IdempotencyKey, Write};
use super::paging::{self, Page};
use crate::audit::{self, AuditAction};
use crate::auth::Authenticated;
use crate::auth::policy::Action;
use crate::domain::{Decision, FreeText, Instant, LocalDate, Specialism};
use crate::engine::Severity;
use crate::store::{
    self, AlertFilter, AlertRow, AlertState, AlertUpdate, AuditOutcome, Conn, Transition,
    TransitionRow,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    id: i64,
    household: String,
    rule: String,
    /// One-shot alerts (hermelding, ogen-en-oren, nazorg) notify once and never resolve.
    one_shot: bool,
    /// `firing`, `acknowledged`, `silenced` or `resolved`.
    state: String,
    severity: Severity,
    /// What the person notified should do.
    advice: String,
    /// Since when the condition holds (for one-shots: when it happened).
    since: Instant,
    /// When zicht raised this firing.
    fired_at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_at: Option<Instant>,
    /// A grace period (a new intervention) kept this alert quiet until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed_until: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    silenced_until: Option<Instant>,
    /// Ids of the events (scores, signals) that made it fire.
    evidence_ids: Vec<i64>,
}

impl From<AlertRow> for AlertView {
    fn from(a: AlertRow) -> Self {
        AlertView {
            id: a.id,
            household: a.household.to_string(),
            rule: a.rule,
            one_shot: a.one_shot,
            state: a.state.as_str().to_owned(),
            severity: a.severity,
            advice: a.advice,
            since: a.since,
            fired_at: a.fired_at,
            resolved_at: a.resolved_at,
            suppressed_until: a.suppressed_until,
            silenced_until: a.silenced_until,
            evidence_ids: a.evidence,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    to: String,
    /// `first`, `refired`, `resolved`, `severity`, `acknowledged`, `silenced`, `silence_expired`.
    why: String,
    /// The user, or `zicht` for the engine.
    actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    specialism: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    silenced_until: Option<Instant>,
}

impl From<TransitionRow> for TransitionView {
    fn from(t: TransitionRow) -> Self {
        TransitionView {
            at: t.at,
            from: t.from,
            to: t.to,
            why: t.why,
            actor: t.actor,
            decision: t.decision,
            specialism: t.specialism,
            reason: t.reason,
            silenced_until: t.silenced_until,
        }
    }
}

/// An alert with the events that made it fire and everything that happened to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    alert: AlertView,
    evidence: Vec<TimelineItem>,
    history: Vec<TransitionView>,
}

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
    limit: Option<i64>,
}

/// Alerts on the households the actor works on, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = Page<AlertView>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    q: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Page<AlertView>>, ApiError> {
    require(&state, &who, Action::ListHouseholds, AuditAction::AlertList).await?;
    if crate::auth::policy::household_scope(&who.actor)
        != Some(crate::auth::policy::HouseholdScope::Assigned)
    {
        // Admins see households by metadata only, never their alerts.
        let mut conn = state.db.acquire().await?;
        audit::record(
            &mut conn,
            &who,
            AuditAction::AlertList,
            None,
            AuditOutcome::Denied,
            state.clock.now(),
        )
        .await?;
        return Err(ApiError::Forbidden);
    }
    let q = query(q)?;
    let filter = AlertFilter {
        state: q
            .state
            .map(|s| s.parse::<AlertState>())
            .transpose()
            .map_err(|e| ApiError::InvalidQuery(vec![FieldError::new("state", e.to_string())]))?,
        rule: q.rule,
        household: q.household,
        gemeente: q.gemeente,
    };
    let limit = paging::limit(q.limit)?;
    let before = paging::id_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = store::list_alerts(&mut conn, &filter, who.actor.user_id, before, limit + 1).await?;
    audit::record(
        &mut conn,
        &who,
        AuditAction::AlertList,
        None,
        AuditOutcome::Ok,
        state.clock.now(),
    )
    .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |a| a.id.to_string(),
        AlertView::from,
    )))
}

/// The alert `id` if the actor may do `action` on its household; otherwise 404, audited.
async fn accessible(
    state: &AppState,
    conn: &mut Conn,
    who: &Authenticated,
    id: i64,
    action: Action,
    audit_action: AuditAction,
) -> Result<AlertRow, ApiError> {
    let alert = store::alert(conn, id).await?;
    let household = alert
        .as_ref()
        .map(|a| a.household.to_string())
        .unwrap_or_default();
    match alert {
        Some(a)
            if household_access(conn, who, &household, action)
                .await?
                .is_some() =>
        {
            Ok(a)
        }
        _ => Err(
            match refuse_household(state, who, &household, audit_action).await {
                ApiError::NotFound(_) => ApiError::NotFound("alert"),
                other => other,
            },
        ),
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
    let alert = accessible(
        &state,
        &mut conn,
        &who,
        id,
        Action::ReadHousehold,
        AuditAction::AlertRead,
    )
    .await?;
    let evidence = store::events_by_id(&mut conn, &alert.household, &alert.evidence).await?;
    let history = store::transitions(&mut conn, alert.id).await?;
    let household = alert.household.to_string();
    audit::record(
        &mut conn,
        &who,
        AuditAction::AlertRead,
        Some(&household),
        AuditOutcome::Ok,
        state.clock.now(),
    )
    .await?;
    Ok(Json(AlertDetail {
        alert: alert.into(),
        evidence: evidence.into_iter().map(TimelineItem::from).collect(),
        history: history.into_iter().map(TransitionView::from).collect(),
    }))
}

/// The regisseur's decision on an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    decision: Decision,
    /// Which expertise is consulted; required with `specialist_consult`.
    #[serde(default)]
    specialism: Option<Specialism>,
    /// Why; never logged.
    reason: FreeText,
}

/// Acknowledge an alert with a decision and a reason (the household's regisseur).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", request_body = Acknowledgement,
    params(("id" = i64, Path, description = "Alert id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, body = AlertView), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
pub async fn acknowledge(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    key: IdempotencyKey,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let ack: Acknowledgement = body.parse()?;
    match (ack.decision, ack.specialism) {
        (Decision::SpecialistConsult, None) => {
            return Err(ApiError::invalid(
                "specialism",
                "required with decision specialist_consult",
            ));
        }
        (d, Some(_)) if d != Decision::SpecialistConsult => {
            return Err(ApiError::invalid(
                "specialism",
                "only with decision specialist_consult",
            ));
        }
        _ => {}
    }
    let transition = Transition {
        to: Some(AlertState::Acknowledged),
        why: "acknowledged",
        decision: Some(ack.decision.as_str().to_owned()),
        specialism: ack.specialism.map(|s| s.as_str().to_owned()),
        reason: Some(ack.reason.as_str().to_owned()),
        ..Transition::default()
    };
    decide(
        state,
        who,
        key,
        id,
        body,
        transition,
        AuditAction::AlertAcknowledge,
    )
    .await
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
    responses((status = 200, body = AlertView), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
pub async fn silence(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    key: IdempotencyKey,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let silence: Silence = body.parse()?;
    let now = state.clock.now();
    let until = silence.until.start();
    let latest = crate::domain::Instant::from_timestamp(
        now.timestamp() + jiff::SignedDuration::from_hours(24 * 366),
    );
    if until <= now {
        return Err(ApiError::invalid("until", "must be a date after today"));
    }
    if until > latest {
        return Err(ApiError::invalid("until", "must be at most a year ahead"));
    }
    let transition = Transition {
        to: Some(AlertState::Silenced),
        why: "silenced",
        reason: Some(silence.reason.as_str().to_owned()),
        silenced_until: Some(until),
        ..Transition::default()
    };
    decide(
        state,
        who,
        key,
        id,
        body,
        transition,
        AuditAction::AlertSilence,
    )
    .await
}

/// Applies a person's decision (acknowledge or silence) to an alert in `tx`: refuses a resolved
/// alert and silencing a one-shot, records the transition with who and when, audits it, and
/// re-evaluates the household (the silence's end becomes a due time). The API and the web pages
/// both decide through here.
pub(super) async fn record_decision(
    state: &AppState,
    tx: &mut store::Tx,
    who: &Authenticated,
    alert: &AlertRow,
    mut transition: Transition,
    audit_action: AuditAction,
) -> Result<AlertRow, ApiError> {
    let current = store::alert(tx, alert.id)
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    let to = transition.to.unwrap_or(AlertState::Firing);
    if current.state == AlertState::Resolved {
        return Err(ApiError::Conflict(
            "the alert is resolved: its condition no longer holds".into(),
        ));
    }
    if current.one_shot && to == AlertState::Silenced {
        return Err(ApiError::Conflict(
            "a one-shot alert cannot be silenced; acknowledge it".into(),
        ));
    }
    let now = state.clock.now();
    transition.from = Some(current.state);
    transition.actor_id = Some(who.actor.user_id);
    transition.actor = who.actor.username.clone();
    let update = AlertUpdate {
        state: to,
        firing: None,
        fired_at: None,
        resolved_at: None,
        silenced_until: transition.silenced_until,
    };
    store::update_alert(tx, current.id, &update, now).await?;
    store::append_transition(tx, current.id, &transition, now).await?;
    audit::record(
        tx,
        who,
        audit_action,
        Some(current.household.as_str()),
        AuditOutcome::Ok,
        now,
    )
    .await?;
    crate::alerting::reconcile(tx, &state.rules(), &current.household, now).await?;
    store::alert(tx, current.id)
        .await?
        .ok_or(ApiError::NotFound("alert"))
}

async fn decide(
    state: Arc<AppState>,
    who: Authenticated,
    key: IdempotencyKey,
    id: i64,
    body: JsonBody,
    transition: Transition,
    audit_action: AuditAction,
) -> Result<Response, ApiError> {
    let mut write = Write::open(&state, &who, key).await?;
    let alert = match store::alert(write.tx(), id).await? {
        Some(a)
            if household_access(
                write.tx(),
                &who,
                a.household.as_str(),
                Action::ReadHousehold,
            )
            .await?
            .is_some() =>
        {
            if household_access(write.tx(), &who, a.household.as_str(), Action::DecideAlert)
                .await?
                .is_none()
            {
                // They see the alert, so saying it does not exist would be a lie: refuse plainly.
                drop(write);
                let mut conn = state.db.acquire().await?;
                let household = a.household.to_string();
                let now = state.clock.now();
                audit::record(
                    &mut conn,
                    &who,
                    audit_action,
                    Some(&household),
                    AuditOutcome::Denied,
                    now,
                )
                .await?;
                return Err(ApiError::Forbidden);
            }
            a
        }
        other => {
            let household = other.map(|a| a.household.to_string()).unwrap_or_default();
            drop(write);
            return Err(
                match refuse_household(&state, &who, &household, audit_action).await {
                    ApiError::NotFound(_) => ApiError::NotFound("alert"),
                    e => e,
                },
            );
        }
    };
    let mut write = match write.claim(&state, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let updated =
        record_decision(&state, write.tx(), &who, &alert, transition, audit_action).await?;
    write
        .commit(
            &state,
            StatusCode::OK,
            None,
            &AlertView::from(updated),
            None::<&()>,
        )
        .await
}
