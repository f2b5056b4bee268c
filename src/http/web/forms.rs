//! Form fields that keep what was typed and show errors in Dutch next to the field, and the Dutch
//! names of the vocabularies.

use std::collections::HashMap;

use maud::{Markup, html};

use crate::app::events;
use crate::domain::{Instant, Vocabulary, amsterdam};

/// What a form holds: the values sent (or defaults) and the errors per field.
#[derive(Default, Clone)]
pub(super) struct FormState {
    pub values: HashMap<String, String>,
    pub errors: Vec<(String, String)>,
    /// Put before every element id of the form, so that two forms on one page never share an id
    /// (the names sent stay the same).
    pub prefix: &'static str,
}

impl FormState {
    pub fn from(values: HashMap<String, String>) -> Self {
        FormState {
            values,
            errors: Vec::new(),
            prefix: "",
        }
    }

    /// The same form, its element ids starting with `prefix`.
    pub fn with_prefix(&self, prefix: &'static str) -> Self {
        FormState {
            prefix,
            ..self.clone()
        }
    }

    /// The element id of field `name`.
    pub fn id(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn value(&self, name: &str) -> &str {
        self.values
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    pub fn add(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push((name.to_owned(), message.into()));
    }

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// Parses a field with `parse`; on failure records `message` for it.
    pub fn parse<T>(
        &mut self,
        name: &str,
        message: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let parsed = parse(self.value(name).trim());
        if parsed.is_none() {
            self.add(name, message);
        }
        parsed
    }
}

/// The page title of a form: "Fout: " first after a failed submit, so a screen reader hears it
/// at once.
pub(super) fn title(form: &FormState, title: &str) -> String {
    if form.is_valid() {
        title.to_owned()
    } else {
        format!("Fout: {title}")
    }
}

/// The list of errors at the top of a form, each linking to its field. It takes the focus when
/// the page loads (`autofocus`, no script needed), so the keyboard starts at what went wrong.
pub(super) fn summary(form: &FormState) -> Markup {
    html! {
        @if !form.errors.is_empty() {
            div.summary role="alert" aria-labelledby=(form.id("fouten")) tabindex="-1" autofocus {
                h2 id=(form.id("fouten")) { "Controleer het formulier" }
                ul { @for (field, message) in &form.errors { li { a href={ "#" (form.id(field)) } { (message) } } } }
            }
        }
    }
}

fn described(form: &FormState, name: &str, hint: Option<&str>) -> Option<String> {
    let mut ids = Vec::new();
    if hint.is_some() {
        ids.push(format!("{}-hint", form.id(name)));
    }
    if form.error(name).is_some() {
        ids.push(format!("{}-fout", form.id(name)));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

pub(super) fn input(
    form: &FormState,
    name: &str,
    label: &str,
    kind: &str,
    hint: Option<&str>,
    extra: &[(&str, &str)],
) -> Markup {
    let invalid = form.error(name).is_some();
    html! {
        div.field.invalid[invalid] {
            label for=(form.id(name)) { (label) }
            @if let Some(h) = hint { p.hint id={ (form.id(name)) "-hint" } { (h) } }
            input id=(form.id(name)) name=(name) type=(kind) value=(form.value(name))
                aria-invalid=[invalid.then_some("true")] aria-describedby=[described(form, name, hint)]
                min=[extra.iter().find(|(k, _)| *k == "min").map(|(_, v)| *v)]
                max=[extra.iter().find(|(k, _)| *k == "max").map(|(_, v)| *v)]
                inputmode=[extra.iter().find(|(k, _)| *k == "inputmode").map(|(_, v)| *v)];
            @if let Some(e) = form.error(name) { p.error id={ (form.id(name)) "-fout" } { (e) } }
        }
    }
}

pub(super) fn textarea(form: &FormState, name: &str, label: &str, hint: Option<&str>) -> Markup {
    let invalid = form.error(name).is_some();
    html! {
        div.field.invalid[invalid] {
            label for=(form.id(name)) { (label) }
            @if let Some(h) = hint { p.hint id={ (form.id(name)) "-hint" } { (h) } }
            textarea id=(form.id(name)) name=(name) aria-invalid=[invalid.then_some("true")]
                aria-describedby=[described(form, name, hint)] { (form.value(name)) }
            @if let Some(e) = form.error(name) { p.error id={ (form.id(name)) "-fout" } { (e) } }
        }
    }
}

pub(super) fn select(
    form: &FormState,
    name: &str,
    label: &str,
    options: &[(&str, &str)],
) -> Markup {
    let invalid = form.error(name).is_some();
    html! {
        div.field.invalid[invalid] {
            label for=(form.id(name)) { (label) }
            select id=(form.id(name)) name=(name) aria-invalid=[invalid.then_some("true")]
                aria-describedby=[described(form, name, None)] {
                option value="" { "— kies —" }
                @for (value, text) in options {
                    option value=(value) selected[form.value(name) == *value] { (text) }
                }
            }
            @if let Some(e) = form.error(name) { p.error id={ (form.id(name)) "-fout" } { (e) } }
        }
    }
}

/// A yes/no field, sent as `ja` when ticked.
pub(super) fn checkbox(form: &FormState, name: &str, label: &str) -> Markup {
    html! {
        div.field.check {
            input id=(form.id(name)) type="checkbox" name=(name) value="ja" checked[form.value(name) == "ja"];
            label for=(form.id(name)) { (label) }
        }
    }
}

/// What is wrong with an event, in Dutch (the API says it in English from the same check).
pub(super) fn event_problem_text(p: events::Problem) -> String {
    use events::Problem;
    match p {
        Problem::OpensInFuture => "De startdatum ligt in de toekomst.".into(),
        Problem::InFuture => "Dit moment ligt in de toekomst. Vul in wanneer het gebeurde.".into(),
        Problem::BeforeOpened(t0) => format!(
            "Dit moment ligt vóór de start van het traject ({}). Vul een moment vanaf de start in.",
            moment(t0)
        ),
        Problem::BeforeClosed(closed) => {
            format!("Een heropening ligt na de afsluiting ({}).", moment(closed))
        }
        Problem::ReasonMissing => "Geef aan waarom het traject wordt afgesloten.".into(),
        Problem::DescriptionMissing => "Beschrijf wat er als interventie wordt ingezet.".into(),
        Problem::EffectBeforeStart => "Deze datum ligt vóór de start van de interventie.".into(),
    }
}

/// A date, with the time only when it is not the start of the day.
fn moment(t: Instant) -> String {
    if t.local_date().start() == t {
        super::date(t)
    } else {
        super::datetime(t)
    }
}

/// `YYYY-MM-DDTHH:MM` as a `datetime-local` field sends it, in Europe/Amsterdam.
pub(super) fn local_datetime(s: &str) -> Option<Instant> {
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    let zoned = dt.to_zoned(amsterdam()).ok()?;
    Some(Instant::from_timestamp(zoned.timestamp()))
}

pub(super) fn datetime_value(t: Instant) -> String {
    t.timestamp()
        .to_zoned(amsterdam())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The choices of a select: every value of a vocabulary with its Dutch name.
pub(super) fn choices<V: Vocabulary>() -> Vec<(&'static str, &'static str)> {
    V::ALL.iter().map(|v| (v.as_str(), v.label())).collect()
}

/// The Dutch name of a stored wire value of a vocabulary (the value itself if it is not one).
pub(super) fn label_of<V: Vocabulary + std::str::FromStr>(value: &str) -> String {
    value
        .parse::<V>()
        .map_or_else(|_| value.replace('_', " "), |v| v.label().to_owned())
}
