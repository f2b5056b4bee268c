//! Who is asking: the bearer-token extractor of the JSON API. (The pages sign in with a session,
//! `web::WebUser`.) Extractors live here, in the HTTP layer; `auth` stays free of HTTP.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::body::JsonBody;
use super::idempotency::IdempotencyKey;
use super::{ApiError, AppState};
use crate::app::access;
use crate::app::audit::AuditAction;
use crate::auth::policy::Action;
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
        let hash = token_hash(token);
        let mut conn = state.db.acquire().await?;
        let user = crate::store::user_by_token_hash(&mut conn, &hash, state.clock.now())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !parts.method.is_safe() {
            state.limits.write(&hash)?;
        }
        Ok(Authenticated {
            actor: user.into(),
            request_id: request_id(parts),
            at: state.clock.now(),
        })
    }
}

/// Who sent a request before anyone is signed in: the client's address (when the server was
/// started with the peer's, as `App::run` does) and the request id.
pub(crate) struct Client {
    pub addr: Option<std::net::IpAddr>,
    pub request_id: String,
}

impl FromRequestParts<Arc<AppState>> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client {
            addr: peer.map(|p| client_address(p, &parts.headers, &state.settings.trusted_proxies)),
            request_id: request_id(parts),
        })
    }
}

/// The client behind `peer`: `peer` itself, unless it is a trusted reverse proxy; then the
/// right-most address of `X-Forwarded-For` that is not a trusted proxy (the left part of the
/// header is the client's own word and proves nothing).
pub(crate) fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.into_iter().rev() {
        match entry.trim().parse::<std::net::IpAddr>() {
            Ok(a) if trusted.contains(&a) => continue,
            Ok(a) => return a,
            // Not an address where the chain should have one: trust nothing further left.
            Err(_) => return peer,
        }
    }
    peer
}

pub(crate) fn request_id(parts: &Parts) -> String {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// An authenticated request whose actor the policy allows `P`'s action: the handler runs only
/// then. A refusal is audited and answered 403 before the body is read. For actions on one
/// household the check runs in the handler instead, against that household's assignments.
pub struct Allowed<P>(pub Authenticated, pub PhantomData<P>);

/// An action that is not about one household, and how the audit log names it.
pub trait Permission {
    const ACTION: Action;
    const AUDIT: AuditAction;
}

impl<P: Permission> FromRequestParts<Arc<AppState>> for Allowed<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        access::require(state, &who, P::ACTION, P::AUDIT).await?;
        Ok(Allowed(who, PhantomData))
    }
}

macro_rules! permissions {
    ($($(#[$meta:meta])* $name:ident => $action:ident, $audit:ident;)+) => {
        $(
            $(#[$meta])*
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$action;
                const AUDIT: AuditAction = AuditAction::$audit;
            }
        )+
    };
}

permissions! {
    CreateHouseholds => CreateHousehold, HouseholdCreate;
    AssignHouseholds => AssignHousehold, AssignmentSet;
    /// Only the households they work on: which ones follows from the policy's scope.
    ListAlerts => ListHouseholds, AlertList;
    ReportSignals => ReportSignal, ReportCreate;
    /// The system feed: only roles that work with households send events (each line is then
    /// checked against its own household).
    FeedEvents => ListHouseholds, EventCreate;
    CreateUsers => ManageUsers, UserCreate;
    ListUsers => ManageUsers, UserList;
    ListTokens => ManageUsers, TokenList;
    IssueTokens => ManageUsers, TokenCreate;
    RevokeTokens => ManageUsers, TokenRevoke;
    SetPasswords => ManageUsers, UserPassword;
    UnlockUsers => ManageUsers, UserUnlock;
    DeactivateUsers => ManageUsers, UserDeactivate;
    ReadAudit => ReadAudit, AuditRead;
    ManageWebhooks => ManageWebhooks, WebhookChange;
    ReadWebhooks => ManageWebhooks, WebhookRead;
    ReadMetrics => ReadMetrics, MetricsRead;
}

/// A request that writes: who asks, their `Idempotency-Key`, the resource the path names and
/// the JSON body, with the state to write through.
pub struct Writing<P> {
    pub state: Arc<AppState>,
    pub who: Authenticated,
    pub key: IdempotencyKey,
    pub path: P,
    pub body: JsonBody,
}

impl<P> FromRequest<Arc<AppState>> for Writing<P>
where
    P: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let who = Authenticated::from_request_parts(&mut parts, state).await?;
        let key = IdempotencyKey::from_request_parts(&mut parts, state).await?;
        // A path that cannot name a resource (`/alerts/abc`) names none.
        let Path(path) = Path::<P>::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| ApiError::not_found("resource"))?;
        let body = JsonBody::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Writing {
            state: state.clone(),
            who,
            key,
            path,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use axum::http::HeaderMap;

    use super::client_address;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let proxy = [ip("127.0.0.1"), ip("10.0.0.2")];
        let h = forwarded("203.0.113.7");
        assert_eq!(
            client_address(ip("198.51.100.1"), &h, &proxy),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &proxy),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &HeaderMap::new(), &proxy),
            ip("127.0.0.1")
        );
        assert_eq!(client_address(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_address_counts_and_garbage_stops_the_walk() {
        let proxy = [ip("127.0.0.1"), ip("10.0.0.2")];
        // What the client wrote in front proves nothing; each proxy appends who it heard from.
        let h = forwarded("6.6.6.6, 203.0.113.7, 10.0.0.2");
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &proxy),
            ip("203.0.113.7")
        );
        let h = forwarded("203.0.113.7, niet-een-adres, 10.0.0.2");
        assert_eq!(client_address(ip("127.0.0.1"), &h, &proxy), ip("127.0.0.1"));
        let h = forwarded("2001:db8::1");
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &proxy),
            ip("2001:db8::1")
        );
    }
}
