//! The application core: the state every adapter (the API and the pages, the CLI, the workers, the
//! demo) works through, and one function per use case. A use case checks the policy, writes,
//! re-evaluates the household and audits, all in the one transaction its caller holds; adapters
//! only translate between their medium and these functions.

pub mod access;
pub mod agenda;
pub mod alerting;
pub mod audit;
pub mod decisions;
pub mod disclosure;
mod error;
pub mod events;
pub mod export;
pub mod glass;
pub mod import;
pub mod interchange;
pub mod keys;
pub mod limits;
pub mod live;
pub mod notify;
pub mod privacy;
pub mod queue;
pub mod reports;
pub mod sign_in;
pub mod users;

use std::sync::{Arc, PoisonError, RwLock};

pub use error::{AppError, Invalid};

use crate::clock::Clock;
use crate::config::Settings;
use crate::rules::{NationalSource, RuleError, RuleSet};
use crate::store::crypt::{self, KeySource, Keys};
use crate::store::{self, Db, StoreError};

/// What every use case can reach.
pub struct AppState {
    pub db: Db,
    /// The alert rules in force; the service does not start with an invalid set, and a failed
    /// reload keeps the old one.
    rules: RwLock<Arc<RuleSet>>,
    /// Wakes the scheduler when an event may have made a household due sooner.
    pub wake: tokio::sync::Notify,
    /// Wakes the webhook worker when notifications were written.
    pub outbox: tokio::sync::Notify,
    /// Wakes every open stream (the inbox's and the live pages') after a commit.
    pub inbox: tokio::sync::Notify,
    /// Cancelled when the service begins to stop: open streams end, so that a graceful shutdown
    /// does not wait on a browser that never hangs up.
    pub stopping: tokio_util::sync::CancellationToken,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    /// Key of the pseudonyms shown outside the households' own people (gemeente monitors).
    pub pseudonym_key: Vec<u8>,
    /// Rate limits of this instance.
    pub limits: limits::Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid alert rules in {dir}:\n{errors}")]
    Rules {
        dir: std::path::PathBuf,
        errors: String,
    },
}

/// Connects to the database with the keys that seal its free text: `ZICHT_KEY` when set, else the
/// key file ([`Settings::key_file`]), created with a fresh key (and a warning to back it up) when
/// neither exists and the database holds no sealed text yet. Does not migrate.
pub async fn open_db(settings: &Settings, pool_size: u32) -> Result<Db, StoreError> {
    let db = Db::connect(&settings.database_url(), pool_size).await?;
    let source = match std::env::var("ZICHT_KEY") {
        Ok(ring) if !ring.trim().is_empty() => KeySource::Inline(ring),
        _ => KeySource::File(settings.key_file()),
    };
    let create = !crypt::holds_sealed(&db).await;
    let loaded = Keys::load(source, create)?;
    if let Some(path) = &loaded.created {
        tracing::warn!(
            key_file = %path.display(),
            "created a new encryption key for free text: BACK UP this key file, apart from the \
             database backups; without it no reason, description or note can be read again"
        );
    }
    Ok(db.with_keys(loaded.keys))
}

/// A started application core and, when this start created the database's first user, the
/// first admin's token (shown once).
pub struct Started {
    pub state: AppState,
    pub admin_token: Option<String>,
}

impl AppState {
    /// Loads the rules, connects and migrates the database, and creates the first admin on an
    /// empty database.
    pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> Result<Started, StartError> {
        let rules = load_rules(&settings)?;
        let db = open_db(&settings, settings.db_pool_size).await?;
        db.migrate().await?;
        let admin_token = users::bootstrap_admin(&db, clock.now(), settings.token_days).await?;
        sign_in::prepare();
        let pseudonym_key = {
            let mut tx = db.begin_write().await?;
            let key = store::server_secret(&mut tx, "pseudonym").await?;
            tx.commit().await.map_err(StoreError::from)?;
            key
        };
        Ok(Started {
            state: AppState {
                db,
                rules: RwLock::new(Arc::new(rules)),
                wake: tokio::sync::Notify::new(),
                outbox: tokio::sync::Notify::new(),
                inbox: tokio::sync::Notify::new(),
                stopping: tokio_util::sync::CancellationToken::new(),
                limits: limits::Limits::new(&settings, clock.clone()),
                settings,
                clock,
                pseudonym_key,
            },
            admin_token,
        })
    }

    /// After a commit that may have written notifications or made a household due sooner.
    pub fn notified(&self) {
        self.wake.notify_one();
        self.outbox.notify_one();
        self.inbox.notify_waiters();
    }

    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Loads the rules again. On an invalid set the old one stays in force and the errors are
    /// returned; on success every household is evaluated again.
    pub async fn reload_rules(&self) -> Result<usize, Vec<RuleError>> {
        let (rules, _) = crate::rules::load(&self.settings.alerts_dir)?;
        let count = rules.len();
        *self.rules.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(rules);
        let now = self.clock.now();
        let rescheduled = async {
            let mut tx = self.db.begin_write().await?;
            store::reschedule_all(&mut tx, now).await?;
            tx.commit().await.map_err(StoreError::from)
        };
        if let Err(e) = rescheduled.await {
            tracing::error!(error = %e, "rules reloaded, but households could not be rescheduled");
        }
        self.wake.notify_one();
        Ok(count)
    }
}

/// The rules of the configured directory over the built-in national defaults.
fn load_rules(settings: &Settings) -> Result<RuleSet, StartError> {
    let dir = &settings.alerts_dir;
    let (rules, source) = crate::rules::load(dir).map_err(|errors| StartError::Rules {
        dir: dir.clone(),
        errors: errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    })?;
    if !dir.is_dir() && *dir != Settings::default().alerts_dir {
        tracing::warn!(dir = %dir.display(), "the configured rules directory does not exist; using the built-in rules");
    }
    let national = match source {
        NationalSource::BuiltIn => "built-in",
        NationalSource::Directory => "rules directory",
    };
    tracing::info!(
        national,
        rules = rules.len(),
        regional_overrides = rules.regions_with_overrides().count(),
        "alert rules loaded"
    );
    Ok(rules)
}
