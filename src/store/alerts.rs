//! Alert state and its history, and each household's next due time.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::crypt::{self, Keys, Owner};
use super::{Conn, StoreError, corrupt, flag, parse_stored};
use crate::domain::{HouseholdId, Instant, Severity, vocabulary};

vocabulary! {
    /// The state of an alert. One-shot alerts are never `resolved`.
    AlertState, "state" {
        Firing => "firing",
        Acknowledged => "acknowledged",
        Silenced => "silenced",
        Resolved => "resolved",
    }
}

#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: i64,
    pub household: HouseholdId,
    pub rule: String,
    pub one_shot: bool,
    pub state: AlertState,
    pub severity: Severity,
    pub advice: String,
    pub since: Instant,
    pub fired_at: Instant,
    pub resolved_at: Option<Instant>,
    /// Ids of the events that made it fire.
    pub evidence: Vec<i64>,
    pub suppressed_until: Option<Instant>,
    pub silenced_until: Option<Instant>,
    /// When its people were last told, and how far up the escalation ladder it went.
    pub notified_at: Option<Instant>,
    pub escalation_level: i64,
}

const ALERT_COLUMNS: &str = "id, household_id, rule, one_shot, state, severity, advice, since_ms, fired_at_ms, \
                             resolved_at_ms, evidence, suppressed_until_ms, silenced_until_ms, notified_at_ms, escalation_level";

/// [`ALERT_COLUMNS`] of the table aliased `a`, for queries that join it.
pub(super) const ALERT_COLUMNS_OF_A: &str = "a.id, a.household_id, a.rule, a.one_shot, a.state, a.severity, a.advice, \
     a.since_ms, a.fired_at_ms, a.resolved_at_ms, a.evidence, a.suppressed_until_ms, a.silenced_until_ms, \
     a.notified_at_ms, a.escalation_level";

fn instant(row: &AnyRow, col: &str) -> Result<Instant, StoreError> {
    Instant::from_millis(row.try_get(col)?).map_err(|e| corrupt(col, e))
}

fn opt_instant(row: &AnyRow, col: &str) -> Result<Option<Instant>, StoreError> {
    row.try_get::<Option<i64>, _>(col)?
        .map(Instant::from_millis)
        .transpose()
        .map_err(|e| corrupt(col, e))
}

pub(super) fn alert_row(row: &AnyRow) -> Result<AlertRow, StoreError> {
    let evidence: String = row.try_get("evidence")?;
    Ok(AlertRow {
        id: row.try_get("id")?,
        household: parse_stored("household id", &row.try_get::<String, _>("household_id")?)?,
        rule: row.try_get("rule")?,
        one_shot: row.try_get::<i64, _>("one_shot")? != 0,
        state: parse_stored("alert state", &row.try_get::<String, _>("state")?)?,
        severity: parse_stored("severity", &row.try_get::<String, _>("severity")?)?,
        advice: row.try_get("advice")?,
        since: instant(row, "since_ms")?,
        fired_at: instant(row, "fired_at_ms")?,
        resolved_at: opt_instant(row, "resolved_at_ms")?,
        evidence: serde_json::from_str(&evidence).map_err(|e| corrupt("evidence", e))?,
        suppressed_until: opt_instant(row, "suppressed_until_ms")?,
        silenced_until: opt_instant(row, "silenced_until_ms")?,
        notified_at: opt_instant(row, "notified_at_ms")?,
        escalation_level: row.try_get("escalation_level")?,
    })
}

pub async fn alert(conn: &mut Conn, id: i64) -> Result<Option<AlertRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"));
    sqlx::query(sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(alert_row)
        .transpose()
}

/// The state alerts of a household, whatever their state.
pub async fn state_alerts(
    conn: &mut Conn,
    household: &HouseholdId,
) -> Result<Vec<AlertRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE household_id = $1 AND one_shot = 0"
    ));
    let rows = sqlx::query(sql)
        .bind(household.as_str())
        .fetch_all(conn)
        .await?;
    rows.iter().map(alert_row).collect()
}

/// What a new alert or a firing says.
#[derive(Debug, Clone)]
pub struct Firing<'a> {
    pub household: &'a HouseholdId,
    pub rule: &'a str,
    pub one_shot: bool,
    pub severity: Severity,
    pub advice: &'a str,
    pub since: Instant,
    pub evidence: &'a [i64],
    pub suppressed_until: Option<Instant>,
}

/// Inserts an alert in state `firing`; for a one-shot that exists already, does nothing and
/// returns `None`.
pub async fn insert_alert(
    conn: &mut Conn,
    f: &Firing<'_>,
    now: Instant,
) -> Result<Option<i64>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO alerts (household_id, rule, one_shot, state, severity, advice, since_ms, fired_at_ms, evidence,
                             suppressed_until_ms, updated_at_ms)
         VALUES ($1, $2, $3, 'firing', $4, $5, $6, $7, $8, $9, $7)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(f.household.as_str())
    .bind(f.rule)
    .bind(flag(f.one_shot))
    .bind(f.severity.as_str())
    .bind(f.advice)
    .bind(f.since.millis())
    .bind(now.millis())
    .bind(serde_json::to_string(f.evidence).map_err(|e| corrupt("evidence", e))?)
    .bind(f.suppressed_until.map(Instant::millis))
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// A change of an alert's state; `firing` replaces what it says (severity, evidence, ...).
#[derive(Debug, Clone)]
pub struct AlertUpdate<'a> {
    pub state: AlertState,
    pub firing: Option<&'a Firing<'a>>,
    pub fired_at: Option<Instant>,
    pub resolved_at: Option<Instant>,
    pub silenced_until: Option<Instant>,
}

/// Sets an alert's state and what it currently says.
pub async fn update_alert(
    conn: &mut Conn,
    id: i64,
    u: &AlertUpdate<'_>,
    now: Instant,
) -> Result<(), StoreError> {
    let (state, f, fired_at, resolved_at, silenced_until) = (
        u.state,
        u.firing,
        u.fired_at,
        u.resolved_at,
        u.silenced_until,
    );
    sqlx::query(
        "UPDATE alerts SET state = $1,
                severity = COALESCE($2, severity), advice = COALESCE($3, advice), since_ms = COALESCE($4, since_ms),
                evidence = COALESCE($5, evidence), suppressed_until_ms = CASE WHEN $6 = 1 THEN $7 ELSE suppressed_until_ms END,
                fired_at_ms = COALESCE($8, fired_at_ms), resolved_at_ms = $9, silenced_until_ms = $10, updated_at_ms = $11
         WHERE id = $12",
    )
    .bind(state.as_str())
    .bind(f.map(|f| f.severity.as_str()))
    .bind(f.map(|f| f.advice.to_owned()))
    .bind(f.map(|f| f.since.millis()))
    .bind(f.map(|f| serde_json::to_string(f.evidence).unwrap_or_else(|_| "[]".into())))
    .bind(flag(f.is_some()))
    .bind(f.and_then(|f| f.suppressed_until).map(Instant::millis))
    .bind(fired_at.map(Instant::millis))
    .bind(resolved_at.map(Instant::millis))
    .bind(silenced_until.map(Instant::millis))
    .bind(now.millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The actor of the transitions the engine makes (a person's are theirs).
pub const ENGINE_ACTOR: &str = "zicht";

vocabulary! {
    /// Why an alert changed: its condition began to hold (`first`), held again after it was
    /// resolved (`refired`), no longer holds (`resolved`), became more severe (`severity`); a
    /// person recorded a decision (`acknowledged`) or silenced it until a date (`silenced`); the
    /// silence ended while it still holds (`silence_expired`).
    TransitionWhy, "transition" {
        First => "first",
        Refired => "refired",
        Resolved => "resolved",
        Severity => "severity",
        Acknowledged => "acknowledged",
        Silenced => "silenced",
        SilenceExpired => "silence_expired",
    }
}

// The vocabulary macro cannot mark a default variant, so this is written out.
#[allow(clippy::derivable_impls)]
impl Default for TransitionWhy {
    fn default() -> Self {
        TransitionWhy::First
    }
}

/// One step in an alert's history.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    pub from: Option<AlertState>,
    pub to: Option<AlertState>,
    pub why: TransitionWhy,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub decision: Option<String>,
    pub specialism: Option<String>,
    pub reason: Option<String>,
    pub silenced_until: Option<Instant>,
}

pub async fn append_transition(
    conn: &mut Conn,
    keys: &Keys,
    alert: i64,
    t: &Transition,
    at: Instant,
) -> Result<(), StoreError> {
    let reason = match &t.reason {
        Some(reason) => {
            let household: String =
                sqlx::query_scalar("SELECT household_id FROM alerts WHERE id = $1")
                    .bind(alert)
                    .fetch_one(&mut *conn)
                    .await?;
            Some(keys.seal(Owner::Household(&household), reason)?)
        }
        None => None,
    };
    sqlx::query(
        "INSERT INTO alert_transitions (alert_id, at_ms, from_state, to_state, why, actor_id, actor, decision,
                                        specialism, reason, silenced_until_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(alert)
    .bind(at.millis())
    .bind(t.from.map(AlertState::as_str))
    .bind(t.to.map_or("firing", AlertState::as_str))
    .bind(t.why.as_str())
    .bind(t.actor_id)
    .bind(t.actor.as_str())
    .bind(t.decision.as_deref())
    .bind(t.specialism.as_deref())
    .bind(reason)
    .bind(t.silenced_until.map(Instant::millis))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TransitionRow {
    pub at: Instant,
    pub from: Option<String>,
    pub to: String,
    pub why: TransitionWhy,
    pub actor: String,
    pub decision: Option<String>,
    pub specialism: Option<String>,
    pub reason: Option<String>,
    pub silenced_until: Option<Instant>,
}

impl TransitionRow {
    /// Whether the engine made this change (not a person).
    pub fn by_engine(&self) -> bool {
        self.actor == ENGINE_ACTOR
    }
}

pub async fn transitions(
    conn: &mut Conn,
    keys: &Keys,
    alert: i64,
) -> Result<Vec<TransitionRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.at_ms, t.from_state, t.to_state, t.why, t.actor, t.decision, t.specialism, t.reason,
                t.silenced_until_ms, a.household_id
         FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id WHERE t.alert_id = $1 ORDER BY t.id",
    )
    .bind(alert)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TransitionRow {
                at: instant(r, "at_ms")?,
                from: r.try_get("from_state")?,
                to: r.try_get("to_state")?,
                why: parse_stored("transition", &r.try_get::<String, _>("why")?)?,
                actor: r.try_get("actor")?,
                decision: r.try_get("decision")?,
                specialism: r.try_get("specialism")?,
                reason: r
                    .try_get::<Option<String>, _>("reason")?
                    .map(|sealed| {
                        let household: String = r.try_get("household_id")?;
                        keys.open(Owner::Household(&household), &sealed)
                    })
                    .transpose()?,
                silenced_until: opt_instant(r, "silenced_until_ms")?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub rule: Option<String>,
    pub household: Option<String>,
    pub gemeente: Option<String>,
}

/// Alerts of households assigned to `user_id`, newest first, before the id `before`.
pub async fn list_alerts(
    conn: &mut Conn,
    filter: &AlertFilter,
    user_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AlertRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS_OF_A}
         FROM alerts a JOIN households h ON h.id = a.household_id
         WHERE EXISTS (SELECT 1 FROM assignments s WHERE s.household_id = a.household_id AND s.user_id = $1)
           AND ($2 = '' OR a.state = $2)
           AND ($3 = '' OR a.rule = $3)
           AND ($4 = '' OR a.household_id = $4)
           AND ($5 = '' OR h.gemeente = $5)
           AND a.id < $6
         ORDER BY a.id DESC LIMIT $7"
    ));
    let rows = sqlx::query(sql)
        .bind(user_id)
        .bind(filter.state.map_or("", AlertState::as_str))
        .bind(filter.rule.clone().unwrap_or_default())
        .bind(filter.household.clone().unwrap_or_default())
        .bind(filter.gemeente.clone().unwrap_or_default())
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(alert_row).collect()
}

/// Records when the household was evaluated and when it is next due.
pub async fn set_schedule(
    conn: &mut Conn,
    household: &HouseholdId,
    next_due: Option<Instant>,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO household_schedule (household_id, next_due_ms, evaluated_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (household_id) DO UPDATE SET next_due_ms = excluded.next_due_ms,
                                                  evaluated_at_ms = excluded.evaluated_at_ms",
    )
    .bind(household.as_str())
    .bind(next_due.map(Instant::millis))
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` households due at `now`. On PostgreSQL other instances skip the claimed
/// rows (`FOR UPDATE SKIP LOCKED`); SQLite has a single writer, whose transaction holds them.
pub async fn claim_due(
    conn: &mut Conn,
    backend: super::Backend,
    now: Instant,
    limit: i64,
) -> Result<Vec<HouseholdId>, StoreError> {
    let ids: Vec<String> = match backend {
        super::Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT household_id FROM household_schedule WHERE next_due_ms <= $1
                 ORDER BY next_due_ms LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now.millis())
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        super::Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT household_id FROM household_schedule WHERE next_due_ms <= $1 ORDER BY next_due_ms LIMIT $2",
            )
            .bind(now.millis())
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    ids.iter()
        .map(|id| parse_stored("household id", id))
        .collect()
}

/// The earliest due time of any household.
pub async fn next_due(conn: &mut Conn) -> Result<Option<Instant>, StoreError> {
    let ms: Option<i64> = sqlx::query_scalar("SELECT MIN(next_due_ms) FROM household_schedule")
        .fetch_one(conn)
        .await?;
    ms.map(Instant::from_millis)
        .transpose()
        .map_err(|e| corrupt("next_due", e))
}

/// Makes every household due now (after the rules changed).
pub async fn reschedule_all(conn: &mut Conn, now: Instant) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("UPDATE household_schedule SET next_due_ms = $1")
            .bind(now.millis())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// All events of a household with their ids, in time order.
pub async fn history(
    conn: &mut Conn,
    keys: &Keys,
    household: &HouseholdId,
) -> Result<Vec<(i64, crate::domain::Event)>, StoreError> {
    let rows =
        sqlx::query("SELECT id, payload FROM events WHERE household_id = $1 ORDER BY at_ms, id")
            .bind(household.as_str())
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok((
                r.try_get("id")?,
                crypt::open_event(keys, household.as_str(), &payload)?,
            ))
        })
        .collect()
}

/// Events by id, for an alert's evidence.
pub async fn events_by_id(
    conn: &mut Conn,
    keys: &Keys,
    household: &HouseholdId,
    ids: &[i64],
) -> Result<Vec<super::EventRow>, StoreError> {
    let mut out = Vec::new();
    for id in ids {
        let row = sqlx::query(
            "SELECT e.id, e.payload, e.recorded_at_ms, u.username AS recorded_by
             FROM events e LEFT JOIN users u ON u.id = e.recorded_by WHERE e.id = $1 AND e.household_id = $2",
        )
        .bind(*id)
        .bind(household.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            out.push(super::households::event_row(keys, household, &row)?);
        }
    }
    Ok(out)
}
