//! Storage on SQLite or PostgreSQL through `sqlx::Any`: one set of SQL (`$1` parameters, times as
//! epoch milliseconds, booleans as integers) runs on both, with one migration set per backend.

mod alerts;
mod audit;
pub mod bulk;
pub mod crypt;
pub mod glass;
mod households;
mod idempotency;
mod live;
pub mod notify;
mod queue;
mod reports;
pub mod retention;
pub mod sessions;
pub mod sign_in;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};

pub use alerts::{
    AlertFilter, AlertRow, AlertState, AlertUpdate, ENGINE_ACTOR, Firing, Transition,
    TransitionRow, TransitionWhy, alert, append_transition, claim_due, events_by_id, history,
    insert_alert, list_alerts, next_due, reschedule_all, set_schedule, state_alerts, transitions,
    update_alert,
};
pub use audit::{
    AuditEntry, AuditOutcome, AuditRow, BreakKind, ChainBreak, ChainHead, append as append_audit,
    claim_publication as claim_audit_publication, enqueue_head as enqueue_audit_head,
    head as audit_head, list as list_audit, verify as verify_audit,
};
pub use households::{
    AssignmentRow, EventRow, HouseholdFilter, HouseholdRow, InsertEventError, NewHouseholdError,
    assignments, create_household, household, insert_event, list_households, relation_of,
    set_assignments, timeline,
};
pub use idempotency::{
    IdempotencyClaim, SavedResponse, claim as claim_idempotency, save as save_idempotency,
};
pub use live::{household_changes, work_changes};
pub use queue::{
    QueueFilter, QueueGroup, QueueOwner, QueuePage, QueueTab, open_alerts, queue_count,
    queue_gemeenten, work_queue,
};
pub use reports::{
    ReportRow, UncheckedReport, claim as claim_report, household_by_reference, insert_report,
    matched as report_matched, of_household as reports_of, unchecked as unchecked_reports,
};
pub(crate) use users::hex;
pub use users::{
    NewUserError, TokenRow, UserRow, active_admins, active_user_with_role, bootstrap_admin,
    create_token, create_user, deactivate_user, find_user_by_name, list_tokens, list_users,
    other_valid_tokens, revoke_token, server_secret, user, user_by_token_hash,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    #[error("cannot create the data directory: {0}")]
    DataDir(#[source] std::io::Error),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored value cannot be read back: {0}")]
    Corrupt(String),
    #[error("no encryption key is loaded")]
    NoKey,
    #[error(
        "a text is sealed under key {0}, which the key ring does not hold: is this the key file \
         (ZICHT_KEY_FILE) or ZICHT_KEY this database was written with?"
    )]
    UnknownKey(String),
    #[error(
        "a text sealed under key {0} does not open: the key is not the one it was written with, \
         or the text was altered or moved from another household's row"
    )]
    Undecryptable(String),
    #[error(transparent)]
    Key(#[from] crypt::KeyError),
}

impl StoreError {
    fn database_error(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        match self {
            StoreError::Database(e) => e.as_database_error(),
            _ => None,
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        self.database_error()
            .is_some_and(|e| e.is_unique_violation())
    }

    /// The database was too busy to take the write in time (SQLite's single writer, PostgreSQL's
    /// serialization failures and deadlocks): the client may retry.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            _ => self
                .database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| {
                    // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED, 517 SQLITE_BUSY_SNAPSHOT;
                    // PostgreSQL: 40001 serialization_failure, 40P01 deadlock_detected.
                    matches!(code.as_ref(), "5" | "6" | "517" | "40001" | "40P01")
                }),
        }
    }
}

pub fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

/// Parses a stored wire value back into its domain type.
pub(crate) fn parse_stored<T: FromStr>(what: &str, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| corrupt(what, e))
}

pub type Tx = Transaction<'static, Any>;

/// The database: a pool and which backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The keys that seal free text (`crypt`); none until [`Db::with_keys`].
    keys: Arc<crypt::Keys>,
}

impl Db {
    /// Connects (creating the SQLite file and its directory when needed); does not migrate.
    pub async fn connect(url: &str, pool_size: u32) -> Result<Db, StoreError> {
        install_default_drivers();
        let backend = Backend::of(url)?;
        if backend == Backend::Sqlite {
            create_sqlite_dir(url)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(pool_size.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers go on while one writer writes; wait for a busy writer
                        // instead of failing at once; SQLite leaves foreign keys off unless asked.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Db {
            pool,
            backend,
            keys: Arc::default(),
        })
    }

    /// This database with the keys that seal its free text.
    pub fn with_keys(mut self, keys: crypt::Keys) -> Db {
        self.keys = Arc::new(keys);
        self
    }

    pub fn keys(&self) -> &crypt::Keys {
        &self.keys
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the embedded migrations of this backend, then gives the audit rows written before
    /// the audit chain existed their place in it (once; see `store/audit.rs`), seals the free text
    /// stored before encryption (once) and checks that the keys open what is stored.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.backend.migrator().run(&self.pool).await?;
        let chained = audit::chain_legacy(&mut *self.acquire().await?).await?;
        if chained > 0 {
            tracing::info!(rows = chained, "audit rows from before the chain chained");
        }
        let sealed = crypt::prepare(self, &self.keys).await?;
        if sealed > 0 {
            tracing::info!(texts = sealed, "free text from before encryption sealed");
        }
        Ok(())
    }

    /// Whether the database answers and every embedded migration has been applied.
    pub async fn ready(&self) -> Result<bool, StoreError> {
        let latest = self
            .backend
            .migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await
                .or_else(|e| match e {
                    // No migrations table yet: nothing applied.
                    sqlx::Error::Database(_) => Ok(None),
                    e => Err(e),
                })?;
        Ok(applied == Some(latest))
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when
    /// it upgrades from reading to writing.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Any>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_dir(url: &str) -> Result<(), StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(StoreError::DataDir)
        }
        _ => Ok(()),
    }
}

/// Booleans travel as integers through `sqlx::Any` (SQLite has no boolean type).
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

pub type Conn = AnyConnection;
