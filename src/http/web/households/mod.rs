//! "Mijn huishoudens" (the list), the household page ([`situatieplaat`]) and the forms that
//! record events ([`event_forms`]).

mod access_log;
mod event_forms;
mod situatieplaat;
mod timeline;

pub(super) use access_log::access_log;
pub(super) use event_forms::{form, submit};
pub(super) use situatieplaat::show;

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::{WebUser, layout, page, page_error};
use crate::app::audit::AuditAction;
use crate::app::{access, events};
use crate::auth::policy::{self, Action, HouseholdScope};
use crate::domain::{Event, HouseholdId, Instant, Perspective};
use crate::engine::{History, phase};
use crate::http::{ApiError, AppState};
use crate::store::{self, HouseholdFilter};

/// A household the user may `action`, or the page that says it is not there.
pub(super) async fn allowed(
    state: &AppState,
    user: &WebUser,
    raw: &str,
    action: Action,
    audit: AuditAction,
) -> Result<HouseholdId, Response> {
    let mut conn = state.db.acquire().await.map_err(|e| page_error(e.into()))?;
    match access::household(&mut conn, &user.who, raw, action, audit).await {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(refusal)) => {
            drop(conn);
            Err(page_error(refusal.audit(state, &user.who).await.into()))
        }
        Err(e) => Err(page_error(e.into())),
    }
}

/// The latest score of each perspective that scored: value, when, and the value before it.
/// The household page shows them as cards; the score form shows them because its reason rule
/// compares with them.
pub(super) fn latest_scores(hist: &History) -> Vec<(Perspective, u8, Instant, Option<u8>)> {
    Perspective::ALL
        .iter()
        .filter_map(|p| {
            let mut own = hist.events.iter().rev().filter_map(|e| match e {
                Event::Score(s) if s.perspective == *p => Some((s.value.get(), s.at)),
                _ => None,
            });
            let (value, at) = own.next()?;
            Some((*p, value, at, own.next().map(|(v, _)| v)))
        })
        .collect()
}

pub(super) async fn history(
    state: &AppState,
    id: &HouseholdId,
) -> Result<(History, Vec<i64>), ApiError> {
    let mut conn = state.db.acquire().await?;
    events::history(&mut conn, state.db.keys(), id)
        .await?
        .ok_or(ApiError::not_found("household"))
}

pub(super) async fn list(State(state): State<Arc<AppState>>, user: WebUser) -> Response {
    if policy::household_scope(user.actor()) != Some(HouseholdScope::Assigned) {
        return page_error(ApiError::FORBIDDEN);
    }
    let rows = async {
        let mut conn = state.db.acquire().await?;
        let filter = HouseholdFilter::default();
        let households =
            store::list_households(&mut conn, &filter, Some(user.actor().user_id), None, 500)
                .await?;
        let mut out = Vec::new();
        for h in households {
            let id = h.household.id.clone();
            let open = store::open_alerts(&mut conn, &id).await?.len();
            out.push((h, open));
        }
        Ok::<_, ApiError>(out)
    };
    let rows = match rows.await {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let rules = state.rules();
    let now = state.clock.now();
    let mut phases = Vec::new();
    for (h, _) in &rows {
        match history(&state, &h.household.id).await {
            Ok((hist, _)) => phases.push(phase(
                &hist,
                rules.for_region(hist.household.region).definitions,
                now,
            )),
            Err(e) => return page_error(e),
        }
    }
    let shown = rows.iter().map(|(h, _)| h.household.id.as_str());
    if let Err(e) = state
        .audit_shown(&user.who, AuditAction::HouseholdList, shown)
        .await
    {
        return page_error(e.into());
    }
    page(layout(
        "Mijn huishoudens",
        Some(&user),
        html! {
            h1 { "Mijn huishoudens" }
            @if rows.is_empty() {
                p { "Er zijn nog geen huishoudens aan u toegewezen." }
            } @else {
                table {
                    caption { "Huishoudens waarvoor u casemanager of regisseur bent" }
                    thead { tr { th scope="col" { "Huishouden" } th scope="col" { "Gemeente, wijk" } th scope="col" { "Fase" } th scope="col" { "Open waarschuwingen" } } }
                    tbody {
                        @for ((h, open), phase) in rows.iter().zip(&phases) {
                            tr {
                                th scope="row" data-label="Huishouden" { a.id href={ "/huishoudens/" (h.household.id) } { (h.household.id) } }
                                td data-label="Gemeente, wijk" { (h.household.gemeente.as_str()) @if let Some(w) = &h.household.wijk { ", " (w.as_str()) } }
                                td data-label="Fase" { (phase.label()) }
                                td data-label="Open waarschuwingen" { @if *open > 0 { strong { (open) } } @else { "geen" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}
