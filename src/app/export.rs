//! `zicht export`: households, their events and their alerts for audits and research, as the
//! user it runs as may see them (the policy decides which households, and how much of each),
//! with keyed pseudonyms instead of household ids and references when asked, and without free
//! text unless asked. Every household exported is audited as read by that user.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::audit::{self, AuditAction};
use super::{AppError, events};
use crate::auth::policy::{self, Action, HouseholdScope};
use crate::auth::{Actor, Authenticated};
use crate::domain::Instant;
use crate::store::{self, AuditOutcome, Db, HouseholdFilter, StoreError};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// One line per household.
    Households,
    /// Each household's line followed by its events: the interchange format, which `zicht import`
    /// reads back (unless pseudonymised).
    Events,
    /// One line per alert.
    Alerts,
}

/// How to export.
#[derive(Debug, Clone)]
pub struct Options {
    pub what: What,
    /// The key of the pseudonyms; `None` exports ids and references as they are.
    pub pseudonym_key: Option<Vec<u8>>,
    /// Keep free text (reasons, descriptions); left out by default.
    pub with_text: bool,
}

/// The fields of events that hold free text.
const FREE_TEXT: &[&str] = &["reason", "description"];

/// A keyed pseudonym: HMAC-SHA256 of the value under the export key, the first 10 bytes in hex.
/// The same key gives the same pseudonym in every export, so exports can be joined; without the
/// key nobody holding ids can recompute it.
pub fn pseudonym(key: &[u8], prefix: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(value.as_bytes());
    format!(
        "{prefix}-{}",
        store::hex(&mac.finalize().into_bytes()[..10]).to_uppercase()
    )
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exported {
    pub households: usize,
    pub records: usize,
}

/// Exports as `actor`: each record is passed to `write` as a JSON object. A role that lists no
/// households is refused (and audited as refused); an admin gets every household's metadata
/// only (id, region, gemeente, status), no events and no alerts.
pub async fn export(
    db: &Db,
    actor: &Actor,
    options: &Options,
    now: Instant,
    mut write: impl FnMut(Map<String, Value>) -> std::io::Result<()>,
) -> Result<Exported, ExportError> {
    let who = Authenticated {
        actor: actor.clone(),
        request_id: "export".into(),
        at: now,
    };
    let mut conn = db.acquire().await?;
    let Some(scope) = policy::household_scope(actor) else {
        audit::record(
            &mut conn,
            &who,
            AuditAction::HouseholdList,
            None,
            AuditOutcome::Denied,
            now,
        )
        .await?;
        return Err(AppError::Forbidden.into());
    };
    audit::record(
        &mut conn,
        &who,
        AuditAction::HouseholdList,
        None,
        AuditOutcome::Ok,
        now,
    )
    .await?;
    let visible_to = match scope {
        HouseholdScope::All => None,
        HouseholdScope::Assigned => Some(actor.user_id),
    };
    let hide = |prefix: &str, value: &str| match &options.pseudonym_key {
        Some(key) => pseudonym(key, prefix, value),
        None => value.to_owned(),
    };
    let mut done = Exported::default();
    let mut after: Option<String> = None;
    loop {
        let page = store::list_households(
            &mut conn,
            &HouseholdFilter::default(),
            visible_to,
            after.as_deref(),
            500,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.household.id.as_str().to_owned());
        for row in page {
            let id = row.household.id.clone();
            let relations = store::relation_of(&mut conn, id.as_str(), actor.user_id).await?;
            let full = policy::allows(actor, Action::ReadHousehold, &relations);
            let mut household = Map::new();
            household.insert("type".into(), "household".into());
            household.insert("id".into(), hide("P", id.as_str()).into());
            household.insert("region".into(), row.household.region.as_str().into());
            household.insert("gemeente".into(), row.household.gemeente.as_str().into());
            // The events export is the interchange format, which `zicht import` and `zicht replay`
            // read back: a household's status there follows from its closure events.
            if options.what == What::Households {
                household.insert("status".into(), row.status.as_str().into());
            }
            if full {
                let h = &row.household;
                if let Some(r) = &h.reference {
                    household.insert("reference".into(), hide("R", r.as_str()).into());
                }
                if let Some(w) = &h.wijk {
                    household.insert("wijk".into(), w.as_str().into());
                }
                household.insert("minor_children".into(), h.minor_children.into());
                household.insert("opened_at".into(), h.opened_at.to_wire().into());
            }
            if options.what != What::Alerts {
                write(household)?;
                done.records += 1;
            }
            done.households += 1;
            if !full {
                continue;
            }
            match options.what {
                What::Households => {}
                What::Events => {
                    let Some((history, ids)) = events::history(&mut conn, db.keys(), &id).await?
                    else {
                        continue;
                    };
                    for (event, stored) in history.events.iter().zip(ids) {
                        let Value::Object(mut e) =
                            serde_json::to_value(event).map_err(|e| store::corrupt("event", e))?
                        else {
                            continue;
                        };
                        e.insert("household".into(), hide("P", id.as_str()).into());
                        if options.pseudonym_key.is_none() {
                            e.insert("id".into(), format!("zicht-{stored}").into());
                        }
                        if !options.with_text {
                            for field in FREE_TEXT {
                                e.remove(*field);
                            }
                        }
                        write(e)?;
                        done.records += 1;
                    }
                }
                What::Alerts => {
                    for a in store::bulk::alerts(&mut conn, &id).await? {
                        let mut alert = Map::new();
                        alert.insert("household".into(), hide("P", id.as_str()).into());
                        alert.insert("rule".into(), a.rule.into());
                        alert.insert("one_shot".into(), a.one_shot.into());
                        alert.insert("severity".into(), a.severity.as_str().into());
                        alert.insert("state".into(), a.state.as_str().into());
                        alert.insert("since".into(), a.since.to_wire().into());
                        alert.insert("fired_at".into(), a.fired_at.to_wire().into());
                        let resolved = a.resolved_at.map(Instant::to_wire);
                        alert.insert("resolved_at".into(), resolved.into());
                        write(alert)?;
                        done.records += 1;
                    }
                }
            }
            let action = match options.what {
                What::Households => AuditAction::HouseholdRead,
                What::Events => AuditAction::TimelineRead,
                What::Alerts => AuditAction::AlertList,
            };
            audit::record(
                &mut conn,
                &who,
                action,
                Some(id.as_str()),
                AuditOutcome::Ok,
                now,
            )
            .await?;
        }
    }
    Ok(done)
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}
