//! Users, tokens and the audit log (admins), and `/me` (everyone).

use super::extractor::{
    Allowed, CreateUsers, DeactivateUsers, IssueTokens, ListTokens, ListUsers, ReadAudit,
    RevokeTokens, SetPasswords, UnlockUsers,
};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::body::JsonBody;
use super::error::{ApiError, Problem};
use super::households::query;
use super::idempotency::{Begun, IdempotencyKey, Write};
use super::paging::{self, Page, PageQuery};
use crate::app::audit::{AuditAction, Origin};
use crate::app::{AppError, users};
use crate::auth::Authenticated;
use crate::domain::{HouseholdId, Instant, PlaceName, Region, Role};
use crate::store::{self, TokenRow, UserRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    id: i64,
    username: String,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    gemeente: Option<PlaceName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    active: bool,
    created_at: Instant,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            role: u.role,
            gemeente: u.gemeente,
            region: u.region,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

/// A new user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 2 to 64 characters: lower-case letters, digits and `.`, `_`, `-`.
    pub username: String,
    pub role: Role,
    /// The gemeente a `gemeente_monitor` watches (required for that role).
    #[serde(default)]
    pub gemeente: Option<PlaceName>,
    /// The Veilig Thuis region a `specialist` serves (required for that role).
    #[serde(default)]
    pub region: Option<Region>,
}

impl From<NewUser> for users::NewUser {
    fn from(n: NewUser) -> Self {
        users::NewUser {
            username: n.username,
            role: n.role,
            gemeente: n.gemeente,
            region: n.region,
        }
    }
}

/// Create a user (admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = UserView), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
pub async fn create_user(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<CreateUsers>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let new: users::NewUser = body.parse::<NewUser>()?.into();
    new.check().map_err(AppError::Invalid)?;
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let now = state.clock.now();
    let user = users::create_user(write.tx(), Origin::Request(&who), &new, now).await?;
    let location = format!("/api/v1/users/{}", user.id);
    write
        .commit(
            &state,
            StatusCode::CREATED,
            Some(location),
            &UserView::from(user),
            None::<&()>,
        )
        .await
}

/// List users (admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(PageQuery),
    responses((status = 200, body = Page<UserView>), (status = 403, body = Problem)))]
pub async fn list_users(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ListUsers>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let q = query(q)?;
    let limit = paging::limit(q.limit)?;
    let after = paging::id_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = store::list_users(&mut conn, after, limit + 1).await?;
    state
        .audit(&mut conn, &who, AuditAction::UserList, None)
        .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |u| u.id.to_string(),
        UserView::from,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    id: i64,
    user_id: i64,
    name: String,
    created_at: Instant,
    /// After this the token no longer works.
    expires_at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<Instant>,
}

impl From<TokenRow> for TokenView {
    fn from(t: TokenRow) -> Self {
        TokenView {
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A token just issued: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    #[serde(flatten)]
    token: TokenView,
    /// The bearer token. Shown once; zicht keeps only its hash. Absent when a retried request
    /// (same Idempotency-Key) returns this response again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. the system that uses it. 1 to 100 characters.
    name: String,
    /// Days until the token expires, 1 to 366; default the configured `token_days` (90).
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// Issue an API token for a user (admins only). The secret is in this response only.
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", tag = "admin", request_body = NewToken,
    params(("id" = i64, Path, description = "User id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = IssuedToken), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<IssueTokens>,
    key: IdempotencyKey,
    Path(user_id): Path<i64>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let new: NewToken = body.parse()?;
    let mut write = match Write::begin(&state, &who, key, &body).await? {
        Begun::Fresh(write) => write,
        Begun::Replay(response) => return Ok(response),
    };
    let now = state.clock.now();
    let lifetime = users::TokenLifetime {
        days: new.expires_in_days,
        default_days: state.settings.token_days,
    };
    let (row, secret) = users::issue_token(
        write.tx(),
        Origin::Request(&who),
        user_id,
        &new.name,
        lifetime,
        now,
    )
    .await?;
    let location = format!("/api/v1/users/{user_id}/tokens");
    let first = IssuedToken {
        token: TokenView::from(row.clone()),
        secret: Some(secret),
    };
    let replayed = IssuedToken {
        token: TokenView::from(row),
        secret: None,
    };
    write
        .commit(
            &state,
            StatusCode::CREATED,
            Some(location),
            &first,
            Some(&replayed),
        )
        .await
}

/// A user's tokens, without their secrets (admins only).
#[utoipa::path(get, path = "/api/v1/users/{id}/tokens", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = [TokenView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_tokens(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ListTokens>,
    Path(user_id): Path<i64>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let mut conn = state.db.acquire().await?;
    store::user(&mut conn, user_id)
        .await?
        .ok_or(ApiError::not_found("user"))?;
    let rows = store::list_tokens(&mut conn, user_id).await?;
    state
        .audit(&mut conn, &who, AuditAction::TokenList, None)
        .await?;
    Ok(Json(rows.into_iter().map(TokenView::from).collect()))
}

/// Revoke a token (admins only). It stops working at once; revoking again changes nothing.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = TokenView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "The last credential of the last admin")))]
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<RevokeTokens>,
    Path(token_id): Path<i64>,
) -> Result<Json<TokenView>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let row = users::revoke_token(&mut tx, Origin::Request(&who), token_id, now).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Json(TokenView::from(row)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    id: i64,
    at: Instant,
    actor: String,
    action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    household: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    /// `ok` or `denied`.
    outcome: String,
    /// Why, where the action has a why: for a decision on an alert `alert:{id}:{decision}` (or
    /// `silence`), its reason kept with the alert. Never free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only rows about this household.
    household: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// The audit log, newest first (admins only). It cannot be changed through the API.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Page<AuditView>), (status = 403, body = Problem)))]
pub async fn audit_log(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<ReadAudit>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let q = query(q)?;
    let limit = paging::limit(q.limit)?;
    let before = paging::id_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let household = super::households::query_value::<HouseholdId>("household", q.household)?;
    let household = household.as_ref().map(HouseholdId::as_str);
    let rows = store::list_audit(&mut conn, household, before, limit + 1).await?;
    state
        .audit(&mut conn, &who, AuditAction::AuditRead, None)
        .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |r| r.id.to_string(),
        |r| AuditView {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            household: r.household,
            request_id: r.request_id,
            outcome: r.outcome,
            purpose: r.purpose,
        },
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    id: i64,
    username: String,
    role: Role,
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "admin", responses((status = 200, body = Me)))]
pub async fn me(who: Authenticated) -> Json<Me> {
    Json(Me {
        id: who.actor.user_id,
        username: who.actor.username,
        role: who.actor.role,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// At least 12 characters. Stored only as an argon2 hash.
    password: String,
}

/// Set a user's password for the web pages (admins only).
#[utoipa::path(put, path = "/api/v1/users/{id}/password", tag = "admin", request_body = NewPassword,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_password(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<SetPasswords>,
    Path(user_id): Path<i64>,
    body: JsonBody,
) -> Result<StatusCode, ApiError> {
    let new: NewPassword = body.parse()?;
    let mut tx = state.db.begin_write().await?;
    let now = state.clock.now();
    users::set_password(&mut tx, Origin::Request(&who), user_id, &new.password, now).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unlocked {
    /// Whether the account had failed sign-ins that are now forgotten.
    unlocked: bool,
}

/// Lift a user's sign-in lock after too many failed sign-ins (admins only). The lock also lifts by
/// itself after `sign_in_lockout_minutes`.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = Unlocked), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unlock(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<UnlockUsers>,
    Path(user_id): Path<i64>,
) -> Result<Json<Unlocked>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let user = store::user(&mut tx, user_id)
        .await?
        .ok_or(ApiError::not_found("user"))?;
    let unlocked = users::unlock(&mut tx, Origin::Request(&who), &user.username, now).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Json(Unlocked { unlocked }))
}

/// Deactivate a user (admins only): their sessions end, their tokens are revoked, and they sign
/// in no more. Not yourself, and not the last active admin.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
pub async fn deactivate(
    State(state): State<Arc<AppState>>,
    Allowed(who, _): Allowed<DeactivateUsers>,
    Path(user_id): Path<i64>,
) -> Result<Json<UserView>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_write().await?;
    let user = users::deactivate(&mut tx, Origin::Request(&who), user_id, now).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Json(UserView::from(user)))
}
