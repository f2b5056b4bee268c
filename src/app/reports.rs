//! A concern reported by the *ogen en oren in de wijk*, by household reference. The receipt is
//! the same whether or not the reference is known: it reveals nothing.

use super::audit::{self, AuditAction, Origin};
use super::{AppError, events};
use crate::auth::Authenticated;
use crate::domain::{Event, Instant, Reference, Signal, SignalKind, SignalSource, latest_allowed};
use crate::rules::RuleSet;
use crate::store::{self, Tx};

/// A concern as received, from the API or the web form.
#[derive(Debug, Clone)]
pub struct Report {
    pub reference: Reference,
    pub at: Instant,
    pub kind: SignalKind,
    pub source: SignalSource,
    pub acute: bool,
}

/// What the reporter gets back, and nothing else.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub receipt: String,
    pub received_at: Instant,
}

/// A report is not dated in the future (beyond the clock skew); whether its reference is known
/// plays no part, so the answer reveals nothing.
pub fn check(report: &Report, now: Instant) -> Result<(), events::Problem> {
    if report.at > latest_allowed(now) {
        Err(events::Problem::InFuture)
    } else {
        Ok(())
    }
}

/// Files a report (the caller checked [`crate::auth::policy::Action::ReportSignal`]): attaches
/// it to the household with this reference as a signal, evaluated at once, or keeps it
/// unmatched; keeps `payload`, what the reporter sent, with it; and audits it.
pub async fn file(
    tx: &mut Tx,
    rules: &RuleSet,
    who: &Authenticated,
    report: &Report,
    payload: &str,
    now: Instant,
) -> Result<Receipt, AppError> {
    check(report, now).map_err(|p| AppError::Invalid(vec![p.into()]))?;
    let household = store::household_by_reference(tx, &report.reference).await?;
    let matched = match &household {
        Some(id) => {
            let event = Event::Signal(Signal {
                household: id.clone(),
                at: report.at,
                kind: report.kind,
                source: report.source,
                acute: report.acute,
            });
            let row = events::record_event(tx, rules, Origin::Request(who), &event, now).await?;
            Some((id, row.id))
        }
        None => None,
    };
    let receipt = format!("R-{}", uuid::Uuid::new_v4().simple());
    let row = store::insert_report(
        tx,
        &receipt,
        who.actor.user_id,
        &report.reference,
        matched,
        payload,
        now,
    )
    .await?;
    audit::record_ok(
        tx,
        Origin::Request(who),
        AuditAction::ReportCreate,
        household.as_ref().map(|h| h.as_str()),
        now,
    )
    .await?;
    Ok(Receipt {
        receipt: row.receipt,
        received_at: row.received_at,
    })
}

/// The payload kept for a report that came as form fields: the report in the interchange format.
pub fn payload_of(report: &Report) -> String {
    serde_json::json!({
        "reference": report.reference, "at": report.at, "kind": report.kind,
        "source": report.source, "acute": report.acute,
    })
    .to_string()
}
