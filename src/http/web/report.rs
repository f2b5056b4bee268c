//! Signal reporters (*ogen en oren*): a short form to report a concern by household reference. The
//! receipt says nothing about the household, not even whether the reference is known.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::response::Response;
use maud::{Markup, html};

use super::forms::{self, FormState};
use super::{WebUser, csrf_refused, datetime, layout, page, page_error, permitted};
use crate::app::audit::AuditAction;
use crate::app::reports;
use crate::auth::policy::Action;
use crate::domain::{Reference, SignalKind, SignalSource};
use crate::http::{ApiError, AppState};

fn fields(user: &WebUser, form: &FormState) -> Markup {
    html! {
        (forms::summary(form))
        form method="post" action="/melden" novalidate {
            input type="hidden" name="csrf" value=(user.csrf);
            (forms::input(form, "reference", "Kenmerk van het huishouden", "text", Some("Het kenmerk dat u van Veilig Thuis kreeg, bijvoorbeeld VT-2025-0001."), &[]))
            (forms::select(form, "kind", "Wat is er aan de hand?", &forms::choices::<SignalKind>()))
            (forms::select(form, "source", "U meldt als", &forms::choices::<SignalSource>()))
            (forms::checkbox(form, "acute", "Er is nu acuut gevaar (bel bij direct gevaar 112)"))
            (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
            button.primary type="submit" { "Zorg melden" }
        }
    }
}

pub(super) async fn form(State(state): State<Arc<AppState>>, user: WebUser) -> Response {
    if let Err(refused) = permitted(
        &state,
        &user,
        Action::ReportSignal,
        AuditAction::ReportCreate,
    )
    .await
    {
        return refused;
    }
    let mut form = FormState::default();
    form.values
        .insert("at".into(), forms::datetime_value(state.clock.now()));
    page(layout(
        "Zorg melden",
        Some(&user),
        html! { h1 { "Zorg melden over een huishouden" } (fields(&user, &form)) },
    ))
}

pub(super) async fn submit(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = csrf_refused(&user, &values) {
        return refused;
    }
    if let Err(refused) = permitted(
        &state,
        &user,
        Action::ReportSignal,
        AuditAction::ReportCreate,
    )
    .await
    {
        return refused;
    }
    let mut form = FormState::from(values);
    let reference = form.parse(
        "reference",
        "Vul het kenmerk in zoals het in het dossier staat, bijvoorbeeld VT-2025-0001: letters en cijfers met - ertussen, nooit een naam of adres.",
        // Typed by hand in the field: small letters and stray spaces are forgiven.
        |s| s.trim().to_ascii_uppercase().parse::<Reference>().ok(),
    );
    let kind = form.parse("kind", "Kies wat er aan de hand is.", |s| {
        s.parse::<SignalKind>().ok()
    });
    let source = form.parse("source", "Kies als wie u meldt.", |s| {
        s.parse::<SignalSource>().ok()
    });
    let at = form.parse(
        "at",
        "Vul een datum en tijd in, bijvoorbeeld 06-01-2025 10:00.",
        forms::local_datetime,
    );
    let acute = form.value("acute") == "ja";
    let report = match (reference, kind, source, at) {
        (Some(reference), Some(kind), Some(source), Some(at)) => Some(reports::Report {
            reference,
            at,
            kind,
            source,
            acute,
        }),
        _ => None,
    };
    // The rule the API applies too, worded for the form.
    if let Some(Err(p)) = report
        .as_ref()
        .map(|r| reports::check(r, state.clock.now()))
    {
        form.add(p.field(), forms::event_problem_text(p));
    }
    match (form.is_valid(), report) {
        (true, Some(report)) => {
            let filed = async {
                let mut tx = state.db.begin_write().await?;
                let now = state.clock.now();
                let payload = reports::payload_of(&report);
                let receipt = reports::file(
                    &mut tx,
                    state.db.keys(),
                    &state.limits,
                    &user.who,
                    &report,
                    &payload,
                    now,
                )
                .await?;
                tx.commit().await.map_err(crate::store::StoreError::from)?;
                Ok::<_, ApiError>(receipt)
            };
            match filed.await {
                Ok(receipt) => {
                    state.notified();
                    page(layout(
                        "Melding ontvangen",
                        Some(&user),
                        html! {
                            h1 { "Dank u, uw melding is ontvangen" }
                            p { "Ontvangstnummer: " strong { (receipt.receipt) } " (" (datetime(receipt.received_at)) ")" }
                            p { "Bewaar dit nummer. U hoort niets over het huishouden zelf; de hulpverlening neemt uw melding mee." }
                            p { a href="/melden" { "Nog een melding doen" } }
                        },
                    ))
                }
                Err(e) => page_error(e),
            }
        }
        _ => {
            let mut r = page(layout(
                &forms::title(&form, "Zorg melden"),
                Some(&user),
                html! { h1 { "Zorg melden over een huishouden" } (fields(&user, &form)) },
            ));
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
