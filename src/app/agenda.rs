//! The casusoverleg agenda: the households a regisseur brings to this week's MDA++ meeting, each
//! with the facts to bring. A household is on it when it has an open critical or warning alert, a
//! step of the escalation ladder recorded, or a new melding since the agenda's start date.

use jiff::SignedDuration;

use super::audit::AuditAction;
use super::{AppError, AppState, access, events};
use crate::auth::Authenticated;
use crate::auth::policy::{self, Action};
use crate::domain::{
    EscalationStep, Event, Household, Instant, LocalDate, Perspective, SafetyScore, Severity,
    Signal, SignalKind, TrajectoryStatus,
};
use crate::engine::{Phase, escalation_step, phase};
use crate::store::{self, AlertRow, HouseholdFilter};

/// The agenda looks back a week by default: the MDA++ casusoverleg meets weekly.
pub const DEFAULT_DAYS: i64 = 7;
/// How far back a chosen start date may lie: a year of news is no meeting's agenda.
pub const MAX_DAYS: i64 = 366;

/// The agenda from `since` up to `now`, most pressing household first.
#[derive(Debug, Clone)]
pub struct Agenda {
    pub since: Instant,
    pub now: Instant,
    pub items: Vec<AgendaItem>,
}

/// One household on the agenda and the facts to bring.
#[derive(Debug, Clone)]
pub struct AgendaItem {
    pub household: Household,
    pub status: TrajectoryStatus,
    pub phase: Phase,
    pub step: EscalationStep,
    /// The latest score of each perspective that scored, in the perspectives' order.
    pub latest: Vec<LatestScore>,
    /// Open critical and warning alerts, most severe first, then the longest waiting.
    pub alerts: Vec<AlertRow>,
    /// Steps of the escalation ladder recorded since the start date, oldest first.
    pub steps: Vec<StepChange>,
    /// Meldingen since the start date, oldest first.
    pub meldingen: Vec<Signal>,
}

#[derive(Debug, Clone, Copy)]
pub struct LatestScore {
    pub perspective: Perspective,
    pub value: SafetyScore,
    pub at: Instant,
}

/// A step of the escalation ladder recorded at `at`, and the step the household was at before.
#[derive(Debug, Clone, Copy)]
pub struct StepChange {
    pub at: Instant,
    pub from: EscalationStep,
    pub to: EscalationStep,
}

impl AgendaItem {
    /// The most severe open alert's severity, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.alerts.iter().map(|a| a.severity).max()
    }
}

/// The agenda of `who` (a regisseur; others are refused, audited) since the start of `since`, or
/// of the last [`DEFAULT_DAYS`] days. A start date in the future or more than [`MAX_DAYS`] ago is
/// invalid. Every household shown is audited as read; the listing itself once more.
pub async fn agenda(
    app: &AppState,
    who: &Authenticated,
    since: Option<LocalDate>,
) -> Result<Agenda, AppError> {
    access::require(app, who, Action::ViewAgenda, AuditAction::AgendaRead).await?;
    let now = app.clock.now();
    let since = match since {
        None => {
            Instant::from_timestamp(now.timestamp() - SignedDuration::from_hours(24 * DEFAULT_DAYS))
        }
        Some(date) => {
            let today = now.local_date();
            let earliest = today
                .date()
                .checked_sub(jiff::Span::new().days(MAX_DAYS))
                .map_or(today, LocalDate::new);
            if date > today || date < earliest {
                return Err(AppError::invalid(
                    "since",
                    format!("must be a date in the last {MAX_DAYS} days, not in the future"),
                ));
            }
            date.start()
        }
    };
    let rules = app.rules();
    let mut conn = app.db.acquire().await?;
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store::list_households(
            &mut conn,
            &HouseholdFilter::default(),
            Some(who.actor.user_id),
            after.as_deref(),
            500,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.household.id.to_string());
        for row in page {
            let id = &row.household.id;
            let relations = store::relation_of(&mut conn, id.as_str(), who.actor.user_id).await?;
            if !policy::allows(&who.actor, Action::ReadHousehold, &relations) {
                continue;
            }
            let Some((history, _)) = events::history(&mut conn, app.db.keys(), id).await? else {
                continue;
            };
            let alerts: Vec<AlertRow> = store::open_alerts(&mut conn, id)
                .await?
                .into_iter()
                .filter(|a| a.severity >= Severity::Warning)
                .collect();
            let recent = |e: &&Event| e.at() >= since && e.at() <= now;
            let steps: Vec<StepChange> = history
                .events
                .iter()
                .filter(recent)
                .filter_map(|e| match e {
                    Event::Escalation(x) => Some(StepChange {
                        at: x.at,
                        from: step_before(&history.events, x.at),
                        to: x.step,
                    }),
                    _ => None,
                })
                .collect();
            let meldingen: Vec<Signal> = history
                .events
                .iter()
                .filter(recent)
                .filter_map(|e| match e {
                    Event::Signal(s) if s.kind == SignalKind::Melding => Some(s.clone()),
                    _ => None,
                })
                .collect();
            if alerts.is_empty() && steps.is_empty() && meldingen.is_empty() {
                continue;
            }
            let definitions = rules.for_region(history.household.region).definitions;
            items.push(AgendaItem {
                phase: phase(&history, definitions, now),
                step: escalation_step(&history, now),
                latest: latest_scores(&history.events, now),
                household: history.household,
                status: row.status,
                alerts,
                steps,
                meldingen,
            });
        }
    }
    // Most severe open alert first, then the longest waiting of that severity, then a step of the
    // ladder, then the most meldingen.
    items.sort_by(|a, b| {
        let waiting = |i: &AgendaItem| {
            i.alerts
                .iter()
                .filter(|x| Some(x.severity) == i.worst())
                .map(|x| x.fired_at)
                .min()
        };
        b.worst()
            .cmp(&a.worst())
            .then_with(|| waiting(a).cmp(&waiting(b)))
            .then_with(|| a.steps.is_empty().cmp(&b.steps.is_empty()))
            .then_with(|| b.meldingen.len().cmp(&a.meldingen.len()))
            .then_with(|| a.household.id.as_str().cmp(b.household.id.as_str()))
    });
    drop(conn);
    app.audit_shown(
        who,
        AuditAction::AgendaRead,
        items.iter().map(|i| i.household.id.as_str()),
    )
    .await?;
    Ok(Agenda { since, now, items })
}

/// The step the household was at just before `at` (events at the same moment recorded earlier
/// count as before it).
fn step_before(events: &[Event], at: Instant) -> EscalationStep {
    events
        .iter()
        .take_while(|e| e.at() < at)
        .filter_map(|e| match e {
            Event::Escalation(x) => Some(x.step),
            _ => None,
        })
        .last()
        .unwrap_or(EscalationStep::FIRST)
}

/// The latest score of each perspective at `now`.
fn latest_scores(events: &[Event], now: Instant) -> Vec<LatestScore> {
    Perspective::ALL
        .iter()
        .filter_map(|p| {
            events
                .iter()
                .take_while(|e| e.at() <= now)
                .filter_map(|e| match e {
                    Event::Score(s) if s.perspective == *p => Some(LatestScore {
                        perspective: s.perspective,
                        value: s.value,
                        at: s.at,
                    }),
                    _ => None,
                })
                .last()
        })
        .collect()
}
