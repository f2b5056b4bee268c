//! The household page: the situatieplaat (scores per perspective over time, the 6 and 8 lines,
//! signals, alerts and decisions) and the timeline.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, PreEscaped, html};

use crate::app::access;
use crate::app::audit::AuditAction;
use crate::auth::policy::{self, Action};
use crate::domain::Decision;
use crate::domain::{Event, Instant, Perspective};
use crate::engine::{History, Phase, escalation_step, phase};
use crate::http::web::chart;
use crate::http::web::forms::{self};
use crate::http::web::{
    WebUser, audited, date, datetime, layout, page, page_error, rule_label, severity_label,
};
use crate::http::{ApiError, AppState};
use crate::rules::RuleSet;
use crate::store::{self, AlertRow};

use super::{allowed, history, latest_scores, timeline};

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

/// What the household page is asked for: a confirmation after a save, and which part of the
/// timeline. Every value is text, so a wrong one shows the page rather than a bare 400.
#[derive(serde::Deserialize, Default)]
pub(in crate::http::web) struct PageQuery {
    opgeslagen: Option<String>,
    /// A kind of the timeline ([`timeline`]); empty or unknown is every kind.
    soort: Option<String>,
    /// 1-based; out of range is the nearest page.
    pagina: Option<String>,
}

async fn render(state: Arc<AppState>, user: WebUser, raw: String, query: PageQuery) -> Response {
    let saved = query.opgeslagen.clone();
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
            for t in store::transitions(&mut conn, state.db.keys(), a.id).await? {
                if t.actor != "zicht" {
                    decisions.push((a.rule.clone(), t));
                }
            }
        }
        let listed = store::open_alerts(&mut conn, &id).await?;
        let relations = access::relations(&mut conn, &user.who, id.as_str()).await?;
        let sees_access = policy::allows(user.actor(), Action::ReadAccessLog, &relations);
        Ok::<_, ApiError>((hist, ids, alerts, decisions, listed, sees_access))
    };
    let (hist, _ids, alerts, decisions, listed, sees_access) = match loaded.await {
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
    let effective = rules.for_region(hist.household.region);
    let defs = effective.definitions;
    let current = phase(&hist, defs, now);
    let observations = observations(&hist, effective, now);
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
            @if user.actor().role == crate::domain::Role::VeiligThuis {
                // Break-the-glass reads; it records nothing here.
                p.notice role="status" { "U ziet dit huishouden via inzage zonder toewijzing. De regisseur is op de hoogte; u kunt hier niets vastleggen." }
            } @else {
                div.actions {
                    a href={ "/huishoudens/" (h.id) "/score" } { "Score vastleggen" }
                    a href={ "/huishoudens/" (h.id) "/signaal" } { "Signaal vastleggen" }
                    a href={ "/huishoudens/" (h.id) "/gebeurtenis" } { "Andere gebeurtenis vastleggen" }
                    @if sees_access {
                        a href={ "/huishoudens/" (h.id) "/toegang" } { "Wie heeft dit huishouden ingezien?" }
                    }
                }
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
            @if !observations.is_empty() {
                h2 { "Observaties" }
                ul.observations {
                    @for (title, whose, advice) in &observations {
                        li { strong { (title) } @if let Some(w) = whose { " (" (w) ")" } ": " (advice) }
                    }
                }
            }
            h2 { "Verloop" }
            (latest_cards(&hist))
            (chart_svg)
            (timeline::render(&hist, &h.id, query.soort.as_deref(), query.pagina.as_deref()))
        },
    ))
}

/// The observations that hold now (rules with `observation = true`, such as dalende-trend): the
/// rule's title, whose scores it concerns, and its advice. They are on this page only.
fn observations(
    hist: &History,
    rules: crate::engine::Effective<'_>,
    now: Instant,
) -> Vec<(String, Option<&'static str>, String)> {
    crate::engine::evaluate(hist, rules, now)
        .observations
        .iter()
        .filter_map(|o| {
            let rule = rules.rules.iter().find(|r| r.id == o.rule)?;
            let whose = o.evidence.iter().find_map(|i| match hist.events.get(*i) {
                Some(Event::Score(s)) => Some(s.perspective.label()),
                _ => None,
            });
            Some((rule.title.clone(), whose, rule.advice.clone()))
        })
        .collect()
}

/// The latest score of each perspective, as cards: what a phone shows first.
fn latest_cards(hist: &History) -> Markup {
    let latest = latest_scores(hist);
    html! {
        @if !latest.is_empty() {
            h3 { "Laatste score per perspectief" }
            ul.latest {
                @for (p, value, at, before) in &latest {
                    @let style = chart::perspective_style(*p);
                    li {
                        span.who { (chart::swatch(style)) " " (style.name) }
                        span.value { (value) }
                        span.meta {
                            (date(*at))
                            @if let Some(b) = before { " · was " (b) }
                        }
                    }
                }
            }
        }
    }
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
    Query(query): Query<PageQuery>,
) -> Response {
    render(state, user, raw, query).await
}

/// The steps of the escalation ladder over time, from the household's opening.
fn step_bands(hist: &History, now: Instant) -> Vec<chart::Band<u8>> {
    let mut times: Vec<Instant> = std::iter::once(hist.household.opened_at.start())
        .chain(hist.events.iter().filter_map(|e| match e {
            Event::Escalation(x) => Some(x.at),
            Event::Reopen(r) => Some(r.at),
            _ => None,
        }))
        .filter(|t| *t <= now)
        .collect();
    times.dedup();
    let mut bands: Vec<chart::Band<u8>> = Vec::new();
    for t in times {
        let step = escalation_step(hist, t).get();
        match bands.last_mut() {
            Some(last) if last.value == step => {}
            last => {
                if let Some(last) = last {
                    last.to_ms = Some(t.millis());
                }
                bands.push(chart::Band {
                    from_ms: t.millis(),
                    to_ms: None,
                    value: step,
                });
            }
        }
    }
    bands
}

/// One rule's alerts and the decisions on them, for its lane in the chart.
struct Lane {
    rule: String,
    title: String,
    firings: Vec<(i64, Option<i64>)>,
    decisions: Vec<(i64, String)>,
}

/// How far before the opening the chart still shows signals: the year herhaald-gemeld counts.
const SIGNALS_BEFORE_OPENING_MS: i64 = 365 * 86_400_000;
/// The chart shows at least this much time from its start, so that a new household's first days
/// read (the rest is marked as still to come).
const MIN_SPAN_MS: i64 = 14 * 86_400_000;

/// The figure: the chart in a container that scrolls sideways on a phone, its legend, and the
/// same data as a table.
fn render_chart(
    rules: &RuleSet,
    hist: &History,
    alerts: &[AlertRow],
    decisions: &[(String, store::TransitionRow)],
    spans: &[(i64, Option<i64>, Phase)],
    now: Instant,
) -> Markup {
    let opened = hist.household.opened_at.start().millis();
    let earliest_signal = hist
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Signal(s) => Some(s.at.millis()),
            _ => None,
        })
        .filter(|at| *at >= opened - SIGNALS_BEFORE_OPENING_MS)
        .min();
    let from = earliest_signal.map_or(opened, |s| s.min(opened));
    let to = now.millis().max(from + MIN_SPAN_MS);
    let series: Vec<chart::Series> = Perspective::ALL
        .iter()
        .map(|p| chart::Series {
            perspective: *p,
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
    // One lane per rule, in the order the rules first fired.
    let mut lanes: Vec<Lane> = Vec::new();
    let mut by_time: Vec<&AlertRow> = alerts.iter().collect();
    by_time.sort_by_key(|a| a.fired_at);
    for a in by_time {
        let firing = (a.fired_at.millis(), a.resolved_at.map(Instant::millis));
        match lanes.iter_mut().find(|lane| lane.rule == a.rule) {
            Some(lane) => lane.firings.push(firing),
            None => lanes.push(Lane {
                rule: a.rule.clone(),
                title: rule_label(rules, &a.rule),
                firings: vec![firing],
                decisions: Vec::new(),
            }),
        }
    }
    for (rule, t) in decisions {
        let what = t
            .decision
            .as_deref()
            .map_or_else(|| "gepauzeerd".to_owned(), forms::label_of::<Decision>);
        if let Some(lane) = lanes.iter_mut().find(|lane| lane.rule == *rule) {
            lane.decisions
                .push((t.at.millis(), format!("{what} ({})", t.actor)));
        }
    }
    let c = chart::Chart {
        from_ms: from,
        to_ms: to,
        now_ms: now.millis(),
        series,
        signals: signal_labels
            .iter()
            .map(|(at, l, acute)| chart::Signal {
                at_ms: *at,
                label: l,
                acute: *acute,
            })
            .collect(),
        alerts: lanes
            .iter()
            .map(|lane| chart::AlertLane {
                label: &lane.title,
                firings: lane.firings.clone(),
                decisions: lane
                    .decisions
                    .iter()
                    .map(|(at, l)| (*at, l.as_str()))
                    .collect(),
            })
            .collect(),
        phases: spans
            .iter()
            .map(|(f, t, p)| chart::Band {
                from_ms: *f,
                to_ms: *t,
                value: *p,
            })
            .collect(),
        steps: step_bands(hist, now),
        title: "Verloop van de veiligheid",
    };
    let svg = chart::render(&c);
    let at = |ms: i64| Instant::from_millis(ms).map(datetime).unwrap_or_default();
    let shown = |ms: &i64| (c.from_ms..=c.to_ms).contains(ms);
    let until = |to: Option<i64>| to.map_or_else(|| "nu".to_owned(), at);
    html! {
        figure.chart {
            div.chart-scroll role="region" aria-label="Grafiek verloop van de veiligheid; schuif opzij op een smal scherm" tabindex="0" {
                (PreEscaped(svg))
            }
            figcaption { (chart::legend(&c)) }
        }
        details.data {
            summary { "De grafiek als tabel" }
            table {
                caption { "Alles wat de grafiek toont, op tijd" }
                thead { tr { th scope="col" { "Wanneer" } th scope="col" { "Onderdeel" } th scope="col" { "Waarde" } } }
                tbody {
                    @for band in &c.phases {
                        tr { td data-label="Wanneer" { (at(band.from_ms)) " – " (until(band.to_ms)) } td data-label="Onderdeel" { "Fase" } td data-label="Waarde" { (band.value.label()) } }
                    }
                    @for band in &c.steps {
                        tr { td data-label="Wanneer" { (at(band.from_ms)) " – " (until(band.to_ms)) } td data-label="Onderdeel" { "Escalatieladder" } td data-label="Waarde" { "Trede " (band.value) } }
                    }
                    @for lane in &c.alerts {
                        @for (from, to) in &lane.firings {
                            tr { td data-label="Wanneer" { (at(*from)) " – " (until(*to)) } td data-label="Onderdeel" { "Waarschuwing" } td data-label="Waarde" { (lane.label) } }
                        }
                        @for (when, what) in &lane.decisions {
                            tr { td data-label="Wanneer" { (at(*when)) } td data-label="Onderdeel" { "Besluit" } td data-label="Waarde" { (lane.label) ": " (what) } }
                        }
                    }
                    @for s in &c.series {
                        @for (when, value) in s.points.iter().filter(|(when, _)| shown(when)) {
                            tr { td data-label="Wanneer" { (at(*when)) } td data-label="Onderdeel" { "Score " (chart::perspective_style(s.perspective).name.to_lowercase()) } td data-label="Waarde" { (value) } }
                        }
                    }
                    @for sig in c.signals.iter().filter(|sig| shown(&sig.at_ms)) {
                        tr { td data-label="Wanneer" { (at(sig.at_ms)) } td data-label="Onderdeel" { @if sig.acute { "Signaal, acuut onveilig" } @else { "Signaal" } } td data-label="Waarde" { (sig.label) } }
                    }
                }
            }
        }
    }
}
