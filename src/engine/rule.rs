//! Rules as the engine sees them: a detector with typed parameters, a severity, who is notified
//! and the advice. Parsed from TOML by `rules::load`.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Table;

pub use crate::domain::{NotifyRole, Severity};

/// The numbers behind the definitions of DESIGN.md section 3; a region may change them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Definitions {
    /// Safety level at t: each perspective's latest score over this many days before t.
    pub level_window_days: i64,
    /// Direct safety: the mean of the perspectives' latest scores at least this (6 in MDA++
    /// practice) ...
    pub direct_safety_min: u8,
    /// ... and no perspective's latest score below this (4: a score of 3 or less is a relapse on
    /// its own). Equal to `direct_safety_min` it is the first version's "lowest perspective".
    pub direct_safety_floor: u8,
    /// Stable safety: over this many weeks before t ...
    pub stable_weeks: i64,
    /// ... at least this many visits ...
    pub stable_min_scores: usize,
    /// ... the mean score of at least `stable_share_percent` of them at least this (8: zicht's
    /// line for stable) ...
    pub stable_score_min: u8,
    pub stable_share_percent: u8,
    /// ... none below this (an occasional 7 is noise, a 6 is not stable) ...
    pub stable_score_floor: u8,
    /// ... no more days than this between consecutive scores (one missed visit in a two- or
    /// three-weekly rhythm does not break it), and no melding or acute signal.
    pub stable_max_gap_days: i64,
    /// A relapse is confirmed by two perspectives below the direct-safety line at one visit (scores
    /// at most this many days apart) ...
    pub relapse_visit_days: i64,
    /// ... by one perspective below it on two consecutive scores at most this many days apart ...
    pub relapse_repeat_days: i64,
    /// ... or by one score at most this (or an acute signal).
    pub relapse_severe_max: u8,
    /// A relapse ends when direct safety has held again for this many days.
    pub relapse_recovery_days: i64,
    /// A firing alert nobody acknowledged is sent again after this many days ...
    pub repeat_days: i64,
    /// ... and escalated, each time one level up this ladder of webhook roles (e.g. the
    /// teamcoördinator, then procesregie at the Zorg- en Veiligheidshuis).
    pub escalation: Vec<String>,
    /// Whether the region agreed to show the gemeente (pseudonymised) which households are at
    /// escalation step 3 (violence that cannot be stopped).
    pub share_step3_with_gemeente: bool,
}

impl Default for Definitions {
    fn default() -> Self {
        Definitions {
            level_window_days: 28,
            direct_safety_min: 6,
            direct_safety_floor: 4,
            stable_weeks: 12,
            stable_min_scores: 3,
            stable_score_min: 8,
            stable_share_percent: 80,
            stable_score_floor: 7,
            stable_max_gap_days: 42,
            relapse_visit_days: 3,
            relapse_repeat_days: 28,
            relapse_severe_max: 3,
            relapse_recovery_days: 14,
            repeat_days: 7,
            escalation: vec!["teamcoordinator".to_owned(), "procesregie_zvh".to_owned()],
            share_step3_with_gemeente: false,
        }
    }
}

impl Definitions {
    pub(crate) fn deserialize_checked(value: toml::Value) -> Result<Definitions, (String, String)> {
        let d: Definitions = typed(value)?;
        let scores = [
            ("direct_safety_min", d.direct_safety_min),
            ("direct_safety_floor", d.direct_safety_floor),
            ("stable_score_min", d.stable_score_min),
            ("stable_score_floor", d.stable_score_floor),
            ("relapse_severe_max", d.relapse_severe_max),
        ];
        if let Some((field, _)) = scores.iter().find(|(_, v)| *v > 10) {
            return Err(((*field).into(), "scores run from 0 to 10".into()));
        }
        if d.direct_safety_floor > d.direct_safety_min {
            return Err((
                "direct_safety_floor".into(),
                "must be at most direct_safety_min".into(),
            ));
        }
        if d.stable_score_floor > d.stable_score_min {
            return Err((
                "stable_score_floor".into(),
                "must be at most stable_score_min".into(),
            ));
        }
        if d.relapse_severe_max >= d.direct_safety_min {
            return Err((
                "relapse_severe_max".into(),
                "must be below direct_safety_min".into(),
            ));
        }
        if d.stable_share_percent < 1 || d.stable_share_percent > 100 {
            return Err((
                "stable_share_percent".into(),
                "must be from 1 to 100".into(),
            ));
        }
        if d.stable_min_scores < 1 {
            return Err(("stable_min_scores".into(), "must be at least 1".into()));
        }
        let windows = [
            ("level_window_days", d.level_window_days),
            ("stable_weeks", d.stable_weeks),
            ("stable_max_gap_days", d.stable_max_gap_days),
            ("relapse_repeat_days", d.relapse_repeat_days),
        ];
        if d.relapse_recovery_days < 0 {
            return Err((
                "relapse_recovery_days".into(),
                "must be 0 (at once) or more".into(),
            ));
        }
        if let Some((field, _)) = windows.iter().find(|(_, v)| *v < 1) {
            return Err(((*field).into(), "windows must be at least 1".into()));
        }
        if d.relapse_visit_days < 0 {
            return Err((
                "relapse_visit_days".into(),
                "must be 0 (the same moment) or more".into(),
            ));
        }
        if d.repeat_days < 1 {
            return Err(("repeat_days".into(), "must be at least 1".into()));
        }
        let not_a_role =
            |l: &&String| l.is_empty() || !l.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if let Some(bad) = d.escalation.iter().find(not_a_role) {
            return Err((
                "escalation".into(),
                format!("`{bad}` is not a role name (lower-case letters and _)"),
            ));
        }
        Ok(d)
    }
}

/// Detector names, as written in rule files.
pub const DETECTORS: &[&str] = &[
    "geen_directe_veiligheid",
    "geen_stabiele_veiligheid",
    "terugval",
    "herhaald_gemeld",
    "hermelding",
    "dalende_trend",
    "uiteenlopende_scores",
    "meting_achterstallig",
    "forensisch_consult",
    "voortijdig_loslaten",
    "geen_proactief_scenario",
    "nazorg",
    "ogen_en_oren",
];

/// A built-in detector and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Detector {
    GeenDirecteVeiligheid(DirectParams),
    GeenStabieleVeiligheid(WeeksParams),
    Terugval,
    HerhaaldGemeld(HerhaaldGemeldParams),
    Hermelding,
    DalendeTrend(TrendParams),
    UiteenlopendeScores(DivergenceParams),
    MetingAchterstallig(OverdueParams),
    ForensischConsult(DaysParams),
    VoortijdigLoslaten(LettingGoParams),
    GeenProactiefScenario(DaysParams),
    Nazorg(NazorgParams),
    OgenEnOren,
}

impl Detector {
    /// The stagnation detectors: the grace period of a new intervention silences them, and a
    /// region holding on at escalation step 3 is not told of them again.
    pub fn is_stagnation(&self) -> bool {
        matches!(
            self,
            Detector::GeenDirecteVeiligheid(_)
                | Detector::GeenStabieleVeiligheid(_)
                | Detector::DalendeTrend(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeksParams {
    pub weeks: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectParams {
    pub weeks: i64,
    /// At T0 + `weeks` the answer needs a current, confirmed picture: a score of the last this
    /// many days and no direct safety in them. Otherwise it waits for the next visit, at most
    /// this many days.
    pub current_days: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysParams {
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HerhaaldGemeldParams {
    pub count: usize,
    pub days: i64,
    /// From this many meldingen the severity is `critical`.
    pub critical_count: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    pub weeks: i64,
    pub min_scores: usize,
    pub p_value: f64,
    /// The fall over the series (Theil-Sen line) must be at least this many points: a significant
    /// fall of less than twice a single score's measurement error is not worth a conversation.
    pub min_drop: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DivergenceParams {
    /// The victim's latest score this far below the professionals' typical (mean) score ...
    pub gap: u8,
    /// ... or this far below on average over the victim's scores of the last `weeks` weeks,
    /// when there are at least `persistent_scores` of them ...
    pub persistent_gap: f64,
    pub persistent_scores: usize,
    pub weeks: i64,
    /// ... counting professional scores at most this many days from the victim's.
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdueParams {
    pub days: i64,
    /// The shorter interval while direct safety has not been reached.
    pub days_without_direct_safety: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LettingGoParams {
    /// Severity when minor children are part of the household (the rule's own severity applies
    /// without: letting go then is the failure MDA++ warns about most).
    pub severity_with_minor_children: Severity,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NazorgParams {
    /// Reminders this many months after closure.
    pub reminder_months: Vec<i64>,
    /// A melding within this many months after closure asks whether to reopen.
    pub melding_months: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    /// The short Dutch label the pages show ("Terugval", "Signaal uit de wijk").
    pub title: String,
    pub enabled: bool,
    pub severity: Severity,
    pub notify: Vec<NotifyRole>,
    pub advice: String,
    pub detector: Detector,
    /// Days before an unacknowledged firing is sent again; the region's `repeat_days` when unset.
    pub repeat_days: Option<i64>,
    /// Inhibition (as in Alertmanager): while one of these rules holds for the household, this
    /// rule stays quiet; a one-shot is not raised when one of them holds at its moment.
    pub inhibited_by: Vec<String>,
    /// An observation, not an alert: shown on the household's situatieplaat only, never on a
    /// work list, in an inbox or a webhook, and not in replay's firings. It notifies nobody.
    pub observation: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFields {
    id: String,
    title: String,
    detector: String,
    #[serde(default = "enabled")]
    enabled: bool,
    severity: Severity,
    notify: Vec<NotifyRole>,
    advice: String,
    #[serde(default)]
    params: Table,
    #[serde(default)]
    repeat_days: Option<i64>,
    #[serde(default)]
    inhibited_by: Vec<String>,
    #[serde(default)]
    observation: bool,
}

fn enabled() -> bool {
    true
}

/// Deserializes `value`, giving the path of the failing field.
fn typed<T: DeserializeOwned>(value: toml::Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next().map(str::to_owned));
        let field = match named {
            Some(n) if path == "." || path.is_empty() => n,
            _ => path,
        };
        (field, message)
    })
}

fn positive(field: &str, n: i64) -> Result<(), (String, String)> {
    if n >= 1 {
        Ok(())
    } else {
        Err((field.to_owned(), "must be at least 1".to_owned()))
    }
}

impl Rule {
    pub(crate) fn from_table(table: &Table) -> Result<Rule, (String, String)> {
        let f: RuleFields = typed(toml::Value::Table(table.clone()))?;
        let valid_id = !f.id.is_empty()
            && f.id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_id {
            return Err((
                "id".into(),
                "must be lower-case letters, digits and -".into(),
            ));
        }
        if f.title.trim().is_empty() || f.title.len() > 60 {
            return Err((
                "title".into(),
                "must be a short label the pages can show (1 to 60 characters)".into(),
            ));
        }
        if f.advice.trim().is_empty() && f.detector != "ogen_en_oren" {
            return Err((
                "advice".into(),
                "must say what the person notified should do".into(),
            ));
        }
        let params = toml::Value::Table(f.params);
        let in_params = |(field, message): (String, String)| (format!("params.{field}"), message);
        let no_params = |p: &toml::Value| -> Result<(), (String, String)> {
            match p.as_table() {
                Some(t) if t.is_empty() => Ok(()),
                _ => Err(("params".into(), "this detector takes no parameters".into())),
            }
        };
        let detector = match f.detector.as_str() {
            "geen_directe_veiligheid" => {
                let p: DirectParams = typed(params).map_err(in_params)?;
                positive("params.weeks", p.weeks)?;
                if p.current_days < 0 {
                    return Err((
                        "params.current_days".into(),
                        "must be 0 (judge the picture at the deadline as it is) or more".into(),
                    ));
                }
                Detector::GeenDirecteVeiligheid(p)
            }
            "geen_stabiele_veiligheid" => {
                let p: WeeksParams = typed(params).map_err(in_params)?;
                positive("params.weeks", p.weeks)?;
                Detector::GeenStabieleVeiligheid(p)
            }
            "terugval" => {
                no_params(&params)?;
                Detector::Terugval
            }
            "herhaald_gemeld" => {
                let p: HerhaaldGemeldParams = typed(params).map_err(in_params)?;
                positive("params.days", p.days)?;
                if p.count < 1 || p.critical_count < p.count {
                    return Err((
                        "params.critical_count".into(),
                        "must be at least `count`, which is at least 1".into(),
                    ));
                }
                Detector::HerhaaldGemeld(p)
            }
            "hermelding" => {
                no_params(&params)?;
                Detector::Hermelding
            }
            "dalende_trend" => {
                let p: TrendParams = typed(params).map_err(in_params)?;
                positive("params.weeks", p.weeks)?;
                if p.min_scores < 3 {
                    return Err((
                        "params.min_scores".into(),
                        "a trend test needs at least 3 scores".into(),
                    ));
                }
                if !(p.p_value > 0.0 && p.p_value < 1.0) {
                    return Err(("params.p_value".into(), "must be between 0 and 1".into()));
                }
                if !(0.0..=10.0).contains(&p.min_drop) {
                    return Err((
                        "params.min_drop".into(),
                        "must be from 0 to 10 points".into(),
                    ));
                }
                Detector::DalendeTrend(p)
            }
            "uiteenlopende_scores" => {
                let p: DivergenceParams = typed(params).map_err(in_params)?;
                positive("params.days", p.days)?;
                if p.gap < 1 || p.gap > 10 {
                    return Err(("params.gap".into(), "must be from 1 to 10".into()));
                }
                positive("params.weeks", p.weeks)?;
                if !(1.0..=f64::from(p.gap)).contains(&p.persistent_gap) {
                    return Err((
                        "params.persistent_gap".into(),
                        "must be from 1 to `gap`".into(),
                    ));
                }
                if p.persistent_scores < 1 {
                    return Err((
                        "params.persistent_scores".into(),
                        "must be at least 1".into(),
                    ));
                }
                Detector::UiteenlopendeScores(p)
            }
            "meting_achterstallig" => {
                let p: OverdueParams = typed(params).map_err(in_params)?;
                positive("params.days", p.days)?;
                positive(
                    "params.days_without_direct_safety",
                    p.days_without_direct_safety,
                )?;
                Detector::MetingAchterstallig(p)
            }
            "forensisch_consult" => {
                let p: DaysParams = typed(params).map_err(in_params)?;
                positive("params.days", p.days)?;
                Detector::ForensischConsult(p)
            }
            "voortijdig_loslaten" => {
                Detector::VoortijdigLoslaten(typed(params).map_err(in_params)?)
            }
            "geen_proactief_scenario" => {
                let p: DaysParams = typed(params).map_err(in_params)?;
                positive("params.days", p.days)?;
                Detector::GeenProactiefScenario(p)
            }
            "nazorg" => {
                let p: NazorgParams = typed(params).map_err(in_params)?;
                for m in &p.reminder_months {
                    positive("params.reminder_months", *m)?;
                }
                positive("params.melding_months", p.melding_months)?;
                Detector::Nazorg(p)
            }
            "ogen_en_oren" => {
                no_params(&params)?;
                Detector::OgenEnOren
            }
            other => {
                return Err((
                    "detector".into(),
                    format!(
                        "unknown detector `{other}`; allowed: {}",
                        DETECTORS.join(", ")
                    ),
                ));
            }
        };
        if let Some(days) = f.repeat_days {
            positive("repeat_days", days)?;
        }
        if f.observation
            && matches!(
                detector,
                Detector::Hermelding | Detector::OgenEnOren | Detector::Nazorg(_)
            )
        {
            return Err((
                "observation".into(),
                "a one-shot announces an event to a person: it cannot be an observation".into(),
            ));
        }
        if f.observation && !f.notify.is_empty() {
            return Err((
                "notify".into(),
                "an observation notifies nobody: leave notify empty, or make it an alert (observation = false)".into(),
            ));
        }
        Ok(Rule {
            id: f.id,
            title: f.title.trim().to_owned(),
            enabled: f.enabled,
            severity: f.severity,
            notify: f.notify,
            advice: f.advice,
            detector,
            repeat_days: f.repeat_days,
            inhibited_by: f.inhibited_by,
            observation: f.observation,
        })
    }

    /// One-shot rules notify once per occurrence and have no resolved state.
    pub fn is_one_shot(&self) -> bool {
        matches!(
            self.detector,
            Detector::Hermelding | Detector::OgenEnOren | Detector::Nazorg(_)
        )
    }
}
