//! One error type for the API, answered as `application/problem+json` (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::store::StoreError;

/// A field that is wrong and what is allowed instead.
pub use crate::app::Invalid as FieldError;

/// An RFC 9457 problem detail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What the application core refused: invalid input, forbidden, not found, a conflict.
    #[error(transparent)]
    App(AppError),
    #[error("the request body is not well-formed JSON: {0}")]
    MalformedJson(String),
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body has more than {0} lines")]
    TooManyLines(usize),
    #[error("the query string is not valid")]
    InvalidQuery(Vec<FieldError>),
    #[error("a valid bearer token is needed")]
    Unauthenticated,
    #[error("the Idempotency-Key was used before for a different request")]
    IdempotencyMismatch,
    #[error("the database is busy; retry shortly")]
    Busy,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub const FORBIDDEN: ApiError = ApiError::App(AppError::Forbidden);

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::App(AppError::invalid(field, message))
    }

    pub fn not_found(what: &'static str) -> Self {
        ApiError::App(AppError::NotFound(what))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::App(AppError::Invalid(_)) | ApiError::IdempotencyMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::MalformedJson(_) | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) | ApiError::TooManyLines(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::App(AppError::Forbidden) => StatusCode::FORBIDDEN,
            ApiError::App(AppError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApiError::App(AppError::Conflict(_)) => StatusCode::CONFLICT,
            ApiError::App(AppError::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::App(AppError::Store(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::App(AppError::Invalid(_)) => "invalid-body",
            ApiError::MalformedJson(_) => "malformed-json",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::PayloadTooLarge(_) | ApiError::TooManyLines(_) => "payload-too-large",
            ApiError::InvalidQuery(_) => "invalid-query",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::App(AppError::Forbidden) => "forbidden",
            ApiError::App(AppError::NotFound(_)) => "not-found",
            ApiError::App(AppError::Conflict(_)) => "conflict",
            ApiError::App(AppError::RateLimited { .. }) => "rate-limited",
            ApiError::App(AppError::Store(_)) => "internal",
            ApiError::IdempotencyMismatch => "idempotency-key-reused",
            ApiError::Busy => "busy",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let errors = match self {
            ApiError::App(AppError::Invalid(errors)) | ApiError::InvalidQuery(errors) => {
                errors.clone()
            }
            _ => Vec::new(),
        };
        let detail = match errors.as_slice() {
            [one] if one.field.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.field, one.message),
            _ => self.to_string(),
        };
        Problem {
            kind: format!("urn:zicht:problem:{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_busy() {
            ApiError::Busy
        } else {
            ApiError::Internal(e.into())
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            // A store failure is busy or internal, as from the HTTP layer itself.
            AppError::Store(e) => e.into(),
            refused => ApiError::App(refused),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            // The error chain names tables and constraints, never request content.
            tracing::error!(error = %format!("{e:#}"), "request failed");
        }
        let problem = self.problem();
        let mut response = (self.status(), axum::Json(&problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            ApiError::Unauthenticated => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Busy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::App(AppError::RateLimited { retry_after_secs }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}
