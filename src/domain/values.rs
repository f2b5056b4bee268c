//! Value types that cannot hold an invalid value: parse, don't validate.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ParseError;

/// Implements serde through `FromStr`/`Display`-like accessors and a string OpenAPI schema.
macro_rules! string_value {
    ($name:ident, $desc:literal $(, format = $format:literal)? $(, pattern = $pattern:literal)?) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_wire())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                #[allow(unused_mut)]
                let mut b = utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($desc));
                $(b = b.format(Some(utoipa::openapi::SchemaFormat::Custom($format.into())));)?
                $(b = b.pattern(Some($pattern));)?
                b.into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

// The pattern of household ids and references: a code, never a name or an address. 1 to 32
// characters, upper-case ASCII letters and digits in groups joined by single hyphens, at least
// one digit, letters in runs of at most five (a prefix such as `VT` or `PROBE`). No `/`, no
// spaces, nothing a page or a path could read as more than one segment.
const CODE_HELP: &str = "must be a code such as H-0001 or VT-2025-0001: 1 to 32 characters, upper-case letters and digits in groups joined by single hyphens, with at least one digit and no more than 5 letters in a row; never a name or an address, no / and no spaces";

fn is_code(s: &str) -> bool {
    let groups_ok = !s.is_empty()
        && s.len() <= 32
        && s.split('-').all(|g| {
            !g.is_empty()
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
    let mut letters = 0;
    let mut runs_ok = true;
    for b in s.bytes() {
        letters = if b.is_ascii_uppercase() {
            letters + 1
        } else {
            0
        };
        runs_ok &= letters <= 5;
    }
    groups_ok && runs_ok && s.bytes().any(|b| b.is_ascii_digit())
}

/// The pseudonymous id of a household, chosen by the system that registers it (e.g. `H-0001`),
/// following the code pattern above.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HouseholdId(String);

impl HouseholdId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn to_wire(&self) -> String {
        self.0.clone()
    }
}

impl std::str::FromStr for HouseholdId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if is_code(s) {
            Ok(HouseholdId(s.to_owned()))
        } else {
            Err(ParseError::new(CODE_HELP))
        }
    }
}

impl fmt::Display for HouseholdId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_value!(
    HouseholdId,
    "Pseudonymous household id: a code, never a name",
    pattern = "^[A-Z0-9]+(-[A-Z0-9]+)*$"
);

/// The household's reference in the system of record (the Veilig Thuis dossier number). Signal
/// reporters know a household only by this reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference(String);

impl Reference {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn to_wire(&self) -> String {
        self.0.clone()
    }
}

impl std::str::FromStr for Reference {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if is_code(s) {
            Ok(Reference(s.to_owned()))
        } else {
            Err(ParseError::new(CODE_HELP))
        }
    }
}
string_value!(
    Reference,
    "Reference in the system of record (Veilig Thuis dossier number): a code, never a name",
    pattern = "^[A-Z0-9]+(-[A-Z0-9]+)*$"
);

/// A place name: a gemeente or a wijk. Trimmed and in Unicode NFC (so one name has one spelling),
/// 1 to 80 characters, no control characters and no invisible formatting characters
/// ([`is_invisible`]: zero-width and bidirectional controls), which would make one place look
/// like another or reorder what a page shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaceName(String);

impl PlaceName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn to_wire(&self) -> String {
        self.0.clone()
    }
}

/// Characters that show nothing but change how text reads or compares: zero-width characters,
/// bidirectional embeddings, overrides, isolates and marks, the soft hyphen, invisible operators,
/// the byte order mark and interlinear annotation controls (Unicode category Cf, as far as it
/// can appear in a name).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}')
}

impl std::str::FromStr for PlaceName {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        use unicode_normalization::UnicodeNormalization;
        let t: String = s.trim().nfc().collect();
        if t.chars().any(|c| c.is_control() || is_invisible(c)) {
            Err(ParseError::new(
                "must not contain control characters or invisible characters (zero-width or text-direction marks)",
            ))
        } else if t.is_empty() || t.chars().count() > 80 {
            Err(ParseError::new("must be a name of 1 to 80 characters"))
        } else {
            Ok(PlaceName(t))
        }
    }
}
string_value!(
    PlaceName,
    "Name of a gemeente or wijk (NFC, no control or invisible characters)"
);

/// Free text written by a professional (a score's reason, an intervention's description).
/// It may hold sensitive details, so its `Debug` never shows the content: it cannot leak into a log.
#[derive(Clone, PartialEq, Eq)]
pub struct FreeText(String);

impl FreeText {
    pub const MAX_CHARS: usize = 2000;

    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn to_wire(&self) -> String {
        self.0.clone()
    }
}

impl fmt::Debug for FreeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FreeText(<{} chars>)", self.0.chars().count())
    }
}

impl std::str::FromStr for FreeText {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        if t.is_empty() {
            Err(ParseError::new(
                "must not be empty; leave the field out instead",
            ))
        } else if t.chars().count() > Self::MAX_CHARS {
            Err(ParseError::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )))
        } else {
            Ok(FreeText(t.to_owned()))
        }
    }
}
string_value!(FreeText, "Free text, at most 2000 characters; never logged");

/// A score on the safety scale: 0 means the violence will certainly happen again, 10 means it is
/// safe enough to close the case (Signs of Safety schaalvraag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafetyScore(u8);

impl SafetyScore {
    pub const MAX: u8 = 10;

    pub fn new(value: i64) -> Result<Self, ParseError> {
        u8::try_from(value)
            .ok()
            .filter(|v| *v <= Self::MAX)
            .map(SafetyScore)
            .ok_or_else(|| ParseError::new("must be a whole number from 0 to 10"))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Serialize for SafetyScore {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

impl<'de> Deserialize<'de> for SafetyScore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)
            .map_err(|_| serde::de::Error::custom("must be a whole number from 0 to 10"))?;
        n.as_i64()
            .ok_or_else(|| ParseError::new("must be a whole number from 0 to 10"))
            .and_then(SafetyScore::new)
            .map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for SafetyScore {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(0))
            .maximum(Some(10))
            .description(Some("Safety scale score, 0 (violence will certainly recur) to 10 (safe enough to close)"))
            .into()
    }
}
impl utoipa::ToSchema for SafetyScore {}

/// A step of the MDA++ escalation ladder (1 shared basis, 2 bijschalen and procesregie, 3 violence
/// that cannot be stopped). A different axis from the phases: never derived from one, never shown
/// as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EscalationStep(u8);

impl EscalationStep {
    /// Where every household stands until the regisseur records another step.
    pub const FIRST: EscalationStep = EscalationStep(1);
    /// *Geweld niet te stoppen*: a proactive scenario and *vasthouden en volhouden*.
    pub const CANNOT_STOP: EscalationStep = EscalationStep(3);

    pub fn new(value: i64) -> Result<Self, ParseError> {
        u8::try_from(value)
            .ok()
            .filter(|v| (1..=3).contains(v))
            .map(EscalationStep)
            .ok_or_else(|| ParseError::new("must be 1, 2 or 3"))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The Dutch name of the step, as the practice card calls it.
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "Trede 1 · gezamenlijke basis",
            2 => "Trede 2 · bijschalen en procesregie",
            _ => "Trede 3 · geweld niet te stoppen",
        }
    }
}

impl Serialize for EscalationStep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

impl<'de> Deserialize<'de> for EscalationStep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)
            .map_err(|_| serde::de::Error::custom("must be 1, 2 or 3"))?;
        n.as_i64()
            .ok_or_else(|| ParseError::new("must be 1, 2 or 3"))
            .and_then(EscalationStep::new)
            .map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for EscalationStep {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(3))
            .description(Some("Step of the MDA++ escalation ladder: 1 shared basis, 2 bijschalen and procesregie, 3 violence that cannot be stopped"))
            .into()
    }
}
impl utoipa::ToSchema for EscalationStep {}

/// The zone every date in the interchange format is in (DESIGN.md section 4).
pub fn amsterdam() -> jiff::tz::TimeZone {
    // Looked up once: the engine does calendar arithmetic in this zone on its hot path.
    static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();
    ZONE.get_or_init(|| {
        jiff::tz::TimeZone::get("Europe/Amsterdam")
            .expect("Europe/Amsterdam is in the bundled tz database")
    })
    .clone()
}

/// The years a time or date on the wire may fall in: zicht's records start this century, and a
/// year far ahead is a typing error (whether a time lies in the future is checked against the
/// clock where it matters).
const YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;
const YEARS_HELP: &str = "must be in the years 2000 to 2100";

/// Whether the offset of an RFC 3339 time (its tail: `Z`, or `+HH:MM` after the time) is one the
/// world uses: from -12:00 to +14:00.
fn offset_is_sane(s: &str) -> bool {
    let Some(time) = s.find(['T', 't', ' ']).map(|i| &s[i + 1..]) else {
        return false;
    };
    if time.ends_with(['Z', 'z']) {
        return true;
    }
    let Some(at) = time.rfind(['+', '-']) else {
        return false;
    };
    let sign = if time[at..].starts_with('-') { -1 } else { 1 };
    let mut parts = time[at + 1..].split(':');
    let (Some(Ok(h)), Some(Ok(m))) = (
        parts.next().map(str::parse::<i32>),
        parts.next().map(str::parse::<i32>),
    ) else {
        return false;
    };
    let minutes = sign * (h * 60 + m);
    (-12 * 60..=14 * 60).contains(&minutes)
}

/// A moment, given on the wire as RFC 3339 with an explicit offset and kept to the millisecond.
/// A time without an offset is ambiguous and rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(jiff::Timestamp);

impl Instant {
    pub fn from_millis(ms: i64) -> Result<Self, ParseError> {
        jiff::Timestamp::from_millisecond(ms)
            .map(Instant)
            .map_err(|_| ParseError::new("time out of range"))
    }

    pub fn from_timestamp(ts: jiff::Timestamp) -> Self {
        // Stored to the millisecond, so keep values comparable with what comes back from the store.
        Instant(jiff::Timestamp::from_millisecond(ts.as_millisecond()).expect("in range"))
    }

    pub fn millis(self) -> i64 {
        self.0.as_millisecond()
    }

    pub fn timestamp(self) -> jiff::Timestamp {
        self.0
    }

    /// The calendar date in Europe/Amsterdam.
    pub fn local_date(self) -> LocalDate {
        LocalDate(self.0.to_zoned(amsterdam()).date())
    }

    /// RFC 3339 with the Europe/Amsterdam offset of that moment, e.g. `2025-01-06T10:00:00+01:00`.
    pub fn to_wire(self) -> String {
        let offset = amsterdam().to_offset(self.0);
        self.0.display_with_offset(offset).to_string()
    }
}

impl std::str::FromStr for Instant {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        const HELP: &str =
            "must be an RFC 3339 time with an offset, e.g. 2025-01-06T10:00:00+01:00";
        // jiff's Timestamp parser insists on an offset (or Z), which is what the format demands;
        // it also accepts a bracketed zone annotation after the offset, which we refuse to keep the
        // contract strict.
        if s.contains('[') || s.len() > 40 {
            return Err(ParseError::new(HELP));
        }
        let t = s
            .parse::<jiff::Timestamp>()
            .map(Instant::from_timestamp)
            .map_err(|_| ParseError::new(HELP))?;
        if !offset_is_sane(s) {
            return Err(ParseError::new(
                "must have an offset between -12:00 and +14:00, e.g. +01:00",
            ));
        }
        if !YEARS.contains(&t.local_date().date().year()) {
            return Err(ParseError::new(YEARS_HELP));
        }
        Ok(t)
    }
}
string_value!(
    Instant,
    "RFC 3339 date-time with offset",
    format = "date-time"
);

/// A calendar date `YYYY-MM-DD` in Europe/Amsterdam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDate(jiff::civil::Date);

impl LocalDate {
    pub fn new(date: jiff::civil::Date) -> Self {
        LocalDate(date)
    }

    pub fn date(self) -> jiff::civil::Date {
        self.0
    }

    /// Midnight at the start of this date in Europe/Amsterdam.
    pub fn start(self) -> Instant {
        let zoned = self
            .0
            .to_zoned(amsterdam())
            .expect("every date in range has a start of day in Europe/Amsterdam");
        Instant::from_timestamp(zoned.timestamp())
    }

    pub fn to_wire(self) -> String {
        self.0.to_string()
    }
}

impl std::str::FromStr for LocalDate {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let ok = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let date = ok
            .then(|| s.parse::<jiff::civil::Date>().ok())
            .flatten()
            .ok_or_else(|| ParseError::new("must be a date YYYY-MM-DD, e.g. 2025-01-06"))?;
        if !YEARS.contains(&date.year()) {
            return Err(ParseError::new(YEARS_HELP));
        }
        Ok(LocalDate(date))
    }
}
string_value!(
    LocalDate,
    "Calendar date YYYY-MM-DD (Europe/Amsterdam)",
    format = "date"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_references_are_codes_never_names_or_paths() {
        for ok in [
            "H-0001",
            "VT-2025-0001",
            "PROBE-9",
            "R-00001",
            "12345",
            "MDA-7-B",
        ] {
            assert!(ok.parse::<HouseholdId>().is_ok(), "{ok}");
            assert!(ok.parse::<Reference>().is_ok(), "{ok}");
        }
        for bad in [
            "Jan-de-Vries-Kerkstraat-12-Eindhoven",
            "JAN-DEVRIES-12",
            "D-0001/../D-0002",
            "H 0001",
            "h-0001",
            "H--0001",
            "-H0001",
            "H-0001-",
            "HUIS",
            "",
            "H-00000000000000000000000000000001",
        ] {
            let e = bad.parse::<HouseholdId>().unwrap_err();
            assert!(e.to_string().contains("never a name"), "{bad}: {e}");
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
    }

    #[test]
    fn place_names_have_one_spelling_and_nothing_invisible() {
        let composed: PlaceName = "Su\u{0301}dwest-Fryslân".parse().unwrap();
        assert_eq!(composed.as_str(), "Súdwest-Fryslân");
        assert_eq!(composed, "Súdwest-Fryslân".parse().unwrap());
        for bad in [
            "Eind\u{200B}hoven",
            "Woensel\u{202E}-Noord",
            "Gestel\u{2066}",
            "\u{FEFF}Best",
            "Strijp\u{00AD}",
            "Tab\there",
        ] {
            let e = bad.parse::<PlaceName>().unwrap_err();
            assert!(e.to_string().contains("invisible"), "{bad:?}: {e}");
        }
        assert!("  ".parse::<PlaceName>().is_err());
    }

    #[test]
    fn times_have_a_real_offset_and_a_sane_year() {
        for ok in [
            "2025-01-06T10:00:00+01:00",
            "2025-01-06T10:00:00Z",
            "2025-01-06T10:00:00.123+14:00",
            "2025-01-06T10:00:00-12:00",
        ] {
            assert!(ok.parse::<Instant>().is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("2025-01-06T10:00:00+25:00", "offset"),
            ("2025-01-06T10:00:00+14:30", "offset"),
            ("2025-01-06T10:00:00-13:00", "offset"),
            ("0000-01-06T10:00:00+01:00", "2000 to 2100"),
            ("2101-01-06T10:00:00+01:00", "2000 to 2100"),
        ] {
            let e = bad.parse::<Instant>().unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        assert!("1999-12-31".parse::<LocalDate>().is_err());
        assert!("2025-01-06".parse::<LocalDate>().is_ok());
    }

    #[test]
    fn scores_outside_the_scale_are_refused() {
        assert!(SafetyScore::new(-1).is_err());
        assert!(SafetyScore::new(11).is_err());
        assert_eq!(SafetyScore::new(10).unwrap().get(), 10);
        assert!(serde_json::from_str::<SafetyScore>("6.5").is_err());
        assert!(serde_json::from_str::<SafetyScore>("\"6\"").is_err());
    }

    #[test]
    fn a_time_needs_an_offset_and_keeps_it_on_the_way_out() {
        assert!("2025-01-06T10:00:00".parse::<Instant>().is_err());
        assert!("2025-01-06".parse::<Instant>().is_err());
        assert!(
            "2025-01-06T10:00:00+01:00[Europe/Amsterdam]"
                .parse::<Instant>()
                .is_err()
        );
        let t: Instant = "2025-01-06T09:00:00Z".parse().unwrap();
        assert_eq!(t.to_wire(), "2025-01-06T10:00:00+01:00");
        let summer: Instant = "2025-07-01T10:00:00+02:00".parse().unwrap();
        assert_eq!(summer.to_wire(), "2025-07-01T10:00:00+02:00");
        assert_eq!(summer.local_date().to_wire(), "2025-07-01");
    }

    #[test]
    fn dates_are_strict() {
        assert!("2025-1-6".parse::<LocalDate>().is_err());
        assert!("2025-02-30".parse::<LocalDate>().is_err());
        assert_eq!(
            "2025-01-06".parse::<LocalDate>().unwrap().start().to_wire(),
            "2025-01-06T00:00:00+01:00"
        );
    }

    #[test]
    fn free_text_never_shows_in_debug_output() {
        let t: FreeText = "slachtoffer is bang".parse().unwrap();
        assert!(!format!("{t:?}").contains("bang"));
    }
}
