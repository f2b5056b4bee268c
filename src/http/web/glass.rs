//! Break-the-glass on the pages (`/inzage`): Veilig Thuis names a household of its region and says
//! why it must read it without an assignment; the household page then opens for a few hours.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::forms::{self, FormState};
use super::{WebUser, csrf_refused, layout, page, page_error, permitted};
use crate::app::audit::AuditAction;
use crate::app::{AppError, glass};
use crate::auth::policy::Action;
use crate::http::{ApiError, AppState};

fn fields(user: &WebUser, form: &FormState, hours: u32) -> Markup {
    html! {
        p { "U bent niet aan huishoudens toegewezen. In een crisis kunt u een huishouden uit uw regio toch inzien: u geeft de reden op, de regisseur krijgt direct bericht, en de inzage wordt vastgelegd en later nagekeken. Na " (hours) " uur vervalt zij vanzelf. U kunt niets vastleggen." }
        (forms::summary(form))
        form method="post" action="/inzage" novalidate {
            input type="hidden" name="csrf" value=(user.csrf);
            (forms::input(form, "household", "Huishouden", "text", Some("Het id van het huishouden, bijvoorbeeld H-0001."), &[]))
            (forms::textarea(form, "reason", "Waarom moet u dit huishouden nu inzien?", Some("Minstens 10 tekens. De regisseur en de beheerder lezen dit.")))
            button.primary type="submit" { "Inzien met reden" }
        }
    }
}

/// `GET /inzage`: the form.
pub(super) async fn form(State(state): State<Arc<AppState>>, user: WebUser) -> Response {
    if let Err(refused) =
        permitted(&state, &user, Action::BreakGlass, AuditAction::BreakGlass).await
    {
        return refused;
    }
    let hours = state.settings.break_glass_hours;
    page(layout(
        "Inzien zonder toewijzing",
        Some(&user),
        html! { h1 { "Inzien zonder toewijzing (break-the-glass)" } (fields(&user, &FormState::default(), hours)) },
    ))
}

/// `POST /inzage`: opens the read and goes to the household, or says in Dutch what is missing.
pub(super) async fn submit(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = csrf_refused(&user, &values) {
        return refused;
    }
    if let Err(refused) =
        permitted(&state, &user, Action::BreakGlass, AuditAction::BreakGlass).await
    {
        return refused;
    }
    let hours = state.settings.break_glass_hours;
    let mut form = FormState::from(values);
    let household = form.value("household").trim().to_ascii_uppercase();
    let reason = form.value("reason").to_owned();
    let opened = async {
        let mut tx = state.db.begin_write().await?;
        match glass::open(
            &mut tx,
            state.db.keys(),
            &user.who,
            &household,
            Some(&reason),
            hours,
        )
        .await?
        {
            Ok(granted) => {
                tx.commit().await.map_err(crate::store::StoreError::from)?;
                Ok(Ok(granted))
            }
            Err(refusal) => {
                drop(tx);
                Ok::<_, AppError>(Err(refusal.audit(&state, &user.who).await))
            }
        }
    };
    match opened.await {
        Ok(Ok(granted)) => {
            state.notified();
            Redirect::to(&format!("/huishoudens/{}", granted.household)).into_response()
        }
        Ok(Err(AppError::NotFound(_))) => {
            form.add("household", "Geen huishouden met dit id in uw regio.");
            again(&user, &form, hours)
        }
        Err(AppError::Invalid(problems)) => {
            for p in problems {
                if p.field == "reason" {
                    form.add(
                        "reason",
                        format!(
                            "Geef de reden in minstens {} tekens.",
                            glass::MIN_REASON_CHARS
                        ),
                    );
                }
            }
            again(&user, &form, hours)
        }
        Ok(Err(e)) | Err(e) => page_error(ApiError::from(e)),
    }
}

fn again(user: &WebUser, form: &FormState, hours: u32) -> Response {
    let mut r = page(layout(
        &forms::title(form, "Inzien zonder toewijzing"),
        Some(user),
        html! { h1 { "Inzien zonder toewijzing (break-the-glass)" } (fields(user, form, hours)) },
    ));
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}
