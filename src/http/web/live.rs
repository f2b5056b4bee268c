//! Live pages: `GET /live` streams server-sent events over the session cookie to the page script
//! (`live.js`, served at `/static/live.js`), telling an open page *that* what it shows changed:
//! `unread` with the new unread count, `queue` when the person's work queue may have changed,
//! `household` when the household on screen (`?huishouden=`) did. Each event's id is a reading of
//! counts the person may see, so that a stream opened again (`Last-Event-ID`, or `?sinds=`) says
//! at once what changed meanwhile.
//!
//! CSRF-safe: the stream only reads and changes nothing; the session cookie is `SameSite=Strict`,
//! so a page of another site cannot send it; a request that says it comes from another site
//! (`Sec-Fetch-Site`, or `Origin` from browsers without it) is refused all the same; and no CORS
//! header lets another origin read the answer.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use super::{WebUser, page_error, session};
use crate::app::AppError;
use crate::app::live::{self, Snapshot, Watch};
use crate::auth::{Authenticated, token_hash};
use crate::http::AppState;
use crate::store;

/// Without a wake-up a stream still looks this often: commits of another instance (several
/// behind one PostgreSQL) wake no stream here.
const FALLBACK: Duration = Duration::from_secs(5);
/// A stream looks at most this often, however many commits wake it: a burst is one look.
const SPACING: Duration = Duration::from_secs(1);
/// How long a browser waits before it connects again after the stream ended.
const RETRY: Duration = Duration::from_secs(5);

const SCRIPT: &str = include_str!("live.js");

/// `GET /static/live.js`: the page script, revalidated by its hash.
pub(super) async fn script(headers: HeaderMap) -> Response {
    static ETAG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::Digest;
        let hash = crate::store::hex(&sha2::Sha256::digest(SCRIPT.as_bytes()));
        format!("\"{}\"", &hash[..16])
    });
    let etag = HeaderValue::from_str(&ETAG).expect("hex in quotes");
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent == etag);
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            SCRIPT,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /live`: the stream of a signed-in person's open page. Refused plainly (no redirect, which
/// a browser's `EventSource` would not follow into a page): 401 without a session, 403 from
/// another site, 404 for a household the person may not read (audited, like every refusal).
pub(super) async fn stream(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    user: Result<WebUser, Response>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if from_another_site(&headers) {
        return refused(StatusCode::FORBIDDEN);
    }
    let user = match user {
        Ok(user) => user,
        Err(rejection) if rejection.status().is_redirection() => {
            return refused(StatusCode::UNAUTHORIZED);
        }
        Err(failure) => return failure,
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let watch = match live::watch(&state, &user.who, param("huishouden")).await {
        Ok(w) => w,
        Err(AppError::NotFound(_)) => return refused(StatusCode::NOT_FOUND),
        Err(AppError::Forbidden) => return refused(StatusCode::FORBIDDEN),
        Err(e) => return page_error(e.into()),
    };
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or_else(|| param("sinds"))
        .and_then(parse_id);
    let session = session::cookie(&headers, session::SESSION_COOKIE)
        .map(|id| token_hash(&id))
        .unwrap_or_default();
    let looking = Looking {
        state: state.clone(),
        who: user.who,
        session,
        watch,
        seen: None,
        resumed,
        looked: None,
    };
    // Ends when the service stops, so that a graceful shutdown does not wait on the browser.
    let stopping = state.stopping.clone().cancelled_owned();
    let events = changes(looking).take_until(stopping);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // A proxy that buffers responses would hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn refused(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the browser says the request comes from another site. `Sec-Fetch-Site` is sent by
/// every current browser (`same-origin` for the page script; `none` when a person opens the URL
/// themselves); `Origin` is looked at only without it, and then must name this host.
fn from_another_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match text(header::ORIGIN) {
        None => false,
        // `null` (a sandboxed or opaque origin), or no host to compare with: not this site.
        Some(origin) => {
            let host = text(header::HOST);
            host.is_none() || origin.split_once("://").map(|(_, h)| h) != host
        }
    }
}

/// The event id of a reading: `unread.households-transitions.events-transitions`.
fn event_id(s: &Snapshot) -> String {
    format!(
        "{}.{}-{}.{}-{}",
        s.unread, s.work.0, s.work.1, s.household.0, s.household.1
    )
}

fn parse_id(id: &str) -> Option<Snapshot> {
    let mut parts = id.split('.');
    let unread = parts.next()?.parse().ok()?;
    let mut pair = || -> Option<(i64, i64)> {
        let (a, b) = parts.next()?.split_once('-')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    let (work, household) = (pair()?, pair()?);
    parts.next().is_none().then_some(Snapshot {
        unread,
        work,
        household,
    })
}

/// The events that tell a page what changed between two readings.
fn news(before: &Snapshot, now: &Snapshot) -> Vec<Event> {
    let id = event_id(now);
    let mut events = Vec::new();
    if before.unread != now.unread {
        events.push(
            Event::default()
                .event("unread")
                .id(&id)
                .data(now.unread.to_string()),
        );
    }
    if before.work != now.work {
        events.push(Event::default().event("queue").id(&id).data("1"));
    }
    if before.household != now.household {
        events.push(Event::default().event("household").id(&id).data("1"));
    }
    events
}

/// One open stream.
struct Looking {
    state: Arc<AppState>,
    who: Authenticated,
    /// The hash of the session the stream was opened with: it ends when the session does.
    session: String,
    watch: Watch,
    /// The last reading sent.
    seen: Option<Snapshot>,
    /// The reading the browser had when it opened the stream again.
    resumed: Option<Snapshot>,
    looked: Option<tokio::time::Instant>,
}

enum Look {
    Seen(Snapshot),
    /// Signed out, expired, or no longer allowed to read the household: the stream ends.
    Over,
    /// The database did not answer; the next look will tell.
    Failed,
}

impl Looking {
    async fn look(&mut self) -> Look {
        if let Some(at) = self.looked {
            tokio::time::sleep_until(at + SPACING).await;
        }
        self.looked = Some(tokio::time::Instant::now());
        let Ok(mut conn) = self.state.db.acquire().await else {
            return Look::Failed;
        };
        let now = self.state.clock.now();
        match store::sessions::session(&mut conn, &self.session, now).await {
            Ok(Some((user, _))) if user.id == self.who.actor.user_id => {}
            Ok(_) => return Look::Over,
            Err(_) => return Look::Failed,
        }
        match self.watch.snapshot(&mut conn, &self.who).await {
            Ok(Some(reading)) => Look::Seen(reading),
            Ok(None) => Look::Over,
            Err(e) => {
                tracing::warn!(error = %e, "a live stream could not look");
                Look::Failed
            }
        }
    }

    /// Waits for news: the first reading (a `ready` event, and what changed since the browser's
    /// last reading), then every change. `None` when the stream is over.
    async fn next(mut self) -> Option<(Vec<Result<Event, Infallible>>, Looking)> {
        loop {
            // Listen before looking, so that a commit between the two is not missed.
            let state = self.state.clone();
            let woken = state.inbox.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.look().await {
                Look::Over => return None,
                Look::Failed => {}
                Look::Seen(now) => {
                    let events = match self.seen.replace(now) {
                        Some(before) => news(&before, &now),
                        None => {
                            let mut first = vec![
                                Event::default()
                                    .event("ready")
                                    .id(event_id(&now))
                                    .retry(RETRY)
                                    .data("1"),
                            ];
                            if let Some(before) = self.resumed.take() {
                                first.extend(news(&before, &now));
                            }
                            first
                        }
                    };
                    if !events.is_empty() {
                        return Some((events.into_iter().map(Ok).collect(), self));
                    }
                }
            }
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(FALLBACK) => {}
            }
        }
    }
}

fn changes(looking: Looking) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(looking, Looking::next).flat_map(stream::iter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_reads_back_and_nothing_else_does() {
        let s = Snapshot {
            unread: 3,
            work: (12, 40),
            household: (7, 2),
        };
        assert_eq!(event_id(&s), "3.12-40.7-2");
        assert_eq!(parse_id(&event_id(&s)), Some(s));
        for bad in ["", "3", "3.12-40", "3.12-40.7-2.1", "a.1-2.3-4", "3.12.7-2"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_request_from_another_site_is_told_apart() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        assert!(!from_another_site(&headers(&[])));
        assert!(!from_another_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!from_another_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(from_another_site(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(from_another_site(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(!from_another_site(&headers(&[
            ("origin", "https://zicht.example"),
            ("host", "zicht.example")
        ])));
        assert!(from_another_site(&headers(&[
            ("origin", "https://kwaad.example"),
            ("host", "zicht.example")
        ])));
        assert!(from_another_site(&headers(&[("origin", "null")])));
    }
}
