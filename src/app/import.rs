//! Bulk import and the system feed: lines of the interchange format, grouped per household, each
//! household stored in one transaction with its new events and evaluated once.
//!
//! - **Whole households.** A household with a rejected line stores nothing of that file or body:
//!   without a melding or a closure the engine would read another history (too few meldingen, a
//!   closed trajectory still open). Every rejected line is reported (line, field, reason); the
//!   other households are stored.
//! - **Each event once.** An event's identity is its source id or a hash of its content
//!   ([`interchange::Line::identity`]); an event whose identity the household has stored (or that
//!   repeats one before it) is skipped, so importing a file twice stores nothing new and a
//!   household that exists gets only its new events. A household line of a household that
//!   exists must match it: an import never changes a household.
//! - **Dated as recorded events** ([`events::dating_problem`], in time order among the stored
//!   events); a closure only on an open trajectory, a reopen only on a closed one. The free text a
//!   new recording needs (a closure's reason) is not asked of history from elsewhere.
//! - **History is history** ([`Course::History`], `zicht import`): alerts of the past are
//!   recorded, not sent ([`alerting::backfill`]). The feed records as the single-event routes do
//!   ([`Course::Live`]), and asks what they ask ([`events::content_problems`]).

use super::audit::{self, AuditAction, Origin};
use super::interchange::{self, Line, NumberedLine, Rejection};
use super::{AppError, Invalid, alerting, events};
use crate::domain::{Event, Household, HouseholdId, Instant, Trajectory, TrajectoryStatus};
use crate::rules::RuleSet;
use crate::store::crypt::Keys;
use crate::store::{self, Db, NewHouseholdError, StoreError, Tx};

/// The lines about one household, in the order given.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The household as the lines name it.
    pub key: String,
    /// Its `household` line, when given.
    pub opening: Option<(usize, Household)>,
    pub lines: Vec<Line>,
    /// Lines that did not parse.
    pub rejected: Vec<Rejection>,
}

impl Unit {
    /// How many lines it holds.
    pub fn size(&self) -> usize {
        usize::from(self.opening.is_some()) + self.lines.len() + self.rejected.len()
    }
}

/// A file or body, grouped per household.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub units: Vec<Unit>,
    /// Lines that name no household: their household cannot be kept whole, so nothing is stored.
    pub unattributed: Vec<Rejection>,
}

/// Groups parsed lines per household, in the order of their first line.
pub fn group(lines: impl IntoIterator<Item = NumberedLine>) -> Batch {
    let mut batch = Batch::default();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (number, household, parsed) in lines {
        let Some(key) = household else {
            let problems = parsed.err().unwrap_or_default();
            for p in problems {
                batch.unattributed.push(Rejection::new(number, None, p));
            }
            continue;
        };
        let i = *index.entry(key.clone()).or_insert_with(|| {
            batch.units.push(Unit {
                key: key.clone(),
                opening: None,
                lines: Vec::new(),
                rejected: Vec::new(),
            });
            batch.units.len() - 1
        });
        let unit = &mut batch.units[i];
        match parsed {
            Err(problems) => unit.rejected.extend(
                problems
                    .into_iter()
                    .map(|p| Rejection::new(number, Some(key.clone()), p)),
            ),
            Ok((_, Event::Household(h))) if unit.opening.is_some() => {
                let problem = Invalid::new("id", format!("household `{}` appears twice", h.id));
                unit.rejected
                    .push(Rejection::new(number, Some(key), problem));
            }
            Ok((_, Event::Household(h))) => unit.opening = Some((number, h)),
            Ok((source_id, event)) => unit.lines.push(Line {
                number,
                source_id,
                event,
            }),
        }
    }
    batch
}

/// Parses JSON Lines (empty lines and lines starting with `#` are skipped) into a batch.
pub fn parse_json_lines(text: &str) -> Batch {
    group(text.lines().enumerate().filter_map(|(n, line)| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let (household, parsed) = interchange::parse_json_line(line);
        Some((n + 1, household, parsed))
    }))
}

/// Parses CSV (see [`interchange::parse_csv`]) into a batch.
pub fn parse_csv(text: &str) -> Result<Batch, Invalid> {
    Ok(group(interchange::parse_csv(text)?))
}

/// How the alerts of stored events are told.
#[derive(Debug, Clone, Copy)]
pub enum Course {
    /// An imported history: past alerts are recorded, not sent; one-shots from `fresh_from` on
    /// and what still fires are told ([`alerting::backfill`]).
    History { fresh_from: Instant },
    /// Recordings as they happen (the feed): as the single-event routes.
    Live,
}

/// What became of one household.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// It was registered by this import.
    pub created: bool,
    /// Events stored.
    pub stored: usize,
    /// Lines whose event it had stored already (or that repeat a line before them).
    pub duplicates: Vec<usize>,
    /// Lines refused; when any, nothing of the household was written.
    pub rejected: Vec<Rejection>,
    pub alerts: alerting::backfill::Backfilled,
}

/// The field in which a household line differs from the stored household, if any.
fn differs(given: &Household, stored: &Household) -> Option<&'static str> {
    [
        ("reference", given.reference != stored.reference),
        ("region", given.region != stored.region),
        ("gemeente", given.gemeente != stored.gemeente),
        ("wijk", given.wijk != stored.wijk),
        (
            "minor_children",
            given.minor_children != stored.minor_children,
        ),
        ("opened_at", given.opened_at != stored.opened_at),
    ]
    .into_iter()
    .find_map(|(field, differs)| differs.then_some(field))
}

/// Stores one household's lines in `tx`: checks them all first (also when some did not parse, so
/// that every problem is reported at once) and writes only when none is rejected. Returns what it
/// did or would do; the caller rolls back when lines were rejected, and for a dry run.
pub async fn store_unit(
    tx: &mut Tx,
    keys: &Keys,
    rules: &RuleSet,
    by: Origin<'_>,
    unit: &Unit,
    course: Course,
    now: Instant,
) -> Result<Outcome, AppError> {
    let mut out = Outcome {
        rejected: unit.rejected.clone(),
        ..Outcome::default()
    };
    let reject = |out: &mut Outcome, line: usize, p: Invalid| {
        out.rejected
            .push(Rejection::new(line, Some(unit.key.clone()), p));
    };
    let id: HouseholdId = match (&unit.opening, unit.lines.first()) {
        (Some((_, h)), _) => h.id.clone(),
        (None, Some(line)) => line.event.household().clone(),
        (None, None) => return Ok(out),
    };
    let stored = events::history(tx, keys, &id).await?;
    let (household, stored_events) = match (&unit.opening, stored) {
        (Some((n, given)), Some((history, _))) => {
            if let Some(field) = differs(given, &history.household) {
                let why = format!(
                    "differs from the stored household ({field}); an import never changes a household"
                );
                reject(&mut out, *n, Invalid::new(field, why));
            }
            (history.household, history.events)
        }
        (Some((n, given)), None) => {
            out.created = true;
            let opening = Event::Household(given.clone());
            let problem = events::dating_problem(&opening, Trajectory::opening(given), now);
            if let Some(p) = problem {
                reject(&mut out, *n, p.into());
            }
            if let Some(reference) = &given.reference
                && store::household_by_reference(tx, reference)
                    .await?
                    .is_some()
            {
                let why = "a household with this reference exists";
                reject(&mut out, *n, Invalid::new("reference", why));
            }
            (given.clone(), Vec::new())
        }
        (None, Some((history, _))) => (history.household, history.events),
        (None, None) => {
            for line in &unit.lines {
                let why = "unknown household; give its `household` line before its events";
                reject(&mut out, line.number, Invalid::new("household", why));
            }
            return Ok(out);
        }
    };

    // Each event once: by its source id, or by its content.
    let mut known: std::collections::HashSet<String> = store::bulk::identities(tx, &id)
        .await?
        .into_iter()
        .collect();
    known.extend(stored_events.iter().map(interchange::content_identity));
    let mut new: Vec<(&Line, String)> = Vec::new();
    for line in &unit.lines {
        let identity = line.identity();
        if known.insert(identity.clone()) {
            new.push((line, identity));
        } else {
            out.duplicates.push(line.number);
        }
    }

    // In time order among the stored events (stored first at one moment, as the timeline keeps
    // them): each new one dated as a recorded one must be, closures and reopens alternating.
    let mut merged: Vec<(&Event, Option<usize>)> =
        stored_events.iter().map(|e| (e, None)).collect();
    merged.extend(new.iter().map(|(l, _)| (&l.event, Some(l.number))));
    merged.sort_by_key(|(e, _)| e.at());
    let mut trajectory = Trajectory::opening(&household);
    for (event, line) in merged {
        if let Some(n) = line {
            // What people record must say what it needs (a closure's reason); history from
            // elsewhere is taken as it was.
            if matches!(course, Course::Live) {
                for p in events::content_problems(event) {
                    reject(&mut out, n, p.into());
                }
            }
            if let Some(p) = events::dating_problem(event, trajectory, now) {
                reject(&mut out, n, p.into());
            }
            let open = trajectory.closed.is_none();
            match event {
                Event::Closure(_) if !open => {
                    let why = "the trajectory is closed already at this moment";
                    reject(&mut out, n, Invalid::new("type", why));
                }
                Event::Reopen(_) if open => {
                    let why =
                        "the trajectory is open at this moment; only a closed one is reopened";
                    reject(&mut out, n, Invalid::new("type", why));
                }
                _ => {}
            }
        }
        trajectory = trajectory.after(event);
    }
    if !out.rejected.is_empty() || (new.is_empty() && !out.created) {
        return Ok(out);
    }

    if out.created {
        match store::create_household(tx, &household, now).await {
            Ok(_) => {}
            Err(NewHouseholdError::Store(e)) => return Err(e.into()),
            Err(e) => {
                let n = unit.opening.as_ref().map_or(0, |(n, _)| *n);
                reject(&mut out, n, Invalid::new("id", e.to_string()));
                return Ok(out);
            }
        }
    }
    let mut sorted = new;
    sorted.sort_by_key(|(l, _)| l.event.at());
    let rows: Vec<(String, &Event)> = sorted
        .into_iter()
        .map(|(l, identity)| (identity, &l.event))
        .collect();
    let inserted = store::bulk::insert_events(tx, keys, &id, &rows, by.user_id(), now).await?;
    out.stored = usize::try_from(inserted).unwrap_or(usize::MAX);
    let status = if trajectory.closed.is_some() {
        TrajectoryStatus::Closed
    } else {
        TrajectoryStatus::Open
    };
    store::bulk::set_status(tx, &id, status, now).await?;
    match course {
        Course::History { fresh_from } => {
            out.alerts =
                alerting::backfill::backfill(tx, keys, rules, &id, fresh_from, now).await?;
        }
        Course::Live => alerting::reconcile(tx, keys, rules, &id, now).await?,
    }
    let action = if out.created {
        AuditAction::HouseholdCreate
    } else {
        AuditAction::EventCreate
    };
    audit::record_ok(tx, by, action, Some(id.as_str()), now).await?;
    Ok(out)
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub created: usize,
    /// Households that existed and got new events.
    pub extended: usize,
    /// Households with nothing new.
    pub unchanged: usize,
    /// Households not stored because of a rejected line.
    pub skipped: usize,
    pub events: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejection>,
    pub alerts: alerting::backfill::Backfilled,
}

/// Imports a batch as the operator: each household in its own transaction, committed unless
/// `dry_run` (then everything is checked and evaluated, and rolled back). Nothing is stored when a
/// line names no household. `progress(lines)` is called after each household with its lines.
pub async fn import(
    db: &Db,
    rules: &RuleSet,
    batch: &Batch,
    course: Course,
    dry_run: bool,
    now: Instant,
    mut progress: impl FnMut(usize),
) -> Result<Summary, AppError> {
    let mut summary = Summary {
        rejected: batch.unattributed.clone(),
        ..Summary::default()
    };
    let stop = !batch.unattributed.is_empty();
    for unit in &batch.units {
        if stop {
            summary.rejected.extend(unit.rejected.iter().cloned());
            summary.skipped += 1;
            progress(unit.size());
            continue;
        }
        let mut tx = db.begin_write().await?;
        let out = store_unit(
            &mut tx,
            db.keys(),
            rules,
            Origin::Operator,
            unit,
            course,
            now,
        )
        .await?;
        if out.rejected.is_empty() && !dry_run {
            tx.commit().await.map_err(StoreError::from)?;
        } else {
            tx.rollback().await.map_err(StoreError::from)?;
        }
        summary.duplicates += out.duplicates.len();
        if !out.rejected.is_empty() {
            summary.skipped += 1;
            summary.rejected.extend(out.rejected);
        } else {
            if out.created {
                summary.created += 1;
            } else if out.stored > 0 {
                summary.extended += 1;
            } else {
                summary.unchanged += 1;
            }
            summary.events += out.stored;
            summary.alerts.history += out.alerts.history;
            summary.alerts.firing += out.alerts.firing;
        }
        progress(unit.size());
    }
    summary.rejected.sort_by_key(|r| r.line);
    Ok(summary)
}
