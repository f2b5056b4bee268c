//! "Mijn huishoudens", the household page (situatieplaat) and the forms that record events.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};

use super::chart;
use super::forms::{self, FormState};
use super::{
    WebUser, csrf_refused, date, datetime, layout, page, page_error, rule_label, severity_label,
};
use crate::app::audit::{AuditAction, Origin};
use crate::app::{access, events};
use crate::auth::policy::{self, Action, HouseholdScope};
use crate::domain::{
    Closure, Consultation, Event, Flag, FreeText, HouseholdId, Instant, Intervention, LocalDate,
    Milestone, PartnerWithdrawal, SafetyScore, Score, Signal,
};
use crate::engine::{History, Phase, phase};
use crate::http::{ApiError, AppState};
use crate::store::{self, AlertRow, AlertState, AuditOutcome, HouseholdFilter};

/// A household the user may `action`, or the page that says it is not there.
async fn allowed(
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

async fn history(state: &AppState, id: &HouseholdId) -> Result<(History, Vec<i64>), ApiError> {
    let mut conn = state.db.acquire().await?;
    events::history(&mut conn, id)
        .await?
        .ok_or(ApiError::NotFound("household"))
}

pub(super) async fn list(State(state): State<Arc<AppState>>, user: WebUser) -> Response {
    if policy::household_scope(user.actor()) != Some(HouseholdScope::Assigned) {
        return page_error(ApiError::Forbidden);
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
            let alerts = store::state_alerts(&mut conn, &id).await?;
            let open = alerts
                .iter()
                .filter(|a| a.state != AlertState::Resolved)
                .count();
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
    if let Err(e) = super::session::audited(
        &state,
        &user.who,
        AuditAction::HouseholdList,
        None,
        AuditOutcome::Ok,
    )
    .await
    {
        return page_error(e);
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
                    caption.hint { "Huishoudens waarvoor u casemanager of regisseur bent" }
                    thead { tr { th scope="col" { "Huishouden" } th scope="col" { "Gemeente, wijk" } th scope="col" { "Fase" } th scope="col" { "Open waarschuwingen" } } }
                    tbody {
                        @for ((h, open), phase) in rows.iter().zip(&phases) {
                            tr {
                                td { a href={ "/huishoudens/" (h.household.id) } { (h.household.id) } }
                                td { (h.household.gemeente.as_str()) @if let Some(w) = &h.household.wijk { ", " (w.as_str()) } }
                                td { (phase.label()) }
                                td { @if *open > 0 { strong { (open) } } @else { "geen" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// Phase bands over time: the phase at every event and now.
fn phase_spans(
    history: &History,
    defs: &crate::engine::Definitions,
    now: Instant,
) -> Vec<(i64, Option<i64>, Phase)> {
    let mut times: Vec<Instant> = std::iter::once(history.household.opened_at.start())
        .chain(history.events.iter().map(Event::at))
        .filter(|t| *t <= now)
        .collect();
    times.dedup();
    let mut spans: Vec<(i64, Option<i64>, Phase)> = Vec::new();
    for t in times {
        let p = phase(history, defs, t);
        match spans.last_mut() {
            Some((_, _, last)) if *last == p => {}
            Some((_, end, _)) => {
                *end = Some(t.millis());
                spans.push((t.millis(), None, p));
            }
            None => spans.push((t.millis(), None, p)),
        }
    }
    spans
}

fn describe(event: &Event) -> (String, String) {
    match event {
        Event::Score(s) => (
            format!(
                "Score {}",
                forms::label_of(forms::PERSPECTIVES, s.perspective.as_str()).to_lowercase()
            ),
            format!(
                "{}{}",
                s.value.get(),
                s.reason
                    .as_ref()
                    .map(|r| format!(" — {}", r.as_str()))
                    .unwrap_or_default()
            ),
        ),
        Event::Signal(s) => (
            forms::label_of(forms::SIGNAL_KINDS, s.kind.as_str()),
            format!(
                "{}{}",
                forms::label_of(forms::SOURCES, s.source.as_str()),
                if s.acute { " — acuut onveilig" } else { "" }
            ),
        ),
        Event::Flag(f) => (
            format!("Markering {}", f.flag.as_str().replace('_', " ")),
            f.level.as_str().to_owned(),
        ),
        Event::Consultation(c) => (
            "Consultatie".into(),
            forms::label_of(forms::SPECIALISMS, c.specialism.as_str()),
        ),
        Event::Intervention(i) => (
            "Interventie".into(),
            format!(
                "{}{}",
                i.description
                    .as_ref()
                    .map(|d| d.as_str().to_owned())
                    .unwrap_or_default(),
                i.effect_expected_by
                    .map(|d| format!(" (effect verwacht vóór {})", date(d.start())))
                    .unwrap_or_default()
            ),
        ),
        Event::Phase3(_) => ("Fase 3 bereikt".into(), String::new()),
        Event::ProactiveScenario(_) => ("Proactief scenario vastgelegd".into(), String::new()),
        Event::PartnerWithdrawal(p) => (
            "Partner trekt zich terug".into(),
            forms::label_of(forms::PARTNERS, p.partner.as_str()),
        ),
        Event::Closure(c) => (
            "Traject afgesloten".into(),
            c.reason
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        ),
        Event::Reopen(_) => ("Traject heropend".into(), String::new()),
        Event::Household(_) => ("Huishouden".into(), String::new()),
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct Saved {
    opgeslagen: Option<String>,
}

async fn render(
    state: Arc<AppState>,
    user: WebUser,
    raw: String,
    saved: Option<String>,
) -> Response {
    let id = match allowed(
        &state,
        &user,
        &raw,
        Action::ReadHousehold,
        AuditAction::HouseholdRead,
    )
    .await
    {
        Ok(id) => id,
        Err(r) => return r,
    };
    let loaded = async {
        let (hist, ids) = history(&state, &id).await?;
        let mut conn = state.db.acquire().await?;
        let alerts = store::state_alerts(&mut conn, &id).await?;
        let mut decisions = Vec::new();
        for a in &alerts {
            for t in store::transitions(&mut conn, a.id).await? {
                if t.actor != "zicht" {
                    decisions.push((a.rule.clone(), t));
                }
            }
        }
        let listed = store::list_alerts(
            &mut conn,
            &store::AlertFilter {
                household: Some(id.to_string()),
                ..Default::default()
            },
            user.actor().user_id,
            None,
            200,
        )
        .await?;
        Ok::<_, ApiError>((hist, ids, alerts, decisions, listed))
    };
    let (hist, _ids, alerts, decisions, listed) = match loaded.await {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    if let Err(e) = super::session::audited(
        &state,
        &user.who,
        AuditAction::HouseholdRead,
        Some(id.as_str()),
        AuditOutcome::Ok,
    )
    .await
    {
        return page_error(e);
    }
    let now = state.clock.now();
    let rules = state.rules();
    let defs = rules.for_region(hist.household.region).definitions;
    let current = phase(&hist, defs, now);
    let spans = phase_spans(&hist, defs, now);
    let chart_svg = render_chart(&hist, &alerts, &decisions, &spans, now);
    let open: Vec<&AlertRow> = listed
        .iter()
        .filter(|a| a.state != AlertState::Resolved)
        .collect();
    let h = &hist.household;
    page(layout(
        &format!("Huishouden {}", h.id),
        Some(&user),
        html! {
            h1 { "Situatieplaat " (h.id) }
            @if let Some(what) = saved { p.notice role="status" { (saved_text(&what)) } }
            p {
                (h.gemeente.as_str()) @if let Some(w) = &h.wijk { ", " (w.as_str()) }
                " · traject sinds " (date(h.opened_at.start()))
                " · " @if h.minor_children { "met minderjarige kinderen" } @else { "zonder minderjarige kinderen" }
            }
            p { "Fase: " strong { (current.label()) } }
            div.actions {
                a href={ "/huishoudens/" (h.id) "/score" } { "Score vastleggen" }
                a href={ "/huishoudens/" (h.id) "/signaal" } { "Signaal vastleggen" }
                a href={ "/huishoudens/" (h.id) "/gebeurtenis" } { "Andere gebeurtenis vastleggen" }
            }
            h2 { "Open waarschuwingen" }
            @if open.is_empty() { p { "Geen." } } @else {
                ul {
                    @for a in &open {
                        @let (class, sev) = severity_label(a.severity);
                        li {
                            span.badge.(class) { (sev) } " "
                            @if user.actor().role == crate::domain::Role::Regisseur {
                                a href={ "/waarschuwingen/" (a.id) } { (rule_label(&a.rule)) }
                            } @else { (rule_label(&a.rule)) }
                            " — sinds " (date(a.since))
                        }
                    }
                }
            }
            h2 { "Verloop" }
            figure {
                (PreEscaped(chart_svg))
                figcaption.hint { "Scores per perspectief; de lijnen bij 6 en 8 markeren directe en stabiele veiligheid. Onder de grafiek de signalen (rood: acuut), erboven de waarschuwingen en besluiten." }
            }
            h2 { "Tijdlijn" }
            @if hist.events.is_empty() { p { "Nog niets vastgelegd." } } @else {
                table {
                    thead { tr { th scope="col" { "Wanneer" } th scope="col" { "Wat" } th scope="col" { "Details" } } }
                    tbody {
                        @for e in hist.events.iter().rev() {
                            @let (what, details) = describe(e);
                            tr { td { (datetime(e.at())) } td { (what) } td { (details) } }
                        }
                    }
                }
            }
        },
    ))
}

fn saved_text(what: &str) -> &'static str {
    match what {
        "score" => "De score is opgeslagen.",
        "signaal" => "Het signaal is opgeslagen.",
        _ => "De gebeurtenis is opgeslagen.",
    }
}

pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
    Query(saved): Query<Saved>,
) -> Response {
    render(state, user, raw, saved.opgeslagen).await
}

fn render_chart(
    hist: &History,
    alerts: &[AlertRow],
    decisions: &[(String, store::TransitionRow)],
    spans: &[(i64, Option<i64>, Phase)],
    now: Instant,
) -> String {
    let from = hist
        .household
        .opened_at
        .start()
        .millis()
        .min(hist.events.first().map_or(i64::MAX, |e| e.at().millis()));
    let labels: Vec<(String, crate::domain::Perspective)> = crate::domain::Perspective::ALL
        .iter()
        .map(|p| {
            (
                forms::label_of(forms::PERSPECTIVES, p.as_str())
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                *p,
            )
        })
        .collect();
    let series: Vec<chart::Series<'_>> = labels
        .iter()
        .map(|(label, p)| chart::Series {
            label,
            points: hist
                .events
                .iter()
                .filter_map(|e| match e {
                    Event::Score(s) if s.perspective == *p => Some((s.at.millis(), s.value.get())),
                    _ => None,
                })
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let signal_labels: Vec<(i64, String, bool)> = hist
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Signal(s) => Some((
                s.at.millis(),
                format!(
                    "{} ({})",
                    forms::label_of(forms::SIGNAL_KINDS, s.kind.as_str()),
                    forms::label_of(forms::SOURCES, s.source.as_str())
                ),
                s.acute,
            )),
            _ => None,
        })
        .collect();
    let alert_labels: Vec<(i64, Option<i64>, String)> = alerts
        .iter()
        .map(|a| {
            (
                a.fired_at.millis(),
                a.resolved_at.map(Instant::millis),
                rule_label(&a.rule),
            )
        })
        .collect();
    let decision_labels: Vec<(i64, String)> = decisions
        .iter()
        .map(|(rule, t)| {
            let what = t.decision.as_deref().map_or_else(
                || "gepauzeerd".to_owned(),
                |d| forms::label_of(forms::DECISIONS, d),
            );
            (
                t.at.millis(),
                format!("{}: {what} ({})", rule_label(rule), t.actor),
            )
        })
        .collect();
    let chart = chart::Chart {
        from_ms: from,
        to_ms: now.millis().max(from + 1),
        series,
        signals: signal_labels
            .iter()
            .map(|(at, l, acute)| chart::Marker {
                at_ms: *at,
                label: l,
                strong: *acute,
            })
            .collect(),
        alerts: alert_labels
            .iter()
            .map(|(f, t, l)| chart::Span {
                from_ms: *f,
                to_ms: *t,
                label: l,
            })
            .collect(),
        decisions: decision_labels
            .iter()
            .map(|(at, l)| chart::Marker {
                at_ms: *at,
                label: l,
                strong: false,
            })
            .collect(),
        phases: spans
            .iter()
            .map(|(f, t, p)| chart::Span {
                from_ms: *f,
                to_ms: *t,
                label: p.label(),
            })
            .collect(),
        title: "Verloop van de veiligheid",
    };
    chart::render(&chart)
}

fn form_page(user: &WebUser, id: &HouseholdId, kind: &EventForm, form: &FormState) -> Response {
    page(layout(
        kind.title,
        Some(user),
        html! {
            p { a href={ "/huishoudens/" (id) } { "← Terug naar " (id) } }
            h1 { (kind.title) }
            (forms::summary(form))
            form method="post" action={ "/huishoudens/" (id) "/" (kind.slug) } novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                ((kind.fields)(form))
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
    fields: fn(&FormState) -> Markup,
    /// Builds the event from the form (recording errors in it), given the household's history.
    build: fn(&mut FormState, &HouseholdId, &History, Instant) -> Option<Event>,
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

async fn show_form(state: &AppState, user: &WebUser, raw: &str, kind: &EventForm) -> Response {
    let id = match allowed(
        state,
        user,
        raw,
        Action::WriteHousehold,
        AuditAction::EventCreate,
    )
    .await
    {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut form = FormState::default();
    form.values
        .insert("at".into(), forms::datetime_value(state.clock.now()));
    form_page(user, &id, kind, &form)
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
    let id = match allowed(
        state,
        user,
        raw,
        Action::WriteHousehold,
        AuditAction::EventCreate,
    )
    .await
    {
        Ok(id) => id,
        Err(r) => return r,
    };
    let hist = match history(state, &id).await {
        Ok((hist, _)) => hist,
        Err(e) => return page_error(e),
    };
    let mut form = FormState::from(values);
    let event = (kind.build)(&mut form, &id, &hist, state.clock.now());
    match (form.is_valid(), event) {
        (true, Some(event)) => save(state, user, &id, event, kind.slug).await,
        _ => {
            let mut response = form_page(user, &id, kind, &form);
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
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

pub(super) async fn score_form(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
) -> Response {
    show_form(&state, &user, &raw, &SCORE).await
}

pub(super) async fn score(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    submit_form(&state, &user, &raw, values, &SCORE).await
}

pub(super) async fn signal_form(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
) -> Response {
    show_form(&state, &user, &raw, &SIGNAL).await
}

pub(super) async fn signal(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    submit_form(&state, &user, &raw, values, &SIGNAL).await
}

pub(super) async fn event_form(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
) -> Response {
    show_form(&state, &user, &raw, &OTHER).await
}

pub(super) async fn event(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    submit_form(&state, &user, &raw, values, &OTHER).await
}

fn at_field(form: &mut FormState, now: Instant) -> Option<Instant> {
    let at = form.parse(
        "at",
        "Vul een datum en tijd in, bijvoorbeeld 06-01-2025 10:00.",
        forms::local_datetime,
    );
    if at.is_some_and(|t| t > now) {
        form.add("at", "Dit moment ligt in de toekomst.");
    }
    at
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

fn score_fields(form: &FormState) -> Markup {
    html! {
        (forms::select(form, "perspective", "Wiens score is dit?", forms::PERSPECTIVES))
        (forms::input(form, "value", "Score (0 tot en met 10)", "number",
            Some("0: het geweld gebeurt zeker weer. 10: veilig genoeg om het traject af te sluiten."),
            &[("min", "0"), ("max", "10"), ("inputmode", "numeric")]))
        (forms::textarea(form, "reason", "Wat maakte dat het cijfer omhoog of omlaag ging?",
            Some("Verplicht als de score 2 of meer punten verschilt van de vorige score van dit perspectief.")))
        (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
    }
}

fn build_score(
    form: &mut FormState,
    id: &HouseholdId,
    hist: &History,
    now: Instant,
) -> Option<Event> {
    let perspective = form.parse("perspective", "Kies wiens score dit is.", |s| {
        s.parse().ok()
    });
    let value = form.parse("value", "Vul een heel getal in van 0 tot en met 10.", |s| {
        s.parse::<i64>().ok().and_then(|v| SafetyScore::new(v).ok())
    });
    let at = at_field(form, now);
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

fn signal_fields(form: &FormState) -> Markup {
    html! {
        (forms::select(form, "kind", "Soort signaal", forms::SIGNAL_KINDS))
        (forms::select(form, "source", "Van wie kwam het?", forms::SOURCES))
        div.field {
            label {
                input type="checkbox" name="acute" value="ja" checked[form.value("acute") == "ja"] style="width:auto;min-height:0";
                " Acuut onveilig"
            }
        }
        (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
    }
}

fn build_signal(
    form: &mut FormState,
    id: &HouseholdId,
    _: &History,
    now: Instant,
) -> Option<Event> {
    let kind = form.parse("kind", "Kies de soort signaal.", |s| s.parse().ok());
    let source = form.parse("source", "Kies van wie het signaal kwam.", |s| {
        s.parse().ok()
    });
    let at = at_field(form, now);
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
    ("flag_gnts", "Markering: geweld niet te stoppen"),
    ("phase3", "Fase 3 bereikt"),
    ("proactive_scenario", "Proactief scenario vastgelegd"),
    ("partner_withdrawal", "Een partner trekt zich terug"),
    ("closure", "Traject afsluiten"),
    ("reopen", "Traject heropenen"),
];

const FLAG_LEVELS: &[(&str, &str)] = &[
    ("vermoeden", "Vermoeden"),
    ("waarschijnlijk", "Waarschijnlijk"),
    ("zeker", "Zeker"),
    ("geen", "Niet (meer)"),
];

fn event_fields(form: &FormState) -> Markup {
    html! {
        (forms::select(form, "type", "Wat is er gebeurd?", EVENT_TYPES))
        (forms::input(form, "at", "Wanneer", "datetime-local", None, &[]))
        fieldset {
            legend { "Aanvullende gegevens (alleen wat bij de gekozen gebeurtenis hoort)" }
            (forms::textarea(form, "text", "Omschrijving of reden", Some("Bij een interventie: wat wordt ingezet. Bij afsluiten: waarom.")))
            (forms::input(form, "effect", "Effect verwacht vóór (interventie)", "date", None, &[]))
            (forms::select(form, "specialism", "Specialisme (consultatie)", forms::SPECIALISMS))
            (forms::select(form, "level", "Mate (markering)", FLAG_LEVELS))
            (forms::select(form, "partner", "Partner (terugtrekking)", forms::PARTNERS))
        }
    }
}

fn build_event(form: &mut FormState, id: &HouseholdId, _: &History, now: Instant) -> Option<Event> {
    let kind = form.value("type").to_owned();
    let at = at_field(form, now);
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
        (flag @ ("flag_it" | "flag_gnts"), Some(at)) => form
            .parse("level", "Kies de mate van de markering.", |s| {
                s.parse().ok()
            })
            .map(|level| {
                let flag = if flag == "flag_it" {
                    crate::domain::FlagKind::IntiemTerrorisme
                } else {
                    crate::domain::FlagKind::GeweldNietTeStoppen
                };
                Event::Flag(Flag {
                    household,
                    at,
                    flag,
                    level,
                })
            }),
        ("phase3", Some(at)) => Some(Event::Phase3(Milestone { household, at })),
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
