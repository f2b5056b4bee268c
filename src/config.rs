//! Configuration: defaults that need no file, then an optional TOML file, then the environment.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on (`ZICHT_LISTEN`).
    pub listen: SocketAddr,
    /// Directory for the SQLite database (`ZICHT_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `postgres://…` to run on PostgreSQL, or `sqlite://…`; empty means `<data_dir>/zicht.db`
    /// (`DATABASE_URL`).
    pub database_url: Option<String>,
    /// Directory with the alert rules (`ZICHT_ALERTS_DIR`).
    pub alerts_dir: PathBuf,
    /// Largest request body accepted, in bytes (`ZICHT_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Size of the database connection pool (`ZICHT_DB_POOL_SIZE`).
    pub db_pool_size: u32,
    /// Log as JSON lines instead of text (`ZICHT_LOG_JSON`).
    pub log_json: bool,
    /// Mark session cookies `Secure` (`ZICHT_COOKIE_SECURE`); browsers still accept them on
    /// http://localhost and http://127.0.0.1. Turn off only behind nothing but plain HTTP.
    pub cookie_secure: bool,
    /// How long an account name or a client address stays locked after too many failed sign-ins
    /// (`ZICHT_SIGN_IN_LOCKOUT_MINUTES`); an admin can lift it sooner.
    pub sign_in_lockout_minutes: u32,
    /// How many days an API token works unless it is issued for fewer (`ZICHT_TOKEN_DAYS`).
    pub token_days: u32,
    /// Writes one API token may make per minute (`ZICHT_WRITES_PER_MINUTE`).
    pub writes_per_minute: u32,
    /// Reports one signal reporter may make per hour (`ZICHT_REPORTS_PER_HOUR`).
    pub reports_per_hour: u32,
    /// Reports about one reference per day, from all reporters together
    /// (`ZICHT_REPORTS_PER_REFERENCE_PER_DAY`).
    pub reports_per_reference_per_day: u32,
    /// How long a break-the-glass read lasts, in hours (`ZICHT_BREAK_GLASS_HOURS`).
    pub break_glass_hours: u32,
    /// zicht is reached over HTTPS only, through a proxy that ends TLS (`ZICHT_BEHIND_TLS`):
    /// responses then carry `Strict-Transport-Security`.
    pub behind_tls: bool,
    /// Serve `/metrics` on this address of its own, without a token, and not on `listen`
    /// (`ZICHT_METRICS_LISTEN`). Unset, `/metrics` is on `listen` for an admin's token only.
    pub metrics_listen: Option<SocketAddr>,
    /// The key file that seals free text (`ZICHT_KEY_FILE`); unset, `zicht.key` beside the SQLite
    /// file (on PostgreSQL, in `data_dir`). `ZICHT_KEY`, the key ring itself, wins over a file.
    pub key_file: Option<PathBuf>,
    /// Years after its closure that a closed trajectory is kept before `zicht retention run`
    /// anonymises it (`ZICHT_RETENTION_YEARS`): the national default, 5 (docs/security.md says
    /// why, and that a region sets its own with its privacy officer).
    pub retention_years: u32,
    /// A region's own retention period, in years, by region (`[retention_years_by_region]` in the
    /// configuration file).
    pub retention_years_by_region: BTreeMap<String, u32>,
    /// The reverse proxies in front of zicht (`ZICHT_TRUSTED_PROXIES='["127.0.0.1"]'`): from
    /// these peers the client's address is read from `X-Forwarded-For` (the right-most address
    /// that is not a trusted proxy). Otherwise the header is ignored, so a client cannot choose
    /// the address its sign-in attempts are counted against. Empty by default.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            alerts_dir: PathBuf::from("alerts"),
            max_body_bytes: 64 * 1024,
            db_pool_size: 8,
            log_json: false,
            cookie_secure: true,
            sign_in_lockout_minutes: 30,
            token_days: 90,
            // A system feeding a caseload's visits; a flood beyond it is a fault or an attack.
            writes_per_minute: 300,
            reports_per_hour: 30,
            // A household's neighbours, wijkagent and huisarts may each report the same evening;
            // more than that is one concern repeated, which inflates the meldingen count.
            reports_per_reference_per_day: 5,
            // Long enough for a crisis night shift's assessment, short enough to lapse by itself.
            break_glass_hours: 3,
            behind_tls: false,
            metrics_listen: None,
            key_file: None,
            // MDA++ registrations are usually kept 5 years after closure (docs/security.md).
            retention_years: 5,
            retention_years_by_region: BTreeMap::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// The settings that `ZICHT_<KEY>` may set; other `ZICHT_*` variables belong to tools around zicht.
const KEYS: [&str; 19] = [
    "key_file",
    "retention_years",
    "cookie_secure",
    "break_glass_hours",
    "token_days",
    "sign_in_lockout_minutes",
    "writes_per_minute",
    "reports_per_hour",
    "reports_per_reference_per_day",
    "listen",
    "data_dir",
    "database_url",
    "alerts_dir",
    "max_body_bytes",
    "db_pool_size",
    "log_json",
    "behind_tls",
    "metrics_listen",
    "trusted_proxies",
];

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Settings {
    /// Defaults, then `file` (or `./zicht.toml` when present, or `ZICHT_CONFIG`), then `ZICHT_*`
    /// variables and `DATABASE_URL`.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("ZICHT_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("zicht.toml"));
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("ZICHT_").only(&KEYS))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|e| ConfigError(Box::new(e)))
    }

    /// The key file: `key_file` when set, else `zicht.key` beside the SQLite file, or in
    /// `data_dir` on PostgreSQL.
    pub fn key_file(&self) -> PathBuf {
        if let Some(file) = &self.key_file {
            return file.clone();
        }
        let url = self.database_url();
        let sqlite = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .and_then(|rest| rest.split('?').next())
            .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
        match sqlite.and_then(|path| Path::new(path).parent()) {
            Some(dir) => dir.join("zicht.key"),
            None => self.data_dir.join("zicht.key"),
        }
    }

    /// The database to use: `DATABASE_URL` when set, else the SQLite file under `data_dir`.
    pub fn database_url(&self) -> String {
        match self.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("zicht.db").display()
            ),
        }
    }
}
