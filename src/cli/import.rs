//! `zicht import FILE`: a history in the interchange format (JSON Lines or CSV) into the database,
//! each household whole, each event once; every rejected line reported. See `docs/import.md`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;

use crate::app::import::{self, Batch, Course};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::{Instant, LocalDate};

/// The form of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

/// One-shots (hermelding, ogen-en-oren, nazorg) of the last week are still news when a history is
/// imported; older ones are recorded as history only.
const FRESH_DAYS: i64 = 7;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file; `-` reads standard input.
    file: PathBuf,
    /// `jsonl` or `csv`; default from the file's extension (`.csv` is CSV, anything else JSON
    /// Lines).
    #[arg(long)]
    format: Option<Format>,
    /// Check and evaluate everything and report it, but store nothing.
    #[arg(long)]
    dry_run: bool,
    /// One-shot alerts dated from this day on are notified; older ones are recorded as history
    /// (default: 7 days ago).
    #[arg(long)]
    notify_since: Option<LocalDate>,
}

pub(super) async fn import(settings: Settings, args: ImportArgs) -> anyhow::Result<()> {
    let text = super::read_input(&args.file)?;
    let now = SystemClock.now();
    let batch = parse(&args.file, args.format, &text)?;
    drop(text);
    let rules = super::rules::load(&settings.alerts_dir)?;
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    let fresh_from = match args.notify_since {
        Some(day) => day.start(),
        None => {
            Instant::from_timestamp(now.timestamp() - SignedDuration::from_hours(24 * FRESH_DAYS))
        }
    };
    let lines: usize = batch.units.iter().map(import::Unit::size).sum();
    // On a terminal only: a progress bar in a log or a pipe is noise.
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(lines as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} lines, {per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let course = Course::History { fresh_from };
    let summary = import::import(&db, &rules, &batch, course, args.dry_run, now, |n| {
        bar.inc(n as u64);
    })
    .await?;
    bar.finish_and_clear();
    db.close().await;
    let seconds = started.elapsed().as_secs_f64();
    for r in &summary.rejected {
        let household = r
            .household
            .as_ref()
            .map_or_else(String::new, |h| format!(" (household {h})"));
        let field = if r.field.is_empty() {
            String::new()
        } else {
            format!("{}: ", r.field)
        };
        eprintln!("line {}{household}: {field}{}", r.line, r.reason);
    }
    if !batch.unattributed.is_empty() {
        eprintln!("a line names no household, so nothing was stored");
    }
    let verb = if args.dry_run {
        "dry run, nothing stored: would import"
    } else {
        "imported"
    };
    println!(
        "{verb} {} events: {} households new, {} extended, {} unchanged, {} skipped; {} events already stored; {} lines rejected; {} past alerts recorded as history, {} firing now",
        summary.events,
        summary.created,
        summary.extended,
        summary.unchanged,
        summary.skipped,
        summary.duplicates,
        summary.rejected.len(),
        summary.alerts.history,
        summary.alerts.firing,
    );
    eprintln!(
        "{lines} lines in {seconds:.1} s ({:.0} lines/s)",
        lines as f64 / seconds.max(0.001)
    );
    if summary.rejected.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} lines rejected", summary.rejected.len())
    }
}

fn parse(file: &Path, format: Option<Format>, text: &str) -> anyhow::Result<Batch> {
    let csv = file
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    match format.unwrap_or(if csv { Format::Csv } else { Format::Jsonl }) {
        Format::Jsonl => Ok(import::parse_json_lines(text)),
        Format::Csv => import::parse_csv(text)
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message)),
    }
}
