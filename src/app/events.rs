//! Households and their events: register a household, record an event, say who works on it.
//! Every write evaluates the household at once, in the transaction that stores it. The rules an
//! event must meet are checked here, once, for the API, the pages and the reports.

use super::access::{self, Refusal};
use super::audit::{self, AuditAction, Origin};
use super::notify::{self, Why};
use super::{AppError, Invalid, alerting};
use crate::auth::Authenticated;
use crate::auth::policy;
use crate::domain::{
    Dating, Event, Household, HouseholdId, Instant, Relation, Role, Trajectory, check_dating,
};
use crate::engine::History;
use crate::rules::RuleSet;
use crate::store::crypt::Keys;
use crate::store::{
    self, AssignmentRow, Conn, EventRow, HouseholdRow, InsertEventError, NewHouseholdError,
    StoreError, Tx,
};

/// A household's history as the engine reads it, with the stored id of each event.
pub async fn history(
    conn: &mut Conn,
    keys: &Keys,
    id: &HouseholdId,
) -> Result<Option<(History, Vec<i64>)>, StoreError> {
    let Some(row) = store::household(conn, id).await? else {
        return Ok(None);
    };
    // Stored in (time, id) order, which History keeps.
    let (ids, events): (Vec<i64>, Vec<Event>) =
        store::history(conn, keys, id).await?.into_iter().unzip();
    Ok(Some((
        History {
            household: row.household,
            events,
        },
        ids,
    )))
}

/// What is wrong with an event, field by field; each adapter words it for its people (the API as
/// it is, the pages in Dutch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A household whose trajectory opens after today.
    OpensInFuture,
    /// Dated later than now (beyond [`crate::domain::CLOCK_SKEW`]).
    InFuture,
    /// Work of the trajectory dated before it opened (T0, given).
    BeforeOpened(Instant),
    /// A reopen dated before the closure it undoes (given).
    BeforeClosed(Instant),
    /// A closure without a reason.
    ReasonMissing,
    /// An intervention without a description.
    DescriptionMissing,
    /// An intervention whose effect is expected before it starts.
    EffectBeforeStart,
}

impl Problem {
    pub fn field(self) -> &'static str {
        match self {
            Problem::OpensInFuture => "opened_at",
            Problem::InFuture | Problem::BeforeOpened(_) | Problem::BeforeClosed(_) => "at",
            Problem::ReasonMissing => "reason",
            Problem::DescriptionMissing => "description",
            Problem::EffectBeforeStart => "effect_expected_by",
        }
    }

    pub fn message(self) -> String {
        match self {
            Problem::OpensInFuture => "must be today or earlier".into(),
            Problem::InFuture => format!(
                "must not be later than now (up to {} minutes of clock difference is allowed)",
                crate::domain::CLOCK_SKEW.as_mins()
            ),
            Problem::BeforeOpened(t0) => format!(
                "must not be before the trajectory opened ({})",
                t0.to_wire()
            ),
            Problem::BeforeClosed(closed) => format!(
                "must not be before the trajectory was closed ({})",
                closed.to_wire()
            ),
            Problem::ReasonMissing => "required: why the trajectory is closed".into(),
            Problem::DescriptionMissing => "required: what the intervention is".into(),
            Problem::EffectBeforeStart => "must not be before the intervention".into(),
        }
    }
}

impl From<Problem> for Invalid {
    fn from(p: Problem) -> Self {
        Invalid::new(p.field(), p.message())
    }
}

fn invalid(problems: Vec<Problem>) -> Result<(), AppError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(
            problems.into_iter().map(Invalid::from).collect(),
        ))
    }
}

/// When an event may be dated, on a household in `trajectory` at `now` (see
/// [`crate::domain::check_dating`]). Import checks this for every event of a history.
pub fn dating_problem(event: &Event, trajectory: Trajectory, now: Instant) -> Option<Problem> {
    check_dating(event, trajectory, now)
        .err()
        .map(|d| match (d, event) {
            (Dating::InFuture, Event::Household(_)) => Problem::OpensInFuture,
            (Dating::InFuture, _) => Problem::InFuture,
            (Dating::BeforeOpened(t0), _) => Problem::BeforeOpened(t0),
            (Dating::BeforeClosed(closed), _) => Problem::BeforeClosed(closed),
        })
}

/// What a newly recorded event must say besides its moment. The interchange format leaves these
/// fields optional, so that history from elsewhere can be imported and replayed as it was; what
/// people record here must carry them.
pub fn content_problems(event: &Event) -> Vec<Problem> {
    let mut problems = Vec::new();
    match event {
        Event::Closure(c) if c.reason.is_none() => problems.push(Problem::ReasonMissing),
        Event::Intervention(i) => {
            if i.description.is_none() {
                problems.push(Problem::DescriptionMissing);
            }
            if i.effect_expected_by.is_some_and(|d| d < i.at.local_date()) {
                problems.push(Problem::EffectBeforeStart);
            }
        }
        _ => {}
    }
    problems
}

/// Everything a new event on the household of `history` must meet at `now`.
pub fn check(event: &Event, history: &History, now: Instant) -> Vec<Problem> {
    let trajectory = Trajectory::current(&history.household, &history.events);
    let mut problems: Vec<Problem> = dating_problem(event, trajectory, now).into_iter().collect();
    problems.extend(content_problems(event));
    problems
}

/// Registers a household (the caller checked [`policy::Action::CreateHousehold`]). The
/// casemanager or regisseur who registers it is assigned to it. A household that exists already
/// is named as such to whoever may read it; to anyone else the answer is a [`Refusal`] that says
/// only that zicht knows it ([`access::KNOWN`]), the same for its id and its reference, to be
/// audited once this transaction is dropped.
pub async fn create_household(
    tx: &mut Tx,
    keys: &Keys,
    rules: &RuleSet,
    who: &Authenticated,
    household: &Household,
    now: Instant,
) -> Result<Result<(HouseholdRow, Vec<AssignmentRow>), Refusal>, AppError> {
    let opening = Event::Household(household.clone());
    let new = Trajectory::current(household, &[]);
    invalid(dating_problem(&opening, new, now).into_iter().collect())?;
    let taken = match store::create_household(tx, household, now).await {
        Ok(row) => Ok(row),
        Err(NewHouseholdError::IdTaken) => Err((household.id.clone(), "id")),
        Err(NewHouseholdError::ReferenceTaken) => {
            let existing = match &household.reference {
                Some(reference) => store::household_by_reference(tx, reference).await?,
                None => None,
            };
            Err((
                existing.unwrap_or_else(|| household.id.clone()),
                "reference",
            ))
        }
        Err(NewHouseholdError::Store(e)) => return Err(e.into()),
    };
    let row = match taken {
        Ok(row) => row,
        Err((existing, field)) => {
            let relations = store::relation_of(tx, existing.as_str(), who.actor.user_id).await?;
            if policy::allows(&who.actor, policy::Action::ReadHousehold, &relations) {
                // Their own: say precisely what clashes.
                return Err(AppError::Conflict(format!(
                    "a household with this {field} exists"
                )));
            }
            return Ok(Err(access::known(&existing)));
        }
    };
    let me = who.actor.user_id;
    match policy::creator_relation(&who.actor) {
        Some(Relation::Regisseur) => {
            store::set_assignments(tx, &household.id, Some(me), &[], now).await?;
        }
        Some(Relation::Casemanager) => {
            store::set_assignments(tx, &household.id, None, &[me], now).await?;
        }
        Some(Relation::Glass) | None => {}
    }
    let assignments = store::assignments(tx, &household.id).await?;
    alerting::reconcile(tx, keys, rules, &household.id, now).await?;
    audit::record_ok(
        tx,
        Origin::Request(who),
        AuditAction::HouseholdCreate,
        Some(household.id.as_str()),
        now,
    )
    .await?;
    Ok(Ok((row, assignments)))
}

/// Stores an event on a household the actor may write (checked by the caller, in this
/// transaction), evaluates the household at `now`, and audits the write. The API, the pages,
/// reports and the demo all record events here.
pub async fn record_event(
    tx: &mut Tx,
    keys: &Keys,
    rules: &RuleSet,
    by: Origin<'_>,
    event: &Event,
    now: Instant,
) -> Result<EventRow, AppError> {
    let (known, _) = history(tx, keys, event.household())
        .await?
        .ok_or(AppError::NotFound("household"))?;
    invalid(check(event, &known, now))?;
    let row = store::insert_event(tx, keys, event, by.user_id(), now)
        .await
        .map_err(|e| match e {
            InsertEventError::AlreadyClosed | InsertEventError::NotClosed => {
                AppError::Conflict(e.to_string())
            }
            InsertEventError::HouseholdEvent => AppError::invalid("type", e.to_string()),
            InsertEventError::Store(e) => e.into(),
        })?;
    let household = event.household();
    alerting::reconcile(tx, keys, rules, household, now).await?;
    audit::record_ok(
        tx,
        by,
        AuditAction::EventCreate,
        Some(household.as_str()),
        now,
    )
    .await?;
    Ok(row)
}

/// Who works on a household, by username.
#[derive(Debug, Clone, Default)]
pub struct Assignments {
    pub regisseur: Option<String>,
    pub casemanagers: Vec<String>,
}

/// Sets who holds regie of a household and who are its casemanagers, replacing what was set
/// (the caller checked [`policy::Action::AssignHousehold`]). Each name must be an active user of
/// the matching role, and not the one who assigns: nobody grants themselves access. No change
/// is silent: it is audited on the household, and everyone assigned before it and its regisseur
/// after it (but the one who made it) are told in their inbox. Whoever is newly assigned hears
/// of the alerts open on it ([`notify::hand_over`]).
pub async fn set_assignments(
    tx: &mut Tx,
    rules: &RuleSet,
    by: Origin<'_>,
    id: &HouseholdId,
    wanted: &Assignments,
    now: Instant,
) -> Result<Vec<AssignmentRow>, AppError> {
    let household = store::household(tx, id)
        .await?
        .ok_or(AppError::NotFound("household"))?
        .household;
    let before = store::assignments(tx, id).await?;
    let regisseur = match &wanted.regisseur {
        Some(name) => Some(user_with_role(tx, name, "regisseur", Role::Regisseur).await?),
        None => None,
    };
    let mut casemanagers = Vec::new();
    for (i, name) in wanted.casemanagers.iter().enumerate() {
        let field = format!("casemanagers[{i}]");
        casemanagers.push(user_with_role(tx, name, &field, Role::Casemanager).await?);
    }
    if let Some(me) = by.user_id() {
        if regisseur == Some(me) {
            return Err(AppError::invalid("regisseur", "you cannot assign yourself"));
        }
        if let Some(i) = casemanagers.iter().position(|c| *c == me) {
            return Err(AppError::invalid(
                format!("casemanagers[{i}]"),
                "you cannot assign yourself",
            ));
        }
    }
    store::set_assignments(tx, id, regisseur, &casemanagers, now).await?;
    let rows = store::assignments(tx, id).await?;
    let ties = |rows: &[AssignmentRow]| {
        let mut t: Vec<(i64, Relation)> = rows.iter().map(|a| (a.user_id, a.relation)).collect();
        t.sort_by_key(|(u, r)| (*u, r.as_str()));
        t
    };
    // Whoever is newly tied to it hears at once what is open on it; that notice says they were
    // assigned, so they get no second one.
    let newcomers: Vec<(i64, Relation)> = rows
        .iter()
        .filter(|a| {
            !before
                .iter()
                .any(|b| b.user_id == a.user_id && b.relation == a.relation)
        })
        .map(|a| (a.user_id, a.relation))
        .collect();
    let handed_over =
        notify::hand_over(tx, rules.for_region(household.region), id, &newcomers, now).await?;
    // A household's first people are its start, not a change; after that, everyone who worked on
    // it and its new regisseur hear of every change.
    if !before.is_empty() && ties(&before) != ties(&rows) {
        let mut told: Vec<i64> = before
            .iter()
            .chain(rows.iter().filter(|a| a.relation == Relation::Regisseur))
            .filter(|a| Some(a.user_id) != by.user_id() && !handed_over.contains(&a.user_id))
            .map(|a| a.user_id)
            .collect();
        told.sort_unstable();
        told.dedup();
        for user in told {
            store::notify::insert_household_notice(tx, user, id, Why::Assignment, now).await?;
        }
    }
    audit::record_ok(tx, by, AuditAction::AssignmentSet, Some(id.as_str()), now).await?;
    Ok(rows)
}

async fn user_with_role(
    conn: &mut Conn,
    name: &str,
    field: &str,
    role: Role,
) -> Result<i64, AppError> {
    store::active_user_with_role(conn, name, role)
        .await?
        .map_err(|why| AppError::invalid(field, why))
}
