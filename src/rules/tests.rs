//! Rule tests (`alerts/tests/*.toml`), in the spirit of `promtool test rules`: events in the
//! interchange format, evaluation times, and the alerts expected at each.
//!
//! ```toml
//! [[test]]
//! name = "fires six weeks after opening without direct safety"
//! events = """
//! {"type":"household","id":"H-1","region":"utrecht","gemeente":"Utrecht","minor_children":false,"opened_at":"2025-01-06"}
//! {"type":"score","household":"H-1","at":"2025-01-06T10:00:00+01:00","perspective":"slachtoffer","value":3}
//! """
//! [[test.expect]]
//! at = "2025-02-16T23:59:59+01:00"
//! firing = ["meting-achterstallig"]      # exactly the state alerts that hold
//! [[test.expect]]
//! at = "2025-02-17T00:00:00+01:00"
//! firing = ["geen-directe-veiligheid", "meting-achterstallig"]
//! one_shots = []                          # one-shots since the previous `at` (checked when given)
//! severity = { "geen-directe-veiligheid" = "critical" }   # checked when given
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::RuleSet;
use crate::domain::{Event, Instant};
use crate::engine::{History, Severity, evaluate};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    test: Vec<RuleTest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleTest {
    name: String,
    events: String,
    expect: Vec<Expectation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    at: Instant,
    firing: Vec<String>,
    /// The observations that hold (rules with `observation = true`); not checked when absent.
    observed: Option<Vec<String>>,
    one_shots: Option<Vec<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Severity>,
}

/// The outcome of one rule test.
#[derive(Debug)]
pub struct Outcome {
    pub file: PathBuf,
    pub name: String,
    /// Empty when it passed.
    pub failures: Vec<String>,
}

/// Reads a JSON Lines text of events into households' histories, in the order they appear.
pub fn histories(text: &str) -> Result<Vec<History>, String> {
    let mut households = Vec::new();
    let mut events: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        // An event's `id` is its id in the source system (docs/import.md): no part of its history.
        if let Some(object) = value.as_object_mut()
            && object.get("type").and_then(|t| t.as_str()) != Some("household")
        {
            object.remove("id");
        }
        let event: Event =
            serde_json::from_value(value).map_err(|e| format!("line {}: {e}", n + 1))?;
        match event {
            Event::Household(h) => {
                if events.insert(h.id.to_string(), Vec::new()).is_some() {
                    return Err(format!(
                        "line {}: household `{}` appears twice",
                        n + 1,
                        h.id
                    ));
                }
                households.push(h);
            }
            other => match events.get_mut(other.household().as_str()) {
                Some(list) => list.push(other),
                None => {
                    return Err(format!(
                        "line {}: household `{}` has no household line before it",
                        n + 1,
                        other.household()
                    ));
                }
            },
        }
    }
    Ok(households
        .into_iter()
        .map(|h| {
            let list = events.remove(h.id.as_str()).unwrap_or_default();
            History::new(h, list)
        })
        .collect())
}

/// Runs every test in `dir` (`*.toml`) against `rules`.
pub fn run_dir(dir: &Path, rules: &RuleSet) -> Result<Vec<Outcome>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut outcomes = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed: TestFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        for test in parsed.test {
            let failures = run_one(&test, rules);
            outcomes.push(Outcome {
                file: file.clone(),
                name: test.name,
                failures,
            });
        }
    }
    Ok(outcomes)
}

fn run_one(test: &RuleTest, rules: &RuleSet) -> Vec<String> {
    let histories = match histories(&test.events) {
        Ok(h) => h,
        Err(e) => return vec![format!("events: {e}")],
    };
    let [history] = histories.as_slice() else {
        return vec![format!(
            "events: a rule test has exactly one household, found {}",
            histories.len()
        )];
    };
    let effective = rules.for_region(history.household.region);
    let mut failures = Vec::new();
    let mut previous: Option<Instant> = None;
    for expect in &test.expect {
        let eval = evaluate(history, effective, expect.at);
        let mut firing: Vec<String> = eval.conditions.iter().map(|c| c.rule.clone()).collect();
        firing.sort();
        let mut want = expect.firing.clone();
        want.sort();
        let at = expect.at.to_wire();
        if firing != want {
            failures.push(format!("at {at}: firing {firing:?}, expected {want:?}"));
        }
        if let Some(want) = &expect.observed {
            let mut got: Vec<String> = eval.observations.iter().map(|c| c.rule.clone()).collect();
            got.sort();
            let mut want = want.clone();
            want.sort();
            if got != want {
                failures.push(format!("at {at}: observed {got:?}, expected {want:?}"));
            }
        }
        for (rule, severity) in &expect.severity {
            match eval
                .conditions
                .iter()
                .chain(&eval.observations)
                .find(|c| &c.rule == rule)
            {
                Some(c) if c.severity == *severity => {}
                Some(c) => failures.push(format!(
                    "at {at}: {rule} has severity {}, expected {severity}",
                    c.severity
                )),
                None => failures.push(format!("at {at}: {rule} does not fire, so has no severity")),
            }
        }
        if let Some(want) = &expect.one_shots {
            let mut got: Vec<String> = eval
                .one_shots
                .iter()
                .filter(|s| previous.is_none_or(|p| s.at > p))
                .map(|s| s.rule.clone())
                .collect();
            got.sort();
            let mut want = want.clone();
            want.sort();
            if got != want {
                failures.push(format!("at {at}: one-shots {got:?}, expected {want:?}"));
            }
        }
        previous = Some(expect.at);
    }
    failures
}
