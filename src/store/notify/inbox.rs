//! The in-app inbox: who is told of an alert, their notifications, read marks and mutes.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::{HouseholdId, Instant, Relation, Severity, vocabulary};
use crate::store::{Conn, StoreError, corrupt, flag, parse_stored};

/// The people tied to `household` by `relation` who have not muted `rule`. Only people with a tie
/// are ever named a household; who else hears of it is `auth::policy`'s decision, made by the
/// caller.
pub async fn recipients(
    conn: &mut Conn,
    relation: Relation,
    household: &HouseholdId,
    rule: &str,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT u.id FROM assignments a JOIN users u ON u.id = a.user_id
         WHERE a.household_id = $1 AND a.relation = $2 AND u.active = 1
           AND NOT EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = u.id AND m.rule = $3)
         ORDER BY u.id",
    )
    .bind(household.as_str())
    .bind(relation.as_str())
    .bind(rule)
    .fetch_all(conn)
    .await?)
}

/// Whose inbox is read, and the tie to a household through which they may read it. A
/// notification about an alert shows only while its reader holds its household in that relation:
/// one written before a rule changed, or before they were taken off the household, names it to
/// nobody. A notice that the household's assignments changed stays: it went only to its
/// people of that moment, and tells one who was taken off it why.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub user_id: i64,
    /// `None` for a role that reads no household: their inbox names none.
    pub relation: Option<Relation>,
}

impl Reader {
    fn relation(self) -> &'static str {
        // '' matches no assignment (the column allows only real relations).
        self.relation.map_or("", Relation::as_str)
    }
}

vocabulary! {
    /// Why a notification is sent (DESIGN.md section 5).
    Why, "notification reason" {
        First => "first",
        Repeat => "repeat",
        Escalation => "escalation",
        Resolved => "resolved",
        SilenceExpired => "silence_expired",
        // Not about an alert: who works on the household changed.
        Assignment => "assignment",
        // Open alerts told to someone newly assigned to the household.
        Handover => "handover",
        // Not about an alert: someone read the household through break-the-glass.
        BreakGlass => "break_glass",
    }
}

/// A notification to write: the most pressing news of one evaluation for one person.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub alert: i64,
    pub household: &'a HouseholdId,
    pub rule: &'a str,
    pub severity: Severity,
    pub why: Why,
    /// How many other alerts of the household changed in the same evaluation.
    pub others: i64,
}

pub async fn insert_notification(
    conn: &mut Conn,
    user_id: i64,
    n: &NewNotification<'_>,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO notifications (user_id, alert_id, household_id, rule, severity, why, others, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user_id)
    .bind(n.alert)
    .bind(n.household.as_str())
    .bind(n.rule)
    .bind(n.severity.as_str())
    .bind(n.why.as_str())
    .bind(n.others)
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    /// `None` for a notification about the household's assignments.
    pub alert: Option<i64>,
    pub household: String,
    pub rule: String,
    pub severity: String,
    pub why: Why,
    /// Other alerts of the household that changed in the same evaluation.
    pub others: i64,
    pub created_at: Instant,
    pub read_at: Option<Instant>,
}

fn notification_row(r: &AnyRow) -> Result<NotificationRow, StoreError> {
    Ok(NotificationRow {
        id: r.try_get("id")?,
        alert: r.try_get("alert_id")?,
        household: r.try_get("household_id")?,
        rule: r.try_get("rule")?,
        severity: r.try_get("severity")?,
        why: parse_stored("notification reason", &r.try_get::<String, _>("why")?)?,
        others: r.try_get("others")?,
        created_at: Instant::from_millis(r.try_get("created_at_ms")?)
            .map_err(|e| corrupt("created_at", e))?,
        read_at: r
            .try_get::<Option<i64>, _>("read_at_ms")?
            .map(Instant::from_millis)
            .transpose()
            .map_err(|e| corrupt("read_at", e))?,
    })
}

/// A user's notifications, newest first, before `before`; only unread ones with `unread`.
pub async fn inbox(
    conn: &mut Conn,
    reader: Reader,
    unread: bool,
    rule: Option<&str>,
    before: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationRow>, StoreError> {
    // Readable: see [`Reader`].
    let rows = sqlx::query(
        "SELECT n.id, n.alert_id, n.household_id, n.rule, n.severity, n.why, n.others, n.created_at_ms, n.read_at_ms
         FROM notifications n
         WHERE n.user_id = $1 AND (n.why = 'assignment' OR EXISTS (SELECT 1 FROM assignments a
                 WHERE a.household_id = n.household_id AND a.user_id = $1 AND a.relation = $2))
           AND ($3 = 0 OR n.read_at_ms IS NULL) AND ($4 = '' OR n.rule = $4) AND n.id < $5 AND n.id > $6
         ORDER BY n.id DESC LIMIT $7",
    )
    .bind(reader.user_id)
    .bind(reader.relation())
    .bind(flag(unread))
    .bind(rule.unwrap_or("").to_owned())
    .bind(before.unwrap_or(i64::MAX))
    .bind(after.unwrap_or(0))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(notification_row).collect()
}

/// Tells `user_id` something about `household` that is about no alert: who works on it changed
/// ([`Why::Assignment`]), or someone read it through break-the-glass ([`Why::BreakGlass`]).
pub async fn insert_household_notice(
    conn: &mut Conn,
    user_id: i64,
    household: &HouseholdId,
    why: Why,
    now: Instant,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO notifications (user_id, alert_id, household_id, rule, severity, why, others, created_at_ms)
         VALUES ($1, NULL, $2, '', 'warning', $3, 0, $4)",
    )
    .bind(user_id)
    .bind(household.as_str())
    .bind(why.as_str())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks every notification created before `before` read (the demo's past).
pub async fn mark_read_before(conn: &mut Conn, before: Instant) -> Result<u64, StoreError> {
    Ok(sqlx::query("UPDATE notifications SET read_at_ms = created_at_ms WHERE created_at_ms < $1 AND read_at_ms IS NULL")
        .bind(before.millis())
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn unread_count(conn: &mut Conn, reader: Reader) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications n
         WHERE n.user_id = $1 AND (n.why = 'assignment' OR EXISTS (SELECT 1 FROM assignments a
                 WHERE a.household_id = n.household_id AND a.user_id = $1 AND a.relation = $2))
           AND n.read_at_ms IS NULL",
    )
    .bind(reader.user_id)
    .bind(reader.relation())
    .fetch_one(conn)
    .await?)
}

/// Marks a notification read; `false` when the user has no such notification.
pub async fn mark_read(
    conn: &mut Conn,
    reader: Reader,
    id: i64,
    now: Instant,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT n.id FROM notifications n
         WHERE n.user_id = $1 AND (n.why = 'assignment' OR EXISTS (SELECT 1 FROM assignments a
                 WHERE a.household_id = n.household_id AND a.user_id = $1 AND a.relation = $2))
           AND n.id = $3",
    )
    .bind(reader.user_id)
    .bind(reader.relation())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if found.is_none() {
        return Ok(false);
    }
    sqlx::query("UPDATE notifications SET read_at_ms = $1 WHERE id = $2 AND read_at_ms IS NULL")
        .bind(now.millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Marks the user's notifications about an alert read (they opened it); how many were unread.
pub async fn mark_alert_read(
    conn: &mut Conn,
    user_id: i64,
    alert: i64,
    now: Instant,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE notifications SET read_at_ms = $1 WHERE user_id = $2 AND alert_id = $3 AND read_at_ms IS NULL",
    )
    .bind(now.millis())
    .bind(user_id)
    .bind(alert)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Marks all of the user's notifications read; how many were unread.
pub async fn mark_all_read(conn: &mut Conn, user_id: i64, now: Instant) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE notifications SET read_at_ms = $1 WHERE user_id = $2 AND read_at_ms IS NULL",
    )
    .bind(now.millis())
    .bind(user_id)
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn mutes(conn: &mut Conn, user_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT rule FROM notification_mutes WHERE user_id = $1 ORDER BY rule")
            .bind(user_id)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn set_mutes(conn: &mut Conn, user_id: i64, rules: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM notification_mutes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for rule in rules {
        sqlx::query(
            "INSERT INTO notification_mutes (user_id, rule) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(rule.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Notes that an alert was sent to its people, and at which escalation level.
pub async fn set_notified(
    conn: &mut Conn,
    alert: i64,
    at: Instant,
    level: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE alerts SET notified_at_ms = $1, escalation_level = $2 WHERE id = $3")
        .bind(at.millis())
        .bind(level)
        .bind(alert)
        .execute(conn)
        .await?;
    Ok(())
}
