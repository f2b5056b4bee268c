//! Lines of the interchange format (DESIGN.md section 4) as bulk import and the system feed take
//! them: one event per line, with an optional `id`, the event's id in the source system. Parsed
//! into domain types once, here, with errors that name the field; each event gets its identity,
//! the key that makes a resent event a duplicate instead of a second event.

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::Invalid;
use crate::domain::{EVENT_TYPES, Event};

/// The id a source system gave an event: unique per household in that system. Opaque to zicht
/// (never shown), so it may be any key a system uses (a number, a UUID): 1 to 64 ASCII letters,
/// digits, `-`, `_`, `.` and `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceId(String);

impl SourceId {
    pub const HELP: &str = "must be the event's id in the source system: 1 to 64 characters, ASCII letters, digits, - _ . and :";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SourceId {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(SourceId(s.to_owned()))
        } else {
            Err(Invalid::new("id", Self::HELP))
        }
    }
}

/// One parsed line: the event and the id its source gave it.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based line number in the file or body.
    pub number: usize,
    pub source_id: Option<SourceId>,
    pub event: Event,
}

impl Line {
    /// The key under which the event is stored once: its source id when it has one, otherwise a
    /// hash of its content (see [`content_identity`]).
    pub fn identity(&self) -> String {
        match &self.source_id {
            Some(id) => format!("id:{}", id.as_str()),
            None => content_identity(&self.event),
        }
    }
}

/// The identity of an event without a source id: SHA-256 over its canonical JSON (keys sorted,
/// its moment as epoch milliseconds, so `+01:00` and `Z` spellings of one moment are one event).
/// The household, the type, the time and every field take part: two meldingen of one minute from
/// different sources are two events, the same melding sent twice is one.
pub fn content_identity(event: &Event) -> String {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("at".into(), event.at().millis().into());
    }
    // serde_json's maps are sorted by key, so this text is canonical.
    let text = value.to_string();
    format!(
        "sha256:{}",
        crate::store::hex(&Sha256::digest(text.as_bytes()))
    )
}

/// A line that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: usize,
    /// The household it is about, when the line says.
    pub household: Option<String>,
    pub field: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(line: usize, household: Option<String>, problem: Invalid) -> Self {
        Rejection {
            line,
            household,
            field: problem.field,
            reason: problem.message,
        }
    }
}

/// A line of JSON as an object, the household it names (when it names one as a string) and its
/// parse: the event and its source id, or what is wrong.
pub fn parse_json_line(text: &str) -> (Option<String>, Result<Parsed, Vec<Invalid>>) {
    let object = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(object)) => object,
        Ok(_) => {
            return (
                None,
                Err(vec![Invalid::new("", "each line must be a JSON object")]),
            );
        }
        Err(e) => return (None, Err(vec![Invalid::new("", e.to_string())])),
    };
    parse_object(object)
}

/// An event and the id its source gave it.
pub type Parsed = (Option<SourceId>, Event);

/// Parses one object of the interchange format: `id` is the source id of an event, or the id of
/// a household on a `household` line.
pub fn parse_object(
    mut object: serde_json::Map<String, serde_json::Value>,
) -> (Option<String>, Result<Parsed, Vec<Invalid>>) {
    let is_household = object.get("type").and_then(|t| t.as_str()) == Some("household");
    let household = if is_household {
        object.get("id")
    } else {
        object.get("household")
    }
    .and_then(|h| h.as_str())
    .map(str::to_owned);
    let source_id = if is_household {
        None
    } else {
        match object.remove("id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => match s.parse::<SourceId>() {
                Ok(id) => Some(id),
                Err(e) => return (household, Err(vec![e])),
            },
            Some(_) => return (household, Err(vec![Invalid::new("id", SourceId::HELP)])),
        }
    };
    let parsed = event_from_object(object).map(|event| (source_id, event));
    (household, parsed)
}

/// Parses an interchange event. The `type` picks the struct to parse the rest into, so that an
/// error names its field (serde loses the path inside an internally tagged enum).
pub fn event_from_object(
    mut object: serde_json::Map<String, serde_json::Value>,
) -> Result<Event, Vec<Invalid>> {
    let kind = match object.remove("type") {
        Some(serde_json::Value::String(t)) => t,
        Some(_) | None => {
            return Err(vec![Invalid::new(
                "type",
                format!("required; one of: {}", EVENT_TYPES.join(", ")),
            )]);
        }
    };
    let value = serde_json::Value::Object(object);
    let one = |e: Invalid| vec![e];
    Ok(match kind.as_str() {
        "household" => Event::Household(from_value(value).map_err(one)?),
        "score" => Event::Score(from_value(value).map_err(one)?),
        "signal" => Event::Signal(from_value(value).map_err(one)?),
        "flag" => Event::Flag(from_value(value).map_err(one)?),
        "consultation" => Event::Consultation(from_value(value).map_err(one)?),
        "intervention" => Event::Intervention(from_value(value).map_err(one)?),
        "escalation" => Event::Escalation(from_value(value).map_err(one)?),
        "proactive_scenario" => Event::ProactiveScenario(from_value(value).map_err(one)?),
        "partner_withdrawal" => Event::PartnerWithdrawal(from_value(value).map_err(one)?),
        "closure" => Event::Closure(from_value(value).map_err(one)?),
        "reopen" => Event::Reopen(from_value(value).map_err(one)?),
        other => {
            return Err(vec![Invalid::new(
                "type",
                format!(
                    "unknown event type `{other}`; allowed: {}",
                    EVENT_TYPES.join(", ")
                ),
            )]);
        }
    })
}

/// Deserializes with the path of the failing field, in the words serde gives (which list the
/// allowed values for our closed vocabularies).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Invalid> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        field_error(&path, &message)
    })
}

fn field_error(path: &str, message: &str) -> Invalid {
    // serde names a missing or unknown field in its message, with the path of the parent.
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let path = if path == "." { "" } else { path };
    match named {
        // An unknown field is the last element of the path already; a missing one is not.
        Some(name) if path == name || path.ends_with(&format!(".{name}")) => {
            Invalid::new(path, tidy(message))
        }
        Some(name) if path.is_empty() => Invalid::new(name, tidy(message)),
        Some(name) => Invalid::new(format!("{path}.{name}"), tidy(message)),
        None => Invalid::new(path, tidy(message)),
    }
}

fn tidy(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return format!("unknown field `{name}`; remove it");
    }
    if message.starts_with("missing field `") {
        return "required".to_owned();
    }
    message.to_owned()
}

/// The columns of the CSV form: the interchange format's field names. A row fills the columns of
/// its `type` and leaves the others empty (`docs/import.md` has the layout per type).
pub const CSV_COLUMNS: &[&str] = &[
    "type",
    "id",
    "household",
    "at",
    "reference",
    "region",
    "gemeente",
    "wijk",
    "minor_children",
    "opened_at",
    "perspective",
    "value",
    "reason",
    "kind",
    "source",
    "acute",
    "flag",
    "level",
    "specialism",
    "description",
    "effect_expected_by",
    "step",
    "partner",
];

/// A parsed line with its number and the household it names.
pub type NumberedLine = (usize, Option<String>, Result<Parsed, Vec<Invalid>>);

/// Parses CSV with a header row of [`CSV_COLUMNS`] (any order, any subset): each row becomes the
/// JSON object of its line, with empty cells left out, `value` and `step` as numbers and `acute`
/// and `minor_children` as `true`/`false`. A header that names an unknown column is refused whole.
pub fn parse_csv(text: &str) -> Result<Vec<NumberedLine>, Invalid> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Invalid::new("", format!("line 1: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !CSV_COLUMNS.contains(&h.as_str())) {
        return Err(Invalid::new(
            unknown.as_str(),
            format!(
                "line 1: unknown column `{unknown}`; allowed: {}",
                CSV_COLUMNS.join(", ")
            ),
        ));
    }
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let number = e.position().map_or(0, |p| p.line() as usize);
                lines.push((number, None, Err(vec![Invalid::new("", e.to_string())])));
                continue;
            }
        };
        let number = record.position().map_or(0, |p| p.line() as usize);
        if record.len() != header.len() {
            let problem = format!(
                "has {} cells; the header has {}",
                record.len(),
                header.len()
            );
            lines.push((number, None, Err(vec![Invalid::new("", problem)])));
            continue;
        }
        let mut object = serde_json::Map::new();
        for (column, cell) in header.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = match column.as_str() {
                "value" | "step" => cell
                    .parse::<i64>()
                    .map_or_else(|_| cell.into(), serde_json::Value::from),
                "acute" | "minor_children" => match cell {
                    "true" => true.into(),
                    "false" => false.into(),
                    other => other.into(),
                },
                _ => cell.into(),
            };
            object.insert(column.clone(), value);
        }
        let (household, parsed) = parse_object(object);
        lines.push((number, household, parsed));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line {
        let (_, parsed) = parse_json_line(text);
        let (source_id, event) = parsed.unwrap();
        Line {
            number: 1,
            source_id,
            event,
        }
    }

    #[test]
    fn one_moment_in_two_spellings_is_one_event_and_a_source_id_wins() {
        let a = line(
            r#"{"type":"signal","household":"H-1","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"politie","acute":true}"#,
        );
        let b = line(
            r#"{"acute":true,"type":"signal","household":"H-1","at":"2025-02-01T21:10:00Z","kind":"melding","source":"politie"}"#,
        );
        assert_eq!(a.identity(), b.identity());
        let other = line(
            r#"{"type":"signal","household":"H-1","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"huisarts","acute":true}"#,
        );
        assert_ne!(a.identity(), other.identity());
        let with_id = line(
            r#"{"id":"vt-881","type":"signal","household":"H-1","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"politie","acute":true}"#,
        );
        assert_eq!(with_id.identity(), "id:vt-881");
    }

    #[test]
    fn a_csv_row_is_the_object_of_its_line() {
        let text = "type,id,household,at,perspective,value,reason,kind,source,acute\n\
                    score,,H-1,2025-01-06T10:00:00+01:00,slachtoffer,3,\"zei: \"\"beter\"\"\",,,\n\
                    signal,VT-9,H-1,2025-02-01T22:10:00+01:00,,,,melding,politie,true\n\
                    score,,H-1,2025-01-07T10:00:00+01:00,slachtoffer,elf,,,,\n";
        let lines = parse_csv(text).unwrap();
        assert_eq!(lines.len(), 3);
        let (n, household, parsed) = &lines[1];
        assert_eq!((*n, household.as_deref()), (3, Some("H-1")));
        let (id, event) = parsed.as_ref().unwrap();
        assert_eq!(id.as_ref().map(SourceId::as_str), Some("VT-9"));
        assert_eq!(event.type_name(), "signal");
        assert!(lines[0].2.is_ok());
        assert_eq!(lines[2].2.as_ref().unwrap_err()[0].field, "value");
        let unknown = parse_csv("type,household,naam\n").unwrap_err();
        assert_eq!(unknown.field, "naam");
    }

    #[test]
    fn a_bad_line_names_its_field_and_household() {
        let (household, parsed) = parse_json_line(
            r#"{"type":"score","household":"H-2","at":"2025-03-03T10:00:00+01:00","perspective":"casemanager","value":17}"#,
        );
        assert_eq!(household.as_deref(), Some("H-2"));
        let errors = parsed.unwrap_err();
        assert_eq!(errors[0].field, "value");
        let (_, parsed) = parse_json_line(
            r#"{"id":"a b","type":"reopen","household":"H-2","at":"2025-03-03T10:00:00+01:00"}"#,
        );
        assert_eq!(parsed.unwrap_err()[0].field, "id");
        let (household, parsed) = parse_json_line("{not json");
        assert!(household.is_none() && parsed.is_err());
    }
}
