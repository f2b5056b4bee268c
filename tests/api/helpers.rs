//! `spawn_app` and helpers that speak the domain.

use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zicht::clock::ManualClock;
use zicht::config::Settings;
use zicht::domain::Instant;
use zicht::http::App;

/// Runs an async test body once on SQLite and once on PostgreSQL, as `<name>::sqlite` and
/// `<name>::postgres`.
macro_rules! both {
    ($(async fn $name:ident($app:ident: $ty:ty) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($app: $ty) $body

                #[tokio::test]
                async fn sqlite() {
                    run($crate::helpers::TestApp::spawn_sqlite().await).await
                }

                #[tokio::test]
                #[cfg_attr(not(zicht_postgres), ignore = "PostgreSQL suite: set ZICHT_TEST_POSTGRES_URL to a role that may create databases (README.md)")]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::TestApp::spawn_postgres().await {
                        run(app).await
                    }
                }
            }
        )*
    };
}
pub(crate) use both;

/// Where the PostgreSQL suite finds its server: a URL of a role that may create databases.
const POSTGRES_ENV: &str = "ZICHT_TEST_POSTGRES_URL";

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    /// `/metrics` on an address of its own, when `metrics_listen` is set.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub admin_token: String,
    pub clock: ManualClock,
    pub settings: Settings,
    pub state: Arc<zicht::app::AppState>,
    client: reqwest::Client,
    /// Stops the server (see [`TestApp::shut_down`]).
    stop: tokio_util::sync::CancellationToken,
    served: tokio::sync::Mutex<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
    _dir: tempfile::TempDir,
    postgres_db: Option<(String, String)>,
}

/// 2025-01-06T10:00:00+01:00, a Monday: the day H-0001 of DESIGN.md opened.
pub fn start_time() -> Instant {
    "2025-01-06T10:00:00+01:00".parse().unwrap()
}

/// Log lines written by every app in this test binary, to check what never appears in a log.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl TestApp {
    /// The app on a fresh SQLite database in a temporary directory.
    pub async fn spawn_sqlite() -> TestApp {
        Self::spawn_with(None, shipped_alerts(), |_| {}).await
    }

    /// The same, with the alert rules of `alerts`.
    pub async fn spawn_sqlite_with_rules(alerts: std::path::PathBuf) -> TestApp {
        Self::spawn_with(None, alerts, |_| {}).await
    }

    /// A fresh PostgreSQL database for one test. Without a server this fails in CI (`CI=true`) and
    /// is skipped, loudly, elsewhere.
    pub async fn spawn_postgres() -> Option<TestApp> {
        Self::spawn_postgres_with_rules(shipped_alerts()).await
    }

    /// The same, with the alert rules of `alerts`.
    pub async fn spawn_postgres_with_rules(alerts: std::path::PathBuf) -> Option<TestApp> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but {POSTGRES_ENV} is not set: the PostgreSQL suite must run in CI"
                );
            }
            eprintln!(
                "SKIPPED on PostgreSQL: set {POSTGRES_ENV} (see README.md) to run this test there"
            );
            return None;
        };
        let (url, admin_url, name) = create_postgres_database(&admin_url).await;
        Some(Self::spawn_with(Some((url, (admin_url, name))), alerts, |_| {}).await)
    }

    /// The app on a fresh SQLite database, with settings changed by `configure`.
    pub async fn spawn_sqlite_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_with(None, shipped_alerts(), configure).await
    }

    async fn spawn_with(
        postgres: Option<(String, (String, String))>,
        alerts_dir: std::path::PathBuf,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        captured_logs();
        let dir = tempfile::tempdir().unwrap();
        let (database_url, postgres_db) = match postgres {
            Some((url, db)) => (Some(url), Some(db)),
            None => (None, None),
        };
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            database_url,
            alerts_dir,
            max_body_bytes: 16 * 1024,
            db_pool_size: 4,
            log_json: false,
            cookie_secure: true,
            // Tests move the clock over months; tokens that expire are tested on their own.
            token_days: 3650,
            ..Settings::default()
        };
        let mut settings = settings;
        configure(&mut settings);
        let clock = ManualClock::new(start_time());
        let app = App::build(settings.clone(), Arc::new(clock.clone()))
            .await
            .expect("the app builds");
        let addr = app.addr;
        let metrics_addr = app.metrics_addr;
        let state = app.state.clone();
        let admin_token = app
            .admin_token
            .clone()
            .expect("a fresh database gives an admin token");
        let stop = tokio_util::sync::CancellationToken::new();
        let served = tokio::spawn(app.run(stop.clone().cancelled_owned()));
        TestApp {
            addr,
            metrics_addr,
            admin_token,
            clock,
            settings,
            state,
            client: reqwest::Client::new(),
            stop,
            served: tokio::sync::Mutex::new(Some(served)),
            _dir: dir,
            postgres_db,
        }
    }

    /// Runs the scheduler once at the clock's time, as the live service does when a household is
    /// due or a report came in; returns how many households it evaluated.
    pub async fn tick(&self) -> usize {
        zicht::app::reports::attach_pending(&self.state, zicht::clock::Clock::now(&self.clock))
            .await
            .expect("reports are attached");
        zicht::app::alerting::run_due(&self.state, zicht::clock::Clock::now(&self.clock))
            .await
            .expect("the scheduler runs")
    }

    /// Shuts the server down as SIGTERM does and returns how long it took to stop (at most 10 s,
    /// or the test fails).
    pub async fn shut_down(&self) -> std::time::Duration {
        let started = std::time::Instant::now();
        self.stop.cancel();
        let served = self.served.lock().await.take().expect("the server runs");
        tokio::time::timeout(std::time::Duration::from_secs(10), served)
            .await
            .expect("the server stops within 10 s")
            .expect("the server task ends")
            .expect("the server ends without an error");
        started.elapsed()
    }

    /// Sets the clock.
    pub fn at(&self, time: &str) {
        self.clock.set(time.parse().unwrap());
    }

    /// The alerts `token`'s user sees, as (rule, state) pairs, newest first.
    pub async fn alerts(&self, token: &str, query: &str) -> Vec<(String, String)> {
        let reply = self
            .get(token, &format!("/api/v1/alerts?limit=500{query}"))
            .await
            .expect(StatusCode::OK);
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["rule"].as_str().unwrap().to_owned(),
                    a["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        Reply::from(req.send().await.expect("the app answers")).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn post_with_key(&self, token: &str, path: &str, key: &str, body: Value) -> Reply {
        let req = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body);
        Reply::from(req.send().await.expect("the app answers")).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(&body))
            .await
    }

    /// Creates a user with `role` and returns a token for them.
    pub async fn user(&self, username: &str, role: &str) -> String {
        let mut body = json!({"username": username, "role": role});
        if role == "gemeente_monitor" {
            body["gemeente"] = json!("Eindhoven");
        }
        if role == "specialist" || role == "veilig_thuis" {
            body["region"] = json!("brabant-zuidoost");
        }
        let user = self
            .post(&self.admin_token, "/api/v1/users", body)
            .await
            .expect(StatusCode::CREATED);
        let id = user.body["id"].as_i64().unwrap();
        let token = self
            .post(
                &self.admin_token,
                &format!("/api/v1/users/{id}/tokens"),
                json!({"name": "test"}),
            )
            .await
            .expect(StatusCode::CREATED);
        token.body["secret"].as_str().unwrap().to_owned()
    }

    /// Registers a household as the admin, with `regisseur` and `casemanagers` assigned.
    pub async fn household(&self, id: &str, regisseur: Option<&str>, casemanagers: &[&str]) {
        self.post(&self.admin_token, "/api/v1/households", household_json(id))
            .await
            .expect(StatusCode::CREATED);
        self.put(
            &self.admin_token,
            &format!("/api/v1/households/{id}/assignments"),
            json!({"regisseur": regisseur, "casemanagers": casemanagers}),
        )
        .await
        .expect(StatusCode::OK);
    }

    /// Records a score as `token`'s user, moving the clock to the score's moment when that is
    /// later (a score is recorded when it is taken, not before).
    pub async fn score(
        &self,
        token: &str,
        household: &str,
        perspective: &str,
        value: i64,
        at: &str,
    ) -> Reply {
        if let Ok(moment) = at.parse::<Instant>()
            && moment > zicht::clock::Clock::now(&self.clock)
        {
            self.clock.set(moment);
        }
        self.post(
            token,
            &format!("/api/v1/households/{household}/scores"),
            json!({"at": at, "perspective": perspective, "value": value}),
        )
        .await
    }

    /// Records an event in the interchange format (`type` says which endpoint) as `token`'s user,
    /// moving the clock to its moment when that is later, as [`TestApp::score`] does.
    pub async fn record(&self, token: &str, household: &str, event: Value) -> Reply {
        if let Some(moment) = event["at"]
            .as_str()
            .and_then(|at| at.parse::<Instant>().ok())
            && moment > zicht::clock::Clock::now(&self.clock)
        {
            self.clock.set(moment);
        }
        let path = match event["type"].as_str() {
            Some("score") => "scores",
            Some("signal") => "signals",
            _ => "events",
        };
        self.post(
            token,
            &format!("/api/v1/households/{household}/{path}"),
            event,
        )
        .await
    }

    pub async fn timeline(&self, token: &str, household: &str) -> Vec<Value> {
        let reply = self
            .get(
                token,
                &format!("/api/v1/households/{household}/timeline?limit=500"),
            )
            .await;
        reply.expect(StatusCode::OK).body["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Counts rows of a table straight from the database, to prove what was (not) stored.
    pub async fn count(&self, table: &str) -> i64 {
        let db = zicht::store::Db::connect(&self.settings.database_url(), 1)
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.pool())
                .await
                .unwrap();
        db.close().await;
        n
    }

    /// One number straight from the database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let db = zicht::store::Db::connect(&self.settings.database_url(), 1)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(db.pool())
            .await
            .unwrap();
        db.close().await;
        n
    }

    /// Runs SQL straight on the database, as someone with database access would.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let db = zicht::store::Db::connect(&self.settings.database_url(), 1)
            .await
            .unwrap();
        let result = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(db.pool())
            .await;
        db.close().await;
        result.map(|r| r.rows_affected())
    }
}

impl TestApp {
    /// Runs a script of several statements, as a migration does.
    pub async fn execute_script(&self, sql: &str) {
        let db = zicht::store::Db::connect(&self.settings.database_url(), 1)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(db.pool())
            .await
            .unwrap();
        db.close().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres_db.take() {
            drop_database(admin_url, name);
        }
    }
}

async fn create_postgres_database(admin_url: &str) -> (String, String, String) {
    let name = format!("zicht_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin_connection(admin_url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database through {POSTGRES_ENV}: {e}"));
    (database_url(admin_url, &name), admin_url.to_owned(), name)
}

/// A fresh PostgreSQL database for a test that starts zicht itself; dropped with this value.
/// `None` (loudly) without a server, except in CI, where that fails.
pub struct PostgresDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PostgresDatabase {
    pub async fn create() -> Option<PostgresDatabase> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but {POSTGRES_ENV} is not set: the PostgreSQL suite must run in CI"
                );
            }
            eprintln!(
                "SKIPPED on PostgreSQL: set {POSTGRES_ENV} (see README.md) to run this test there"
            );
            return None;
        };
        let (url, admin_url, name) = create_postgres_database(&admin_url).await;
        Some(PostgresDatabase {
            url,
            admin_url,
            name,
        })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        drop_database(self.admin_url.clone(), self.name.clone());
    }
}

/// Drops a test database, on its own thread: the test's runtime may be shutting down.
fn drop_database(admin_url: String, name: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut conn = admin_connection(&admin_url).await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        });
    })
    .join();
}

async fn admin_connection(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {POSTGRES_ENV}: {e}"))
}

/// The admin URL with its database name replaced.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The rules shipped in `alerts/`.
pub fn shipped_alerts() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("alerts")
}

pub fn household_json(id: &str) -> Value {
    json!({
        "id": id,
        "region": "brabant-zuidoost",
        "gemeente": "Eindhoven",
        "wijk": "Woensel-Noord",
        "minor_children": false,
        "opened_at": "2025-01-06"
    })
}

/// An answer: status, headers and the JSON body (or `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Reply {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self
    }

    /// Asserts a problem+json answer with `status` that names `field`.
    #[track_caller]
    pub fn expect_problem(self, status: StatusCode, field: &str) -> Reply {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status.as_u16(), "{}", self.text);
        if !field.is_empty() {
            let fields: Vec<&str> = self.body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert!(
                fields.contains(&field),
                "expected an error on `{field}`, got {}",
                self.text
            );
        }
        self
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}
