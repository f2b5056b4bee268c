//! The HTTP side: the JSON API under `/api/v1`, health and metrics. One way to build the app
//! (`App::build`), used by `main` and by every test.

mod admin;
mod alerts;
mod body;
mod error;
mod households;
mod idempotency;
mod inbox;
mod metrics;
mod ops;
mod paging;
mod reports;
pub(crate) mod web;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use admin::NewUser as NewUserRequest;
pub use error::{ApiError, FieldError, Problem};
pub use web::hash_password;

use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{Db, StoreError};

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    /// The alert rules in force; the service does not start with an invalid set, and a failed
    /// reload keeps the old one.
    rules: std::sync::RwLock<Arc<crate::rules::RuleSet>>,
    /// Wakes the scheduler when an event may have made a household due sooner.
    pub wake: tokio::sync::Notify,
    /// Wakes the webhook worker when notifications were written.
    pub outbox: tokio::sync::Notify,
    /// Wakes every open inbox stream when notifications were written.
    pub inbox: tokio::sync::Notify,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub metrics: metrics::Metrics,
    /// Key of the pseudonyms shown outside the households' own people (gemeente monitors).
    pub pseudonym_key: Vec<u8>,
    pub openapi: utoipa::openapi::OpenApi,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid alert rules in {dir}:\n{errors}")]
    Rules {
        dir: std::path::PathBuf,
        errors: String,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built app: migrated database, bound listener, ready to serve.
pub struct App {
    listener: TcpListener,
    router: Router,
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    /// The first admin's token, when this start created the database's first user.
    pub admin_token: Option<String>,
}

impl App {
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<App, BuildError> {
        let rules =
            crate::rules::load_dir(&settings.alerts_dir).map_err(|errors| BuildError::Rules {
                dir: settings.alerts_dir.clone(),
                errors: errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            })?;
        let db = Db::connect(&settings.database_url(), settings.db_pool_size).await?;
        db.migrate().await?;
        let admin_token = bootstrap_admin(&db, clock.as_ref()).await?;
        let pseudonym_key = {
            let mut tx = db.begin_write().await?;
            let key = crate::store::server_secret(&mut tx, "pseudonym").await?;
            tx.commit().await.map_err(StoreError::from)?;
            key
        };
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| BuildError::Listen {
                    addr: settings.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| BuildError::Listen {
            addr: settings.listen,
            source,
        })?;
        let (api, openapi) = api_router().split_for_parts();
        let state = Arc::new(AppState {
            db,
            rules: std::sync::RwLock::new(Arc::new(rules)),
            wake: tokio::sync::Notify::new(),
            outbox: tokio::sync::Notify::new(),
            inbox: tokio::sync::Notify::new(),
            settings,
            clock,
            metrics: metrics::Metrics::new(),
            pseudonym_key,
            openapi,
        });
        let router = router(api, state.clone());
        Ok(App {
            listener,
            router,
            addr,
            state,
            admin_token,
        })
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let result = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        self.state.db.close().await;
        result
    }
}

impl AppState {
    /// After a commit that may have written notifications or made a household due sooner.
    pub fn notified(&self) {
        self.wake.notify_one();
        self.outbox.notify_one();
        self.inbox.notify_waiters();
    }

    pub fn rules(&self) -> Arc<crate::rules::RuleSet> {
        self.rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Loads the rules again from the alerts directory. On an invalid set the old one stays in
    /// force and the errors are returned; on success every household is evaluated again.
    pub async fn reload_rules(&self) -> Result<usize, Vec<crate::rules::RuleError>> {
        let rules = crate::rules::load_dir(&self.settings.alerts_dir)?;
        let count = rules.len();
        *self
            .rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(rules);
        let now = self.clock.now();
        let rescheduled = async {
            let mut tx = self.db.begin_write().await?;
            crate::store::reschedule_all(&mut tx, now).await?;
            tx.commit().await.map_err(StoreError::from)
        };
        if let Err(e) = rescheduled.await {
            tracing::error!(error = %e, "rules reloaded, but households could not be rescheduled");
        }
        self.wake.notify_one();
        Ok(count)
    }
}

async fn bootstrap_admin(db: &Db, clock: &dyn Clock) -> Result<Option<String>, StoreError> {
    let token = crate::auth::new_token();
    let mut tx = db.begin_write().await?;
    let created =
        crate::store::bootstrap_admin(&mut tx, &crate::auth::token_hash(&token), clock.now())
            .await?;
    tx.commit().await?;
    Ok(created.map(|_| token))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "zicht",
        description = "Keeps sight of safety in households with structural domestic violence (MDA++). \
                       Every endpoint but /healthz, /readyz and /metrics needs a bearer token. \
                       Creating requests accept an Idempotency-Key header. Errors are application/problem+json."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem, FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(households::create, households::list))
        .routes(routes!(households::show))
        .routes(routes!(households::timeline))
        .routes(routes!(households::record_score))
        .routes(routes!(households::record_signal))
        .routes(routes!(households::record_event))
        .routes(routes!(households::set_assignments))
        .routes(routes!(reports::report))
        .routes(routes!(alerts::list))
        .routes(routes!(alerts::show))
        .routes(routes!(alerts::acknowledge))
        .routes(routes!(alerts::silence))
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::unread))
        .routes(routes!(inbox::mark_read))
        .routes(routes!(inbox::stream))
        .routes(routes!(inbox::preferences, inbox::set_preferences))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::disable))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(admin::create_user, admin::list_users))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::set_password))
        .routes(routes!(admin::audit_log))
        .routes(routes!(admin::me))
        .routes(routes!(ops::openapi))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

fn router(api: Router<Arc<AppState>>, state: Arc<AppState>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        // Ids and the route template only: never the query string or a body.
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", |p| p.as_str());
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!("request", method = %req.method(), route, request_id)
    });
    api.merge(web::router())
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::custom(ops::panic_response))
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(30),
                )),
        )
        .with_state(state)
}
