//! `zicht export WHAT --as USERNAME`: households, events or alerts as JSON Lines or CSV, as that
//! user may see them; see `docs/import.md`. `zicht export household ID --purpose CASE`: everything
//! stored about one household, for a subject-access request (docs/security.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::import::Format;
use crate::app::export::{self, Options, What};
use crate::app::interchange::CSV_COLUMNS;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Households,
    Events,
    Alerts,
    /// One household, everything stored about it (subject access): `household ID --purpose CASE`.
    Household,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// `households`, `events` (each household's line and its events: the interchange format) or
    /// `alerts`.
    what: Kind,
    /// With `household`: its id.
    id: Option<String>,
    /// With `household`: why, as a case number or label (kept in the audit log).
    #[arg(long)]
    purpose: Option<String>,
    /// The user whose access decides which households, and how much of each, are exported.
    #[arg(long = "as", value_name = "USERNAME", required_unless_present = "id")]
    username: Option<String>,
    /// `jsonl` (default) or `csv`.
    #[arg(long, default_value = "jsonl")]
    format: Format,
    /// Write here instead of to standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keyed pseudonyms (HMAC-SHA256) instead of household ids and references; the key comes from
    /// `--key-file` or `ZICHT_EXPORT_KEY` (at least 16 characters).
    #[arg(long)]
    pseudonymise: bool,
    /// The file holding the pseudonym key.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Keep free text (score reasons, descriptions); left out by default.
    #[arg(long)]
    with_text: bool,
}

/// The shortest key accepted: 16 characters, 128 bits when random.
const MIN_KEY: usize = 16;

pub(super) async fn export(settings: Settings, args: ExportArgs) -> anyhow::Result<()> {
    if let Kind::Household = args.what {
        return subject_access(settings, &args).await;
    }
    anyhow::ensure!(args.id.is_none(), "an id is given with `household` only");
    let username = args.username.clone().unwrap_or_default();
    let pseudonym_key = if args.pseudonymise {
        let key = match &args.key_file {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
            None => std::env::var("ZICHT_EXPORT_KEY").unwrap_or_default(),
        };
        let key = key.trim().as_bytes().to_vec();
        anyhow::ensure!(
            key.len() >= MIN_KEY,
            "--pseudonymise needs a key of at least {MIN_KEY} characters (--key-file or ZICHT_EXPORT_KEY)"
        );
        Some(key)
    } else {
        None
    };
    let what = match args.what {
        Kind::Households => What::Households,
        Kind::Events => What::Events,
        Kind::Alerts => What::Alerts,
        Kind::Household => unreachable!("answered above"),
    };
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    let mut conn = db.acquire().await?;
    let user = crate::store::find_user_by_name(&mut conn, &username)
        .await?
        .filter(|u| u.active)
        .with_context(|| format!("no active user `{username}`"))?;
    drop(conn);
    let out: Box<dyn Write> = match &args.out {
        Some(file) => Box::new(std::fs::File::create(file)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let columns: Vec<&str> = match what {
        What::Alerts => vec![
            "household",
            "rule",
            "one_shot",
            "severity",
            "state",
            "since",
            "fired_at",
            "resolved_at",
        ],
        _ => CSV_COLUMNS.iter().copied().chain(["status"]).collect(),
    };
    let out = std::io::BufWriter::new(out);
    let mut sink = match args.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&columns)?;
            Sink::Csv(Box::new(w))
        }
        Format::Jsonl => Sink::Jsonl(out),
    };
    let options = Options {
        what,
        pseudonym_key,
        with_text: args.with_text,
    };
    let now = SystemClock.now();
    let done = export::export(&db, &user.into(), &options, now, |record| match &mut sink {
        Sink::Jsonl(out) => {
            serde_json::to_writer(&mut *out, &record)?;
            out.write_all(b"\n")
        }
        Sink::Csv(w) => {
            let cells = columns.iter().map(|c| match record.get(*c) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            });
            Ok(w.write_record(cells)?)
        }
    })
    .await?;
    match &mut sink {
        Sink::Jsonl(out) => out.flush()?,
        Sink::Csv(w) => w.flush()?,
    }
    db.close().await;
    eprintln!(
        "exported {} records of {} households",
        done.records, done.households
    );
    Ok(())
}

/// `zicht export household ID --purpose CASE`: one JSON document, to `--out` or standard output.
async fn subject_access(settings: Settings, args: &ExportArgs) -> anyhow::Result<()> {
    let (Some(id), Some(purpose)) = (&args.id, &args.purpose) else {
        anyhow::bail!("usage: zicht export household ID --purpose CASE [--out FILE]");
    };
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    let document = crate::app::privacy::subject_access(&db, id, purpose, SystemClock.now()).await?;
    db.close().await;
    let text = serde_json::to_string_pretty(&document)?;
    match &args.out {
        Some(file) => std::fs::write(file, text + "\n")
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => println!("{text}"),
    }
    eprintln!("household {id} exported for subject access ({purpose}); audited");
    Ok(())
}

enum Sink {
    Jsonl(std::io::BufWriter<Box<dyn Write>>),
    Csv(Box<csv::Writer<std::io::BufWriter<Box<dyn Write>>>>),
}
