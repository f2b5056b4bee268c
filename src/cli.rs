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
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage users, tokens and assignments on this machine's database.
    #[command(subcommand)]
    Admin(AdminCommand),
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
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            serve(settings).await
        }
        Command::Migrate => {
            let db = Db::connect(&settings.database_url(), 1).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin(cmd) => admin(settings, cmd).await,
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    if let Some(token) = &app.admin_token {
        // Printed to stdout, once, on the first start; never logged.
        println!("admin token: {token}");
    }
    tracing::info!(addr = %app.addr, backend = ?app.state.db.backend(), "zicht listening");
    app.run(shutdown_signal()).await?;
    tracing::info!("zicht stopped");
    Ok(())
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
    match store::find_user_by_name(conn, name).await? {
        Some(u) if u.role == role && u.active => Ok(u.id),
        Some(_) => bail!("`{name}` is not an active user with role {role}"),
        None => bail!("no user `{name}`"),
    }
}
