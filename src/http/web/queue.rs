//! The work queue (`/waarschuwingen`) of a regisseur or a casemanager: the open alerts of their
//! households, one heading per household, the most pressing first; filters and pages that are
//! plain links; what was handled on its own tab; after a decision, a confirmation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};

use super::forms;
use super::{WebUser, date, layout, page, page_error, rule_label, severity_label};
use crate::app::access;
use crate::app::audit::AuditAction;
use crate::app::queue::{self, QueueRequest, WorkQueue};
use crate::auth::policy::{self, Action};
use crate::domain::{Decision, Severity};
use crate::engine::Detector;
use crate::http::{ApiError, AppState};
use crate::store::{AlertRow, AlertState, QueueGroup, QueueTab, TransitionRow};

/// Alerts shown under one household before "show all": the most pressing ones come first.
const SHOWN_PER_HOUSEHOLD: usize = 5;

/// The query of the page, as sent: every parameter is optional and anything unexpected is left
/// out rather than refused, so a hand-edited link still shows the queue.
#[derive(Debug, Default)]
struct Asked {
    handled: bool,
    severity: Option<Severity>,
    rule: Option<String>,
    household: Option<String>,
    gemeente: Option<String>,
    page: i64,
    decided: Option<i64>,
    /// Something was sent that is not one of the choices.
    unknown: bool,
}

impl Asked {
    fn from(params: &[(String, String)]) -> Asked {
        let value = |name: &str| {
            params
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let mut unknown = false;
        let severity = value("ernst").and_then(|s| {
            let parsed = s.parse::<Severity>().ok();
            unknown |= parsed.is_none();
            parsed
        });
        Asked {
            handled: value("tab") == Some("afgehandeld"),
            severity,
            rule: value("regel").map(str::to_owned),
            household: value("huishouden").map(str::to_owned),
            gemeente: value("gemeente").map(str::to_owned),
            page: value("pagina")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1),
            decided: value("besloten").and_then(|id| id.parse().ok()),
            unknown,
        }
    }

    fn tab(&self) -> QueueTab {
        if self.handled {
            QueueTab::Handled
        } else {
            QueueTab::Open
        }
    }
}

/// The filters in force, to carry over into every link of the page.
struct Shown<'a> {
    handled: bool,
    severity: Option<Severity>,
    rule: Option<&'a str>,
    household: Option<&'a str>,
    gemeente: Option<&'a str>,
}

impl Shown<'_> {
    fn filtered(&self) -> bool {
        self.severity.is_some()
            || self.rule.is_some()
            || self.household.is_some()
            || self.gemeente.is_some()
    }

    /// The queue with these filters, at `page`.
    fn link(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if self.handled {
            pairs.push(("tab", "afgehandeld".into()));
        }
        if let Some(s) = self.severity {
            pairs.push(("ernst", s.as_str().into()));
        }
        for (name, value) in [
            ("regel", self.rule),
            ("huishouden", self.household),
            ("gemeente", self.gemeente),
        ] {
            if let Some(v) = value {
                pairs.push((name, v.to_owned()));
            }
        }
        if page > 1 {
            pairs.push(("pagina", page.to_string()));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if query.is_empty() {
            "/waarschuwingen".into()
        } else {
            format!("/waarschuwingen?{}", query.join("&"))
        }
    }
}

/// Percent-encodes a query value (everything but the unreserved characters of RFC 3986).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /waarschuwingen`.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let asked = Asked::from(&params);
    let request = QueueRequest {
        tab: asked.tab(),
        severity: asked.severity,
        rule: asked.rule.clone(),
        household: asked.household.clone(),
        gemeente: asked.gemeente.clone(),
        page: asked.page,
    };
    let queue = match queue::work_queue(&state, &user.who, &request).await {
        Ok(q) => q,
        Err(e) => return page_error(e.into()),
    };
    let decided = match asked.decided {
        Some(id) => match decided(&state, &user, id).await {
            Ok(d) => d,
            Err(e) => return page_error(e),
        },
        None => None,
    };
    let shown = Shown {
        handled: asked.handled,
        severity: queue.filter.severity,
        rule: queue.filter.rule.as_deref(),
        // As typed: a household that is not shown is kept in the form like any other.
        household: asked.household.as_deref(),
        gemeente: queue.filter.gemeente.as_deref(),
    };
    let relation = policy::working_relation(user.actor());
    let may_decide =
        relation.is_some_and(|r| policy::allows(user.actor(), Action::DecideAlert, &[r]));
    let may_record =
        relation.is_some_and(|r| policy::allows(user.actor(), Action::WriteHousehold, &[r]));
    let decisions = match handled_by(&state, &queue).await {
        Ok(d) => d,
        Err(e) => return page_error(e.into()),
    };
    let view = View {
        state: &state,
        queue: &queue,
        decisions,
        shown: &shown,
        may_record,
    };
    page(layout(
        "Waarschuwingen",
        Some(&user),
        html! {
            h1 { "Waarschuwingen" }
            @if let Some(what) = &decided {
                p.notice role="status" { "Uw besluit is vastgelegd: " (what) ". Het staat nu onder Afgehandeld." }
            }
            (view.tabs())
            @if !may_decide && !asked.handled {
                p.hint.intro { "De regisseur van een huishouden legt over deze waarschuwingen een besluit vast. Een herinnering vraagt u een score vast te leggen." }
            }
            (view.filters(asked.unknown || queue.ignored))
            (view.count())
            @for group in &queue.page.groups { (view.group(group)) }
            (view.pager())
        },
    ))
}

/// The latest decision or pause of each handled alert on the page.
async fn handled_by(
    state: &AppState,
    queue: &WorkQueue,
) -> Result<HashMap<i64, TransitionRow>, crate::store::StoreError> {
    let mut out = HashMap::new();
    let handled = queue
        .page
        .groups
        .iter()
        .flat_map(|g| &g.alerts)
        .filter(|a| matches!(a.state, AlertState::Acknowledged | AlertState::Silenced));
    let mut conn = None;
    for a in handled {
        let conn = match &mut conn {
            Some(c) => c,
            None => conn.insert(state.db.acquire().await?),
        };
        let history = crate::store::transitions(conn, state.db.keys(), a.id).await?;
        if let Some(t) = history.into_iter().rev().find(|t| !t.by_engine()) {
            out.insert(a.id, t);
        }
    }
    Ok(out)
}

/// The alert decided on, as the confirmation names it; nothing for an alert the user may not see
/// (that refusal is audited like any other).
async fn decided(state: &AppState, user: &WebUser, id: i64) -> Result<Option<String>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let checked = access::alert(
        &mut conn,
        &user.who,
        id,
        Action::ReadHousehold,
        AuditAction::AlertRead,
    )
    .await?;
    match checked {
        Ok(a) => Ok(Some(format!(
            "{} — {}",
            rule_label(&state.rules(), &a.rule),
            a.household
        ))),
        Err(refusal) => {
            drop(conn);
            match refusal.audit(state, &user.who).await {
                crate::app::AppError::NotFound(_) | crate::app::AppError::Forbidden => Ok(None),
                e => Err(e.into()),
            }
        }
    }
}

struct View<'a> {
    state: &'a AppState,
    queue: &'a WorkQueue,
    /// On the Afgehandeld tab: each alert's latest decision or pause, by alert id.
    decisions: HashMap<i64, TransitionRow>,
    shown: &'a Shown<'a>,
    may_record: bool,
}

impl View<'_> {
    fn tabs(&self) -> Markup {
        let open = format!("Open ({})", self.queue.open);
        let handled = format!("Afgehandeld ({})", self.queue.handled);
        html! {
            nav.tabs aria-label="Waarschuwingen" {
                @if self.shown.handled {
                    a href="/waarschuwingen" { (open) }
                    a href="/waarschuwingen?tab=afgehandeld" aria-current="page" { (handled) }
                } @else {
                    a href="/waarschuwingen" aria-current="page" { (open) }
                    a href="/waarschuwingen?tab=afgehandeld" { (handled) }
                }
            }
        }
    }

    fn filters(&self, ignored: bool) -> Markup {
        let rules = self.state.rules();
        let mut rule_choices: Vec<(String, String)> = rules
            .alert_ids()
            .into_iter()
            .map(|id| (id.to_owned(), rule_label(&rules, id)))
            .collect();
        rule_choices.sort_by(|a, b| a.1.cmp(&b.1));
        let severities: Vec<(String, String)> =
            [Severity::Critical, Severity::Warning, Severity::Info]
                .iter()
                .map(|s| (s.as_str().to_owned(), severity_label(*s).1.to_owned()))
                .collect();
        let gemeenten: Vec<(String, String)> = self
            .queue
            .gemeenten
            .iter()
            .map(|g| (g.clone(), g.clone()))
            .collect();
        let shown = self.shown;
        html! {
            form.filters method="get" action="/waarschuwingen" aria-label="Filters" {
                @if shown.handled { input type="hidden" name="tab" value="afgehandeld"; }
                (choice("ernst", "Ernst", "Alle", &severities, shown.severity.map(Severity::as_str)))
                (choice("regel", "Regel", "Alle", &rule_choices, shown.rule))
                div.field {
                    label for="huishouden" { "Huishouden" }
                    input id="huishouden" name="huishouden" type="text" value=(shown.household.unwrap_or_default())
                        autocomplete="off" spellcheck="false" placeholder="bijv. H-0001";
                }
                (choice("gemeente", "Gemeente", "Alle", &gemeenten, shown.gemeente))
                div.filter-actions {
                    button.primary type="submit" { "Filteren" }
                    @if shown.filtered() {
                        a href=(Shown { severity: None, rule: None, household: None, gemeente: None, ..*shown }.link(1)) { "Filters wissen" }
                    }
                }
            }
            @if ignored {
                p.hint role="status" { "Een onbekende filterwaarde is genegeerd." }
            }
        }
    }

    fn count(&self) -> Markup {
        let page = &self.queue.page;
        let (kind, total) = if self.shown.handled {
            ("afgehandelde", self.queue.handled)
        } else {
            ("open", self.queue.open)
        };
        let alerts = |n: i64| {
            if n == 1 {
                "waarschuwing"
            } else {
                "waarschuwingen"
            }
        };
        let households = if page.households == 1 {
            "huishouden"
        } else {
            "huishoudens"
        };
        html! {
            p.count role="status" {
                @if page.alerts == 0 {
                    @if self.shown.filtered() {
                        "Geen " (kind) " waarschuwingen die aan de filters voldoen."
                    } @else if self.shown.handled {
                        "Er zijn geen afgehandelde waarschuwingen."
                    } @else {
                        "Er zijn geen open waarschuwingen."
                    }
                } @else if self.shown.filtered() {
                    strong { (page.alerts) } " van de " (total) " " (kind) " " (alerts(total))
                    " voldoen aan de filters, bij " (page.households) " " (households) "."
                } @else {
                    strong { (page.alerts) } " " (kind) " " (alerts(page.alerts))
                    " bij " (page.households) " " (households) "."
                }
            }
        }
    }

    fn group(&self, group: &QueueGroup) -> Markup {
        let rules = self.state.rules();
        let n = group.alerts.len();
        let heading = format!("huishouden-{}", group.household);
        let whole = self.shown.household.is_some();
        let cut = if whole { n } else { n.min(SHOWN_PER_HOUSEHOLD) };
        let word = if self.shown.handled {
            "afgehandeld"
        } else {
            "open"
        };
        html! {
            section.household aria-labelledby=(heading) {
                h2 id=(heading) {
                    a.id href={ "/huishoudens/" (group.household) } { (group.household) }
                    " "
                    span.where {
                        (group.gemeente.as_str())
                        @if let Some(w) = &group.wijk { ", " (w.as_str()) }
                        " · " (n) " " (word)
                    }
                }
                ul.items {
                    @for a in &group.alerts[..cut] { (self.item(a, &rules)) }
                }
                @if cut < n {
                    p.more {
                        a href=(Shown { household: Some(group.household.as_str()), ..*self.shown }.link(1)) {
                            "Toon alle " (n) " waarschuwingen van " (group.household)
                        }
                    }
                }
            }
        }
    }

    fn item(&self, a: &AlertRow, rules: &crate::rules::RuleSet) -> Markup {
        let (class, sev) = severity_label(a.severity);
        let asks_score = matches!(
            rules.detector(&a.rule),
            Some(Detector::MetingAchterstallig(_))
        );
        html! {
            li.item {
                p.what {
                    span.badge.(class) { (sev) } " "
                    a href={ "/waarschuwingen/" (a.id) } { (rule_label(rules, &a.rule)) }
                    " "
                    span.meta {
                        // Kept with what follows: a line never ends in the separator.
                        "·\u{a0}"
                        @match (a.state, self.decisions.get(&a.id)) {
                            (AlertState::Silenced, decided) => {
                                "gepauzeerd"
                                @if let Some(u) = a.silenced_until { " tot " span.nowrap { (date(u)) } }
                                @if let Some(t) = decided { " · door " (t.actor) " op " span.nowrap { (date(t.at)) } }
                            }
                            (AlertState::Acknowledged, Some(t)) => {
                                "besluit: " (t.decision.as_deref().map(forms::label_of::<Decision>).unwrap_or_default())
                                " · door " (t.actor) " op " span.nowrap { (date(t.at)) }
                            }
                            (AlertState::Acknowledged, None) => "besluit vastgelegd",
                            _ => { span.nowrap { "open sinds " (date(a.fired_at)) } }
                        }
                    }
                }
                @if a.state.is_open() {
                    p.advice { (a.advice) }
                    @if asks_score && self.may_record {
                        p { a href={ "/huishoudens/" (a.household) "/score" } { "Score vastleggen voor " (a.household) } }
                    }
                }
            }
        }
    }

    fn pager(&self) -> Markup {
        let page = &self.queue.page;
        html! {
            @if page.pages > 1 {
                nav.pager aria-label="Pagina's" {
                    @if page.page > 1 {
                        a rel="prev" href=(self.shown.link(page.page - 1)) { "← Vorige" }
                    }
                    span aria-current="page" { "pagina " (page.page) " van " (page.pages) }
                    @if page.page < page.pages {
                        a rel="next" href=(self.shown.link(page.page + 1)) { "Volgende →" }
                    }
                }
            }
        }
    }
}

/// A select of a filter: "any" and the choices, with the one in force selected.
fn choice(
    name: &str,
    label: &str,
    any: &str,
    choices: &[(String, String)],
    selected: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { (any) }
                @for (value, text) in choices {
                    option value=(value) selected[selected == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_encode_them() {
        let shown = Shown {
            handled: true,
            severity: Some(Severity::Critical),
            rule: Some("terugval"),
            household: Some("H/1 2"),
            gemeente: Some("'s-Hertogenbosch"),
        };
        assert_eq!(
            shown.link(2),
            "/waarschuwingen?tab=afgehandeld&ernst=critical&regel=terugval&huishouden=H%2F1%202&gemeente=%27s-Hertogenbosch&pagina=2"
        );
    }

    #[test]
    fn anything_unexpected_is_left_out() {
        let params: Vec<(String, String)> = [
            ("ernst", "heel-erg"),
            ("pagina", "-3"),
            ("pagina", "abc"),
            ("besloten", "x"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let asked = Asked::from(&params);
        assert!(asked.unknown && asked.severity.is_none());
        assert_eq!(asked.page, 1);
        assert_eq!(asked.decided, None);
    }
}
