//! The forms that record an event on a household: a score, a signal, or another event.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::app::audit::{AuditAction, Origin};
use crate::app::{access, events};
use crate::auth::policy::Action;
use crate::domain::{
    Closure, Consultation, Escalation, EscalationStep, Event, Flag, FreeText, HouseholdId, Instant,
    Intervention, LocalDate, Milestone, Partner, PartnerWithdrawal, Perspective, SafetyScore,
    Score, Signal, SignalKind, SignalSource, Specialism, Trajectory,
};
use crate::engine::{History, Phase, phase};
use crate::http::web::forms::{self, FormState};
use crate::http::web::{WebUser, audited, csrf_refused, date, datetime, layout, page, page_error};
use crate::http::{ApiError, AppState};
use crate::store::{self};

use super::{allowed, history, latest_scores};

fn form_page(
    user: &WebUser,
    id: &HouseholdId,
    kind: &EventForm,
    form: &FormState,
    hist: &History,
) -> Response {
    page(layout(
        &forms::title(form, kind.title),
        Some(user),
        html! {
            p { a href={ "/huishoudens/" (id) } { "← Terug naar " span.id { (id) } } }
            h1 { (kind.title) }
            (forms::summary(form))
            form method="post" action={ "/huishoudens/" (id) "/" (kind.slug) } novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                ((kind.fields)(form, hist))
                button.primary type="submit" { "Opslaan" }
            }
        },
    ))
}

/// One of the forms that record an event: what it shows and how it turns into an event.
struct EventForm {
    title: &'static str,
    /// The last part of its path, and what the household page says was saved.
    slug: &'static str,
    /// The fields, given the household's history (the score form shows the previous scores).
    fields: fn(&FormState, &History) -> Markup,
    /// Builds the event from the form (recording errors in it), given the household's history.
    build: fn(&mut FormState, &HouseholdId, &History) -> Option<Event>,
}

const SCORE: EventForm = EventForm {
    title: "Score vastleggen",
    slug: "score",
    fields: score_fields,
    build: build_score,
};
const SIGNAL: EventForm = EventForm {
    title: "Signaal vastleggen",
    slug: "signaal",
    fields: signal_fields,
    build: build_signal,
};
const OTHER: EventForm = EventForm {
    title: "Gebeurtenis vastleggen",
    slug: "gebeurtenis",
    fields: event_fields,
    build: build_event,
};

/// The household `raw` if the user may record events on it, or the page that says it is not there.
async fn writable(state: &AppState, user: &WebUser, raw: &str) -> Result<HouseholdId, Response> {
    allowed(
        state,
        user,
        raw,
        Action::WriteHousehold,
        AuditAction::EventCreate,
    )
    .await
}

async fn show_form(state: &AppState, user: &WebUser, raw: &str, kind: &EventForm) -> Response {
    let id = match writable(state, user, raw).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let hist = match history(state, &id).await {
        Ok((hist, _)) => hist,
        Err(e) => return page_error(e),
    };
    // The form shows the household's latest scores: a read like the household page.
    if let Err(e) = audited(
        state,
        &user.who,
        AuditAction::HouseholdRead,
        Some(id.as_str()),
    )
    .await
    {
        return page_error(e);
    }
    let mut form = FormState::default();
    form.values
        .insert("at".into(), forms::datetime_value(state.clock.now()));
    form_page(user, &id, kind, &form, &hist)
}

/// Checks the CSRF token and access, builds the event, and stores it (then back to the household
/// page), or shows the form again with its errors and what was typed.
async fn submit_form(
    state: &AppState,
    user: &WebUser,
    raw: &str,
    values: HashMap<String, String>,
    kind: &EventForm,
) -> Response {
    if let Some(refused) = csrf_refused(user, &values) {
        return refused;
    }
    let id = match writable(state, user, raw).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let hist = match history(state, &id).await {
        Ok((hist, _)) => hist,
        Err(e) => return page_error(e),
    };
    let mut form = FormState::from(values);
    let now = state.clock.now();
    let event = (kind.build)(&mut form, &id, &hist);
    // The rules of the use case, as the API applies them, worded for the form.
    if let Some(event) = &event {
        for p in events::check(event, &hist, now) {
            form.add(form_field(p), forms::event_problem_text(p));
        }
    }
    match (form.is_valid(), event) {
        (true, Some(event @ Event::Closure(_))) if form.value("bevestigd") != "ja" => {
            if form.value("bevestigd") == "nee" {
                // Back to the form, with what was typed.
                form.values.remove("bevestigd");
                return form_page(user, &id, kind, &form, &hist);
            }
            confirm_closure(state, user, &id, &form, &hist, &event)
        }
        (true, Some(event)) => save(state, user, &id, event, kind.slug).await,
        _ => {
            let mut response = form_page(user, &id, kind, &form, &hist);
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}

/// The form field that holds what an API field says.
fn form_field(p: events::Problem) -> &'static str {
    match p.field() {
        "reason" | "description" => "text",
        "effect_expected_by" => "effect",
        other => other,
    }
}

/// Closing lets go of a household: say what that means, and ask once more.
fn confirm_closure(
    state: &AppState,
    user: &WebUser,
    id: &HouseholdId,
    form: &FormState,
    hist: &History,
    event: &Event,
) -> Response {
    let at = event.at();
    let rules = state.rules();
    let defs = rules.for_region(hist.household.region).definitions;
    let stable = phase(hist, defs, at) == Phase::StabieleVeiligheid;
    page(layout(
        "Weet u het zeker? Traject afsluiten",
        Some(user),
        html! {
            p { a href={ "/huishoudens/" (id) } { "← Terug naar " span.id { (id) } } }
            h1 { "Weet u het zeker?" }
            p { "U sluit het traject van " span.id { (id) } " af per " strong { (datetime(at)) } "." }
            p { "Reden: " (form.value("text")) }
            h2 { "Wat afsluiten betekent" }
            ul {
                li { "zicht waarschuwt niet meer over uitblijvende veiligheid, een dalende trend of een achterstallige score." }
                li { "Na 6 en na 12 maanden krijgt de regisseur een herinnering voor nazorg." }
                li { "Een nieuwe melding binnen 12 maanden wordt aan de regisseur gemeld, met de vraag of het traject heropend moet worden." }
            }
            @if !stable {
                p.summary role="note" {
                    strong { "Let op: " }
                    "dit huishouden is op dat moment niet stabiel veilig. Afsluiten leidt tot de waarschuwing "
                    em { "Voortijdig loslaten" } " voor de regisseur en de gemeente. Vasthouden en volhouden: sluit alleen af als dat echt nodig is."
                }
            }
            form method="post" action={ "/huishoudens/" (id) "/gebeurtenis" } {
                input type="hidden" name="csrf" value=(user.csrf);
                @for name in ["type", "at", "text"] {
                    input type="hidden" name=(name) value=(form.value(name));
                }
                div.actions {
                    button.primary type="submit" name="bevestigd" value="ja" { "Ja, traject afsluiten" }
                    button.secondary type="submit" name="bevestigd" value="nee" { "Nee, terug naar het formulier" }
                }
            }
        },
    ))
}

/// Writes the event, checking access again in the write transaction.
async fn save(
    state: &AppState,
    user: &WebUser,
    id: &HouseholdId,
    event: Event,
    what: &str,
) -> Response {
    let stored = async {
        let mut tx = state.db.begin_write().await?;
        let checked = access::household(
            &mut tx,
            &user.who,
            id.as_str(),
            Action::WriteHousehold,
            AuditAction::EventCreate,
        )
        .await?;
        if let Err(refusal) = checked {
            drop(tx);
            return Err(refusal.audit(state, &user.who).await.into());
        }
        let now = state.clock.now();
        events::record_event(
            &mut tx,
            state.db.keys(),
            &state.rules(),
            Origin::Request(&user.who),
            &event,
            now,
        )
        .await?;
        tx.commit().await.map_err(store::StoreError::from)?;
        Ok::<(), ApiError>(())
    };
    match stored.await {
        Ok(()) => {
            state.notified();
            Redirect::to(&format!("/huishoudens/{id}?opgeslagen={what}")).into_response()
        }
        Err(e) => page_error(e),
    }
}

/// The form of the kind `slug` names, if there is one.
fn kind(slug: &str) -> Option<&'static EventForm> {
    [&SCORE, &SIGNAL, &OTHER]
        .into_iter()
        .find(|k| k.slug == slug)
}

/// `GET /huishoudens/{id}/{form}`: an empty form of that kind.
pub(in crate::http::web) async fn form(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path((raw, slug)): Path<(String, String)>,
) -> Response {
    match kind(&slug) {
        Some(kind) => show_form(&state, &user, &raw, kind).await,
        None => page_error(ApiError::not_found("page")),
    }
}

/// `POST /huishoudens/{id}/{form}`: stores the event, or shows the form again with its errors.
pub(in crate::http::web) async fn submit(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path((raw, slug)): Path<(String, String)>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    match kind(&slug) {
        Some(kind) => submit_form(&state, &user, &raw, values, kind).await,
        None => page_error(ApiError::not_found("page")),
    }
}

fn at_field(form: &mut FormState) -> Option<Instant> {
    form.parse(
        "at",
        "Vul een datum en tijd in, bijvoorbeeld 06-01-2025 10:00.",
        forms::local_datetime,
    )
}

fn text_field(form: &mut FormState, name: &str) -> Option<FreeText> {
    let text = form.value(name).trim().to_owned();
    if text.is_empty() {
        return None;
    }
    let parsed = text.parse::<FreeText>().ok();
    if parsed.is_none() {
        form.add(
            name,
            format!("Gebruik hoogstens {} tekens.", FreeText::MAX_CHARS),
        );
    }
    parsed
}

fn score_fields(form: &FormState, hist: &History) -> Markup {
    let latest = latest_scores(hist);
    html! {
        // The reason rule compares with the previous score of the same perspective: show it.
        @if latest.is_empty() {
            p.hint { "Er is nog geen score vastgelegd voor dit huishouden." }
        } @else {
            table.compact {
                caption { "Vorige score per perspectief" }
                thead { tr { th scope="col" { "Perspectief" } th scope="col" { "Score" } th scope="col" { "Datum" } } }
                tbody {
                    @for (p, value, at, _) in &latest {
                        tr {
                            th scope="row" { (p.label()) }
                            td data-label="Score" { (value) }
                            td { (date(*at)) }
                        }
                    }
                }
            }
        }
        (forms::select(form, "perspective", "Wiens score is dit?", &forms::choices::<Perspective>()))
        (forms::input(form, "value", "Score (0 tot en met 10)", "number",
            Some("0: het geweld gebeurt zeker weer. 10: veilig genoeg om het traject af te sluiten."),
            &[("min", "0"), ("max", "10"), ("inputmode", "numeric")]))
        (forms::textarea(form, "reason", "Wat maakte dat het cijfer omhoog of omlaag ging?",
            Some("Verplicht als de score 2 of meer punten verschilt van de vorige score van dit perspectief.")))
        (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
    }
}

fn build_score(form: &mut FormState, id: &HouseholdId, hist: &History) -> Option<Event> {
    let perspective = form.parse("perspective", "Kies wiens score dit is.", |s| {
        s.parse().ok()
    });
    let value = form.parse("value", "Vul een heel getal in van 0 tot en met 10.", |s| {
        s.parse::<i64>().ok().and_then(|v| SafetyScore::new(v).ok())
    });
    let at = at_field(form);
    let reason = text_field(form, "reason");
    let (perspective, value, at) = (perspective?, value?, at?);
    // The reason is required when the number moves 2 or more points (Signs of Safety practice).
    let previous = hist.events.iter().rev().find_map(|e| match e {
        Event::Score(s) if s.perspective == perspective && s.at <= at => Some(s.value.get()),
        _ => None,
    });
    if let Some(prev) = previous.filter(|p| reason.is_none() && p.abs_diff(value.get()) >= 2) {
        form.add(
            "reason",
            format!(
                "Beschrijf wat het cijfer deed veranderen: het verschilt {} punten van de vorige score ({prev}).",
                prev.abs_diff(value.get())
            ),
        );
    }
    Some(Event::Score(Score {
        household: id.clone(),
        at,
        perspective,
        value,
        reason,
    }))
}

fn signal_fields(form: &FormState, _: &History) -> Markup {
    html! {
        (forms::select(form, "kind", "Soort signaal", &forms::choices::<SignalKind>()))
        (forms::select(form, "source", "Van wie kwam het?", &forms::choices::<SignalSource>()))
        (forms::checkbox(form, "acute", "Acuut onveilig"))
        (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
    }
}

fn build_signal(form: &mut FormState, id: &HouseholdId, _: &History) -> Option<Event> {
    let kind = form.parse("kind", "Kies de soort signaal.", |s| s.parse().ok());
    let source = form.parse("source", "Kies van wie het signaal kwam.", |s| {
        s.parse().ok()
    });
    let at = at_field(form);
    let acute = form.value("acute") == "ja";
    Some(Event::Signal(Signal {
        household: id.clone(),
        at: at?,
        kind: kind?,
        source: source?,
        acute,
    }))
}

const EVENT_TYPES: &[(&str, &str)] = &[
    (
        "intervention",
        "Interventie (met datum waarop effect verwacht wordt)",
    ),
    ("consultation", "Consultatie van een specialist"),
    ("flag_it", "Markering: intiem terrorisme"),
    ("escalation", "Trede op de escalatieladder"),
    ("proactive_scenario", "Proactief scenario vastgelegd"),
    ("partner_withdrawal", "Een partner trekt zich terug"),
    ("closure", "Traject afsluiten"),
    ("reopen", "Traject heropenen"),
];

/// The steps of the escalation ladder, as the practice card names them.
const STEPS: [(&str, &str); 3] = [
    ("1", "Trede 1 · gezamenlijke basis"),
    ("2", "Trede 2 · bijschalen en procesregie"),
    ("3", "Trede 3 · geweld niet te stoppen"),
];

const FLAG_LEVELS: &[(&str, &str)] = &[
    ("vermoeden", "Vermoeden"),
    ("waarschijnlijk", "Waarschijnlijk"),
    ("zeker", "Zeker"),
    ("geen", "Niet (meer)"),
];

fn event_fields(form: &FormState, hist: &History) -> Markup {
    // Only what can happen now: closing an open trajectory, reopening a closed one.
    let closed = Trajectory::current(&hist.household, &hist.events)
        .closed
        .is_some();
    let types: Vec<(&str, &str)> = EVENT_TYPES
        .iter()
        .filter(|(t, _)| *t != if closed { "closure" } else { "reopen" })
        .copied()
        .collect();
    html! {
        (forms::select(form, "type", "Wat is er gebeurd?", &types))
        (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
        fieldset {
            legend { "Aanvullende gegevens (alleen wat bij de gekozen gebeurtenis hoort)" }
            (forms::textarea(form, "text", "Omschrijving of reden", Some("Bij een interventie: wat wordt ingezet. Bij een trede of bij afsluiten: waarom.")))
            (forms::select(form, "step", "Trede (escalatieladder)", &STEPS))
            (forms::input(form, "effect", "Effect verwacht vóór (interventie)", "date", None, &[]))
            (forms::select(form, "specialism", "Specialisme (consultatie)", &forms::choices::<Specialism>()))
            (forms::select(form, "level", "Mate (markering)", FLAG_LEVELS))
            (forms::select(form, "partner", "Partner (terugtrekking)", &forms::choices::<Partner>()))
        }
    }
}

fn build_event(form: &mut FormState, id: &HouseholdId, _: &History) -> Option<Event> {
    let kind = form.value("type").to_owned();
    let at = at_field(form);
    let text = text_field(form, "text");
    let household = id.clone();
    match (kind.as_str(), at) {
        (_, None) => None,
        ("intervention", Some(at)) => {
            let effect = if form.value("effect").is_empty() {
                None
            } else {
                form.parse("effect", "Vul een geldige datum in.", |s| {
                    s.parse::<LocalDate>().ok()
                })
            };
            Some(Event::Intervention(Intervention {
                household,
                at,
                description: text,
                effect_expected_by: effect,
            }))
        }
        ("consultation", Some(at)) => form
            .parse(
                "specialism",
                "Kies het specialisme dat is geconsulteerd.",
                |s| s.parse().ok(),
            )
            .map(|specialism| {
                Event::Consultation(Consultation {
                    household,
                    at,
                    specialism,
                })
            }),
        ("flag_it", Some(at)) => form
            .parse("level", "Kies de mate van de markering.", |s| {
                s.parse().ok()
            })
            .map(|level| {
                Event::Flag(Flag {
                    household,
                    at,
                    flag: crate::domain::FlagKind::IntiemTerrorisme,
                    level,
                })
            }),
        ("escalation", Some(at)) => {
            let step = form.parse("step", "Kies de trede.", |s| {
                s.parse::<i64>()
                    .ok()
                    .and_then(|n| EscalationStep::new(n).ok())
            });
            if text.is_none() {
                form.add(
                    "text",
                    "Geef aan waarom het huishouden op deze trede staat.",
                );
            }
            Some(Event::Escalation(Escalation {
                household,
                at,
                step: step?,
                reason: text?,
            }))
        }
        ("proactive_scenario", Some(at)) => {
            Some(Event::ProactiveScenario(Milestone { household, at }))
        }
        ("partner_withdrawal", Some(at)) => form
            .parse("partner", "Kies de partner die zich terugtrekt.", |s| {
                s.parse().ok()
            })
            .map(|partner| {
                Event::PartnerWithdrawal(PartnerWithdrawal {
                    household,
                    at,
                    partner,
                })
            }),
        ("closure", Some(at)) => Some(Event::Closure(Closure {
            household,
            at,
            reason: text,
        })),
        ("reopen", Some(at)) => Some(Event::Reopen(Milestone { household, at })),
        _ => {
            form.add("type", "Kies wat er is gebeurd.");
            None
        }
    }
}
