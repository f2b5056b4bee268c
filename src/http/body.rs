//! Request bodies: size-limited, `application/json`, parsed straight into domain types with errors
//! that name the field. Nothing malformed gets past here.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::app::{AppError, interchange};
use crate::domain::{EVENT_TYPES, Event, HouseholdId};

/// A JSON request body and the fingerprint of the request (method, path and body) that an
/// `Idempotency-Key` is bound to.
pub struct JsonBody {
    pub bytes: Bytes,
    pub fingerprint: String,
}

impl FromRequest<Arc<AppState>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(req.uri().path().as_bytes());
        hasher.update(b"\n");
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(state.settings.max_body_bytes)
            } else {
                ApiError::MalformedJson(rejection.body_text())
            }
        })?;
        hasher.update(&bytes);
        Ok(JsonBody {
            fingerprint: crate::store::hex(&hasher.finalize()),
            bytes,
        })
    }
}

impl JsonBody {
    /// Parses the body into `T`, naming the offending field on failure.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let value: serde_json::Value = serde_json::from_slice(&self.bytes)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        from_value(value)
    }

    /// Parses the body as an event of type `kind` about `household`: `type` and `household` may be
    /// left out (the endpoint and path say them) but must agree when given.
    pub fn parse_event(&self, household: &HouseholdId, kinds: &[&str]) -> Result<Event, ApiError> {
        let value: serde_json::Value = serde_json::from_slice(&self.bytes)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        let serde_json::Value::Object(mut object) = value else {
            return Err(ApiError::invalid("", "the body must be a JSON object"));
        };
        match object.get("type") {
            None if kinds.len() == 1 => {
                object.insert("type".into(), kinds[0].into());
            }
            None => {
                return Err(ApiError::invalid(
                    "type",
                    format!("required; one of: {}", kinds.join(", ")),
                ));
            }
            Some(serde_json::Value::String(t)) if kinds.contains(&t.as_str()) => {}
            Some(serde_json::Value::String(t)) if EVENT_TYPES.contains(&t.as_str()) => {
                return Err(ApiError::invalid(
                    "type",
                    format!(
                        "`{t}` is not accepted here; this endpoint takes: {}",
                        kinds.join(", ")
                    ),
                ));
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "type",
                    format!("must be one of: {}", kinds.join(", ")),
                ));
            }
        }
        match object.get("household") {
            None => {
                object.insert("household".into(), household.as_str().into());
            }
            Some(serde_json::Value::String(h)) if h == household.as_str() => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    "household",
                    "must be the household of the URL",
                ));
            }
        }
        event_from_object(object)
    }
}

/// Parses an interchange event, naming the offending field ([`interchange::event_from_object`]).
pub fn event_from_object(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<Event, ApiError> {
    interchange::event_from_object(object).map_err(|e| ApiError::App(AppError::Invalid(e)))
}

/// Deserializes with the path of the failing field ([`interchange::from_value`]).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    interchange::from_value(value).map_err(|e| ApiError::App(AppError::Invalid(vec![e])))
}
