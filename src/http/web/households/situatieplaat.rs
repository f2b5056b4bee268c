//! The household page: the situatieplaat (scores per perspective over time, the 6 and 8 lines,
//! signals, alerts and decisions) and the timeline.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{PreEscaped, html};

use crate::app::audit::AuditAction;
use crate::auth::policy::Action;
use crate::domain::Decision;
use crate::domain::{Event, Instant};
use crate::engine::{History, Phase, escalation_step, phase};
use crate::http::web::chart;
use crate::http::web::forms::{self};
use crate::http::web::{
    WebUser, audited, date, datetime, layout, page, page_error, rule_label, severity_label,
};
use crate::http::{ApiError, AppState};
use crate::rules::RuleSet;
use crate::store::{self, AlertRow};

use super::{allowed, history};

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
            format!("Score {}", s.perspective.label().to_lowercase()),
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
            s.kind.label().to_owned(),
            format!(
                "{}{}",
                s.source.label(),
                if s.acute { " — acuut onveilig" } else { "" }
            ),
        ),
        Event::Flag(f) => (
            format!("Markering {}", f.flag.as_str().replace('_', " ")),
            f.level.as_str().to_owned(),
        ),
        Event::Consultation(c) => ("Consultatie".into(), c.specialism.label().to_owned()),
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
        Event::Escalation(x) => (x.step.label().into(), x.reason.as_str().to_owned()),
        Event::ProactiveScenario(_) => ("Proactief scenario vastgelegd".into(), String::new()),
        Event::PartnerWithdrawal(p) => (
            "Partner trekt zich terug".into(),
            p.partner.label().to_owned(),
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
pub(in crate::http::web) struct Saved {
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
        let listed = store::open_alerts(&mut conn, &id).await?;
        Ok::<_, ApiError>((hist, ids, alerts, decisions, listed))
    };
    let (hist, _ids, alerts, decisions, listed) = match loaded.await {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    if let Err(e) = audited(
        &state,
        &user.who,
        AuditAction::HouseholdRead,
        Some(id.as_str()),
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
    let chart_svg = render_chart(&state.rules(), &hist, &alerts, &decisions, &spans, now);
    // The household's open alerts, as its group in the work queue lists them.
    let open: Vec<&AlertRow> = listed.iter().collect();
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
            p {
                "Fase: " strong { (current.label()) }
                // The ladder is another axis than the phases: shown beside them, never as one.
                " · Escalatieladder: " strong { (escalation_step(&hist, now).label()) }
            }
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
                                a href={ "/waarschuwingen/" (a.id) } { (rule_label(&state.rules(), &a.rule)) }
                            } @else { (rule_label(&state.rules(), &a.rule)) }
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

pub(in crate::http::web) async fn show(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Path(raw): Path<String>,
    Query(saved): Query<Saved>,
) -> Response {
    render(state, user, raw, saved.opgeslagen).await
}

fn render_chart(
    rules: &RuleSet,
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
                p.label().split(' ').next().unwrap_or_default().to_owned(),
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
                format!("{} ({})", s.kind.label(), s.source.label()),
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
                rule_label(rules, &a.rule),
            )
        })
        .collect();
    let decision_labels: Vec<(i64, String)> = decisions
        .iter()
        .map(|(rule, t)| {
            let what = t
                .decision
                .as_deref()
                .map_or_else(|| "gepauzeerd".to_owned(), forms::label_of::<Decision>);
            (
                t.at.millis(),
                format!("{}: {what} ({})", rule_label(rules, rule), t.actor),
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
