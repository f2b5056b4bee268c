//! The HTTP side: the JSON API under `/api/v1`, health and metrics. One way to build the app
//! (`App::build`), used by `main` and by every test.

mod admin;
mod alerts;
mod body;
mod error;
mod events;
mod extractor;
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

pub use error::{ApiError, FieldError, Problem};

use crate::app::{AppState, StartError};
use crate::clock::Clock;
use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Start(#[from] StartError),
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
    /// Starts the application core and binds the listener (port 0 in tests; `addr` says which).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<App, BuildError> {
        let listen = settings.listen;
        let started = AppState::start(settings, clock).await?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| BuildError::Listen {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| BuildError::Listen {
            addr: listen,
            source,
        })?;
        let state = Arc::new(started.state);
        let router = router(state.clone());
        Ok(App {
            listener,
            router,
            addr,
            state,
            admin_token: started.admin_token,
        })
    }

    /// Serves until `shutdown` completes, then finishes the requests under way. Open streams
    /// (server-sent events) end at once, so that none holds the shutdown up.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The peer address reaches the handlers (sign-in throttling per client address).
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let stopping = self.state.stopping.clone();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stopping.cancel();
            })
            .await
    }
}

/// The OpenAPI document of the API, generated from the handlers once.
pub(crate) fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::LazyLock<utoipa::openapi::OpenApi> =
        std::sync::LazyLock::new(|| api_router().split_for_parts().1);
    &DOC
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
        .routes(routes!(events::feed))
        .routes(routes!(reports::report))
        .routes(routes!(alerts::reads::list))
        .routes(routes!(alerts::reads::show))
        .routes(routes!(alerts::decisions::acknowledge))
        .routes(routes!(alerts::decisions::silence))
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::unread))
        .routes(routes!(inbox::mark_read))
        .routes(routes!(inbox::stream))
        .routes(routes!(inbox::preferences, inbox::set_preferences))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::disable))
        .routes(routes!(webhooks::enable))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(admin::create_user, admin::list_users))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::set_password))
        .routes(routes!(admin::unlock))
        .routes(routes!(admin::deactivate))
        .routes(routes!(admin::audit_log))
        .routes(routes!(admin::me))
        .routes(routes!(ops::openapi))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

fn router(state: Arc<AppState>) -> Router {
    let (api, _) = api_router().split_for_parts();
    let metrics = Arc::new(metrics::Metrics::new());
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
            web::with_navigation,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics.clone(),
            metrics::track,
        ))
        .layer(axum::Extension(metrics))
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
