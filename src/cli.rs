//! The command line: `zicht serve`, `zicht migrate`, `zicht admin …`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::audit::{self, AuditAction};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::{HouseholdId, PlaceName, Region, Role};
use crate::http::App;
use crate::store::{self, Db};

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
    /// Import households and their events from JSON Lines (the interchange format); each household
    /// is stored whole with its events and evaluated at once.
    Import {
        /// The file; `-` reads standard input.
        file: PathBuf,
    },
    /// Validate the alert rules, or run their tests.
    #[command(subcommand)]
    Rules(RulesCommand),
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
enum RulesCommand {
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
enum AdminCommand {
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
    },
    /// Revoke an API token by its id.
    RevokeToken { id: i64 },
    /// Set a user's password for the web pages (read from standard input, one line; at least 12
    /// characters).
    SetPassword { username: String },
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
            serve(settings, demo).await
        }
        Command::Migrate => {
            let db = Db::connect(&settings.database_url(), 1).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin(cmd) => admin(settings, cmd).await,
        Command::Rules(RulesCommand::Check { dir }) => {
            let dir = dir.unwrap_or(settings.alerts_dir);
            let rules = load_rules(&dir)?;
            println!(
                "{}: {} rules, valid; regional overrides: {}",
                dir.display(),
                rules.len(),
                rules.regions_with_overrides().count()
            );
            Ok(())
        }
        Command::Rules(RulesCommand::Test { dir }) => {
            let dir = dir.unwrap_or(settings.alerts_dir);
            let rules = load_rules(&dir)?;
            let outcomes = crate::rules::tests::run_dir(&dir.join("tests"), &rules)
                .map_err(anyhow::Error::msg)?;
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
        Command::Import { file } => {
            let text = read_input(&file)?;
            let histories = crate::import::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let rules = load_rules(&settings.alerts_dir)?;
            let db = Db::connect(&settings.database_url(), 1).await?;
            db.migrate().await?;
            let total_events: usize = histories.iter().map(|h| h.events.len()).sum();
            eprintln!(
                "importing {} households with {total_events} events",
                histories.len()
            );
            let stored =
                crate::import::import(&db, &rules, &histories, SystemClock.now(), |done, total| {
                    if done == total || done % 50 == 0 {
                        eprintln!("  {done}/{total} households");
                    }
                })
                .await?;
            db.close().await;
            println!(
                "imported {} households and {stored} events",
                histories.len()
            );
            Ok(())
        }
        Command::Replay { file, until, rules } => {
            let rules = load_rules(&rules.unwrap_or(settings.alerts_dir))?;
            replay(&file, until, &rules)
        }
    }
}

/// A file's text, or standard input for `-`.
fn read_input(file: &std::path::Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        Ok(std::io::read_to_string(std::io::stdin())?)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
    }
}

/// Loads the rules, or fails with every error found, one per line.
pub fn load_rules(dir: &std::path::Path) -> anyhow::Result<crate::rules::RuleSet> {
    crate::rules::load_dir(dir).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid rules:\n{}", lines.join("\n"))
    })
}

fn replay(
    file: &std::path::Path,
    until: Option<crate::domain::LocalDate>,
    rules: &crate::rules::RuleSet,
) -> anyhow::Result<()> {
    use std::io::Write;
    let text = read_input(file)?;
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
    let mut firings = Vec::new();
    for history in &histories {
        let effective = rules.for_region(history.household.region);
        for f in crate::engine::simulate(history, effective, until) {
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

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    if let Some(token) = &app.admin_token {
        // Printed to stdout, once, on the first start; never logged.
        println!("admin token: {token}");
    }
    if demo {
        match crate::demo::fill(&app.state).await? {
            Some(users) => {
                println!(
                    "demo: filled with a demo region; sign in at http://{}/inloggen as one of:",
                    app.addr
                );
                for (name, role) in users {
                    println!(
                        "  {name:<16} {:<17} password: {}",
                        role.as_str(),
                        crate::demo::PASSWORD
                    );
                }
            }
            None => println!("demo: the database is not empty; nothing added"),
        }
    }
    tracing::info!(addr = %app.addr, backend = ?app.state.db.backend(), "zicht listening");
    let stop = tokio_util::sync::CancellationToken::new();
    let scheduler = tokio::spawn(crate::alerting::scheduler(app.state.clone(), stop.clone()));
    let deliveries = tokio::spawn(crate::notify::webhook::worker(
        app.state.clone(),
        stop.clone(),
    ));
    tokio::spawn(reload_on_hangup(app.state.clone()));
    let stopping = stop.clone();
    app.run(async move {
        shutdown_signal().await;
        stopping.cancel();
    })
    .await?;
    stop.cancel();
    let _ = scheduler.await;
    let _ = deliveries.await;
    tracing::info!("zicht stopped");
    Ok(())
}

/// `kill -HUP` reloads the rules; an invalid set is refused and the old one stays in force.
async fn reload_on_hangup(state: std::sync::Arc<crate::http::AppState>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            match state.reload_rules().await {
                Ok(n) => tracing::info!(rules = n, "rules reloaded"),
                Err(errors) => {
                    for e in &errors {
                        tracing::error!(error = %e, "rule reload refused; keeping the rules in force");
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = state;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn admin(settings: Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database_url(), 1).await?;
    db.migrate().await?;
    let now = SystemClock.now();
    let mut tx = db.begin_write().await?;
    match cmd {
        AdminCommand::CreateUser {
            username,
            role,
            gemeente,
            region,
        } => {
            let new = crate::http::NewUserRequest {
                username,
                role,
                gemeente,
                region,
            };
            if let Err(errors) = new.check() {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                bail!("{}", lines.join("; "));
            }
            let user = store::create_user(
                &mut tx,
                &new.username,
                new.role,
                new.gemeente.as_ref(),
                new.region,
                now,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            audit::record_cli(&mut tx, AuditAction::UserCreate, None, now).await?;
            println!(
                "created user {} (id {}, role {})",
                user.username, user.id, user.role
            );
        }
        AdminCommand::ListUsers => {
            let mut after = None;
            loop {
                let users = store::list_users(&mut tx, after, 500).await?;
                for u in &users {
                    let place = u
                        .gemeente
                        .as_ref()
                        .map(|g| g.as_str().to_owned())
                        .or(u.region.map(|r| r.to_string()));
                    println!(
                        "{}\t{}\t{}\t{}",
                        u.id,
                        u.username,
                        u.role,
                        place.unwrap_or_default()
                    );
                }
                match users.last() {
                    Some(u) if users.len() == 500 => after = Some(u.id),
                    _ => break,
                }
            }
        }
        AdminCommand::IssueToken { username, name } => {
            let user = store::find_user_by_name(&mut tx, &username)
                .await?
                .with_context(|| format!("no user `{username}`"))?;
            let secret = crate::auth::new_token();
            let token = store::create_token(
                &mut tx,
                user.id,
                &name,
                &crate::auth::token_hash(&secret),
                now,
            )
            .await?;
            audit::record_cli(&mut tx, AuditAction::TokenCreate, None, now).await?;
            println!("token {} for {}: {secret}", token.id, user.username);
        }
        AdminCommand::SetPassword { username } => {
            let user = store::find_user_by_name(&mut tx, &username)
                .await?
                .with_context(|| format!("no user `{username}`"))?;
            eprintln!("New password for {username} (one line):");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 12 {
                bail!("a password has at least 12 characters");
            }
            store::sessions::set_password_hash(
                &mut tx,
                user.id,
                &crate::http::hash_password(password),
            )
            .await?;
            audit::record_cli(&mut tx, AuditAction::UserCreate, None, now).await?;
            println!("password set for {username}");
        }
        AdminCommand::RevokeToken { id } => {
            store::revoke_token(&mut tx, id, now)
                .await?
                .with_context(|| format!("no token {id}"))?;
            audit::record_cli(&mut tx, AuditAction::TokenRevoke, None, now).await?;
            println!("token {id} revoked");
        }
        AdminCommand::Assign {
            household,
            regisseur,
            casemanagers,
        } => {
            store::household(&mut tx, &household)
                .await?
                .with_context(|| format!("no household `{household}`"))?;
            let regisseur = match regisseur {
                Some(name) => Some(user_id_with_role(&mut tx, &name, Role::Regisseur).await?),
                None => None,
            };
            let mut ids = Vec::new();
            for name in &casemanagers {
                ids.push(user_id_with_role(&mut tx, name, Role::Casemanager).await?);
            }
            store::set_assignments(&mut tx, &household, regisseur, &ids, now).await?;
            audit::record_cli(
                &mut tx,
                AuditAction::AssignmentSet,
                Some(household.as_str()),
                now,
            )
            .await?;
            println!("household {household} assigned");
        }
    }
    tx.commit().await?;
    db.close().await;
    Ok(())
}

async fn user_id_with_role(conn: &mut store::Conn, name: &str, role: Role) -> anyhow::Result<i64> {
    store::active_user_with_role(conn, name, role)
        .await?
        .map_err(anyhow::Error::msg)
}
