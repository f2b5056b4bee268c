//! Reading rule files. National rules: every `alerts/*.toml`. Regional overrides:
//! `alerts/regions/<region>.toml`, which may change a rule's `enabled`, `severity`, `notify`,
//! `advice` and any of its parameters, and the `[definitions]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Table;

use super::RuleSet;
use crate::domain::Region;
use crate::engine::{Definitions, Rule};

#[derive(Debug, thiserror::Error)]
#[error("{file}: {location}{message}")]
pub struct RuleError {
    pub file: PathBuf,
    location: String,
    pub message: String,
}

impl RuleError {
    fn new(
        file: &Path,
        rule: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let location = match (rule, field) {
            (Some(r), Some(f)) => format!("rule `{r}`, field `{f}`: "),
            (Some(r), None) => format!("rule `{r}`: "),
            (None, Some(f)) => format!("field `{f}`: "),
            (None, None) => String::new(),
        };
        RuleError {
            file: file.to_owned(),
            location,
            message: message.into(),
        }
    }
}

/// One rule as written: its fields, not yet checked.
#[derive(Debug, Clone)]
struct RawRule {
    file: PathBuf,
    table: Table,
}

/// The national default rules, compiled into the binary so that zicht runs from any directory.
const BUILT_IN: &[(&str, &str)] = &[(
    "<built-in>/alerts/rules.toml",
    include_str!("../../alerts/rules.toml"),
)];

/// Where the national rules come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NationalSource {
    /// The defaults compiled into the binary.
    BuiltIn,
    /// `*.toml` files in the rules directory, which replace the built-in defaults.
    Directory,
}

/// The rules in force: the national rules from `dir/*.toml` when the directory has any, else the
/// built-in defaults; regional overrides from `dir/regions/*.toml` when present. A missing `dir`
/// means the built-in defaults alone.
pub fn load(dir: &Path) -> Result<(RuleSet, NationalSource), Vec<RuleError>> {
    let files = if dir.is_dir() {
        toml_files(dir).map_err(|e| vec![RuleError::new(dir, None, None, e.to_string())])?
    } else {
        Vec::new()
    };
    if files.is_empty() {
        let built_in = BUILT_IN
            .iter()
            .map(|(name, text)| (PathBuf::from(name), (*text).to_owned()))
            .collect();
        Ok((load_sources(built_in, dir)?, NationalSource::BuiltIn))
    } else {
        Ok((load_dir(dir)?, NationalSource::Directory))
    }
}

/// Loads and validates every rule file under `dir`, which must hold the national rules. All
/// errors are returned, not only the first.
pub fn load_dir(dir: &Path) -> Result<RuleSet, Vec<RuleError>> {
    let national_files =
        toml_files(dir).map_err(|e| vec![RuleError::new(dir, None, None, e.to_string())])?;
    if national_files.is_empty() {
        return Err(vec![RuleError::new(
            dir,
            None,
            None,
            "no rule files (*.toml) here",
        )]);
    }
    let mut errors = Vec::new();
    let mut national = Vec::new();
    for file in national_files {
        match std::fs::read_to_string(&file) {
            Ok(text) => national.push((file, text)),
            Err(e) => errors.push(RuleError::new(&file, None, None, e.to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    load_sources(national, dir)
}

/// Validates the national rule files given as (path, text), then the regional overrides under
/// `dir/regions`.
fn load_sources(
    national_files: Vec<(PathBuf, String)>,
    dir: &Path,
) -> Result<RuleSet, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut raw: Vec<RawRule> = Vec::new();
    let mut definitions = Table::new();
    for (file, text) in &national_files {
        let Some(table) = parse_table(file, text, &mut errors) else {
            continue;
        };
        for (key, value) in table {
            match (key.as_str(), value) {
                ("definitions", toml::Value::Table(t)) => merge_into(&mut definitions, &t),
                ("rule", toml::Value::Array(rules)) => {
                    for (i, rule) in rules.into_iter().enumerate() {
                        match rule {
                            toml::Value::Table(table) => raw.push(RawRule {
                                file: file.clone(),
                                table,
                            }),
                            _ => errors.push(RuleError::new(
                                file,
                                None,
                                Some(&format!("rule[{i}]")),
                                "must be a table",
                            )),
                        }
                    }
                }
                (other, _) => errors.push(RuleError::new(
                    file,
                    None,
                    Some(other),
                    "unknown key; a rule file has [definitions] and [[rule]] tables",
                )),
            }
        }
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for r in &raw {
        if let Some(id) = r.table.get("id").and_then(|v| v.as_str())
            && let Some(first) = seen.insert(id.to_owned(), r.file.clone())
        {
            let message = format!("defined twice (also in {})", first.display());
            errors.push(RuleError::new(&r.file, Some(id), None, message));
        }
    }
    let national_definitions = parse_definitions(&national_files[0].0, &definitions, &mut errors);
    let national: Vec<Rule> = raw
        .iter()
        .filter_map(|r| parse_rule(&r.file, &r.table, &mut errors))
        .collect();
    check_inhibitions(&raw, &national, &mut errors);

    let mut regional = BTreeMap::new();
    let regions_dir = dir.join("regions");
    if regions_dir.is_dir() {
        let files = toml_files(&regions_dir)
            .map_err(|e| vec![RuleError::new(&regions_dir, None, None, e.to_string())])?;
        for file in files {
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let region: Region = match stem.parse() {
                Ok(r) => r,
                Err(e) => {
                    errors.push(RuleError::new(
                        &file,
                        None,
                        None,
                        format!("file name must be a region: {e}"),
                    ));
                    continue;
                }
            };
            let Some(table) = read_table(&file, &mut errors) else {
                continue;
            };
            if let Some(parsed) = apply_overrides(&file, &table, &definitions, &raw, &mut errors) {
                regional.insert(region, parsed);
            }
        }
    }
    if errors.is_empty() {
        Ok(RuleSet {
            national,
            national_definitions,
            regional,
        })
    } else {
        Err(errors)
    }
}

/// An inhibiting rule must exist and hold a state (a one-shot holds at no moment), and must not
/// be the rule itself.
fn check_inhibitions(raw: &[RawRule], rules: &[Rule], errors: &mut Vec<RuleError>) {
    for r in rules {
        for source in &r.inhibited_by {
            let found = rules.iter().find(|o| o.id == *source);
            let problem = match found {
                None => Some(format!("`{source}` is not a rule")),
                Some(o) if o.id == r.id => Some("a rule cannot inhibit itself".to_owned()),
                Some(o) if o.is_one_shot() => Some(format!(
                    "`{source}` is a one-shot notification; only a state alert can inhibit"
                )),
                _ => None,
            };
            if let Some(message) = problem {
                let file = raw
                    .iter()
                    .find(|x| x.table.get("id").and_then(|v| v.as_str()) == Some(&r.id))
                    .map_or_else(PathBuf::new, |x| x.file.clone());
                errors.push(RuleError::new(
                    &file,
                    Some(&r.id),
                    Some("inhibited_by"),
                    message,
                ));
            }
        }
    }
}

fn apply_overrides(
    file: &Path,
    table: &Table,
    national_definitions: &Table,
    national: &[RawRule],
    errors: &mut Vec<RuleError>,
) -> Option<(Definitions, Vec<Rule>)> {
    let before = errors.len();
    let mut definitions = national_definitions.clone();
    let mut rules: Vec<Table> = national.iter().map(|r| r.table.clone()).collect();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("definitions", toml::Value::Table(t)) => merge_into(&mut definitions, t),
            ("rule", toml::Value::Array(overrides)) => {
                for o in overrides {
                    let Some(o) = o.as_table() else {
                        errors.push(RuleError::new(file, None, Some("rule"), "must be a table"));
                        continue;
                    };
                    let Some(id) = o.get("id").and_then(|v| v.as_str()) else {
                        errors.push(RuleError::new(
                            file,
                            None,
                            Some("id"),
                            "an override names the rule it changes",
                        ));
                        continue;
                    };
                    match rules
                        .iter_mut()
                        .find(|r| r.get("id").and_then(|v| v.as_str()) == Some(id))
                    {
                        Some(rule) => {
                            if let Some(d) = o.get("detector")
                                && rule.get("detector") != Some(d)
                            {
                                let message = "a region cannot change a rule's detector";
                                errors.push(RuleError::new(
                                    file,
                                    Some(id),
                                    Some("detector"),
                                    message,
                                ));
                            }
                            merge_into(rule, o)
                        }
                        None => errors.push(RuleError::new(
                            file,
                            Some(id),
                            None,
                            "no national rule with this id to override",
                        )),
                    }
                }
            }
            (other, _) => errors.push(RuleError::new(
                file,
                None,
                Some(other),
                "unknown key; a region file has [definitions] and [[rule]] tables",
            )),
        }
    }
    let definitions = parse_definitions(file, &definitions, errors);
    let rules: Vec<Rule> = rules
        .iter()
        .filter_map(|t| parse_rule(file, t, errors))
        .collect();
    (errors.len() == before).then_some((definitions, rules))
}

/// Merges `over` into `base`; nested tables (`params`) merge key by key.
fn merge_into(base: &mut Table, over: &Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_into(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn parse_definitions(file: &Path, table: &Table, errors: &mut Vec<RuleError>) -> Definitions {
    match Definitions::deserialize_checked(toml::Value::Table(table.clone())) {
        Ok(d) => d,
        Err((field, message)) => {
            errors.push(RuleError::new(
                file,
                None,
                Some(&format!("definitions.{field}")),
                message,
            ));
            Definitions::default()
        }
    }
}

fn parse_rule(file: &Path, table: &Table, errors: &mut Vec<RuleError>) -> Option<Rule> {
    let id = table.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    match Rule::from_table(table) {
        Ok(rule) => Some(rule),
        Err((field, message)) => {
            errors.push(RuleError::new(file, id.as_deref(), Some(&field), message));
            None
        }
    }
}

fn read_table(file: &Path, errors: &mut Vec<RuleError>) -> Option<Table> {
    match std::fs::read_to_string(file) {
        Ok(text) => parse_table(file, &text, errors),
        Err(e) => {
            errors.push(RuleError::new(file, None, None, e.to_string()));
            None
        }
    }
}

fn parse_table(file: &Path, text: &str, errors: &mut Vec<RuleError>) -> Option<Table> {
    match text.parse::<Table>() {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(RuleError::new(
                file,
                None,
                None,
                e.to_string().trim().to_owned(),
            ));
            None
        }
    }
}

fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}
