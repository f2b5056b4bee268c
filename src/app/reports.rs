//! A concern reported by the *ogen en oren in de wijk*, by household reference. The receipt is
//! the same whether or not the reference is known, and so is the work behind it: [`file`] only
//! stores the report, and [`attach_pending`] (the scheduler, right after) looks the reference up
//! and attaches the report to its household as a signal. Timing a report says nothing about the
//! reference either.

use serde::{Deserialize, Serialize};

use super::audit::{self, AuditAction, Origin};
use super::limits::Limits;
use super::{AppError, AppState, events};
use crate::auth::Authenticated;
use crate::domain::{Event, Instant, Reference, Signal, SignalKind, SignalSource, latest_allowed};
use crate::store::{self, StoreError, Tx};

/// A concern as received, from the API or the web form; its payload in the interchange format.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Files a report (the caller checked [`crate::auth::policy::Action::ReportSignal`]) within the
/// reporter's and the reference's rate limits, keeping `payload`, what the reporter sent, with
/// it; audits it. Matching it to a household is [`attach_pending`]'s work, after the answer.
pub async fn file(
    tx: &mut Tx,
    keys: &store::crypt::Keys,
    limits: &Limits,
    who: &Authenticated,
    report: &Report,
    payload: &str,
    now: Instant,
) -> Result<Receipt, AppError> {
    check(report, now).map_err(|p| AppError::Invalid(vec![p.into()]))?;
    limits.report(who.actor.user_id, report.reference.as_str())?;
    let receipt = format!("R-{}", uuid::Uuid::new_v4().simple());
    let row = store::insert_report(
        tx,
        keys,
        &receipt,
        who.actor.user_id,
        &report.reference,
        payload,
        now,
    )
    .await?;
    audit::record_ok(
        tx,
        Origin::Request(who),
        AuditAction::ReportCreate,
        None,
        now,
    )
    .await?;
    Ok(Receipt {
        receipt: row.receipt,
        received_at: row.received_at,
    })
}

/// Attaches the reports filed since the last run to the households with their references, each
/// as a signal recorded by its reporter and evaluated at once; a report with an unknown reference
/// is kept unmatched. Safe to run on several instances at once. Returns how many were attached.
pub async fn attach_pending(app: &AppState, now: Instant) -> Result<usize, StoreError> {
    let mut attached = 0;
    loop {
        let batch = {
            let mut conn = app.db.acquire().await?;
            store::unchecked_reports(&mut conn, app.db.keys(), 20).await?
        };
        if batch.is_empty() {
            break;
        }
        for report in &batch {
            if attach(app, report, now).await? {
                attached += 1;
            }
        }
    }
    if attached > 0 {
        app.notified();
    }
    Ok(attached)
}

async fn attach(
    app: &AppState,
    report: &store::UncheckedReport,
    now: Instant,
) -> Result<bool, StoreError> {
    let mut tx = app.db.begin_write().await?;
    if !store::claim_report(&mut tx, &report.receipt, now).await? {
        return Ok(false);
    }
    let parsed: Option<Report> = serde_json::from_str(&report.payload).ok();
    let reporter = store::user(&mut tx, report.reporter_id).await?;
    let (Some(parsed), Some(reporter)) = (parsed, reporter) else {
        tracing::warn!(receipt = %report.receipt, "a stored report cannot be read; kept unmatched");
        tx.commit().await?;
        return Ok(false);
    };
    let Some(household) = store::household_by_reference(&mut tx, &parsed.reference).await? else {
        tx.commit().await?;
        return Ok(false);
    };
    let who = Authenticated {
        actor: reporter.into(),
        // Ties the signal's audit row to the report.
        request_id: report.receipt.clone(),
        at: now,
    };
    let event = Event::Signal(Signal {
        household: household.clone(),
        at: parsed.at,
        kind: parsed.kind,
        source: parsed.source,
        acute: parsed.acute,
    });
    match events::record_event(
        &mut tx,
        app.db.keys(),
        &app.rules(),
        Origin::Request(&who),
        &event,
        now,
    )
    .await
    {
        Ok(row) => {
            store::report_matched(&mut tx, &report.receipt, &household, row.id).await?;
            tx.commit().await?;
            Ok(true)
        }
        Err(AppError::Store(e)) => Err(e),
        Err(refused) => {
            // Nothing of it was written; keep the report unmatched rather than retry it forever.
            drop(tx);
            tracing::warn!(receipt = %report.receipt, error = %refused, "a report could not be attached; kept unmatched");
            let mut tx = app.db.begin_write().await?;
            store::claim_report(&mut tx, &report.receipt, now).await?;
            tx.commit().await?;
            Ok(false)
        }
    }
}

/// The payload kept for a report that came as form fields: the report in the interchange format.
pub fn payload_of(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_default()
}
