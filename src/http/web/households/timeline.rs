//! The household's timeline: every event, newest first, a page at a time, filtered by kind with
//! GET parameters (`soort`, `pagina`) that never fail: an unknown kind shows everything, a page
//! out of range the nearest one.

use maud::{Markup, html};

use crate::domain::{Event, HouseholdId};
use crate::engine::History;
use crate::http::web::{chart, date, datetime};

/// What an event is and its details, in Dutch.
fn describe(event: &Event) -> (String, String) {
    match event {
        Event::Score(s) => (
            format!(
                "Score {}",
                chart::perspective_style(s.perspective).name.to_lowercase()
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

/// The kinds the timeline can be filtered on: the parameter value, the Dutch name, the event
/// types it holds.
const KINDS: &[(&str, &str, &[&str])] = &[
    ("score", "Scores", &["score"]),
    ("signaal", "Signalen", &["signal"]),
    ("interventie", "Interventies", &["intervention"]),
    ("consultatie", "Consultaties", &["consultation"]),
    ("markering", "Markeringen", &["flag"]),
    (
        "escalatie",
        "Escalatieladder en proactief scenario",
        &["escalation", "proactive_scenario"],
    ),
    (
        "partner",
        "Partner trekt zich terug",
        &["partner_withdrawal"],
    ),
    ("traject", "Afsluiten en heropenen", &["closure", "reopen"]),
];

/// Timeline rows per page.
const PER_PAGE: usize = 20;

/// One page of the timeline, newest first.
struct Page<'a> {
    kind: Option<&'static (&'static str, &'static str, &'static [&'static str])>,
    /// The `soort` asked for was not one of [`KINDS`].
    unknown_kind: bool,
    events: Vec<&'a Event>,
    page: usize,
    pages: usize,
    total: usize,
}

fn page_of<'a>(hist: &'a History, soort: Option<&str>, pagina: Option<&str>) -> Page<'a> {
    let soort = soort.unwrap_or_default().trim();
    let kind = KINDS.iter().find(|(slug, _, _)| *slug == soort);
    let matching: Vec<&Event> = hist
        .events
        .iter()
        .rev()
        .filter(|e| kind.is_none_or(|(_, _, types)| types.contains(&e.type_name())))
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    // Whatever was asked (0, -3, 10^30, "twee"), a page that exists: a number past the last page
    // is the last page, anything that is not a number the first.
    let page = match pagina.map(str::trim) {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<usize>().unwrap_or(usize::MAX).clamp(1, pages)
        }
        _ => 1,
    };
    let events = matching
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    Page {
        kind,
        unknown_kind: kind.is_none() && !soort.is_empty(),
        events,
        page,
        pages,
        total,
    }
}

/// The link to page `page` of the timeline, keeping the filter.
fn link(id: &crate::domain::HouseholdId, kind: Option<&str>, page: usize) -> String {
    let mut link = format!("/huishoudens/{id}?");
    if let Some(k) = kind {
        link.push_str(&format!("soort={k}&"));
    }
    link.push_str(&format!("pagina={page}#tijdlijn"));
    link
}

/// The timeline section of the household page: a filter, one page of events, and the pager.
pub(super) fn render(
    hist: &History,
    id: &HouseholdId,
    soort: Option<&str>,
    pagina: Option<&str>,
) -> Markup {
    let tl = page_of(hist, soort, pagina);
    let slug = tl.kind.map(|(slug, _, _)| *slug);
    let count = |types: &[&str]| {
        hist.events
            .iter()
            .filter(|e| types.contains(&e.type_name()))
            .count()
    };
    html! {
        h2 id="tijdlijn" { "Tijdlijn" }
        @if hist.events.is_empty() { p { "Nog niets vastgelegd." } } @else {
            form.filters method="get" action={ "/huishoudens/" (id) "#tijdlijn" } {
                div.field {
                    label for="soort" { "Toon" }
                    select id="soort" name="soort" {
                        option value="" selected[slug.is_none()] { "Alles (" (hist.events.len()) ")" }
                        @for (value, name, types) in KINDS {
                            option value=(value) selected[slug == Some(*value)] { (name) " (" (count(types)) ")" }
                        }
                    }
                }
                div.filter-actions { button.secondary type="submit" { "Toon" } }
            }
            @if tl.unknown_kind {
                p.notice role="status" { "Die soort bestaat niet; de hele tijdlijn wordt getoond." }
            }
            @if tl.total == 0 {
                p { "Niets van deze soort vastgelegd." }
            } @else {
                table {
                    caption {
                        @match tl.kind { Some((_, name, _)) => { (name) }, None => { "Alles" } }
                        ", nieuwste eerst: " (tl.total) " in totaal"
                        @if tl.pages > 1 { ", pagina " (tl.page) " van " (tl.pages) }
                    }
                    thead { tr { th scope="col" { "Wanneer" } th scope="col" { "Wat" } th scope="col" { "Details" } } }
                    tbody {
                        @for e in &tl.events {
                            @let (what, details) = describe(e);
                            tr {
                                td.nowrap data-label="Wanneer" { (datetime(e.at())) }
                                td data-label="Wat" { (what) }
                                td data-label="Details" { (details) }
                            }
                        }
                    }
                }
                @if tl.pages > 1 {
                    nav.pager aria-label="Pagina's van de tijdlijn" {
                        @if tl.page > 1 {
                            a href=(link(id, slug, 1)) { "« Nieuwste" }
                            a href=(link(id, slug, tl.page - 1)) rel="prev" { "‹ Nieuwer" }
                        }
                        span { "Pagina " (tl.page) " van " (tl.pages) }
                        @if tl.page < tl.pages {
                            a href=(link(id, slug, tl.page + 1)) rel="next" { "Ouder ›" }
                            a href=(link(id, slug, tl.pages)) { "Oudste »" }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(scores: usize) -> History {
        let mut lines = vec![r#"{"type":"household","id":"H-1","region":"brabant-zuidoost","gemeente":"Eindhoven","minor_children":false,"opened_at":"2025-01-06"}"#.to_owned()];
        for i in 0..scores {
            lines.push(format!(
                r#"{{"type":"score","household":"H-1","at":"2025-01-{:02}T10:00:00+01:00","perspective":"slachtoffer","value":5}}"#,
                6 + i % 20
            ));
        }
        lines.push(r#"{"type":"signal","household":"H-1","at":"2025-01-07T22:00:00+01:00","kind":"melding","source":"politie","acute":true}"#.to_owned());
        crate::rules::tests::histories(&lines.join("\n"))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn any_page_asked_for_is_a_page_that_exists() {
        let h = history(44);
        let page = |p: &str| page_of(&h, None, Some(p)).page;
        assert_eq!(page_of(&h, None, None).pages, 3);
        for (asked, got) in [
            ("2", 2),
            ("0", 1),
            ("-1", 1),
            ("twee", 1),
            ("", 1),
            (" 3 ", 3),
        ] {
            assert_eq!(page(asked), got, "{asked}");
        }
        assert_eq!(page("99999999999999999999999999999"), 3);
        assert_eq!(
            page_of(&history(0), None, Some("5")).page,
            1,
            "an empty timeline has page 1"
        );
    }

    #[test]
    fn a_kind_filters_and_an_unknown_kind_shows_everything() {
        let h = history(3);
        let signals = page_of(&h, Some("signaal"), None);
        assert_eq!((signals.total, signals.unknown_kind), (1, false));
        let unknown = page_of(&h, Some("roddel"), None);
        assert_eq!((unknown.total, unknown.unknown_kind), (4, true));
        assert_eq!(page_of(&h, Some(""), None).total, 4);
        assert_eq!(
            link(&h.household.id, Some("score"), 2),
            "/huishoudens/H-1?soort=score&pagina=2#tijdlijn"
        );
    }
}
