//! The work queue: the open (or the handled) alerts of the households a person works on, grouped
//! per household, filtered, ordered and paged by household in SQL, and a household's open alerts.

use sqlx::Row;

use super::alerts::{ALERT_COLUMNS_OF_A, alert_row};
use super::{AlertRow, AlertState, Conn, StoreError, parse_stored};
use crate::domain::{HouseholdId, PlaceName, Relation, Severity};

impl AlertState {
    /// Whether the alert is *open*: it needs someone's action because its condition holds (or,
    /// for a one-shot, it happened) and nobody has acknowledged it with a decision or silenced it.
    /// Acknowledged and silenced alerts are handled until they fire again or the silence ends
    /// (DESIGN.md, alert lifecycle); resolved ones ask nothing. The work queue, the household
    /// pages and every count of open alerts use this one definition.
    pub fn is_open(self) -> bool {
        OPEN.contains(&self)
    }
}

/// The states of an open alert, see [`AlertState::is_open`].
const OPEN: &[AlertState] = &[AlertState::Firing];
/// The states of an alert a person handled: acknowledged with a decision, or silenced.
const HANDLED: &[AlertState] = &[AlertState::Acknowledged, AlertState::Silenced];

/// Severity as a number that sorts: the most severe is the highest.
const SEVERITY_RANK: &str =
    "CASE a.severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1 ELSE 0 END";

/// Which alerts the queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueTab {
    /// What still needs someone's action.
    #[default]
    Open,
    /// What a person acknowledged or silenced.
    Handled,
}

impl QueueTab {
    fn states(self) -> (&'static str, &'static str) {
        let states = match self {
            QueueTab::Open => OPEN,
            QueueTab::Handled => HANDLED,
        };
        // Two parameters, so one SQL text serves both tabs.
        (states[0].as_str(), states[states.len() - 1].as_str())
    }
}

/// What the queue is narrowed to; `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub severity: Option<Severity>,
    pub rule: Option<String>,
    pub household: Option<HouseholdId>,
    pub gemeente: Option<String>,
}

/// Whose queue: the households `user_id` is tied to by `relation`.
#[derive(Debug, Clone, Copy)]
pub struct QueueOwner {
    pub user_id: i64,
    pub relation: Relation,
}

/// One household in the queue with its alerts, most pressing first.
#[derive(Debug, Clone)]
pub struct QueueGroup {
    pub household: HouseholdId,
    pub gemeente: PlaceName,
    pub wijk: Option<PlaceName>,
    pub alerts: Vec<AlertRow>,
}

/// One page of the queue.
#[derive(Debug, Clone)]
pub struct QueuePage {
    pub groups: Vec<QueueGroup>,
    /// Alerts and households that match the filter, on every page.
    pub alerts: i64,
    pub households: i64,
    /// This page (from 1) of `pages` (at least 1).
    pub page: i64,
    pub pages: i64,
}

/// The alerts of the owner's households on a tab, narrowed by the filter. Parameters: `$1` user,
/// `$2` relation, `$3`/`$4` states, `$5` severity, `$6` rule, `$7` household, `$8` gemeente
/// (an empty text is "any").
/// (A join rather than `EXISTS`: the planner starts from the owner's few assignments, and the
/// assignment's key makes each alert match once.)
const MATCHING: &str = "FROM assignments s
     JOIN alerts a ON a.household_id = s.household_id
     JOIN households h ON h.id = a.household_id
     WHERE s.user_id = $1 AND s.relation = $2
       AND a.state IN ($3, $4)
       AND ($5 = '' OR a.severity = $5)
       AND ($6 = '' OR a.rule = $6)
       AND ($7 = '' OR a.household_id = $7)
       AND ($8 = '' OR h.gemeente = $8)";

fn bind_matching<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    owner: QueueOwner,
    tab: QueueTab,
    filter: &QueueFilter,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let (first, last) = tab.states();
    query
        .bind(owner.user_id)
        .bind(owner.relation.as_str())
        .bind(first)
        .bind(last)
        .bind(filter.severity.map_or("", Severity::as_str))
        .bind(filter.rule.clone().unwrap_or_default())
        .bind(
            filter
                .household
                .as_ref()
                .map_or(String::new(), ToString::to_string),
        )
        .bind(filter.gemeente.clone().unwrap_or_default())
}

/// How many alerts on `tab` match the filter, and on how many households.
pub async fn queue_count(
    conn: &mut Conn,
    owner: QueueOwner,
    tab: QueueTab,
    filter: &QueueFilter,
) -> Result<(i64, i64), StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS alerts, COUNT(DISTINCT a.household_id) AS households {MATCHING}"
    ));
    let row = bind_matching(sqlx::query(sql), owner, tab, filter)
        .fetch_one(conn)
        .await?;
    Ok((row.try_get("alerts")?, row.try_get("households")?))
}

/// Page `page` (from 1; clamped to the pages there are) of the queue, `per_page` households a
/// page. Open work: households by their most severe alert, then by how long the longest waiting
/// alert of that severity has waited (since it fired), alerts within a household alike — so a
/// reminder never pushes a critical alert off the first page. Handled: the latest handled first.
pub async fn work_queue(
    conn: &mut Conn,
    owner: QueueOwner,
    tab: QueueTab,
    filter: &QueueFilter,
    page: i64,
    per_page: i64,
) -> Result<QueuePage, StoreError> {
    let per_page = per_page.max(1);
    let (alerts, households) = queue_count(conn, owner, tab, filter).await?;
    let pages = ((households + per_page - 1) / per_page).max(1);
    let page = page.clamp(1, pages);
    // The households' order names the columns of `p`: bare inside it, qualified outside.
    let (households_order, alerts_order) = match tab {
        QueueTab::Open => (
            "worst DESC, waiting, household_id",
            "q.rank DESC, a.fired_at_ms, a.id",
        ),
        QueueTab::Handled => (
            "handled DESC, household_id",
            "a.updated_at_ms DESC, a.id DESC",
        ),
    };
    let qualified = households_order
        .split(", ")
        .map(|key| format!("p.{key}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = sqlx::AssertSqlSafe(format!(
        "WITH q AS (SELECT a.id, a.household_id, {SEVERITY_RANK} AS rank, a.fired_at_ms, a.updated_at_ms {MATCHING}),
              w AS (SELECT household_id, MAX(rank) AS worst FROM q GROUP BY household_id),
              p AS (SELECT q.household_id AS household_id, w.worst AS worst,
                           MIN(CASE WHEN q.rank = w.worst THEN q.fired_at_ms END) AS waiting,
                           MAX(q.updated_at_ms) AS handled
                    FROM q JOIN w ON w.household_id = q.household_id
                    GROUP BY q.household_id, w.worst
                    ORDER BY {households_order} LIMIT $9 OFFSET $10)
         SELECT {ALERT_COLUMNS_OF_A}, h.gemeente, h.wijk
         FROM p JOIN q ON q.household_id = p.household_id
                JOIN alerts a ON a.id = q.id
                JOIN households h ON h.id = a.household_id
         ORDER BY {qualified}, {alerts_order}"
    ));
    let rows = bind_matching(sqlx::query(sql), owner, tab, filter)
        .bind(per_page)
        .bind((page - 1) * per_page)
        .fetch_all(conn)
        .await?;
    let mut groups: Vec<QueueGroup> = Vec::new();
    for row in &rows {
        let alert = alert_row(row)?;
        match groups.last_mut() {
            Some(g) if g.household == alert.household => g.alerts.push(alert),
            _ => {
                let wijk: Option<String> = row.try_get("wijk")?;
                groups.push(QueueGroup {
                    household: alert.household.clone(),
                    gemeente: parse_stored("gemeente", &row.try_get::<String, _>("gemeente")?)?,
                    wijk: wijk.map(|w| parse_stored("wijk", &w)).transpose()?,
                    alerts: vec![alert],
                });
            }
        }
    }
    Ok(QueuePage {
        groups,
        alerts,
        households,
        page,
        pages,
    })
}

/// The gemeenten of the owner's households, to filter the queue by.
pub async fn queue_gemeenten(
    conn: &mut Conn,
    owner: QueueOwner,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT h.gemeente FROM households h JOIN assignments s ON s.household_id = h.id
         WHERE s.user_id = $1 AND s.relation = $2 ORDER BY h.gemeente",
    )
    .bind(owner.user_id)
    .bind(owner.relation.as_str())
    .fetch_all(conn)
    .await?)
}

/// A household's open alerts ([`AlertState::is_open`]), most severe first, then the longest
/// waiting: the same alerts, in the same order, as its group in the work queue.
pub async fn open_alerts(
    conn: &mut Conn,
    household: &HouseholdId,
) -> Result<Vec<AlertRow>, StoreError> {
    let (first, last) = QueueTab::Open.states();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS_OF_A} FROM alerts a
         WHERE a.household_id = $1 AND a.state IN ($2, $3)
         ORDER BY {SEVERITY_RANK} DESC, a.fired_at_ms, a.id"
    ));
    let rows = sqlx::query(sql)
        .bind(household.as_str())
        .bind(first)
        .bind(last)
        .fetch_all(conn)
        .await?;
    rows.iter().map(alert_row).collect()
}
