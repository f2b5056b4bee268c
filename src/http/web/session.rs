//! Signing in and out. The session cookie holds 256 random bits; the database keeps only their
//! hash, with the user, a CSRF token and an expiry. Passwords are hashed with argon2.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::{WebUser, layout, page, page_error};
use crate::app::sign_in;
use crate::auth::{new_token, token_hash};
use crate::http::extractor::Client;
use crate::http::{ApiError, AppState};
use crate::store::{self};

pub(super) const SESSION_COOKIE: &str = "zicht_session";
const LOGIN_COOKIE: &str = "zicht_login";
/// A working day: after this a casemanager signs in again.
const SESSION_HOURS: i64 = 8;

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
    client: Client,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same(field("csrf"), &expected) {
        return page_error(ApiError::FORBIDDEN);
    }
    let username = field("username").trim().to_owned();
    let attempt = sign_in::Attempt {
        username: &username,
        password: field("password"),
        client: client.addr,
        request_id: &client.request_id,
    };
    let refused = |status: StatusCode, message: &str| {
        let mut response = page(login_form(&expected, &username, Some(message)));
        *response.status_mut() = status;
        response
    };
    let user_id = match sign_in::sign_in(&state, attempt).await {
        Ok(sign_in::Outcome::Welcome(user)) => user.id,
        Ok(sign_in::Outcome::Refused) => {
            tracing::info!("sign-in refused");
            return refused(
                StatusCode::UNAUTHORIZED,
                "Gebruikersnaam of wachtwoord klopt niet.",
            );
        }
        Ok(sign_in::Outcome::Throttled { retry_after_secs }) => {
            tracing::info!("sign-in throttled");
            let minutes = (retry_after_secs + 59) / 60;
            let wait = if retry_after_secs < 60 {
                format!("{retry_after_secs} seconden")
            } else if minutes == 1 {
                "1 minuut".to_owned()
            } else {
                format!("{minutes} minuten")
            };
            let mut response = refused(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Te veel mislukte pogingen om in te loggen. Probeer het over {wait} opnieuw, of vraag de beheerder de blokkade op te heffen."
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
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
