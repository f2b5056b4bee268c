//! The gemeente monitor's dashboard: aggregates for their own gemeente only. Never a name, a reason
//! or a description, never one row per signal; every count goes through disclosure control
//! ([`crate::app::disclosure`]): under 5 is "< 5", and a table hides more cells ("x") until no
//! small count follows from its totals.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use hmac::{Hmac, Mac};
use maud::{Markup, PreEscaped, html};
use sha2::Sha256;

use super::{WebUser, audited, date, layout, page, page_error};
use crate::app::audit::AuditAction;
use crate::app::disclosure::{Cell, Protected, protect};
use crate::auth::policy::{self, Action};
use crate::domain::{EscalationStep, Event, Instant, amsterdam};
use crate::engine::{History, Phase, escalation_step, phase};
use crate::http::{ApiError, AppState};
use crate::store::{self, AlertState, HouseholdFilter};

/// A stable pseudonym for sharing a phase-3 household with the gemeente, not its id: keyed with
/// the service's own secret, so someone holding household ids cannot recompute it.
fn pseudonym(key: &[u8], id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    format!(
        "P-{}",
        crate::store::hex(&mac.finalize().into_bytes()[..5]).to_uppercase()
    )
}

fn month_key(t: Instant) -> (i16, i8) {
    let d = t.timestamp().to_zoned(amsterdam()).date();
    (d.year(), d.month())
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
];

fn month_chart(months: &[((i16, i8), usize)]) -> Markup {
    let width = 40 * months.len().max(1) + 40;
    let max = months.iter().map(|(_, n)| *n).max().unwrap_or(0).max(5) as f64;
    let bar = |n: usize| (n as f64 / max * 150.0).round();
    let mut svg = format!(
        r#"<svg role="img" aria-labelledby="mm-title mm-desc" viewBox="0 0 {width} 210" width="100%" style="max-width:{width}px;min-width:{width}px;font-family:system-ui,sans-serif"><title id="mm-title">Meldingen per maand</title><desc id="mm-desc">Aantal meldingen bij Veilig Thuis per maand in de gemeente; aantallen onder 5 staan als &lt; 5.</desc>"#
    );
    for (i, ((y, m), n)) in months.iter().enumerate() {
        let x = 30 + i * 40;
        let month = MONTHS[(*m - 1) as usize];
        let cell = Cell::single(*n);
        let label = cell.label().replace('<', "&lt;");
        let label_y = match cell {
            Cell::Count(n) if n > 0 => {
                let h = bar(n);
                svg.push_str(&format!(r##"<rect x="{x}" y="{}" width="28" height="{h}" fill="#0b5394"><title>{month} {y}: {label}</title></rect>"##, 170.0 - h));
                165.0 - h
            }
            Cell::Count(_) => 165.0,
            Cell::Small | Cell::Hidden => {
                svg.push_str(&format!(r##"<rect x="{x}" y="160" width="28" height="10" fill="none" stroke="#4a4a4a" stroke-dasharray="3 2"><title>{month} {y}: {label}</title></rect>"##));
                155.0
            }
        };
        svg.push_str(&format!(
            r#"<text x="{}" y="{label_y}" font-size="11" text-anchor="middle">{label}</text>"#,
            x + 14,
        ));
        svg.push_str(&format!(
            r#"<text x="{}" y="188" font-size="11" text-anchor="middle">{}</text>"#,
            x + 14,
            month
        ));
        if i == 0 || *m == 1 {
            svg.push_str(&format!(
                r#"<text x="{}" y="203" font-size="10" text-anchor="middle">{y}</text>"#,
                x + 14
            ));
        }
    }
    svg.push_str(r##"<line x1="25" y1="170" x2="100%" y2="170" stroke="#4a4a4a"/></svg>"##);
    // Readable on a phone: at its own size, scrolled sideways in its box, never the page.
    html! {
        div.chart-scroll role="region" aria-label="Grafiek meldingen per maand; schuif opzij op een smal scherm" tabindex="0" {
            (PreEscaped(svg))
        }
    }
}

/// How many weeks of *ogen en oren* the dashboard counts.
const WEEKS: i64 = 6;

/// The Monday of the week of `t` (Europe/Amsterdam).
fn monday(t: Instant) -> jiff::civil::Date {
    let d = t.timestamp().to_zoned(amsterdam()).date();
    d - jiff::Span::new().days(i64::from(d.weekday().to_monday_zero_offset()))
}

/// A table of counts after disclosure control, with its totals; on a phone each row is a card.
fn protected_table(
    row_header: &str,
    rows: &[String],
    columns: &[String],
    table: &Protected,
) -> Markup {
    html! {
        table.compact.counts {
            thead { tr {
                th scope="col" { (row_header) }
                @for c in columns { th scope="col" { (c) } }
                th scope="col" { "Totaal" }
            } }
            tbody {
                @for (r, name) in rows.iter().enumerate() {
                    tr {
                        th scope="row" { (name) }
                        @for (c, label) in columns.iter().enumerate() {
                            td data-label=(label) { (table.cells[r][c].label()) }
                        }
                        td data-label="Totaal" { (table.row_totals[r].label()) }
                    }
                }
                tr {
                    th scope="row" { "Totaal" }
                    @for (c, label) in columns.iter().enumerate() {
                        td data-label=(label) { (table.column_totals[c].label()) }
                    }
                    td data-label="Totaal" { (table.total.label()) }
                }
            }
        }
    }
}

pub(super) async fn dashboard(State(state): State<Arc<AppState>>, user: WebUser) -> Response {
    let actor = user.actor();
    let gemeente = match (
        &actor.gemeente,
        policy::allows(actor, Action::ViewGemeente, &[]),
    ) {
        (Some(g), true) => g.clone(),
        _ => return page_error(ApiError::FORBIDDEN),
    };
    let now = state.clock.now();
    let rules = state.rules();
    let loaded = async {
        let mut conn = state.db.acquire().await?;
        let filter = HouseholdFilter {
            gemeente: Some(gemeente.clone()),
            ..HouseholdFilter::default()
        };
        let mut histories = Vec::new();
        let mut stagnating = 0usize;
        let mut after: Option<String> = None;
        loop {
            let rows =
                store::list_households(&mut conn, &filter, None, after.as_deref(), 500).await?;
            for h in &rows {
                let events = store::history(&mut conn, state.db.keys(), &h.household.id)
                    .await?
                    .into_iter()
                    .map(|(_, e)| e)
                    .collect();
                let alerts = store::state_alerts(&mut conn, &h.household.id).await?;
                let rules = rules.for_region(h.household.region).rules;
                let is_stagnation = |id: &str| {
                    rules
                        .iter()
                        .any(|r| r.id == id && r.detector.is_stagnation())
                };
                stagnating += alerts
                    .iter()
                    .filter(|a| a.state != AlertState::Resolved && is_stagnation(&a.rule))
                    .count();
                histories.push(History {
                    household: h.household.clone(),
                    events,
                });
            }
            match rows.last() {
                Some(last) if rows.len() == 500 => after = Some(last.household.id.to_string()),
                _ => break,
            }
        }
        Ok::<_, store::StoreError>((histories, stagnating))
    };
    let (histories, stagnating) = match loaded.await {
        Ok(x) => x,
        Err(e) => return page_error(e.into()),
    };
    let mut by_phase_wijk: BTreeMap<(String, Phase), usize> = BTreeMap::new();
    let mut per_month: BTreeMap<(i16, i8), usize> = BTreeMap::new();
    // Ogen en oren: signals from the neighbourhood per wijk and week, the last WEEKS weeks.
    let this_week = monday(now);
    let first_week = this_week - jiff::Span::new().weeks(WEEKS - 1);
    let mut signals: BTreeMap<(String, jiff::civil::Date), usize> = BTreeMap::new();
    let mut shared = Vec::new();
    let year_ago =
        Instant::from_timestamp(now.timestamp() - jiff::SignedDuration::from_hours(24 * 365));
    for h in &histories {
        let defs = rules.for_region(h.household.region).definitions;
        let p = phase(h, defs, now);
        let wijk = h
            .household
            .wijk
            .as_ref()
            .map_or_else(|| "onbekend".to_owned(), |w| w.as_str().to_owned());
        *by_phase_wijk.entry((wijk.clone(), p)).or_default() += 1;
        if defs.share_step3_with_gemeente && escalation_step(h, now) == EscalationStep::CANNOT_STOP
        {
            shared.push(pseudonym(&state.pseudonym_key, h.household.id.as_str()));
        }
        for e in &h.events {
            if let Event::Signal(s) = e {
                if s.at > now {
                    continue;
                }
                if s.kind == crate::domain::SignalKind::Melding && s.at > year_ago {
                    *per_month.entry(month_key(s.at)).or_default() += 1;
                }
                let week = monday(s.at);
                if s.source.is_neighbourhood() && week >= first_week {
                    *signals.entry((wijk.clone(), week)).or_default() += 1;
                }
            }
        }
    }
    shared.sort();
    // Twelve months up to now, including months without meldingen.
    let mut months: Vec<((i16, i8), usize)> = Vec::new();
    let (mut y, mut m) = month_key(now);
    for _ in 0..12 {
        months.push(((y, m), per_month.get(&(y, m)).copied().unwrap_or(0)));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    months.reverse();
    let wijken: Vec<String> = {
        let mut w: Vec<String> = by_phase_wijk.keys().map(|(w, _)| w.clone()).collect();
        w.dedup();
        w
    };
    let phases: Vec<Vec<usize>> = wijken
        .iter()
        .map(|w| {
            Phase::ALL
                .iter()
                .map(|p| by_phase_wijk.get(&(w.clone(), *p)).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    let weeks: Vec<jiff::civil::Date> = (0..WEEKS)
        .map(|k| first_week + jiff::Span::new().weeks(k))
        .collect();
    let per_week: Vec<Vec<usize>> = wijken
        .iter()
        .map(|w| {
            weeks
                .iter()
                .map(|d| signals.get(&(w.clone(), *d)).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    let phase_labels: Vec<String> = Phase::ALL.iter().map(|p| p.label().to_owned()).collect();
    let week_labels: Vec<String> = weeks
        .iter()
        .map(|d| format!("week {}", d.iso_week_date().week()))
        .collect();
    if let Err(e) = audited(&state, &user.who, AuditAction::GemeenteRead, None).await {
        return page_error(e);
    }
    page(layout(
        "Mijn gemeente",
        Some(&user),
        html! {
            h1 { "Structurele onveiligheid in " (gemeente.as_str()) }
            p.hint { "Alleen aantallen, stand op " (date(now)) ". Een aantal van 1 tot 4 staat als \"< 5\"; een \"x\" is afgeschermd, zodat geen klein aantal uit de totalen terug te rekenen is." }
            h2 { "Huishoudens per fase en wijk" }
            (protected_table("Wijk", &wijken, &phase_labels, &protect(&phases)))
            h2 { "Meldingen per maand" }
            (month_chart(&months))
            h2 { "Open stagnatiewaarschuwingen" }
            p { "Geen directe of stabiele veiligheid, of een dalende trend: " strong { (Cell::single(stagnating).label()) } }
            h2 { "Ogen en oren in de wijk" }
            p.hint { "Signalen van wijkagent, huisarts, woningcorporatie en buren per wijk en week (week van maandag tot en met zondag), de laatste " (WEEKS) " weken." }
            (protected_table("Wijk", &wijken, &week_labels, &protect(&per_week)))
            h2 { "Huishoudens op trede 3: geweld niet te stoppen (gedeeld)" }
            @if shared.is_empty() {
                p { "De regio deelt geen huishoudens op trede 3 met de gemeente, of er zijn er geen." }
            } @else {
                p { "Gepseudonimiseerd, zoals in de regio afgesproken: " (shared.join(", ")) }
            }
        },
    ))
}
