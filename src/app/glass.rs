//! Break-the-glass (issue 11; DHIS2 has it): Veilig Thuis or the crisis service reads a household
//! of its region that it is not assigned to, in a crisis, for a stated reason and for a few hours
//! ([`crate::config::Settings::break_glass_hours`]). The household's regisseur is told at once;
//! the read is audited as such and kept in its own list for review. It never writes.

use super::AppError;
use super::access::{self, Refusal};
use super::audit::{self, AuditAction, Origin};
use super::notify::Why;
use crate::auth::Authenticated;
use crate::auth::policy::Action;
use crate::domain::{FreeText, HouseholdId, Instant, Relation};
use crate::store::AuditOutcome;
use crate::store::crypt::Keys;
use crate::store::{self, Tx, glass::GlassRow};

/// A reason must say something: at least this many characters.
pub const MIN_REASON_CHARS: usize = 10;

/// A break-the-glass read granted.
#[derive(Debug, Clone)]
pub struct Granted {
    pub household: HouseholdId,
    pub until: Instant,
}

/// Opens a break-the-glass read of household `raw_id` for `who`, in `tx`. A household outside
/// their region answers exactly like one that does not exist (to be audited once `tx` is
/// dropped).
pub async fn open(
    tx: &mut Tx,
    keys: &Keys,
    who: &Authenticated,
    raw_id: &str,
    reason: Option<&str>,
    hours: u32,
) -> Result<Result<Granted, Refusal>, AppError> {
    let refused = |id: &str| access::not_found(id, AuditAction::BreakGlass);
    let Ok(id) = raw_id.parse::<HouseholdId>() else {
        return Ok(Err(refused("")));
    };
    let region = who.actor.region;
    let household = match store::household(tx, &id).await? {
        Some(row) if Some(row.household.region) == region => row.household,
        _ => return Ok(Err(refused(id.as_str()))),
    };
    let reason = reason_of(reason)?;
    let now = who.at;
    let until = Instant::from_timestamp(
        now.timestamp() + jiff::SignedDuration::from_hours(i64::from(hours)),
    );
    let glass = store::glass::open(
        tx,
        keys,
        who.actor.user_id,
        &household.id,
        &reason,
        now,
        until,
    )
    .await?;
    for a in store::assignments(tx, &household.id).await? {
        if a.relation == Relation::Regisseur {
            store::notify::insert_household_notice(
                tx,
                a.user_id,
                &household.id,
                Why::BreakGlass,
                now,
            )
            .await?;
        }
    }
    // The why: the stated reason, by the read it opened (the reason stays there, with the
    // household's other free text).
    audit::record_as(
        tx,
        Origin::Request(who),
        AuditAction::BreakGlass,
        Some(household.id.as_str()),
        AuditOutcome::Ok,
        Some(&format!("glass:{glass}")),
        now,
    )
    .await?;
    Ok(Ok(Granted {
        household: household.id,
        until,
    }))
}

fn reason_of(reason: Option<&str>) -> Result<FreeText, AppError> {
    let short = format!(
        "state why you must read this household without an assignment, in at least {MIN_REASON_CHARS} characters"
    );
    match reason.map(str::parse::<FreeText>) {
        Some(Ok(text)) if text.as_str().chars().count() >= MIN_REASON_CHARS => Ok(text),
        Some(Err(e)) if reason.is_some_and(|r| !r.trim().is_empty()) => {
            Err(AppError::invalid("reason", e.to_string()))
        }
        _ => Err(AppError::invalid("reason", short)),
    }
}

/// The break-the-glass reads, newest first, for review: all of them for an admin; of one
/// household for an admin or its regisseur.
pub async fn review(
    conn: &mut store::Conn,
    keys: &Keys,
    who: &Authenticated,
    household: Option<&str>,
) -> Result<Result<Vec<GlassRow>, Refusal>, AppError> {
    let rows = match household {
        None => {
            if !crate::auth::policy::allows(&who.actor, Action::ReviewBreakGlass, &[]) {
                return Ok(Err(access::forbidden(AuditAction::BreakGlassList)));
            }
            store::glass::list(conn, keys, None, 500).await?
        }
        Some(raw) => {
            let id = match access::household(
                conn,
                who,
                raw,
                Action::ReviewBreakGlass,
                AuditAction::BreakGlassList,
            )
            .await?
            {
                Ok(id) => id,
                Err(refusal) => return Ok(Err(refusal)),
            };
            store::glass::list(conn, keys, Some(&id), 500).await?
        }
    };
    audit::record_ok(
        conn,
        Origin::Request(who),
        AuditAction::BreakGlassList,
        household,
        who.at,
    )
    .await?;
    Ok(Ok(rows))
}
