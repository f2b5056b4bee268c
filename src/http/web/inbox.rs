//! Berichten: every user's notifications, newest first, each linking to the alert it is about for
//! whoever may open it; "Alles gelezen" marks them all read.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::{WebUser, csrf_refused, datetime, layout, page, page_error, rule_label};
use crate::app::audit::AuditAction;
use crate::app::notify::Why;
use crate::auth::policy::{self, Action};
use crate::http::{ApiError, AppState};
use crate::store::{self, notify::NotificationRow};

/// Notifications on the page: the newest; the rest are older news.
const SHOWN: i64 = 200;

/// `GET /berichten`.
pub(super) async fn inbox(State(state): State<Arc<AppState>>, user: WebUser) -> Response {
    let loaded = async {
        let mut conn = state.db.acquire().await?;
        let rows = store::notify::inbox(
            &mut conn,
            crate::app::notify::reader(user.actor()),
            false,
            None,
            None,
            None,
            SHOWN,
        )
        .await?;
        // Which households the user may open now (assignments change): no link leads nowhere.
        let mut openable: HashMap<String, bool> = HashMap::new();
        for n in &rows {
            if !openable.contains_key(&n.household) {
                let relations =
                    store::relation_of(&mut conn, &n.household, user.actor().user_id).await?;
                let may = policy::allows(user.actor(), Action::ReadHousehold, &relations);
                openable.insert(n.household.clone(), may);
            }
        }
        drop(conn);
        let shown = rows.iter().map(|n| n.household.as_str());
        state
            .audit_shown(&user.who, AuditAction::InboxRead, shown)
            .await?;
        Ok::<_, ApiError>((rows, openable))
    };
    let (rows, openable) = match loaded.await {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let rules = state.rules();
    // An id never breaks across lines.
    let what = |n: &NotificationRow| html! { (rule_label(&rules, &n.rule)) " bij " span.id { (n.household) } };
    page(layout(
        "Berichten",
        Some(&user),
        html! {
            h1 { "Berichten" }
            @if user.unread > 0 {
                form.actions method="post" action="/berichten/gelezen" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p { (user.unread) " ongelezen" }
                    button.primary type="submit" { "Alles gelezen" }
                }
            }
            @if rows.is_empty() { p { "Geen berichten." } }
            ul.messages {
                @for n in &rows {
                    li.unread[n.read_at.is_none()] {
                        @if n.read_at.is_none() { strong { "Nieuw: " } }
                        @if n.why == Why::BreakGlass {
                            "Ingezien zonder toewijzing: " span.id { (n.household) }
                        } @else if n.alert.is_none() {
                            "Toewijzing gewijzigd bij " span.id { (n.household) }
                        } @else if openable.get(&n.household).copied().unwrap_or(false) {
                            a href={ "/waarschuwingen/" (n.alert.unwrap_or_default()) } { (what(n)) }
                        } @else {
                            (what(n))
                        }
                        " (" (why_label(n.why)) ")"
                        @if n.others == 1 { ", en 1 andere wijziging" }
                        @if n.others > 1 { ", en " (n.others) " andere wijzigingen" }
                        br;
                        span.hint { (datetime(n.created_at)) }
                    }
                }
            }
        },
    ))
}

/// `POST /berichten/gelezen`: marks all of the user's notifications read.
pub(super) async fn all_read(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = csrf_refused(&user, &values) {
        return refused;
    }
    let marked = async {
        let mut conn = state.db.acquire().await?;
        store::notify::mark_all_read(&mut conn, user.actor().user_id, state.clock.now()).await
    };
    match marked.await {
        Ok(_) => Redirect::to("/berichten").into_response(),
        Err(e) => page_error(e.into()),
    }
}

fn why_label(why: Why) -> &'static str {
    match why {
        Why::First => "nieuw",
        Why::Repeat => "herhaling: nog niet afgehandeld",
        Why::Escalation => "opgeschaald",
        Why::Resolved => "opgelost",
        Why::SilenceExpired => "pauze voorbij",
        Why::Handover => "staat open; u bent net aan dit huishouden toegewezen",
        Why::BreakGlass => "door Veilig Thuis, met een reden, voor enkele uren (break-the-glass)",
        Why::Assignment => {
            "wie eraan werkt is veranderd; vraag de beheerder als u dit niet verwachtte"
        }
    }
}
