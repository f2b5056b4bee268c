//! `zicht admin …`: users, tokens and assignments on this machine's database, through the same
//! use cases as the API, audited as the operator's.

use anyhow::Context;

use super::AdminCommand;
use crate::app::audit::Origin;
use crate::app::{AppError, events, users};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::store;

pub(super) async fn admin(settings: Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    let db = crate::app::open_db(&settings, 1).await?;
    db.migrate().await?;
    let now = SystemClock.now();
    let mut tx = db.begin_write().await?;
    let by = Origin::Operator;
    match cmd {
        AdminCommand::CreateUser {
            username,
            role,
            gemeente,
            region,
        } => {
            let new = users::NewUser {
                username,
                role,
                gemeente,
                region,
            };
            let user = users::create_user(&mut tx, by, &new, now)
                .await
                .map_err(refused)?;
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
        AdminCommand::IssueToken {
            username,
            name,
            days,
        } => {
            let user = store::find_user_by_name(&mut tx, &username)
                .await?
                .with_context(|| format!("no user `{username}`"))?;
            let lifetime = users::TokenLifetime {
                days,
                default_days: settings.token_days,
            };
            let (token, secret) = users::issue_token(&mut tx, by, user.id, &name, lifetime, now)
                .await
                .map_err(refused)?;
            println!(
                "token {} for {} (expires {}): {secret}",
                token.id,
                user.username,
                token.expires_at.to_wire()
            );
        }
        AdminCommand::Deactivate { username } => {
            let user = store::find_user_by_name(&mut tx, &username)
                .await?
                .with_context(|| format!("no user `{username}`"))?;
            users::deactivate(&mut tx, by, user.id, now)
                .await
                .map_err(refused)?;
            println!("{username} deactivated: sessions ended, tokens revoked");
        }
        AdminCommand::SetPassword { username } => {
            let user = store::find_user_by_name(&mut tx, &username)
                .await?
                .with_context(|| format!("no user `{username}`"))?;
            eprintln!("New password for {username} (one line):");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            users::set_password(&mut tx, by, user.id, password, now)
                .await
                .map_err(refused)?;
            println!("password set for {username}");
        }
        AdminCommand::RevokeToken { id } => {
            users::revoke_token(&mut tx, by, id, now)
                .await
                .map_err(refused)?;
            println!("token {id} revoked");
        }
        AdminCommand::Unlock { username } => {
            let unlocked = users::unlock(&mut tx, by, &username, now)
                .await
                .map_err(refused)?;
            if unlocked {
                println!("{username} unlocked");
            } else {
                println!("{username} was not locked");
            }
        }
        AdminCommand::Assign {
            household,
            regisseur,
            casemanagers,
        } => {
            let wanted = events::Assignments {
                regisseur,
                casemanagers,
            };
            let rules = super::rules::load(&settings.alerts_dir)?;
            events::set_assignments(&mut tx, &rules, by, &household, &wanted, now)
                .await
                .map_err(refused)?;
            println!("household {household} assigned");
        }
    }
    tx.commit().await?;
    db.close().await;
    Ok(())
}

/// A refusal of the application core as one line for the terminal.
fn refused(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("{}", lines.join("; "))
        }
        AppError::NotFound(what) => anyhow::anyhow!("no such {what}"),
        AppError::Store(e) => e.into(),
        other => anyhow::anyhow!("{other}"),
    }
}
