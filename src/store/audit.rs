//! The append-only, hash-chained audit log. Rows are inserted, never updated or deleted (the
//! database refuses), and each carries `hash` = SHA-256 over a canonical encoding of its content,
//! its place in the chain (`seq`) and the previous row's hash, so that a changed, deleted or
//! forged row shows in [`verify`]. The head of the chain (`audit_chain`, one row) moves with each
//! append in the same transaction. See `docs/audit.md`.

use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};

use super::{Conn, StoreError, corrupt, hex};
use crate::domain::Instant;

/// Every column of a row, chain columns included.
macro_rules! columns {
    () => {
        "id, at_ms, actor_id, actor, action, household_id, request_id, outcome, purpose, seq, \
         prev_hash, hash"
    };
}

/// What the first row of the chain links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One access to household data or configuration.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub at: Instant,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub household: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub outcome: AuditOutcome,
    /// Why, where the action has a why: a short value, never free text.
    pub purpose: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Ok,
    Denied,
}

impl AuditOutcome {
    fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
        }
    }
}

/// What a row's hash covers, besides the previous row's hash.
struct Content<'a> {
    seq: i64,
    at_ms: i64,
    actor_id: Option<i64>,
    actor: &'a str,
    action: &'a str,
    household: Option<&'a str>,
    request_id: Option<&'a str>,
    outcome: &'a str,
    purpose: Option<&'a str>,
}

impl Content<'_> {
    /// `hex(SHA-256(encoding))`, the encoding being `zicht-audit-v1` and then each field in a
    /// fixed order as one byte (0 absent, 1 present) and, when present, its UTF-8 length as 8 bytes
    /// big-endian and its bytes; integers in decimal. No two contents encode alike.
    fn hash(&self, prev_hash: &str) -> String {
        let seq = self.seq.to_string();
        let at = self.at_ms.to_string();
        let actor_id = self.actor_id.map(|i| i.to_string());
        let fields: [Option<&str>; 10] = [
            Some(&seq),
            Some(&at),
            actor_id.as_deref(),
            Some(self.actor),
            Some(self.action),
            self.household,
            self.request_id,
            Some(self.outcome),
            self.purpose,
            Some(prev_hash),
        ];
        let mut h = Sha256::new();
        h.update(b"zicht-audit-v1");
        for field in fields {
            match field {
                None => h.update([0u8]),
                Some(s) => {
                    h.update([1u8]);
                    h.update((s.len() as u64).to_be_bytes());
                    h.update(s.as_bytes());
                }
            }
        }
        hex(&h.finalize())
    }
}

/// The end of the chain: the last row's place, id and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    /// 0 while the chain is empty.
    pub id: i64,
    pub hash: String,
}

/// Reads the head; on PostgreSQL locks it until the transaction ends (backend-specific SQL: SQLite
/// has no `FOR UPDATE` and needs none, its one writer holds the database).
async fn head_locked(conn: &mut Conn) -> Result<ChainHead, StoreError> {
    let sql = if is_postgres(conn) {
        "SELECT seq, last_id, hash FROM audit_chain WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT seq, last_id, hash FROM audit_chain WHERE id = 1"
    };
    read_head(conn, sql).await
}

/// The head of the chain as recorded.
pub async fn head(conn: &mut Conn) -> Result<ChainHead, StoreError> {
    read_head(
        conn,
        "SELECT seq, last_id, hash FROM audit_chain WHERE id = 1",
    )
    .await
}

async fn read_head(conn: &mut Conn, sql: &'static str) -> Result<ChainHead, StoreError> {
    let row = sqlx::query(sql).fetch_one(&mut *conn).await?;
    Ok(ChainHead {
        seq: row.try_get("seq")?,
        id: row.try_get("last_id")?,
        hash: row.try_get("hash")?,
    })
}

fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

async fn move_head(conn: &mut Conn, head: &ChainHead) -> Result<(), StoreError> {
    sqlx::query("UPDATE audit_chain SET seq = $1, last_id = $2, hash = $3 WHERE id = 1")
        .bind(head.seq)
        .bind(head.id)
        .bind(&head.hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends a row at the end of the chain. Inside a transaction the head stays locked until it
/// ends (so the row and the head commit together, after any concurrent append); outside one, the
/// append is a transaction of its own.
pub async fn append(conn: &mut Conn, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
    if conn.is_in_transaction() {
        return append_in(conn, entry).await;
    }
    let mut tx = if is_postgres(conn) {
        conn.begin().await?
    } else {
        // Take SQLite's write lock before reading the head, as `Db::begin_write` does.
        conn.begin_with("BEGIN IMMEDIATE").await?
    };
    append_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

async fn append_in(conn: &mut Conn, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
    let prev = head_locked(conn).await?;
    let seq = prev.seq + 1;
    let content = Content {
        seq,
        at_ms: entry.at.millis(),
        actor_id: entry.actor_id,
        actor: entry.actor,
        action: entry.action,
        household: entry.household,
        request_id: entry.request_id,
        outcome: entry.outcome.as_str(),
        purpose: entry.purpose,
    };
    let hash = content.hash(&prev.hash);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_log
             (at_ms, actor_id, actor, action, household_id, request_id, outcome, purpose,
              seq, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id",
    )
    .bind(content.at_ms)
    .bind(content.actor_id)
    .bind(content.actor)
    .bind(content.action)
    .bind(content.household)
    .bind(content.request_id)
    .bind(content.outcome)
    .bind(content.purpose)
    .bind(seq)
    .bind(&prev.hash)
    .bind(&hash)
    .fetch_one(&mut *conn)
    .await?;
    move_head(conn, &ChainHead { seq, id, hash }).await
}

/// Claims the publication of the head for `day`: true for the one caller (of every instance) that
/// moves the last day published to `day`.
pub async fn claim_publication(conn: &mut Conn, day: &str) -> Result<bool, StoreError> {
    let last: Option<String> =
        sqlx::query_scalar("SELECT published_on FROM audit_chain WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    if last.as_deref() == Some(day) {
        return Ok(false);
    }
    let claimed = sqlx::query(
        "UPDATE audit_chain SET published_on = $1
         WHERE id = 1 AND (published_on IS NULL OR published_on <> $1)",
    )
    .bind(day)
    .execute(&mut *conn)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Queues `payload` (the head) for every active webhook endpoint of `role`, once per endpoint and
/// `day` (the outbox's insert, as for heartbeats: `message_id` names the endpoint and the day).
pub async fn enqueue_head(
    conn: &mut Conn,
    role: &str,
    day: &str,
    payload: &str,
    now: Instant,
) -> Result<u64, StoreError> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE active = 1 AND role = $1")
            .bind(role)
            .fetch_all(&mut *conn)
            .await?;
    let mut queued = 0;
    for id in ids {
        let message_id = format!("audit_head_{id}_{day}");
        queued += u64::from(
            super::notify::digest::enqueue_once(conn, &message_id, id, payload, now).await?,
        );
    }
    Ok(queued)
}

/// Gives the rows written before the chain existed (migration 0013) their place in it, once, in
/// id order. Runs after every migration; with nothing left to chain it does nothing.
pub async fn chain_legacy(conn: &mut Conn) -> Result<u64, StoreError> {
    let mut tx = if is_postgres(conn) {
        conn.begin().await?
    } else {
        conn.begin_with("BEGIN IMMEDIATE").await?
    };
    let mut head = head_locked(&mut tx).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log
         WHERE hash IS NULL AND id <= (SELECT legacy_max_id FROM audit_chain WHERE id = 1)
         ORDER BY id"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut chained = 0;
    for row in &rows {
        let row = stored(row)?;
        let seq = head.seq + 1;
        let hash = row.content(seq).hash(&head.hash);
        sqlx::query("UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4")
            .bind(seq)
            .bind(&head.hash)
            .bind(&hash)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        head = ChainHead {
            seq,
            id: row.id,
            hash,
        };
        chained += 1;
    }
    if chained > 0 {
        move_head(&mut tx, &head).await?;
    }
    tx.commit().await?;
    Ok(chained)
}

/// A row as stored, chain columns included.
struct Stored {
    id: i64,
    at_ms: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    household: Option<String>,
    request_id: Option<String>,
    outcome: String,
    purpose: Option<String>,
    seq: Option<i64>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl Stored {
    fn content(&self, seq: i64) -> Content<'_> {
        Content {
            seq,
            at_ms: self.at_ms,
            actor_id: self.actor_id,
            actor: &self.actor,
            action: &self.action,
            household: self.household.as_deref(),
            request_id: self.request_id.as_deref(),
            outcome: &self.outcome,
            purpose: self.purpose.as_deref(),
        }
    }
}

fn stored(row: &sqlx::any::AnyRow) -> Result<Stored, StoreError> {
    Ok(Stored {
        id: row.try_get("id")?,
        at_ms: row.try_get("at_ms")?,
        actor_id: row.try_get("actor_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        household: row.try_get("household_id")?,
        request_id: row.try_get("request_id")?,
        outcome: row.try_get("outcome")?,
        purpose: row.try_get("purpose")?,
        seq: row.try_get("seq")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Where the chain breaks first: the row, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The audit row's id.
    pub id: i64,
    pub kind: BreakKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// The row's content no longer gives its hash.
    Changed,
    /// Rows before this one are missing: its place is `found`, the chain expected `expected`.
    Deleted { expected: i64, found: i64 },
    /// The last rows are missing: the recorded head names row `id` at place `seq`.
    DeletedAtEnd { seq: i64 },
    /// A row the chain never wrote: without a hash, in a place already taken, or past the head.
    Forged(&'static str),
    /// The row does not link to the row before it.
    BrokenLink,
    /// An exported head is not in the chain: the chain was rewritten.
    HeadNotFound,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = self.id;
        match &self.kind {
            BreakKind::Changed => write!(
                f,
                "row {id}: its content was changed (it no longer matches its hash)"
            ),
            BreakKind::Deleted { expected, found } => write!(
                f,
                "row {id}: {} row(s) before it were deleted (it is number {found} of the chain, \
                 number {expected} was expected)",
                found - expected
            ),
            BreakKind::DeletedAtEnd { seq } => write!(
                f,
                "row {id}: the last row(s) were deleted (the chain head names row {id}, number \
                 {seq} of the chain)"
            ),
            BreakKind::Forged(why) => write!(f, "row {id}: a forged row ({why})"),
            BreakKind::BrokenLink => write!(
                f,
                "row {id}: it does not link to the row before it (the chain was rewritten)"
            ),
            BreakKind::HeadNotFound => write!(
                f,
                "the exported head is not in the chain: the chain was rewritten (last row {id})"
            ),
        }
    }
}

/// Rows read per query while verifying.
const PAGE: i64 = 1000;

/// Checks the whole chain in id order, calling `progress(checked, total)` after each page, and
/// `expect` (a head exported earlier) must be the hash of one of its rows. Answers the head, or
/// the first row where the chain breaks.
pub async fn verify(
    conn: &mut Conn,
    expect: Option<&str>,
    mut progress: impl FnMut(i64, i64),
) -> Result<Result<ChainHead, ChainBreak>, StoreError> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut *conn)
        .await?;
    let mut last = ChainHead {
        seq: 0,
        id: 0,
        hash: GENESIS.to_owned(),
    };
    let mut checked = 0;
    let mut expect_found = expect.is_none();
    // Rows past this head are checked against the head as it is then: one that lies past it too
    // is a row the chain never wrote (a real append moves the head in its own transaction).
    let mut known = head(conn).await?;
    loop {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(last.id)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            // The head is read after the rows: a row committed since has moved it further, never
            // back, so a head behind the last row means a row past it that the chain never wrote.
            let head = head(conn).await?;
            if head.seq > last.seq {
                let more: Option<i64> =
                    sqlx::query_scalar("SELECT MIN(id) FROM audit_log WHERE id > $1")
                        .bind(last.id)
                        .fetch_one(&mut *conn)
                        .await?;
                if more.is_some() {
                    continue; // appended while we read
                }
                return Ok(Err(ChainBreak {
                    id: head.id,
                    kind: BreakKind::DeletedAtEnd { seq: head.seq },
                }));
            }
            if head.seq != last.seq || head.hash != last.hash {
                return Ok(Err(ChainBreak {
                    id: last.id,
                    kind: BreakKind::Forged("the recorded head of the chain names another row"),
                }));
            }
            if !expect_found {
                return Ok(Err(ChainBreak {
                    id: last.id,
                    kind: BreakKind::HeadNotFound,
                }));
            }
            return Ok(Ok(last));
        }
        for row in &rows {
            let row = stored(row)?;
            if let Some(seq) = row.seq.filter(|seq| *seq > known.seq) {
                known = head(conn).await?;
                if seq > known.seq {
                    return Ok(Err(ChainBreak {
                        id: row.id,
                        kind: BreakKind::Forged("it lies past the recorded head of the chain"),
                    }));
                }
            }
            if let Err(kind) = check_row(&row, &last) {
                return Ok(Err(ChainBreak { id: row.id, kind }));
            }
            let hash = row.hash.unwrap_or_default();
            expect_found |= expect == Some(hash.as_str());
            last = ChainHead {
                seq: last.seq + 1,
                id: row.id,
                hash,
            };
        }
        checked += rows.len() as i64;
        progress(checked, total.max(checked));
    }
}

/// Whether `row` follows `prev` in the chain.
fn check_row(row: &Stored, prev: &ChainHead) -> Result<(), BreakKind> {
    let (Some(seq), Some(prev_hash), Some(hash)) = (row.seq, &row.prev_hash, &row.hash) else {
        return Err(BreakKind::Forged("it has no place in the chain"));
    };
    let expected = prev.seq + 1;
    if seq > expected {
        return Err(BreakKind::Deleted {
            expected,
            found: seq,
        });
    }
    if seq < expected {
        return Err(BreakKind::Forged("its place in the chain is taken already"));
    }
    if *prev_hash != prev.hash {
        return Err(BreakKind::BrokenLink);
    }
    if row.content(seq).hash(prev_hash) != *hash {
        return Err(BreakKind::Changed);
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: Instant,
    pub actor: String,
    pub action: String,
    pub household: Option<String>,
    pub request_id: Option<String>,
    pub outcome: String,
    pub purpose: Option<String>,
}

/// Newest first, before the id `before`, optionally for one household.
pub async fn list(
    conn: &mut Conn,
    household: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log
         WHERE ($1 = '' OR household_id = $1) AND id < $2
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(household.unwrap_or("").to_owned())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let row = stored(row)?;
            Ok(AuditRow {
                id: row.id,
                at: Instant::from_millis(row.at_ms).map_err(|e| corrupt("audit at", e))?,
                actor: row.actor,
                action: row.action,
                household: row.household,
                request_id: row.request_id,
                outcome: row.outcome,
                purpose: row.purpose,
            })
        })
        .collect()
}
