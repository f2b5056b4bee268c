//! Casusoverleg: the regisseur's agenda for this week's MDA++ meeting, on screen and as a print
//! view (`?afdrukken=1`; every page also prints without the header). Which households are on it,
//! and the facts to bring, is decided in `app::agenda`; this only shows it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use jiff::SignedDuration;
use maud::{Markup, html};

use super::forms::{self, FormState};
use super::{WebUser, date, datetime, layout, page, page_error, rule_label, severity_label};
use crate::app::AppError;
use crate::app::agenda::{self, Agenda, AgendaItem, MAX_DAYS};
use crate::domain::{Instant, LocalDate, Severity};
use crate::http::AppState;
use crate::rules::RuleSet;

/// `GET /casusoverleg[?sinds=YYYY-MM-DD][&afdrukken=1]`.
pub(super) async fn agenda(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let print = param("afdrukken").is_some();
    let mut form = FormState::default();
    let asked = param("sinds");
    let since = match asked.map(str::parse::<LocalDate>) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            form.add("sinds", "Vul een datum in, bijvoorbeeld 03-02-2025.");
            None
        }
    };
    let agenda = match agenda::agenda(&state, &user.who, since).await {
        Err(AppError::Invalid(_)) => {
            form.add(
                "sinds",
                format!(
                    "Kies een datum in het afgelopen jaar ({MAX_DAYS} dagen), niet in de toekomst."
                ),
            );
            agenda::agenda(&state, &user.who, None).await
        }
        answer => answer,
    };
    let agenda = match agenda {
        Ok(a) => a,
        Err(e) => return page_error(e.into()),
    };
    form.values.insert(
        "sinds".into(),
        match (form.is_valid(), asked) {
            // As typed when it was refused, so that it can be corrected.
            (false, Some(typed)) => typed.to_owned(),
            _ => agenda.since.local_date().to_wire(),
        },
    );
    let rules = state.rules();
    let view = View {
        agenda: &agenda,
        rules: &rules,
        print,
    };
    let title = if print {
        "Casusoverleg (afdrukversie)"
    } else {
        "Casusoverleg"
    };
    page(layout(
        title,
        Some(&user),
        html! {
            div.agenda.print-view[print] {
                h1 { "Casusoverleg" }
                @if print {
                    p {
                        "Regisseur " strong { (user.actor().username) }
                        " · van " (date(agenda.since)) " tot en met " (date(agenda.now))
                    }
                    p.meta { "Gemaakt op " (datetime(agenda.now)) ". Vertrouwelijk: alleen voor het casusoverleg; vernietig na afloop." }
                    p.no-print {
                        a href=(link(&agenda, false)) { "Terug naar het casusoverleg" }
                        " · Druk af met de afdrukfunctie van uw browser (Ctrl+P)."
                    }
                } @else {
                    p.intro {
                        "De huishoudens onder uw regie om te bespreken in het MDA++-casusoverleg: met een open "
                        "ernstige of let-op-waarschuwing, een nieuwe trede op de escalatieladder, of een nieuwe "
                        "melding sinds de gekozen datum. Met de feiten om mee te nemen."
                    }
                    (view.since_form(&form))
                }
                (view.count())
                @for item in &agenda.items { (view.item(item)) }
            }
        },
    ))
}

/// The agenda again, on screen or printed, from the same date.
fn link(agenda: &Agenda, print: bool) -> String {
    let since = agenda.since.local_date().to_wire();
    if print {
        format!("/casusoverleg?sinds={since}&afdrukken=1")
    } else {
        format!("/casusoverleg?sinds={since}")
    }
}

struct View<'a> {
    agenda: &'a Agenda,
    rules: &'a RuleSet,
    print: bool,
}

impl View<'_> {
    fn since_form(&self, form: &FormState) -> Markup {
        html! {
            (forms::summary(form))
            @let today = self.agenda.now.local_date().to_wire();
            form.filters method="get" action="/casusoverleg" aria-label="Periode" {
                (forms::input(form, "sinds", "Nieuws sinds", "date",
                    Some("Standaard de afgelopen 7 dagen."), &[("max", today.as_str())]))
                div.filter-actions {
                    button.primary type="submit" { "Tonen" }
                    a href=(link(self.agenda, true)) { "Afdrukversie" }
                }
            }
        }
    }

    fn count(&self) -> Markup {
        let n = self.agenda.items.len();
        html! {
            p.count role=[(!self.print).then_some("status")] {
                @if n == 0 {
                    "Geen huishoudens om te bespreken sinds " (date(self.agenda.since)) "."
                } @else {
                    strong { (n) } " " (if n == 1 { "huishouden" } else { "huishoudens" })
                    " om te bespreken, nieuws sinds " (date(self.agenda.since)) "."
                }
            }
        }
    }

    fn item(&self, item: &AgendaItem) -> Markup {
        let h = &item.household;
        let heading = format!("agenda-{}", h.id);
        let closed = item.status == crate::domain::TrajectoryStatus::Closed;
        html! {
            section.household aria-labelledby=(heading) {
                h2 id=(heading) {
                    @if self.print { span.id { (h.id) } } @else { a.id href={ "/huishoudens/" (h.id) } { (h.id) } }
                    " "
                    span.where {
                        (h.gemeente.as_str())
                        @if let Some(w) = &h.wijk { ", " (w.as_str()) }
                        @if closed { " · traject afgesloten" }
                    }
                }
                p.why { strong { "Op de agenda:" } " " (why(item)) "." }
                dl.facts {
                    dt { "Fase" } dd { (item.phase.label()) }
                    // The ladder is another axis than the phases: shown beside them, never as one.
                    dt { "Escalatieladder" } dd { (item.step.label()) }
                    dt { "Laatste scores" }
                    dd {
                        @if item.latest.is_empty() { "nog geen" } @else {
                            ul.scores {
                                @for s in &item.latest {
                                    li {
                                        (short(s.perspective.label())) " " strong { (s.value.get()) }
                                        " " span.meta.nowrap { "(" (date(s.at)) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !item.alerts.is_empty() {
                    h3 { "Open waarschuwingen" }
                    ul.plain {
                        @for a in &item.alerts {
                            @let (class, sev) = severity_label(a.severity);
                            li {
                                span.badge.(class) { (sev) } " "
                                @if self.print { (rule_label(self.rules, &a.rule)) } @else {
                                    a href={ "/waarschuwingen/" (a.id) } { (rule_label(self.rules, &a.rule)) }
                                }
                                " " span.meta { "· open sinds " span.nowrap { (date(a.fired_at)) } " (" (age(a.fired_at, self.agenda.now)) ")" }
                            }
                        }
                    }
                }
                @if !item.steps.is_empty() {
                    h3 { "Escalatieladder" }
                    ul.plain {
                        @for s in &item.steps {
                            li { span.nowrap { (date(s.at)) } ": " (s.to.label()) @if s.from != s.to { span.meta { " (was trede " (s.from.get()) ")" } } }
                        }
                    }
                }
                @if !item.meldingen.is_empty() {
                    h3 { "Nieuwe meldingen" }
                    ul.plain {
                        @for m in &item.meldingen {
                            li {
                                span.nowrap { (datetime(m.at)) } " · " (m.source.label())
                                @if m.acute { " · " strong.critical { "acuut onveilig" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Why the household is on the agenda, in one line.
fn why(item: &AgendaItem) -> String {
    let mut reasons = Vec::new();
    let critical = item
        .alerts
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    match (item.alerts.len(), critical) {
        (0, _) => {}
        (1, 1) => reasons.push("1 open ernstige waarschuwing".to_owned()),
        (1, _) => reasons.push("1 open waarschuwing".to_owned()),
        (n, 0) => reasons.push(format!("{n} open waarschuwingen")),
        (n, c) => reasons.push(format!("{n} open waarschuwingen, waarvan {c} ernstig")),
    }
    match item.steps.len() {
        0 => {}
        1 => reasons.push("een nieuwe trede op de escalatieladder".to_owned()),
        n => reasons.push(format!("{n} nieuwe treden op de escalatieladder")),
    }
    match item.meldingen.len() {
        0 => {}
        1 => reasons.push("1 nieuwe melding".to_owned()),
        n => reasons.push(format!("{n} nieuwe meldingen")),
    }
    match reasons.len() {
        0 | 1 => reasons.concat(),
        n => format!("{} en {}", reasons[..n - 1].join(", "), reasons[n - 1]),
    }
}

/// A perspective's name without its examples ("Andere professional (wijkteam, …)").
fn short(label: &str) -> &str {
    label.split(" (").next().unwrap_or(label)
}

/// How long an alert has been open, in whole days.
fn age(since: Instant, now: Instant) -> String {
    let days = now
        .timestamp()
        .duration_since(since.timestamp())
        .as_secs()
        .div_euclid(SignedDuration::from_hours(24).as_secs());
    match days {
        i64::MIN..=0 => "vandaag".to_owned(),
        1 => "1 dag".to_owned(),
        n => format!("{n} dagen"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_days() {
        let t: Instant = "2025-02-01T10:00:00+01:00".parse().unwrap();
        let later = |h: i64| Instant::from_timestamp(t.timestamp() + SignedDuration::from_hours(h));
        assert_eq!(age(t, later(3)), "vandaag");
        assert_eq!(age(t, later(30)), "1 dag");
        assert_eq!(age(t, later(24 * 15)), "15 dagen");
    }

    #[test]
    fn a_perspective_is_named_without_its_examples() {
        assert_eq!(
            short("Andere professional (wijkteam, reclassering, GGZ …)"),
            "Andere professional"
        );
        assert_eq!(short("Slachtoffer"), "Slachtoffer");
    }
}
