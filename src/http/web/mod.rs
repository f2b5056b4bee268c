//! The web pages: server-rendered HTML in Dutch, for casemanagers, regisseurs, gemeente monitors and
//! signal reporters. Session sign-in with argon2 passwords, CSRF tokens on every form, and the same
//! policy, store and audit log as the JSON API.

mod agenda;
mod alerts;
mod chart;
mod forms;
mod gemeente;
mod glass;
mod households;
mod inbox;
mod live;
mod queue;
mod report;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{ApiError, AppState};
use crate::app::audit::AuditAction;
use crate::auth::{Actor, Authenticated};
use crate::domain::Role;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/inloggen", get(session::login_page).post(session::login))
        .route("/uitloggen", post(session::logout))
        .route("/huishoudens", get(households::list))
        .route("/huishoudens/{id}", get(households::show))
        // Who accessed the household, for its regisseur.
        .route("/huishoudens/{id}/toegang", get(households::access_log))
        // A score, a signal ("signaal") or another event ("gebeurtenis").
        .route(
            "/huishoudens/{id}/{form}",
            get(households::form).post(households::submit),
        )
        .route("/waarschuwingen", get(queue::list))
        .route("/waarschuwingen/{id}", get(alerts::page_))
        // A decision ("afhandelen") or a silence ("pauzeren").
        .route("/waarschuwingen/{id}/{form}", post(alerts::decide_form))
        .route("/berichten", get(inbox::inbox))
        .route("/berichten/gelezen", post(inbox::all_read))
        .route("/gemeente", get(gemeente::dashboard))
        .route("/melden", get(report::form).post(report::submit))
        .route("/inzage", get(glass::form).post(glass::submit))
        .route("/casusoverleg", get(agenda::agenda))
        // Server-sent events for the page script: "something you see changed".
        .route("/live", get(live::stream))
        .route("/static/live.js", get(live::script))
}

/// A signed-in user of the web pages.
pub(super) struct WebUser {
    pub who: Authenticated,
    pub csrf: String,
    pub unread: i64,
}

impl WebUser {
    fn actor(&self) -> &Actor {
        &self.who.actor
    }
}

/// Not signed in: off to the sign-in page.
pub(super) struct SignIn;

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        Redirect::to("/inloggen").into_response()
    }
}

impl FromRequestParts<Arc<AppState>> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Response> {
        let Some(id) = session::cookie(&parts.headers, session::SESSION_COOKIE) else {
            return Err(SignIn.into_response());
        };
        let mut conn = state.db.acquire().await.map_err(|e| page_error(e.into()))?;
        let found = crate::store::sessions::session(
            &mut conn,
            &crate::auth::token_hash(&id),
            state.clock.now(),
        )
        .await
        .map_err(|e| page_error(e.into()))?;
        let Some((user, csrf)) = found else {
            return Err(SignIn.into_response());
        };
        // Writes through the pages count against the same limit as an API token's.
        if !parts.method.is_safe() {
            state
                .limits
                .write(&crate::auth::token_hash(&id))
                .map_err(|e| page_error(e.into()))?;
        }
        let who = Authenticated {
            actor: user.into(),
            request_id: crate::http::extractor::request_id(parts),
            at: state.clock.now(),
        };
        let reader = crate::app::notify::reader(&who.actor);
        let unread = crate::store::notify::unread_count(&mut conn, reader)
            .await
            .map_err(|e| page_error(e.into()))?;
        Ok(WebUser { who, csrf, unread })
    }
}

/// Where each role starts.
async fn home(user: WebUser) -> Redirect {
    Redirect::to(match user.actor().role {
        Role::Casemanager => "/huishoudens",
        Role::Regisseur => "/waarschuwingen",
        Role::GemeenteMonitor => "/gemeente",
        Role::SignalReporter => "/melden",
        Role::VeiligThuis => "/inzage",
        Role::Specialist | Role::Admin => "/berichten",
    })
}

const STYLE: &str = r#"
:root { --ink:#1b1b1b; --muted:#4a4a4a; --line:#c8c8c8; --accent:#0b5394; --bad:#a4001d; --warn:#7a4a00; --ok:#1e6b2f; }
* { box-sizing: border-box; }
body { margin:0; font: 1.0625rem/1.5 system-ui, sans-serif; color: var(--ink); background:#fff; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, textarea:focus, [tabindex]:focus { outline: 3px solid #0b0c0c; outline-offset: 0; box-shadow: 0 0 0 6px #ffbf47; }
header a:focus, header button:focus { background:#ffbf47; color:#0b0c0c; box-shadow:none; }
.skip { position:absolute; left:-999px; } .skip:focus { left: 0.5rem; top: 0.5rem; background:#fff; padding:0.5rem; z-index:2; }
header { background: var(--accent); color:#fff; padding: 0.5rem 1rem; display:flex; flex-wrap:wrap; gap:0.25rem 0.75rem; align-items:center; }
header a, header button { color:#fff; } header nav { display:flex; flex-wrap:wrap; gap:0.25rem 1rem; flex:1; }
header form { margin:0; } header button { background:none; border:1px solid #fff; padding:0.25rem 0.6rem; font:inherit; cursor:pointer; }
@media (max-width: 40rem) {
  header { padding: 0.4rem 0.75rem; font-size: 0.875rem; }
  header > strong { flex: 1; }
  header nav { order: 3; flex-basis: 100%; }
  header button { padding: 0.1rem 0.5rem; }
  header nav { gap: 0.25rem 0.7rem; }
  header nav a { padding: 0.2rem 0; }
  header .wide { position:absolute; width:1px; height:1px; overflow:hidden; clip-path:inset(50%); white-space:nowrap; }
  main { padding: 0.75rem; }
}
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin-top: 0.5rem; } h2 { font-size: 1.2rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align:left; padding: 0.4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.compact { width:auto; min-width:min(100%, 24rem); margin-bottom:1.25rem; }
caption { text-align:left; color: var(--muted); font-size: 0.95rem; padding-bottom: 0.25rem; }
.id, .nowrap { white-space: nowrap; }
td, th { overflow-wrap: anywhere; }
/* A table of counts: headings break between words only, numbers line up. */
table.counts thead th { overflow-wrap: normal; } table.counts thead th + th { text-align:right; }
table.counts td { text-align:right; font-variant-numeric: tabular-nums; }
/* On a phone every row of a table is a card; each cell says what it is (data-label). */
@media (max-width: 40rem) {
  table, tbody, tr, th, td, caption { display:block; width:100%; }
  thead { position:absolute; width:1px; height:1px; overflow:hidden; clip-path:inset(50%); }
  tr { border:1px solid var(--line); border-radius:4px; margin:0 0 0.75rem; padding:0.25rem 0.75rem; }
  th, td { border:0; padding:0.2rem 0; }
  td[data-label]::before, th[data-label]::before { content: attr(data-label) ": "; font-weight:600; }
  /* A short reference table reads as one line per row. */
  table.compact tr { display:flex; flex-wrap:wrap; gap:0 0.75rem; margin:0; border:0; border-bottom:1px solid var(--line); border-radius:0; padding:0.3rem 0; }
  table.compact th, table.compact td { width:auto; }
  table.compact th { flex-basis:100%; }
}
.field.check { display:flex; gap:0.5rem; align-items:center; }
.field.check input { width:1.5rem; height:1.5rem; min-height:0; margin:0; }
.field.check label { margin:0; font-weight:600; }
button.secondary { background:#fff; color: var(--accent); border:2px solid var(--accent); padding: 0.6rem 1.1rem; font: inherit; font-weight:600; border-radius:4px; cursor:pointer; min-height:2.75rem; }
.chart { margin: 0.5rem 0 1rem; }
/* The chart keeps a readable size: a phone scrolls it sideways inside this box, never the page. */
.chart-scroll { overflow-x: auto; }
.chart-scroll svg { display:block; min-width: 40rem; }
.legend { list-style:none; margin:0.5rem 0 0; padding:0; display:flex; flex-wrap:wrap; gap:0.25rem 1.25rem; font-size:0.95rem; }
.legend li { display:flex; align-items:center; gap:0.35rem; }
.swatch { flex: none; vertical-align: middle; }
.latest { list-style:none; margin:0 0 1rem; padding:0; display:grid; grid-template-columns: repeat(auto-fill, minmax(10.5rem, 1fr)); gap:0.5rem; }
.latest li { border:1px solid var(--line); border-radius:4px; padding:0.4rem 0.6rem; display:grid; min-width:0; }
.latest .who { display:flex; flex-wrap:wrap; align-items:center; gap:0 0.35rem; font-weight:600; overflow-wrap:anywhere; }
.latest .value { font-size:1.6rem; font-weight:700; line-height:1.2; }
.latest .meta, .meta { color: var(--muted); font-size:0.95rem; }
h3 { font-size:1.05rem; margin: 1rem 0 0.5rem; }
details.data { margin: 0 0 1rem; } details.data summary { cursor:pointer; color: var(--accent); text-decoration: underline; padding: 0.25rem 0; }
.filters { display:flex; flex-wrap:wrap; gap:0 1rem; align-items:flex-end; background:#f3f5f7; padding:0.75rem 1rem 0; border-radius:4px; margin-bottom:1rem; }
.filters .field { flex:1 1 11rem; margin-bottom:0.75rem; }
.filter-actions { display:flex; flex-wrap:wrap; gap:0.5rem 1rem; align-items:center; margin-bottom:0.75rem; }
.pager { display:flex; flex-wrap:wrap; gap:0.5rem 1.5rem; align-items:center; justify-content:center; margin:1.5rem 0; }
.pager a { padding:0.5rem 0; }
.field { margin: 0 0 1rem; } label { display:block; font-weight:600; margin-bottom:0.25rem; }
input, select, textarea { font: inherit; padding: 0.5rem; border: 2px solid var(--muted); border-radius: 4px; width: 100%; max-width: 30rem; min-height: 2.75rem; }
textarea { min-height: 5rem; }
.hint { color: var(--muted); font-size: 0.95rem; margin: 0 0 0.25rem; }
.error { color: var(--bad); font-weight: 600; margin: 0.25rem 0 0; }
.field.invalid input, .field.invalid select, .field.invalid textarea { border-color: var(--bad); }
.summary { border: 3px solid var(--bad); padding: 0.75rem 1rem; margin-bottom: 1rem; }
button.primary { background: var(--accent); color:#fff; border:0; padding: 0.7rem 1.2rem; font: inherit; font-weight:600; border-radius:4px; cursor:pointer; min-height:2.75rem; }
.badge { display:inline-block; padding: 0 0.4rem; border-radius: 3px; font-size: 0.9rem; font-weight: 600; border:1px solid currentColor; }
.critical { color: var(--bad); } .warning { color: var(--warn); } .info { color: var(--muted); }
.notice { background:#e8f1fb; border-left: 4px solid var(--accent); padding: 0.5rem 0.75rem; }
.actions { display:flex; flex-wrap:wrap; gap:0.5rem 1rem; margin: 0.5rem 0 1rem; }
.tabs { display:flex; flex-wrap:wrap; gap:0 1.5rem; margin:0.5rem 0 1rem; border-bottom:1px solid var(--line); }
.tabs a { padding:0.5rem 0; font-weight:600; text-decoration:none; border-bottom:4px solid transparent; }
.tabs a[aria-current=page] { color:var(--ink); border-bottom-color:var(--accent); }
.filters { display:flex; flex-wrap:wrap; gap:0 0.75rem; align-items:flex-end; background:#f3f5f7; padding:0.75rem 0.75rem 0; border-radius:4px; }
.filters .field { flex:1 1 8.5rem; min-width:0; margin-bottom:0.75rem; }
.filters input, .filters select { height:2.75rem; padding:0.25rem 0.5rem; }
.intro { margin:0 0 1rem; }
.filter-actions { display:flex; flex-wrap:wrap; gap:0.5rem 1rem; align-items:center; margin-bottom:0.75rem; }
.household { border:1px solid var(--line); border-radius:4px; margin:0.75rem 0; padding:0 0.75rem; }
.household h2 { margin:0.5rem 0 0.25rem; font-size:1.15rem; }
.household .where { font-weight:normal; color:var(--muted); font-size:1rem; }
.id, .nowrap { white-space:nowrap; }
.items { list-style:none; margin:0; padding:0; }
.items .item { border-top:1px solid var(--line); padding:0.4rem 0; overflow-wrap:anywhere; }
.items p, .more { margin:0.25rem 0; } .more { padding-bottom:0.5rem; }
.meta { color:var(--muted); font-size:0.95rem; }
.pager { display:flex; flex-wrap:wrap; gap:0.5rem 1.5rem; align-items:center; justify-content:center; margin:1.5rem 0; }
.pager a { padding:0.5rem 0; }
.messages { padding-left:1.25rem; } .messages li { margin-bottom:0.5rem; overflow-wrap:anywhere; }
/* The casusoverleg agenda (agenda.rs) and its print view. */
.facts { display:grid; grid-template-columns:max-content minmax(0,1fr); gap:0.2rem 1rem; margin:0.5rem 0; }
.facts dt { font-weight:600; } .facts dd { margin:0; }
.scores { list-style:none; margin:0; padding:0; display:flex; flex-wrap:wrap; gap:0.1rem 1.25rem; }
.agenda h3 { font-size:1rem; margin:0.75rem 0 0.25rem; }
.agenda .why { margin:0.25rem 0; }
.agenda .filters .field { flex:0 1 18rem; } .agenda .filters input { max-width:14rem; }
.plain { margin:0 0 0.75rem; padding-left:1.25rem; } .plain li { margin-bottom:0.2rem; overflow-wrap:anywhere; }
.print-view { max-width:46rem; }
@media (max-width: 40rem) { .facts { grid-template-columns:minmax(0,1fr); } .facts dd { margin-bottom:0.35rem; } }
@page { margin: 15mm; }
@media print {
  header, .skip, .live, .no-print, form.filters, .pager { display:none !important; }
  html { font-size:10pt; } body { font-size:1rem; }
  main { max-width:none; padding:0; }
  a { color:inherit; text-decoration:none; }
  .household { break-inside:avoid; border:0; border-top:1px solid #000; border-radius:0; padding:0.25rem 0 0; }
}
"#;

/// The page around the content: Dutch, responsive, with a skip link and the role's navigation.
pub(super) fn layout(title: &str, user: Option<&WebUser>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · zicht" }
                style { (PreEscaped(STYLE)) }
                // Live updates of what the page shows (`live.rs`); the page works without it.
                @if user.is_some_and(|u| u.actor().role != Role::SignalReporter) {
                    script src="/static/live.js" defer {}
                }
            }
            body {
                a.skip href="#inhoud" { "Naar de inhoud" }
                header {
                    strong { "zicht" }
                    @if let Some(u) = user {
                        nav aria-label="Hoofdmenu" {
                            @match u.actor().role {
                                Role::Casemanager => {
                                    a href="/huishoudens" { "Mijn huishoudens" }
                                    a href="/waarschuwingen" { "Waarschuwingen" }
                                }
                                Role::Regisseur => {
                                    a href="/waarschuwingen" { "Waarschuwingen" }
                                    a href="/huishoudens" { "Mijn huishoudens" }
                                    a href="/casusoverleg" { "Casusoverleg" }
                                }
                                Role::GemeenteMonitor => { a href="/gemeente" { "Mijn gemeente" } }
                                Role::SignalReporter => { a href="/melden" { "Zorg melden" } }
                                Role::VeiligThuis => { a href="/inzage" { "Inzien" } }
                                _ => {}
                            }
                            @if u.actor().role != Role::SignalReporter {
                                a href="/berichten" {
                                    "Berichten"
                                    // "(3)" on a phone, where the header has one line for the menu.
                                    @if u.unread > 0 { " (" (u.unread) span.wide { " ongelezen" } ")" }
                                }
                            }
                        }
                        span { (u.actor().username) }
                        form method="post" action="/uitloggen" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            button type="submit" { "Uitloggen" }
                        }
                    }
                }
                main id="inhoud" tabindex="-1" { (content) }
            }
        }
    }
}

/// An HTML page with security headers.
pub(super) fn page(markup: Markup) -> Response {
    let mut response = markup.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What a failure page says. Kept on the response, so that [`with_navigation`] can show the same
/// page with the signed-in user's navigation: a handler that fails early need not know who asked.
#[derive(Clone, Copy)]
struct Failure {
    title: &'static str,
    text: &'static str,
}

fn failure_page(status: StatusCode, failure: Failure, user: Option<&WebUser>) -> Response {
    let mut response = page(layout(
        failure.title,
        user,
        html! {
            h1 { (failure.title) }
            p { (failure.text) }
            p { a href="/" { "Naar de startpagina" } }
        },
    ));
    *response.status_mut() = status;
    response.extensions_mut().insert(failure);
    response
}

/// A page-level failure in Dutch, never a stack of details.
/// Whether the user may do `action`, which is about no one household; a refusal is audited and
/// answered with the Dutch error page.
pub(super) async fn permitted(
    state: &AppState,
    user: &WebUser,
    action: crate::auth::policy::Action,
    audit_action: crate::app::audit::AuditAction,
) -> Result<(), Response> {
    crate::app::access::require(state, &user.who, action, audit_action)
        .await
        .map_err(|e| page_error(e.into()))
}

pub(super) fn page_error(error: ApiError) -> Response {
    let status = error.status();
    if let ApiError::Internal(e) = &error {
        tracing::error!(error = %format!("{e:#}"), "page failed");
    }
    let (title, text) = match status {
        StatusCode::NOT_FOUND => (
            "Niet gevonden",
            "Deze pagina bestaat niet, of u heeft er geen toegang toe.",
        ),
        StatusCode::FORBIDDEN => ("Geen toegang", "Met uw rol kunt u dit niet doen."),
        StatusCode::CONFLICT => (
            "Niet mogelijk",
            "Dit kan nu niet: de situatie is intussen veranderd. Ga terug en kijk opnieuw.",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "Even wachten",
            "U heeft dit te vaak achter elkaar gedaan. Probeer het later opnieuw.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Even geduld",
            "Het is nu erg druk. Probeer het over een ogenblik opnieuw.",
        ),
        _ if status.is_client_error() => ("Niet gelukt", "Het verzoek kon niet worden verwerkt."),
        _ => (
            "Er ging iets mis",
            "Er ging iets mis aan onze kant. Probeer het later opnieuw.",
        ),
    };
    let mut response = failure_page(status, Failure { title, text }, None);
    if let ApiError::App(crate::app::AppError::RateLimited { retry_after_secs }) = error {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(retry_after_secs),
        );
    }
    response
}

/// Shows a failure page (a refusal, "not found", an unknown URL) with the navigation of the user
/// whose session the request carries, so that nobody is stranded on it.
pub(crate) async fn with_navigation(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let signed_in = session::cookie(request.headers(), session::SESSION_COOKIE).is_some();
    let headers = signed_in.then(|| request.headers().clone());
    let response = next.run(request).await;
    let (Some(headers), Some(failure)) = (headers, response.extensions().get::<Failure>().copied())
    else {
        return response;
    };
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers = headers;
    match WebUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => {
            let mut page = failure_page(response.status(), failure, Some(&user));
            if let Some(retry) = response.headers().get(axum::http::header::RETRY_AFTER) {
                page.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, retry.clone());
            }
            page
        }
        Err(_) => response,
    }
}

/// Checks the CSRF token of a form against the session's; a mismatch is answered 403.
pub(super) fn csrf_refused(
    user: &WebUser,
    form: &std::collections::HashMap<String, String>,
) -> Option<Response> {
    let sent = form.get("csrf").map(String::as_str).unwrap_or_default();
    (!session::same(sent, &user.csrf)).then(|| page_error(ApiError::FORBIDDEN))
}

/// Dates and times as Dutch readers expect them.
pub(super) fn datetime(t: crate::domain::Instant) -> String {
    let z = t.timestamp().to_zoned(crate::domain::amsterdam());
    z.strftime("%d-%m-%Y %H:%M").to_string()
}

pub(super) fn date(t: crate::domain::Instant) -> String {
    let z = t.timestamp().to_zoned(crate::domain::amsterdam());
    z.strftime("%d-%m-%Y").to_string()
}

pub(super) fn severity_label(s: crate::engine::Severity) -> (&'static str, &'static str) {
    match s {
        crate::engine::Severity::Critical => ("critical", "ernstig"),
        crate::engine::Severity::Warning => ("warning", "let op"),
        crate::engine::Severity::Info => ("info", "ter info"),
    }
}

/// Dutch names of the rules, for people.
/// The Dutch title of a rule, as the national rule file gives it.
pub(super) fn rule_label(rules: &crate::rules::RuleSet, rule: &str) -> String {
    rules
        .title(rule)
        .map_or_else(|| rule.replace('-', " "), str::to_owned)
}

/// Audits a page's access to household data, like the API does.
pub(super) async fn audited(
    state: &AppState,
    who: &Authenticated,
    action: AuditAction,
    household: Option<&str>,
) -> Result<(), ApiError> {
    let mut conn = state.db.acquire().await?;
    state.audit(&mut conn, who, action, household).await?;
    Ok(())
}

#[cfg(test)]
pub(in crate::http::web) mod tests {
    /// The WCAG 2 contrast ratio of two `#rrggbb` colours.
    pub(in crate::http::web) fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |hex: &str| {
            let channel = |i: usize| {
                let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn the_focus_style_stands_out_at_least_3_to_1_wherever_it_appears() {
        let (outline, halo, page, header) = ("#0b0c0c", "#ffbf47", "#ffffff", "#0b5394");
        assert!(super::STYLE.contains(&format!("outline: 3px solid {outline}")));
        assert!(super::STYLE.contains(&format!("box-shadow: 0 0 0 6px {halo}")));
        assert!(super::STYLE.contains(&format!("--accent:{header}")));
        // On the page the black outline carries it; in the blue header the yellow fill does.
        assert!(contrast(outline, page) >= 3.0);
        assert!(contrast(halo, header) >= 3.0);
        assert!(
            contrast(outline, halo) >= 4.5,
            "the focused header link's text"
        );
        // Not the halo on white: that was the 1.64:1 of the old focus ring.
        assert!(contrast(halo, page) < 3.0);
    }
}
