//! The AVG's (GDPR's) two duties on stored data, for the operator: everything about one household
//! for a subject-access request ([`subject_access`], `zicht export household ID`), and the
//! retention period after which a closed trajectory is anonymised ([`retention`],
//! `zicht retention run`). See docs/security.md.

use serde_json::{Value, json};

use super::audit::{self, AuditAction, Origin};
use crate::domain::{HouseholdId, Instant, Region};
use crate::store::{self, AuditOutcome, Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("no household {0}")]
    NotFound(String),
    #[error(
        "the purpose is a short case number or label (letters, digits, `.`, `_`, `:`, `-`; at most \
         64), never a name or free text: it is kept in the audit log"
    )]
    Purpose,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A purpose as the audit log keeps it: a case number or a label, never free text.
fn purpose_of(purpose: &str) -> Result<&str, PrivacyError> {
    let ok = !purpose.is_empty()
        && purpose.len() <= 64
        && purpose
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if ok {
        Ok(purpose)
    } else {
        Err(PrivacyError::Purpose)
    }
}

/// Everything stored about household `raw_id`, as one JSON document: the household, its events
/// (free text decrypted), its alerts with their transitions and decisions, its assignments, the
/// break-the-glass reads and reports about it, and its access log. Audited on the household with
/// `purpose` (`subject_access:<purpose>`).
pub async fn subject_access(
    db: &Db,
    raw_id: &str,
    purpose: &str,
    now: Instant,
) -> Result<Value, PrivacyError> {
    let purpose = purpose_of(purpose)?;
    let id: HouseholdId = raw_id
        .parse()
        .map_err(|_| PrivacyError::NotFound(raw_id.to_owned()))?;
    let keys = db.keys();
    let mut conn = db.acquire().await?;
    let Some(row) = store::household(&mut conn, &id).await? else {
        return Err(PrivacyError::NotFound(raw_id.to_owned()));
    };
    let events: Vec<Value> = store::timeline(&mut conn, keys, &id, None, i64::MAX)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id,
                "event": e.event,
                "recorded_at": e.recorded_at.to_wire(),
                "recorded_by": e.recorded_by,
            })
        })
        .collect();
    let mut alerts = Vec::new();
    for a in store::bulk::alerts(&mut conn, &id).await? {
        let transitions: Vec<Value> = store::transitions(&mut conn, keys, a.id)
            .await?
            .into_iter()
            .map(|t| {
                json!({
                    "at": t.at.to_wire(),
                    "from": t.from,
                    "to": t.to,
                    "why": t.why.as_str(),
                    "actor": t.actor,
                    "decision": t.decision,
                    "specialism": t.specialism,
                    "reason": t.reason,
                    "silenced_until": t.silenced_until.map(Instant::to_wire),
                })
            })
            .collect();
        alerts.push(json!({
            "id": a.id,
            "rule": a.rule,
            "state": a.state.as_str(),
            "severity": a.severity,
            "advice": a.advice,
            "since": a.since.to_wire(),
            "fired_at": a.fired_at.to_wire(),
            "resolved_at": a.resolved_at.map(Instant::to_wire),
            "evidence": a.evidence,
            "transitions": transitions,
        }));
    }
    let assignments: Vec<Value> = store::assignments(&mut conn, &id)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "username": a.username,
                "relation": a.relation,
                "assigned_at": a.assigned_at.to_wire(),
            })
        })
        .collect();
    let glass: Vec<Value> = store::glass::list(&mut conn, keys, Some(&id), i64::MAX)
        .await?
        .into_iter()
        .map(|g| {
            json!({
                "username": g.username,
                "reason": g.reason.as_str(),
                "opened_at": g.opened_at.to_wire(),
                "until": g.until.to_wire(),
            })
        })
        .collect();
    let reports: Vec<Value> = store::reports_of(&mut conn, keys, &id)
        .await?
        .into_iter()
        .map(|(receipt, payload)| {
            let payload = serde_json::from_str(&payload).unwrap_or(Value::String(payload));
            json!({"receipt": receipt, "report": payload})
        })
        .collect();
    let access: Vec<Value> = store::list_audit(&mut conn, Some(id.as_str()), None, i64::MAX)
        .await?
        .into_iter()
        .rev()
        .map(|r| {
            json!({
                "at": r.at.to_wire(),
                "actor": r.actor,
                "action": r.action,
                "outcome": r.outcome,
                "purpose": r.purpose,
            })
        })
        .collect();
    drop(conn);
    let mut tx = db.begin_write().await?;
    audit::record_as(
        &mut tx,
        Origin::Operator,
        AuditAction::SubjectAccess,
        Some(id.as_str()),
        AuditOutcome::Ok,
        Some(&format!("subject_access:{purpose}")),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(json!({
        "household": row.household,
        "status": row.status.as_str(),
        "created_at": row.created_at.to_wire(),
        "updated_at": row.updated_at.to_wire(),
        "events": events,
        "alerts": alerts,
        "assignments": assignments,
        "break_glass": glass,
        "reports": reports,
        "access_log": access,
        "exported_at": now.to_wire(),
        "purpose": purpose,
    }))
}

/// A closed trajectory past its region's retention period.
#[derive(Debug, Clone)]
pub struct Expired {
    pub household: HouseholdId,
    pub region: Region,
    pub closed_at: Instant,
    pub events: i64,
    pub alerts: i64,
}

/// What a retention run found and, unless it was a dry run, anonymised.
#[derive(Debug, Clone, Default)]
pub struct Retained {
    pub expired: Vec<Expired>,
    pub anonymised: bool,
    /// Saved responses of idempotent requests removed (older than [`SAVED_RESPONSE_DAYS`]).
    pub saved_responses: u64,
}

/// How long a saved response of an idempotent request is kept: a client retries within minutes,
/// and the response may echo free text.
pub const SAVED_RESPONSE_DAYS: i64 = 30;

/// Finds the closed trajectories whose closure lies more than their region's retention period
/// (`years_of(region)`) before `now`, and anonymises them unless `dry_run`: each household's
/// events, reports, break-the-glass reads, assignments and notifications removed, its reference
/// and wijk cleared, its decisions' reasons removed; its alerts (without their evidence) and its
/// audit rows stay. One audit row per household, `retention:<years>y`. Saved responses older than
/// [`SAVED_RESPONSE_DAYS`] are removed too.
pub async fn retention(
    db: &Db,
    years_of: impl Fn(Region) -> u32,
    dry_run: bool,
    now: Instant,
) -> Result<Retained, PrivacyError> {
    let mut conn = db.acquire().await?;
    let closed = store::retention::closed(&mut conn).await?;
    drop(conn);
    let mut out = Retained {
        anonymised: !dry_run,
        ..Retained::default()
    };
    for c in closed {
        let years = years_of(c.region);
        let limit = now
            .timestamp()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_sub(jiff::Span::new().years(i64::from(years)))
            .map(|z| Instant::from_timestamp(z.timestamp()));
        let Ok(limit) = limit else { continue };
        if c.closed_at >= limit {
            continue;
        }
        if !dry_run {
            let mut tx = db.begin_write().await?;
            store::retention::anonymise(&mut tx, &c.household, now).await?;
            audit::record_as(
                &mut tx,
                Origin::Operator,
                AuditAction::Retention,
                Some(c.household.as_str()),
                AuditOutcome::Ok,
                Some(&format!("retention:{years}y")),
                now,
            )
            .await?;
            tx.commit().await.map_err(StoreError::from)?;
        }
        out.expired.push(Expired {
            household: c.household,
            region: c.region,
            closed_at: c.closed_at,
            events: c.events,
            alerts: c.alerts,
        });
    }
    if !dry_run {
        let before = Instant::from_timestamp(
            now.timestamp() - jiff::SignedDuration::from_hours(24 * SAVED_RESPONSE_DAYS),
        );
        let mut tx = db.begin_write().await?;
        out.saved_responses = store::retention::forget_saved_responses(&mut tx, before).await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    Ok(out)
}
