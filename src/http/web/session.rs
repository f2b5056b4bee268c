//! Signing in and out. The session cookie holds 256 random bits; the database keeps only their
//! hash, with the user, a CSRF token and an expiry. Passwords are hashed with argon2.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::{WebUser, layout, page, page_error};
use crate::auth::{hash_password, new_token, token_hash, verify_password};
use crate::http::{ApiError, AppState};
use crate::store::{self};

pub(super) const SESSION_COOKIE: &str = "zicht_session";
const LOGIN_COOKIE: &str = "zicht_login";
/// A working day: after this a casemanager signs in again.
const SESSION_HOURS: i64 = 8;

/// A hash to check a password against when the user does not exist, so that the answer takes as
/// long as for a wrong password.
fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_token()))
}

/// Compares two tokens in constant time.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
        && !a.is_empty()
}

pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are base64url")
}

fn login_form(csrf: &str, username: &str, error: Option<&str>) -> maud::Markup {
    let title = if error.is_some() {
        "Fout: Inloggen"
    } else {
        "Inloggen"
    };
    layout(
        title,
        None,
        html! {
            h1 { "Inloggen" }
            @if let Some(e) = error {
                div.summary role="alert" tabindex="-1" autofocus { p.error { (e) } }
            }
            form method="post" action="/inloggen" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="username" { "Gebruikersnaam" }
                    input id="username" name="username" type="text" autocomplete="username" required value=(username);
                }
                div.field {
                    label for="password" { "Wachtwoord" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                }
                button.primary type="submit" { "Inloggen" }
            }
        },
    )
}

/// The sign-in form, with a fresh token against login CSRF in a cookie and the form.
pub(super) async fn login_page(State(state): State<Arc<AppState>>) -> Response {
    let token = new_token();
    let mut response = page(login_form(&token, "", None));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_COOKIE, &token, 1800),
    );
    response
}

pub(super) async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same(field("csrf"), &expected) {
        return page_error(ApiError::FORBIDDEN);
    }
    let username = field("username").trim().to_owned();
    let found = async {
        let mut conn = state.db.acquire().await?;
        store::sessions::password_hash(&mut conn, &username).await
    };
    let user_id = match found.await {
        Ok(Some((id, hash))) if verify_password(field("password"), &hash) => id,
        Ok(_) => {
            // Argon2 either way, so the answer takes as long for a wrong name as for a wrong password.
            let _ = verify_password(field("password"), unknown_user_hash());
            tracing::info!("sign-in refused");
            let mut response = page(login_form(
                &expected,
                &username,
                Some("Gebruikersnaam of wachtwoord klopt niet."),
            ));
            *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            return response;
        }
        Err(e) => return page_error(e.into()),
    };
    let id = new_token();
    let csrf = new_token();
    let now = state.clock.now();
    let expires = crate::domain::Instant::from_timestamp(
        now.timestamp() + jiff::SignedDuration::from_hours(SESSION_HOURS),
    );
    let stored = async {
        let mut tx = state.db.begin_write().await?;
        store::sessions::create_session(&mut tx, &token_hash(&id), user_id, &csrf, now, expires)
            .await?;
        tx.commit().await.map_err(store::StoreError::from)
    };
    if let Err(e) = stored.await {
        return page_error(e.into());
    }
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &id, SESSION_HOURS * 3600),
    );
    headers.append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0));
    response
}

pub(super) async fn logout(
    State(state): State<Arc<AppState>>,
    user: WebUser,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = super::csrf_refused(&user, &form) {
        return refused;
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Ok(mut conn) = state.db.acquire().await
    {
        let _ = store::sessions::end_session(&mut conn, &token_hash(&id)).await;
    }
    let mut response = Redirect::to("/inloggen").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    response
}
