//! The HTTP side: the JSON API under `/api/v1`, health and metrics. One way to build the app
//! (`App::build`), used by `main` and by every test.

mod admin;
mod alerts;
mod body;
mod error;
mod events;
mod extractor;
mod glass;
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
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
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
    /// `/metrics` on an address of its own (`metrics_listen`), when configured.
    metrics: Option<(TcpListener, Router)>,
    pub metrics_addr: Option<SocketAddr>,
    pub state: Arc<AppState>,
    /// The first admin's token, when this start created the database's first user.
    pub admin_token: Option<String>,
}

impl App {
    /// Starts the application core and binds the listener (port 0 in tests; `addr` says which).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<App, BuildError> {
        let listen = settings.listen;
        let metrics_listen = settings.metrics_listen;
        let behind_tls = settings.behind_tls;
        let started = AppState::start(settings, clock).await?;
        let (listener, addr) = bind(listen).await?;
        let state = Arc::new(started.state);
        let metrics = Arc::new(metrics::Metrics::new());
        let router = router(state.clone(), metrics.clone());
        let (metrics, metrics_addr) = match metrics_listen {
            Some(listen) => {
                let (listener, addr) = bind(listen).await?;
                let router = metrics::Metrics::router(metrics).layer(
                    axum::middleware::from_fn_with_state(behind_tls, response_headers),
                );
                (Some((listener, router)), Some(addr))
            }
            None => (None, None),
        };
        Ok(App {
            listener,
            router,
            addr,
            metrics,
            metrics_addr,
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
        if let Some((listener, router)) = self.metrics {
            let stopped = stopping.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(stopped.cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics address stopped");
                }
            });
        }
        axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stopping.cancel();
            })
            .await
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), BuildError> {
    let listen = |source| BuildError::Listen { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    Ok((listener, bound))
}

/// Headers every response carries: no browser guesses a content type, and nothing but a static
/// asset is kept in a cache (an API answer or a page may show household data, and a shared
/// computer's cache outlives the session). `Strict-Transport-Security` (a year) when zicht is told
/// it is reached over HTTPS only (`behind_tls`).
async fn response_headers(
    State(behind_tls): State<bool>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let cacheable = req.uri().path().starts_with("/static/");
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    if api {
        response = as_problem(response).await;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // An API stream's `no-cache` becomes `no-store` too; a page's live stream keeps its own.
    if api || (!cacheable && !headers.contains_key(header::CACHE_CONTROL)) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if behind_tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// An API answer of 4xx in plain text (axum's own rejection of a path, query or body that an
/// extractor could not read, e.g. an id beyond 64 bits) as the problem+json every API error is.
async fn as_problem(response: axum::response::Response) -> axum::response::Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(response.status().is_client_error() && plain) {
        return response;
    }
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
    let problem = serde_json::json!({
        "type": "urn:zicht:problem:invalid-request",
        "title": status.canonical_reason().unwrap_or("Bad Request"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut out = axum::response::IntoResponse::into_response((status, axum::Json(problem)));
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    out
}

/// The OpenAPI document of the API, generated from the handlers once.
pub(crate) fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::LazyLock<utoipa::openapi::OpenApi> =
        std::sync::LazyLock::new(|| with_common_answers(api_router().split_for_parts().1));
    &DOC
}

/// The answers every operation can give besides its own, as the layers and extractors give them
/// (problem+json): 400 for a malformed query, path or `Idempotency-Key`, 401 without a valid
/// token (not on /healthz and /readyz), 413 and 415 for a body too large or not JSON, 429 past a
/// write limit, 503 when the database is busy. A problem is documented as
/// `application/problem+json`, the type it is sent with.
fn with_common_answers(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use serde_json::{Value, json};
    let mut value = serde_json::to_value(&doc).expect("the OpenAPI document serialises");
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let common = [
        ("400", "The query, path or a header is malformed"),
        ("401", "No valid bearer token"),
        ("413", "The body is too large"),
        ("415", "The body is not of the documented type"),
        ("429", "Too many requests; see Retry-After"),
        ("503", "The database is busy; try again shortly"),
    ];
    if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let public = path == "/healthz" || path == "/readyz";
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let has_body = operation.get("requestBody").is_some();
                let writes = method != "get";
                let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
                    else {
                        continue;
                    };
                    let is_problem = content.get("application/json").is_some_and(|c| {
                        c.pointer("/schema/$ref")
                            .is_some_and(|r| r == "#/components/schemas/Problem")
                    });
                    if is_problem {
                        content.remove("application/json");
                        content.extend(problem.as_object().cloned().unwrap_or_default());
                    }
                }
                for (status, description) in common {
                    let applies = match status {
                        "401" => !public,
                        "413" | "415" => has_body,
                        "429" => writes,
                        _ => true,
                    };
                    if applies && !responses.contains_key(status) {
                        responses.insert(
                            status.to_owned(),
                            json!({"description": description, "content": problem}),
                        );
                    }
                }
            }
        }
    }
    serde_json::from_value(value).expect("the OpenAPI document reads back")
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "zicht",
        description = "Keeps sight of safety in households with structural domestic violence (MDA++). \
                       Every endpoint but /healthz and /readyz needs a bearer token (/metrics an admin's). \
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
        .routes(routes!(glass::open, glass::of_household))
        .routes(routes!(glass::list))
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
        .routes(routes!(webhooks::rotate_secret))
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

fn router(state: Arc<AppState>, metrics: Arc<metrics::Metrics>) -> Router {
    let (api, _) = api_router().split_for_parts();
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
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
        })
        // One line per answered request at the default level: status and latency, in the span
        // above (route template and request id, never a path with an id, a query or a body).
        .on_response(
            tower_http::trace::DefaultOnResponse::new()
                .level(tracing::Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Millis),
        );
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
        // Outermost: also on a timeout's or a panic's answer.
        .layer(axum::middleware::from_fn_with_state(
            state.settings.behind_tls,
            response_headers,
        ))
        .with_state(state)
}
