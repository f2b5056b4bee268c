//! One alert's page: its advice, evidence and history, and for whoever may decide on it (the
//! household's regisseur) the forms to acknowledge it with a decision or to pause it with a reason
//! and end date. Opening it marks the person's notifications about it read.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::forms::{self, FormState};
use super::{
    WebUser, audited, csrf_refused, date, datetime, layout, page, page_error, rule_label,
    severity_label,
};
use crate::app::access;
use crate::app::audit::AuditAction;
use crate::app::decisions::{self, Input, Problem};
use crate::auth::policy::{self, Action};
use crate::domain::{Decision, FreeText, Instant, LocalDate, Specialism};
use crate::http::{ApiError, AppState};
use crate::store::{self, AlertRow, AlertState, TransitionWhy};

fn state_label(s: AlertState) -> &'static str {
    match s {
        AlertState::Firing => "open",
        AlertState::Acknowledged => "afgehandeld",
        AlertState::Silenced => "gepauzeerd",
        AlertState::Resolved => "opgelost",
    }
}

async fn load(
    state: &AppState,
    user: &WebUser,
    id: i64,
    action: Action,
    audit: AuditAction,
) -> Result<AlertRow, Response> {
    let mut conn = state.db.acquire().await.map_err(|e| page_error(e.into()))?;
    match access::alert(&mut conn, &user.who, id, action, audit).await {
        Ok(Ok(alert)) => Ok(alert),
        Ok(Err(refusal)) => {
            drop(conn);
            Err(page_error(refusal.audit(state, &user.who).await.into()))
        }
        Err(e) => Err(page_error(e.into())),
    }
}

fn decide_forms(
    user: &WebUser,
    alert: &AlertRow,
    may_decide: bool,
    ack: &FormState,
    pause: &FormState,
) -> Markup {
    // Both forms have a reason: the pause form's ids start with "pauze-" so none is shared.
    let pause = &pause.with_prefix("pauze-");
    let undecided = matches!(alert.state, AlertState::Firing | AlertState::Silenced);
    html! {
        @if undecided && !may_decide {
            p.notice { "De regisseur van dit huishouden legt hierover een besluit vast." }
        }
        // Decided (acknowledged) or resolved: nothing left to decide here.
        @if undecided && may_decide {
            h2 { "Besluit vastleggen" }
            (forms::summary(ack))
            form method="post" action={ "/waarschuwingen/" (alert.id) "/afhandelen" } novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                (forms::select(ack, "decision", "Besluit", &forms::choices::<Decision>()))
                (forms::select(ack, "specialism", "Welk specialisme (bij consulteren)", &forms::choices::<Specialism>()))
                (forms::textarea(ack, "reason", "Toelichting", Some("Waarom dit besluit? Verplicht.")))
                button.primary type="submit" { "Besluit opslaan" }
            }
            @if !alert.one_shot {
                h2 { "Tijdelijk pauzeren" }
                (forms::summary(pause))
                form method="post" action={ "/waarschuwingen/" (alert.id) "/pauzeren" } novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (forms::textarea(pause, "reason", "Reden", Some("Waarom mag deze waarschuwing even stil zijn? Verplicht.")))
                    (forms::input(pause, "until", "Tot en met de dag vóór", "date",
                        Some("Loopt de waarschuwing dan nog, dan hoort u het meteen."), &[]))
                    button.primary type="submit" { "Pauzeren" }
                }
            }
        }
    }
}

async fn render(
    state: &AppState,
    user: &WebUser,
    alert: AlertRow,
    ack: &FormState,
    pause: &FormState,
) -> Response {
    let details = async {
        let mut conn = state.db.acquire().await?;
        let evidence = store::events_by_id(
            &mut conn,
            state.db.keys(),
            &alert.household,
            &alert.evidence,
        )
        .await?;
        let history = store::transitions(&mut conn, state.db.keys(), alert.id).await?;
        let relations =
            store::relation_of(&mut conn, alert.household.as_str(), user.actor().user_id).await?;
        Ok::<_, store::StoreError>((evidence, history, relations))
    };
    let (evidence, history, relations) = match details.await {
        Ok(x) => x,
        Err(e) => return page_error(e.into()),
    };
    let household = alert.household.to_string();
    if let Err(e) = audited(state, &user.who, AuditAction::AlertRead, Some(&household)).await {
        return page_error(e);
    }
    let may_decide = policy::allows(user.actor(), Action::DecideAlert, &relations);
    let (class, sev) = severity_label(alert.severity);
    page(layout(
        &rule_label(&state.rules(), &alert.rule),
        Some(user),
        html! {
            p { a href="/waarschuwingen" { "← Terug naar de waarschuwingen" } }
            h1 { (rule_label(&state.rules(), &alert.rule)) }
            p {
                span.badge.(class) { (sev) } " " (state_label(alert.state))
                " · huishouden " a href={ "/huishoudens/" (alert.household) } { (alert.household) }
                " · sinds " (date(alert.since))
                @if let Some(u) = alert.silenced_until { " · gepauzeerd tot " (date(u)) }
            }
            @if let Some(u) = alert.suppressed_until {
                p.notice { "Deze waarschuwing bleef stil tot " (date(u)) " omdat toen het effect van een nieuwe interventie werd verwacht." }
            }
            h2 { "Advies" }
            p { (alert.advice) }
            h2 { "Waarom deze waarschuwing" }
            @if evidence.is_empty() { p { "Geen onderliggende gebeurtenissen." } } @else {
                ul {
                    @for e in &evidence {
                        li { (datetime(e.event.at())) " — " (evidence_text(&e.event)) }
                    }
                }
            }
            (decide_forms(user, &alert, may_decide, ack, pause))
            h2 { "Geschiedenis" }
            ol {
                @for t in &history {
                    li {
                        (datetime(t.at)) " — " (history_text(t.why))
                        @if !t.by_engine() { " door " (t.actor) }
                        @if let Some(d) = &t.decision { ": " (forms::label_of::<Decision>(d)) }
                        @if let Some(s) = &t.specialism { " (" (forms::label_of::<Specialism>(s)) ")" }
                        @if let Some(r) = &t.reason { " — " (r) }
                        @if let Some(u) = t.silenced_until { " tot " (date(u)) }
                    }
                }
            }
        },
    ))
}

fn evidence_text(event: &crate::domain::Event) -> String {
    use crate::domain::Event;
    match event {
        Event::Score(s) => format!(
            "score {} van {}",
            s.value.get(),
            s.perspective.label().to_lowercase()
        ),
        Event::Signal(s) => format!(
            "{} ({}){}",
            s.kind.label(),
            s.source.label(),
            if s.acute { ", acuut onveilig" } else { "" }
        ),
        Event::Flag(f) => format!(
            "markering {} ({})",
            f.flag.as_str().replace('_', " "),
            f.level.as_str()
        ),
        Event::Closure(_) => "traject afgesloten".into(),
        Event::PartnerWithdrawal(p) => format!("{} trekt zich terug", p.partner.label()),
        other => other.type_name().replace('_', " "),
    }
}

fn history_text(why: TransitionWhy) -> &'static str {
    match why {
        TransitionWhy::First => "waarschuwing ontstaan",
        TransitionWhy::Refired => "opnieuw ontstaan",
        TransitionWhy::Resolved => "opgelost",
        TransitionWhy::Severity => "ernstiger geworden",
        TransitionWhy::Acknowledged => "besluit vastgelegd",
        TransitionWhy::Silenced => "gepauzeerd",
        TransitionWhy::SilenceExpired => "pauze voorbij, waarschuwing loopt nog",
    }
}

/// A decision's problem in the words of the form.
fn problem_text(p: Problem) -> &'static str {
    match p {
        Problem::SpecialismMissing => "Kies welk specialisme u consulteert.",
        Problem::SpecialismNotAllowed => {
            "Kies alleen een specialisme bij het besluit om een specialist te consulteren."
        }
        Problem::UntilNotAfterToday => "Kies een datum na vandaag.",
        Problem::UntilTooFar => "Pauzeer hoogstens een jaar.",
    }
}

/// `GET /waarschuwingen/{id}`: the alert, which marks the person's notifications about it read
/// (the unread count in the header drops with it).
pub(super) async fn page_(
    State(state): State<Arc<AppState>>,
    mut user: WebUser,
    Path(id): Path<i64>,
) -> Response {
    match load(
        &state,
        &user,
        id,
        Action::ReadHousehold,
        AuditAction::AlertRead,
    )
    .await
    {
        Ok(alert) => {
            let read = async {
                let mut conn = state.db.acquire().await?;
                let now = state.clock.now();
                store::notify::mark_alert_read(&mut conn, user.actor().user_id, alert.id, now).await
            };
            match read.await {
                Ok(n) => user.unread = (user.unread - i64::try_from(n).unwrap_or(0)).max(0),
                Err(e) => return page_error(e.into()),
            }
            render(
                &state,
                &user,
                alert,
                &FormState::default(),
                &FormState::default(),
            )
            .await
        }
        Err(r) => r,
    }
}

/// Records a decision on an alert in its own transaction, checking access again inside it, the
/// same way the API does.
async fn decide(state: &AppState, user: &WebUser, id: i64, input: &Input) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    let audit = input.audit_action();
    let alert = match access::alert(&mut tx, &user.who, id, Action::DecideAlert, audit).await? {
        Ok(alert) => alert,
        Err(refusal) => {
            drop(tx);
            return Err(refusal.audit(state, &user.who).await.into());
        }
    };
    let now = state.clock.now();
    decisions::decide(state, &mut tx, &user.who, &alert, input, now).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    state.notified();
    Ok(())
}

/// The two forms on an alert's page, by the last part of the path they post to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecisionForm {
    /// `afhandelen`: a decision with a reason.
    Acknowledge,
    /// `pauzeren`: quiet until a date, with a reason.
    Silence,
}

/// `POST /waarschuwingen/{id}/{afhandelen|pauzeren}`: checks the CSRF token and access, reads the
/// form, and records the decision (then back to the alert), or shows the page again with the
/// form's errors and what was typed.
pub(super) async fn decide_form(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path((id, slug)): Path<(i64, String)>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let which = match slug.as_str() {
        "afhandelen" => DecisionForm::Acknowledge,
        "pauzeren" => DecisionForm::Silence,
        _ => return page_error(ApiError::not_found("page")),
    };
    if let Some(refused) = csrf_refused(&user, &values) {
        return refused;
    }
    let audit = match which {
        DecisionForm::Acknowledge => AuditAction::AlertAcknowledge,
        DecisionForm::Silence => AuditAction::AlertSilence,
    };
    let alert = match load(&state, &user, id, Action::DecideAlert, audit).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut form = FormState::from(values);
    let input = match which {
        DecisionForm::Acknowledge => read_acknowledgement(&mut form),
        DecisionForm::Silence => read_silence(&mut form, &alert, state.clock.now()),
    };
    match input.filter(|_| form.is_valid()) {
        Some(input) => match decide(&state, &user, id, &input).await {
            // Back to the work, with a confirmation of what was decided.
            Ok(()) => Redirect::to(&format!("/waarschuwingen?besloten={id}")).into_response(),
            Err(e) => page_error(e),
        },
        None => {
            let blank = FormState::default();
            let (ack, pause) = match which {
                DecisionForm::Acknowledge => (&form, &blank),
                DecisionForm::Silence => (&blank, &form),
            };
            let mut r = render(&state, &user, alert, ack, pause).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

/// A decision from the form, checked as the API checks it (errors in Dutch, in the form).
fn read_acknowledgement(form: &mut FormState) -> Option<Input> {
    let decision: Option<Decision> =
        form.parse("decision", "Kies een besluit.", |s| s.parse().ok());
    let specialism: Option<Specialism> = form.value("specialism").parse().ok();
    if let Some(decision) = decision
        && let Err(p) = decisions::check_acknowledgement(decision, specialism)
    {
        form.add(p.field(), problem_text(p));
    }
    let reason = form.parse("reason", "Licht het besluit toe.", |s| {
        s.parse::<FreeText>().ok()
    });
    Some(Input::Acknowledge {
        decision: decision?,
        specialism,
        reason: reason?,
    })
}

/// A silence from the form, checked as the API checks it.
fn read_silence(form: &mut FormState, alert: &AlertRow, now: Instant) -> Option<Input> {
    let reason = form.parse("reason", "Geef een reden.", |s| s.parse::<FreeText>().ok());
    let until = form.parse("until", "Vul een datum in.", |s| {
        s.parse::<LocalDate>().ok()
    });
    if let Some(until) = until
        && let Err(p) = decisions::check_silence(until, now)
    {
        form.add(p.field(), problem_text(p));
    }
    if alert.one_shot {
        form.add(
            "reason",
            "Een eenmalige waarschuwing kunt u niet pauzeren; leg een besluit vast.",
        );
    }
    Some(Input::Silence {
        reason: reason?,
        until: until?,
    })
}
