//! Who is asking: the bearer-token extractor of the JSON API. (The pages sign in with a session,
//! `web::WebUser`.) Extractors live here, in the HTTP layer; `auth` stays free of HTTP.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::auth::{Authenticated, token_hash};

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
