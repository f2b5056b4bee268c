//! Alert rules: loading `alerts/` (national defaults, regional overrides), validating them with
//! errors that name the file, the rule and the field, and running the rule tests.

mod load;
pub mod tests;

pub use load::{NationalSource, RuleError, load, load_dir};

use std::collections::BTreeMap;

use crate::domain::Region;
pub use crate::engine::Effective;
use crate::engine::{Definitions, Detector, Rule};

/// The rules of every region, each the national rules with that region's overrides applied.
#[derive(Debug, Clone)]
pub struct RuleSet {
    national: Vec<Rule>,
    national_definitions: Definitions,
    regional: BTreeMap<Region, (Definitions, Vec<Rule>)>,
}

impl RuleSet {
    pub fn for_region(&self, region: Region) -> Effective<'_> {
        match self.regional.get(&region) {
            Some((definitions, rules)) => Effective { definitions, rules },
            None => Effective {
                definitions: &self.national_definitions,
                rules: &self.national,
            },
        }
    }

    /// Every escalation level named in any region: the webhook roles escalation uses.
    pub fn escalation_roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = self.national_definitions.escalation.clone();
        for (d, _) in self.regional.values() {
            roles.extend(d.escalation.iter().cloned());
        }
        roles.sort();
        roles.dedup();
        roles
    }

    /// The ids of all rules (regions override rules, they never add them).
    pub fn rule_ids(&self) -> Vec<&str> {
        self.national.iter().map(|r| r.id.as_str()).collect()
    }

    /// The ids of the rules that raise alerts somewhere: not an observation nationally, or made
    /// an alert by a region (`observation = false`). Observations are on the situatieplaat only.
    pub fn alert_ids(&self) -> Vec<&str> {
        self.national
            .iter()
            .filter(|r| {
                !r.observation
                    || self
                        .regional
                        .values()
                        .any(|(_, rules)| rules.iter().any(|o| o.id == r.id && !o.observation))
            })
            .map(|r| r.id.as_str())
            .collect()
    }

    /// The short Dutch title of a national rule, as the pages show it.
    pub fn title(&self, id: &str) -> Option<&str> {
        self.national
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.title.as_str())
    }

    /// The detector of a national rule.
    pub fn detector(&self, id: &str) -> Option<&Detector> {
        self.national
            .iter()
            .find(|r| r.id == id)
            .map(|r| &r.detector)
    }

    pub fn len(&self) -> usize {
        self.national.len()
    }

    pub fn is_empty(&self) -> bool {
        self.national.is_empty()
    }

    pub fn regions_with_overrides(&self) -> impl Iterator<Item = Region> + '_ {
        self.regional.keys().copied()
    }
}
