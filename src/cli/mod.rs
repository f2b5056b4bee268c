//! The command line: `zicht serve`, `zicht migrate`, `zicht admin …`, `zicht import`,
//! `zicht rules …`, `zicht audit …`, `zicht keys rotate`, `zicht retention run` and `zicht replay`. One file per group of subcommands; each translates
//! between the terminal and the application core.

mod admin;
mod audit;
mod export;
mod import;
mod keys;
mod retention;
mod rules;
mod serve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::{HouseholdId, PlaceName, Region, Role};

#[derive(Debug, Parser)]
#[command(
    name = "zicht",
    version,
    about = "Keeps sight of safety in households with structural domestic violence"
)]
pub struct Cli {
    /// Configuration file (TOML); default `./zicht.toml` when it exists, or `ZICHT_CONFIG`.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: migrate the database, then serve the API.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080, or `ZICHT_LISTEN`).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Fill an empty database with a demo region and demo users (password `demo-wachtwoord`)
        /// to click through.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage users, tokens and assignments on this machine's database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import households and their events (JSON Lines or CSV in the interchange format): each
    /// household whole, each event once (a second import of a file stores nothing new), past
    /// alerts recorded as history; every rejected line is reported. See docs/import.md.
    Import(import::ImportArgs),
    /// Export households, events or alerts (JSON Lines or CSV) as a user may see them, for audits
    /// and research: keyed pseudonyms with --pseudonymise, free text only with --with-text.
    Export(export::ExportArgs),
    /// Validate the alert rules, or run their tests.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Check the audit log's hash chain, or print its head.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Anonymise closed trajectories past their region's retention period (AVG).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Manage the key that seals free text (see docs/security.md).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the alerts that would have fired on a history of events (JSON Lines), one JSON line
    /// per firing: the backtest for tuning a region's thresholds.
    Replay {
        /// Events in the interchange format, one JSON object per line; `-` reads standard input.
        file: PathBuf,
        /// Evaluate time-based rules up to the end of this date (default: the last event's date).
        #[arg(long)]
        until: Option<crate::domain::LocalDate>,
        /// Rules directory (default: the configured alerts directory).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Validate the rule files; errors name the file, the rule and the field.
    Check {
        /// Rules directory (default: the configured alerts directory).
        dir: Option<PathBuf>,
    },
    /// Run the rule tests in `<DIR>/tests` and print `N passed, N failed`.
    Test {
        /// Rules directory (default: the configured alerts directory).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the whole chain; names the first broken row and exits non-zero when it is broken.
    Verify {
        /// A head printed earlier (its hash): it must still be in the chain.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print the head of the chain: the last row's id, its number in the chain and its hash.
    Head,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCommand {
    /// Anonymise every closed trajectory whose closure lies longer ago than its region's retention
    /// period; audited per household.
    Run {
        /// Only list what would be anonymised (households and counts, no free text).
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new key and seal every stored text again under it, in batches; the old key stays
    /// readable until the last text is done (run again to resume). Stop the service first.
    Rotate {
        /// Texts per transaction.
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create a user.
    CreateUser {
        username: String,
        /// casemanager, regisseur, specialist, gemeente_monitor, signal_reporter or admin.
        #[arg(long)]
        role: Role,
        /// The gemeente a gemeente_monitor watches.
        #[arg(long)]
        gemeente: Option<PlaceName>,
        /// The region a specialist serves.
        #[arg(long)]
        region: Option<Region>,
    },
    /// List users.
    ListUsers,
    /// Issue an API token for a user and print it (shown once).
    IssueToken {
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until it expires (1 to 366; default `token_days`, 90).
        #[arg(long)]
        days: Option<u32>,
    },
    /// Deactivate a user: their sessions end, their tokens are revoked, they sign in no more.
    Deactivate { username: String },
    /// Revoke an API token by its id.
    RevokeToken { id: i64 },
    /// Set a user's password for the web pages (read from standard input, one line; at least 12
    /// characters).
    SetPassword { username: String },
    /// Lift the sign-in lock of an account name (after too many failed sign-ins); it also lifts
    /// by itself after `sign_in_lockout_minutes`.
    Unlock { username: String },
    /// Set the regisseur and casemanagers of a household.
    Assign {
        household: HouseholdId,
        #[arg(long)]
        regisseur: Option<String>,
        #[arg(long = "casemanager")]
        casemanagers: Vec<String>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(settings.log_json);
    match cli.command {
        Command::Serve { listen, demo } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            serve::serve(settings, demo).await
        }
        Command::Migrate => {
            let db = crate::app::open_db(&settings, 1).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin(cmd) => admin::admin(settings, cmd).await,
        Command::Rules(cmd) => rules::rules(settings, cmd),
        Command::Audit(cmd) => audit::audit(settings, cmd).await,
        Command::Keys(cmd) => keys::keys(settings, cmd).await,
        Command::Retention(RetentionCommand::Run { dry_run }) => {
            retention::run(settings, dry_run).await
        }
        Command::Import(args) => import::import(settings, args).await,
        Command::Export(args) => export::export(settings, args).await,
        Command::Replay { file, until, rules } => {
            let rules = match rules {
                Some(dir) => rules::load_dir(&dir)?,
                None => rules::load(&settings.alerts_dir)?,
            };
            rules::replay(&file, until, &rules)
        }
    }
}

/// A file's text, or standard input for `-`.
fn read_input(file: &Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        Ok(std::io::read_to_string(std::io::stdin())?)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
    }
}
