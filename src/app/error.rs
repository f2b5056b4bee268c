//! What a use case can answer besides success. Adapters translate it: the API into
//! problem+json, the pages into a Dutch message, the CLI into a line on standard error.

use crate::store::StoreError;

/// A field that breaks a rule of the domain, and what is allowed instead (in English; the pages
/// say it in Dutch from the same check). The API shows it as it is, as `FieldError`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub struct Invalid {
    /// JSON path of the field, e.g. `value` or `items[2].at`; empty for the input as a whole.
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the input is not valid")]
    Invalid(Vec<Invalid>),
    #[error("you may not do this")]
    Forbidden,
    /// Also the answer to a refused household access: the two must not be told apart.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// Too many requests; try again after this many seconds.
    #[error("too many requests: try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![Invalid::new(field, message)])
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Store(e.into())
    }
}
