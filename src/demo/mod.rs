//! `zicht serve --demo`: fills an empty database with a demo region (about forty households with
//! months of history, every rule firing somewhere) and a demo user for each role, so a new user
//! can click through the whole product within a minute. The history is replayed in time order
//! through the same store, engine and scheduler as live data, so alerts and notifications carry
//! their real moments.

mod data;

use crate::app::audit::Origin;
use crate::app::{AppError, AppState, alerting, decisions, events, users};
use crate::auth::Authenticated;
use crate::domain::{Decision, Event, Instant, PlaceName, Region, Role, Specialism};
use crate::store::{self, AlertState, StoreError};

/// The password of every demo user.
pub const PASSWORD: &str = "demo-wachtwoord";

const USERS: &[(&str, Role, Option<&str>, Option<Region>)] = &[
    ("cm-anna", Role::Casemanager, None, None),
    ("cm-bram", Role::Casemanager, None, None),
    ("rg-carla", Role::Regisseur, None, None),
    (
        "sp-dirk",
        Role::Specialist,
        None,
        Some(Region::BrabantZuidoost),
    ),
    (
        "aov-eindhoven",
        Role::GemeenteMonitor,
        Some("Eindhoven"),
        None,
    ),
    ("aov-helmond", Role::GemeenteMonitor, Some("Helmond"), None),
    ("wijk-woonbedrijf", Role::SignalReporter, None, None),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the demo data is invalid: {0}")]
    Data(String),
}

impl From<AppError> for DemoError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(e) => DemoError::Store(e),
            other => DemoError::Data(other.to_string()),
        }
    }
}

/// Fills the database when it holds no households yet; returns the demo users, or `None` when
/// there was data already.
pub async fn fill(state: &AppState) -> Result<Option<Vec<(String, Role)>>, DemoError> {
    let mut conn = state.db.acquire().await?;
    let existing =
        store::list_households(&mut conn, &store::HouseholdFilter::default(), None, None, 1)
            .await?;
    drop(conn);
    if !existing.is_empty() {
        return Ok(None);
    }
    let now = state.clock.now();
    let histories = data::demo_histories(now);

    let mut tx = state.db.begin_write().await?;
    let mut ids = Vec::new();
    for (name, role, gemeente, region) in USERS {
        let new = users::NewUser {
            username: (*name).to_owned(),
            role: *role,
            gemeente: gemeente.map(|g| g.parse::<PlaceName>().expect("demo gemeente")),
            region: *region,
        };
        let user = users::create_user(&mut tx, Origin::Operator, &new, now).await?;
        users::set_password(&mut tx, Origin::Operator, user.id, PASSWORD, now).await?;
        ids.push(user.id);
    }
    let (anna, bram, carla) = (ids[0], ids[1], ids[2]);
    for (i, h) in histories.iter().enumerate() {
        store::create_household(&mut tx, &h.household, h.household.opened_at.start())
            .await
            .map_err(|e| DemoError::Data(e.to_string()))?;
        let casemanager = if i % 2 == 0 { anna } else { bram };
        store::set_assignments(&mut tx, &h.household.id, Some(carla), &[casemanager], now).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;

    // Replay: every event at its own moment, with the scheduler catching up in between.
    let mut events: Vec<&Event> = histories
        .iter()
        .flat_map(|h| h.events.iter())
        .filter(|e| e.at() <= now)
        .collect();
    events.sort_by_key(|e| e.at());
    let rules = state.rules();
    let regisseur = Authenticated {
        actor: store::user(&mut *state.db.acquire().await?, carla)
            .await?
            .ok_or_else(|| DemoError::Data("the demo regisseur is missing".into()))?
            .into(),
        request_id: "demo".to_owned(),
        at: now,
    };
    let two_weeks_ago = Instant::from_millis(now.millis() - 14 * DAY_MS).unwrap_or(now);
    for event in events {
        let at = event.at();
        alerting::run_due(state, at).await?;
        decide_on_older_alerts(state, &regisseur, at, two_weeks_ago).await?;
        let mut tx = state.db.begin_write().await?;
        events::record_event(
            &mut tx,
            state.db.keys(),
            &rules,
            Origin::Operator,
            event,
            at,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    alerting::run_due(state, now).await?;
    // A regisseur would have read what came in before the last two weeks.
    let mut conn = state.db.acquire().await?;
    store::notify::mark_read_before(&mut conn, two_weeks_ago).await?;
    state.notified();
    Ok(Some(
        USERS
            .iter()
            .map(|(n, r, _, _)| ((*n).to_owned(), *r))
            .collect(),
    ))
}

const DAY_MS: i64 = 86_400_000;

/// A working regisseur decides on an alert within a few days. The demo's regisseur has done so
/// for every alert that fired before the last two weeks, three days after it fired (at `at`, the
/// replay's moment), so that what is open is a real week's work, not two years of it.
async fn decide_on_older_alerts(
    state: &AppState,
    regisseur: &Authenticated,
    at: Instant,
    before: Instant,
) -> Result<(), DemoError> {
    let open = {
        let mut conn = state.db.acquire().await?;
        let filter = store::AlertFilter {
            state: Some(AlertState::Firing),
            ..store::AlertFilter::default()
        };
        store::list_alerts(&mut conn, &filter, regisseur.actor.user_id, None, 500).await?
    };
    for alert in open {
        let decided_at = Instant::from_millis(alert.fired_at.millis() + 3 * DAY_MS).unwrap_or(at);
        if alert.fired_at >= before || decided_at > at {
            continue;
        }
        let (decision, specialism, reason) = demo_decision(&alert.rule);
        let input = decisions::Input::Acknowledge {
            decision,
            specialism,
            reason: reason.parse().expect("demo text"),
        };
        let mut tx = state.db.begin_write().await?;
        decisions::decide(state, &mut tx, regisseur, &alert, &input, at).await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    Ok(())
}

/// What the demo's regisseur decided, by rule.
fn demo_decision(rule: &str) -> (Decision, Option<Specialism>, &'static str) {
    match rule {
        "geen-directe-veiligheid" | "geen-stabiele-veiligheid" => (
            Decision::SpecialistConsult,
            Some(Specialism::Ggz),
            "Specialist GGZ meegevraagd op het veiligheidsplan.",
        ),
        "terugval" => (
            Decision::Bijschalen,
            None,
            "Veiligheidsplan aangescherpt, expertise bijgeschakeld.",
        ),
        "herhaald-gemeld" | "voortijdig-loslaten" => (
            Decision::Actieoverleg,
            None,
            "Besproken in het Actieoverleg.",
        ),
        "forensisch-consult" => (
            Decision::SpecialistConsult,
            Some(Specialism::ForensischeGgz),
            "Forensische expertise gevraagd.",
        ),
        "geen-proactief-scenario" => (
            Decision::ProactiefScenario,
            None,
            "Proactief scenario in voorbereiding bij het ZVH.",
        ),
        _ => (
            Decision::GeenActie,
            None,
            "Gezien; past in het lopende plan.",
        ),
    }
}
