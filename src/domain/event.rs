//! The events of the interchange format (DESIGN.md section 4): one shape in the API, in bulk
//! import, in replay and in rule tests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    EscalationStep, FlagKind, FlagLevel, FreeText, HouseholdId, Instant, LocalDate, Partner,
    Perspective, PlaceName, Reference, Region, SafetyScore, SignalKind, SignalSource, Specialism,
};

/// A household: the unit of monitoring. Pseudonymous: no names, no addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Household {
    pub id: HouseholdId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    pub region: Region,
    /// Kept as its official CBS name ("Den Haag" becomes "'s-Gravenhage").
    #[serde(deserialize_with = "super::gemeente::deserialize_official")]
    pub gemeente: PlaceName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wijk: Option<PlaceName>,
    /// Whether minor children are part of the household; letting go early weighs heavier without.
    pub minor_children: bool,
    /// When the trajectory was opened (T0).
    pub opened_at: LocalDate,
}

/// A safety scale score from one perspective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Score {
    pub household: HouseholdId,
    pub at: Instant,
    pub perspective: Perspective,
    pub value: SafetyScore,
    /// What made the number go up or down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

/// A melding or other signal about a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    pub household: HouseholdId,
    pub at: Instant,
    pub kind: SignalKind,
    pub source: SignalSource,
    /// Judged *acuut onveilig*.
    pub acute: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub household: HouseholdId,
    pub at: Instant,
    pub flag: FlagKind,
    pub level: FlagLevel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consultation {
    pub household: HouseholdId,
    pub at: Instant,
    pub specialism: Specialism,
}

/// A new intervention; stagnation rules stay quiet until `effect_expected_by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    pub household: HouseholdId,
    pub at: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<FreeText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect_expected_by: Option<LocalDate>,
}

/// The regisseur records the household's step on the escalation ladder, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub household: HouseholdId,
    pub at: Instant,
    pub step: EscalationStep,
    pub reason: FreeText,
}

/// An event that carries nothing but its moment: proactive scenario agreed, reopened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    pub household: HouseholdId,
    pub at: Instant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerWithdrawal {
    pub household: HouseholdId,
    pub at: Instant,
    pub partner: Partner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub household: HouseholdId,
    pub at: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

/// One event about a household, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Household(Household),
    Score(Score),
    Signal(Signal),
    Flag(Flag),
    Consultation(Consultation),
    Intervention(Intervention),
    Escalation(Escalation),
    ProactiveScenario(Milestone),
    PartnerWithdrawal(PartnerWithdrawal),
    Closure(Closure),
    Reopen(Milestone),
}

/// The `type` of an event, as on the wire.
pub const EVENT_TYPES: &[&str] = &[
    "household",
    "score",
    "signal",
    "flag",
    "consultation",
    "intervention",
    "escalation",
    "proactive_scenario",
    "partner_withdrawal",
    "closure",
    "reopen",
];

impl Event {
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Household(_) => "household",
            Event::Score(_) => "score",
            Event::Signal(_) => "signal",
            Event::Flag(_) => "flag",
            Event::Consultation(_) => "consultation",
            Event::Intervention(_) => "intervention",
            Event::Escalation(_) => "escalation",
            Event::ProactiveScenario(_) => "proactive_scenario",
            Event::PartnerWithdrawal(_) => "partner_withdrawal",
            Event::Closure(_) => "closure",
            Event::Reopen(_) => "reopen",
        }
    }

    pub fn household(&self) -> &HouseholdId {
        match self {
            Event::Household(h) => &h.id,
            Event::Score(e) => &e.household,
            Event::Signal(e) => &e.household,
            Event::Flag(e) => &e.household,
            Event::Consultation(e) => &e.household,
            Event::Intervention(e) => &e.household,
            Event::Escalation(e) => &e.household,
            Event::ProactiveScenario(e) | Event::Reopen(e) => &e.household,
            Event::PartnerWithdrawal(e) => &e.household,
            Event::Closure(e) => &e.household,
        }
    }

    /// When it happened; a household event happened at the start of its opening date.
    pub fn at(&self) -> Instant {
        match self {
            Event::Household(h) => h.opened_at.start(),
            Event::Score(e) => e.at,
            Event::Signal(e) => e.at,
            Event::Flag(e) => e.at,
            Event::Consultation(e) => e.at,
            Event::Intervention(e) => e.at,
            Event::Escalation(e) => e.at,
            Event::ProactiveScenario(e) | Event::Reopen(e) => e.at,
            Event::PartnerWithdrawal(e) => e.at,
            Event::Closure(e) => e.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_examples_parse_and_round_trip() {
        let lines = [
            r#"{"type":"household","id":"H-0001","region":"brabant-zuidoost","gemeente":"Eindhoven","wijk":"Woensel-Noord","minor_children":false,"opened_at":"2025-01-06"}"#,
            r#"{"type":"score","household":"H-0001","at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":3,"reason":"..."}"#,
            r#"{"type":"signal","household":"H-0001","at":"2025-02-01T22:10:00+01:00","kind":"melding","source":"politie","acute":true}"#,
            r#"{"type":"flag","household":"H-0001","at":"2025-02-02T09:00:00+01:00","flag":"intiem_terrorisme","level":"waarschijnlijk"}"#,
            r#"{"type":"consultation","household":"H-0001","at":"2025-02-10T09:00:00+01:00","specialism":"forensische_ggz"}"#,
            r#"{"type":"intervention","household":"H-0001","at":"2025-02-12T09:00:00+01:00","description":"...","effect_expected_by":"2025-04-15"}"#,
            r#"{"type":"escalation","household":"H-0001","at":"2025-06-01T09:00:00+02:00","step":3,"reason":"..."}"#,
            r#"{"type":"proactive_scenario","household":"H-0001","at":"2025-06-10T09:00:00+02:00"}"#,
            r#"{"type":"partner_withdrawal","household":"H-0001","at":"2025-07-01T09:00:00+02:00","partner":"ggz"}"#,
            r#"{"type":"closure","household":"H-0001","at":"2025-09-01T09:00:00+02:00","reason":"..."}"#,
            r#"{"type":"reopen","household":"H-0001","at":"2026-01-05T09:00:00+01:00"}"#,
        ];
        for line in lines {
            let event: Event = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let back = serde_json::to_string(&event).unwrap();
            let want: serde_json::Value = serde_json::from_str(line).unwrap();
            let got: serde_json::Value = serde_json::from_str(&back).unwrap();
            assert_eq!(want, got);
        }
    }

    #[test]
    fn an_escalation_names_a_step_of_the_ladder_and_why() {
        let step = |n: &str| {
            serde_json::from_str::<Event>(&format!(
                r#"{{"type":"escalation","household":"H-1","at":"2025-06-01T09:00:00+02:00","step":{n},"reason":"x"}}"#
            ))
        };
        assert!(step("1").is_ok() && step("3").is_ok());
        for wrong in ["0", "4", "2.5", "\"3\""] {
            let err = step(wrong).unwrap_err().to_string();
            assert!(err.contains("must be 1, 2 or 3"), "{wrong}: {err}");
        }
        let no_reason =
            r#"{"type":"escalation","household":"H-1","at":"2025-06-01T09:00:00+02:00","step":3}"#;
        assert!(serde_json::from_str::<Event>(no_reason).is_err());
        let old = r#"{"type":"phase3","household":"H-1","at":"2025-06-01T09:00:00+02:00"}"#;
        assert!(
            serde_json::from_str::<Event>(old).is_err(),
            "phase3 is gone"
        );
    }

    #[test]
    fn unknown_fields_and_values_are_refused() {
        let extra =
            r#"{"type":"reopen","household":"H-1","at":"2026-01-05T09:00:00+01:00","name":"Jan"}"#;
        assert!(serde_json::from_str::<Event>(extra).is_err());
        let kind = r#"{"type":"signal","household":"H-1","at":"2026-01-05T09:00:00+01:00","kind":"roddel","source":"politie","acute":false}"#;
        let err = serde_json::from_str::<Event>(kind).unwrap_err().to_string();
        assert!(err.contains("allowed: melding"), "{err}");
    }
}
