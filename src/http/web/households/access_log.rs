//! "Wie heeft dit huishouden ingezien?": the household's rows of the audit log, newest first, for
//! its regisseur (`policy::Action::ReadAccessLog`). Reading it is itself audited.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;

use crate::app::audit::AuditAction;
use crate::auth::policy::Action;
use crate::http::web::{WebUser, audited, datetime, layout, page, page_error};
use crate::http::{ApiError, AppState};
use crate::store::{self, AuditRow};

use super::allowed;

/// Rows on one page.
const SHOWN: i64 = 50;

#[derive(serde::Deserialize, Default)]
pub(in crate::http::web) struct AccessQuery {
    /// Rows before this audit row id (the "Ouder" link); text, so a wrong one shows the newest.
    voor: Option<String>,
}

/// `GET /huishoudens/{id}/toegang`.
pub(in crate::http::web) async fn access_log(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
    Query(query): Query<AccessQuery>,
) -> Response {
    let id = match allowed(
        &state,
        &user,
        &raw,
        Action::ReadAccessLog,
        AuditAction::AccessLogRead,
    )
    .await
    {
        Ok(id) => id,
        Err(r) => return r,
    };
    let before = query.voor.and_then(|v| v.parse::<i64>().ok());
    let loaded = async {
        let mut conn = state.db.acquire().await?;
        let rows = store::list_audit(&mut conn, Some(id.as_str()), before, SHOWN + 1).await?;
        drop(conn);
        audited(
            &state,
            &user.who,
            AuditAction::AccessLogRead,
            Some(id.as_str()),
        )
        .await?;
        Ok::<_, ApiError>(rows)
    };
    let mut rows = match loaded.await {
        Ok(rows) => rows,
        Err(e) => return page_error(e),
    };
    let older = (rows.len() as i64 > SHOWN).then(|| {
        rows.truncate(SHOWN as usize);
        rows.last().map_or(0, |r| r.id)
    });
    page(layout(
        &format!("Toegang tot {id}"),
        Some(&user),
        html! {
            h1 { "Wie heeft " span.id { (id) } " ingezien?" }
            p {
                "Elke keer dat iemand dit huishouden bekeek, iets vastlegde of het zag in een lijst, "
                "staat hieronder: wie, wanneer en wat. Ook dat u deze lijst opent, wordt vastgelegd. "
                a href={ "/huishoudens/" (id) } { "Terug naar de situatieplaat" }
            }
            @if rows.is_empty() {
                p { "Nog niets vastgelegd." }
            } @else {
                table {
                    caption { "Toegang, nieuwste eerst" }
                    thead { tr {
                        th scope="col" { "Wanneer" }
                        th scope="col" { "Wie" }
                        th scope="col" { "Wat" }
                        th scope="col" { "Uitkomst" }
                    } }
                    tbody {
                        @for r in &rows {
                            tr {
                                td.nowrap data-label="Wanneer" { (datetime(r.at)) }
                                td data-label="Wie" { (who(r)) }
                                td data-label="Wat" { (what(&r.action)) }
                                td data-label="Uitkomst" {
                                    @if r.outcome == "ok" { "toegestaan" } @else { strong { "geweigerd" } }
                                }
                            }
                        }
                    }
                }
                @if let Some(older) = older {
                    nav.pager aria-label="Oudere toegang" {
                        a href={ "/huishoudens/" (id) "/toegang?voor=" (older) } rel="next" { "Ouder ›" }
                    }
                }
            }
        },
    ))
}

fn who(row: &AuditRow) -> &str {
    match row.actor.as_str() {
        "cli" => "beheer (opdrachtregel)",
        actor => actor,
    }
}

/// The audit log's action, in Dutch.
fn what(action: &str) -> &str {
    match action {
        "household.create" => "huishouden geregistreerd",
        "household.list" | "alert.list" => "in een lijst gezien",
        "household.read" => "huishouden bekeken",
        "timeline.read" => "tijdlijn bekeken",
        "event.create" => "gebeurtenis vastgelegd",
        "assignment.set" => "toewijzing gewijzigd",
        "report.create" => "zorg gemeld",
        "alert.read" => "waarschuwing bekeken",
        "alert.acknowledge" => "waarschuwing afgehandeld",
        "alert.silence" => "waarschuwing gepauzeerd",
        "live.open" => "pagina geopend en gevolgd",
        "agenda.read" => "op de agenda van het casusoverleg",
        "inbox.read" => "in berichten getoond",
        "household.access_log" => "deze toegangslijst bekeken",
        "household.break_glass" => "ingezien zonder toewijzing, met opgegeven reden",
        "break_glass.list" => "inzage zonder toewijzing nagekeken",
        other => other,
    }
}
