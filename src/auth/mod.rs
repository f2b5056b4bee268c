//! Authentication: bearer tokens, random and shown once, stored only as SHA-256 hashes.
//! Authorisation is decided in [`policy`].

pub mod policy;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::domain::{PlaceName, Region, Role};
use crate::http::{ApiError, AppState};
use crate::store::UserRow;

/// Who is making the request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub gemeente: Option<PlaceName>,
    pub region: Option<Region>,
}

impl From<UserRow> for Actor {
    fn from(u: UserRow) -> Self {
        Actor {
            user_id: u.id,
            username: u.username,
            role: u.role,
            gemeente: u.gemeente,
            region: u.region,
        }
    }
}

/// A new random API token: `zicht_` and 256 random bits, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!(
        "zicht_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored of a token. Tokens carry 256 random bits, so a fast hash is enough: nothing can
/// be guessed, and lookups stay cheap on every request.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An authenticated request: the actor and the request id that ties its audit rows to its logs.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub request_id: String,
}

impl FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated)?;
        let mut conn = state.db.acquire().await?;
        let user = crate::store::user_by_token_hash(&mut conn, &token_hash(token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Authenticated {
            actor: user.into(),
            request_id: request_id(parts),
        })
    }
}

pub(crate) fn request_id(parts: &Parts) -> String {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
