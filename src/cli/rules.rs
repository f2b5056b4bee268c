//! `zicht rules check|test` and `zicht replay`: the rules as a region tunes them.

use std::path::Path;

use anyhow::{Context, bail};

use super::RulesCommand;
use crate::config::Settings;
use crate::rules::RuleSet;

pub(super) fn rules(settings: Settings, cmd: RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Check { dir } => {
            let (rules, shown) = match &dir {
                Some(dir) => (load_dir(dir)?, dir.display().to_string()),
                None => (
                    load(&settings.alerts_dir)?,
                    format!(
                        "built-in rules with {} over them",
                        settings.alerts_dir.display()
                    ),
                ),
            };
            println!(
                "{shown}: {} rules, valid; regional overrides: {}",
                rules.len(),
                rules.regions_with_overrides().count()
            );
            Ok(())
        }
        RulesCommand::Test { dir } => {
            let (rules, tests) = match &dir {
                Some(dir) => (load_dir(dir)?, dir.join("tests")),
                None => (
                    load(&settings.alerts_dir)?,
                    settings.alerts_dir.join("tests"),
                ),
            };
            let outcomes =
                crate::rules::tests::run_dir(&tests, &rules).map_err(anyhow::Error::msg)?;
            let failed: Vec<_> = outcomes.iter().filter(|o| !o.failures.is_empty()).collect();
            for o in &failed {
                println!("FAIL {} — {}", o.file.display(), o.name);
                for f in &o.failures {
                    println!("     {f}");
                }
            }
            println!(
                "{} passed, {} failed",
                outcomes.len() - failed.len(),
                failed.len()
            );
            if failed.is_empty() {
                Ok(())
            } else {
                bail!("{} rule tests failed", failed.len())
            }
        }
    }
}

/// The rules in force: built-in national rules with `dir` over them (see [`crate::rules::load`]).
pub(super) fn load(dir: &Path) -> anyhow::Result<RuleSet> {
    crate::rules::load(dir)
        .map(|(rules, _)| rules)
        .map_err(invalid)
}

/// The rules of exactly this directory, which must hold national rule files.
pub(super) fn load_dir(dir: &Path) -> anyhow::Result<RuleSet> {
    crate::rules::load_dir(dir).map_err(invalid)
}

/// Every error found, one per line.
fn invalid(errors: Vec<crate::rules::RuleError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("invalid rules:\n{}", lines.join("\n"))
}

pub(super) fn replay(
    file: &std::path::Path,
    until: Option<crate::domain::LocalDate>,
    rules: &crate::rules::RuleSet,
) -> anyhow::Result<()> {
    use std::io::Write;
    let text = super::read_input(file)?;
    let histories = crate::rules::tests::histories(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let last_day = histories
        .iter()
        .flat_map(|h| {
            h.events
                .iter()
                .map(|e| e.at())
                .chain([h.household.opened_at.start()])
        })
        .max()
        .map(|t| t.local_date());
    let Some(day) = until.or(last_day) else {
        return Ok(());
    };
    // The end of that day in Europe/Amsterdam.
    let next = crate::domain::LocalDate::new(day.date().tomorrow().context("date out of range")?);
    let until = crate::domain::Instant::from_millis(next.start().millis() - 1)
        .map_err(anyhow::Error::msg)?;
    let replayed =
        crate::engine::simulate_all(&histories, |h| rules.for_region(h.household.region), until);
    let mut firings = Vec::new();
    for (history, found) in histories.iter().zip(replayed) {
        for f in found {
            firings.push((f, history.household.id.clone()));
        }
    }
    firings.sort_by(|(a, ha), (b, hb)| {
        a.fired_at
            .cmp(&b.fired_at)
            .then_with(|| ha.cmp(hb))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (f, household) in firings {
        let line = serde_json::json!({
            "rule": f.rule,
            "household": household,
            "fired_at": f.fired_at,
            "resolved_at": f.resolved_at,
            "severity": f.severity,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
