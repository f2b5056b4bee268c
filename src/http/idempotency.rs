//! `Idempotency-Key` on creating requests: the write transaction claims the key, and the response
//! is saved in that same transaction, so a retry returns the first answer and stores nothing new.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::body::JsonBody;
use super::{ApiError, AppState};
use crate::auth::Authenticated;
use crate::store::{self, IdempotencyClaim, SavedResponse, Tx};

/// The `Idempotency-Key` header, when the client sent one.
pub struct IdempotencyKey(Option<String>);

impl FromRequestParts<Arc<AppState>> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<AppState>) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::InvalidQuery(vec![super::FieldError::new(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                )])
            })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

/// A write transaction of a creating request.
pub struct Write {
    tx: Tx,
    key: Option<String>,
    user_id: i64,
}

/// Either a fresh write, or the saved answer to the same request made before.
pub enum Begun {
    Fresh(Write),
    Replay(Response),
}

impl Write {
    /// Begins the write transaction and claims the idempotency key.
    pub async fn begin(
        state: &AppState,
        who: &Authenticated,
        key: IdempotencyKey,
        body: &JsonBody,
    ) -> Result<Begun, ApiError> {
        Write::open(state, who, key).await?.claim(state, body).await
    }

    /// Begins the write transaction without claiming the key yet, so that an access check can
    /// run in it first; [`Write::claim`] follows.
    pub async fn open(
        state: &AppState,
        who: &Authenticated,
        key: IdempotencyKey,
    ) -> Result<Write, ApiError> {
        let tx = state.db.begin_write().await?;
        Ok(Write {
            tx,
            key: key.0,
            user_id: who.actor.user_id,
        })
    }

    pub async fn claim(mut self, state: &AppState, body: &JsonBody) -> Result<Begun, ApiError> {
        if let Some(k) = &self.key {
            let now = state.clock.now();
            match store::claim_idempotency(
                &mut self.tx,
                state.db.keys(),
                self.user_id,
                k,
                &body.fingerprint,
                now,
            )
            .await?
            {
                IdempotencyClaim::Claimed => {}
                IdempotencyClaim::Replay(saved) => return Ok(Begun::Replay(replay(saved))),
                IdempotencyClaim::Mismatch => return Err(ApiError::IdempotencyMismatch),
            }
        }
        Ok(Begun::Fresh(self))
    }

    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Saves the response for replays and commits. `replayed` is what a retry gets, when that must
    /// differ from the first answer (a secret shown only once).
    pub async fn commit<T: Serialize, R: Serialize>(
        mut self,
        state: &AppState,
        status: StatusCode,
        location: Option<String>,
        body: &T,
        replayed: Option<&R>,
    ) -> Result<Response, ApiError> {
        let first = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.into()))?;
        if let Some(key) = &self.key {
            let saved = match replayed {
                Some(r) => serde_json::to_string(r).map_err(|e| ApiError::Internal(e.into()))?,
                None => first.clone(),
            };
            let saved = SavedResponse {
                status: status.as_u16(),
                location: location.clone(),
                body: saved,
            };
            store::save_idempotency(&mut self.tx, state.db.keys(), self.user_id, key, &saved)
                .await?;
        }
        self.tx.commit().await.map_err(store::StoreError::from)?;
        // What was written may have made a household due sooner, or written notifications.
        state.notified();
        Ok(json_response(status, location, first))
    }
}

fn replay(saved: SavedResponse) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let mut response = json_response(status, saved.location, saved.body);
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

fn json_response(status: StatusCode, location: Option<String>, body: String) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
