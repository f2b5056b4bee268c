//! The in-app inbox: each user's notifications, their unread count, a live stream (server-sent
//! events), and which rules the user does not want to hear of.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::body::JsonBody;
use super::error::{ApiError, Problem};
use super::households::query;
use super::paging::{self, Page};
use crate::app::audit::AuditAction;
use crate::app::notify;
use crate::auth::Authenticated;
use crate::domain::Instant;
use crate::store::{self, notify::NotificationRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    id: i64,
    /// Absent when the notification is about the household's assignments (`why` = `assignment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    alert_id: Option<i64>,
    household: String,
    rule: String,
    severity: String,
    /// `first`, `repeat`, `escalation`, `resolved` or `silence_expired`; `assignment` when who
    /// works on the household changed; `handover` when the reader was just assigned to a
    /// household with open alerts (the most pressing one, `others` counts the rest);
    /// `break_glass` when Veilig Thuis read the household through break-the-glass.
    why: String,
    /// Other alerts of the household that changed in the same evaluation: one notification per
    /// person per household per evaluation names the most pressing change and counts the rest.
    others: i64,
    created_at: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_at: Option<Instant>,
    /// Where the alert is (or the household, for an `assignment` notification).
    link: String,
}

impl From<NotificationRow> for NotificationView {
    fn from(n: NotificationRow) -> Self {
        NotificationView {
            id: n.id,
            alert_id: n.alert,
            link: match n.alert {
                Some(alert) => format!("/api/v1/alerts/{alert}"),
                None => format!("/api/v1/households/{}", n.household),
            },
            household: n.household,
            rule: n.rule,
            severity: n.severity,
            why: n.why.as_str().to_owned(),
            others: n.others,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only unread notifications.
    unread: Option<bool>,
    /// Only notifications of this rule.
    rule: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// My notifications, newest first.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", params(InboxQuery),
    responses((status = 200, body = Page<NotificationView>)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    q: Result<Query<InboxQuery>, QueryRejection>,
) -> Result<Json<Page<NotificationView>>, ApiError> {
    let q = query(q)?;
    let rule = super::alerts::reads::known_rule(&state, q.rule)?;
    let limit = paging::limit(q.limit)?;
    let before = paging::id_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = store::notify::inbox(
        &mut conn,
        notify::reader(&who.actor),
        q.unread.unwrap_or(false),
        rule.as_deref(),
        before,
        None,
        limit + 1,
    )
    .await?;
    drop(conn);
    let shown = rows.iter().take(usize::try_from(limit).unwrap_or(0));
    state
        .audit_shown(
            &who,
            AuditAction::InboxRead,
            shown.map(|n| n.household.as_str()),
        )
        .await?;
    Ok(Json(paging::page(
        rows,
        limit,
        |n| n.id.to_string(),
        NotificationView::from,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unread {
    unread: i64,
}

/// How many of my notifications are unread.
#[utoipa::path(get, path = "/api/v1/inbox/unread", tag = "inbox", responses((status = 200, body = Unread)))]
pub async fn unread(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
) -> Result<Json<Unread>, ApiError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(Unread {
        unread: store::notify::unread_count(&mut conn, notify::reader(&who.actor)).await?,
    }))
}

/// Mark one of my notifications read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", tag = "inbox",
    params(("id" = i64, Path, description = "Notification id")),
    responses((status = 200, body = Unread), (status = 404, body = Problem)))]
pub async fn mark_read(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Unread>, ApiError> {
    let mut conn = state.db.acquire().await?;
    if !store::notify::mark_read(&mut conn, notify::reader(&who.actor), id, state.clock.now())
        .await?
    {
        return Err(ApiError::not_found("notification"));
    }
    Ok(Json(Unread {
        unread: store::notify::unread_count(&mut conn, notify::reader(&who.actor)).await?,
    }))
}

/// My new notifications as they arrive (server-sent events named `notification`, with the
/// notification as JSON and its id as event id; `Last-Event-ID` resumes after a reconnect).
#[utoipa::path(get, path = "/api/v1/inbox/stream", tag = "inbox",
    responses((status = 200, content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let after = match resume {
        Some(id) => id,
        None => {
            let mut conn = state.db.acquire().await?;
            let newest = store::notify::inbox(
                &mut conn,
                notify::reader(&who.actor),
                false,
                None,
                None,
                None,
                1,
            )
            .await?;
            newest.first().map_or(0, |n| n.id)
        }
    };
    state
        .audit_shown(&who, AuditAction::InboxStream, [])
        .await?;
    // Ends when the service stops, so that a graceful shutdown does not wait on the client.
    let stopping = state.stopping.clone().cancelled_owned();
    let reader = notify::reader(&who.actor);
    let stream = new_notifications(state, who, reader, after).take_until(stopping);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Waits for notifications after `after` (woken by commits, and every 10 s as a fallback) and
/// yields them oldest first, each batch audited as shown (the stream ends when that fails).
fn new_notifications(
    state: Arc<AppState>,
    who: Authenticated,
    reader: store::notify::Reader,
    after: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let start = after;
    futures_util::stream::unfold((state, start), move |(state, after)| {
        let who = who.clone();
        let fetched = async move {
            loop {
                // Listen before looking, so a commit between the two is not missed.
                let notifier = state.clone();
                let waiting = notifier.inbox.notified();
                tokio::pin!(waiting);
                waiting.as_mut().enable();
                if let Ok(mut conn) = state.db.acquire().await
                    && let Ok(mut rows) =
                        store::notify::inbox(&mut conn, reader, false, None, None, Some(after), 100)
                            .await
                    && !rows.is_empty()
                {
                    rows.reverse();
                    return (rows, state);
                }
                tokio::select! {
                    () = waiting => {}
                    () = tokio::time::sleep(Duration::from_secs(10)) => {}
                }
            }
        };
        async move {
            let (rows, state) = fetched.await;
            let households = rows.iter().map(|n| n.household.as_str());
            if let Err(e) = state
                .audit_shown(&who, AuditAction::InboxRead, households)
                .await
            {
                tracing::error!(error = %e, "inbox stream ended: its notifications cannot be audited");
                return None;
            }
            let next = rows.iter().map(|n| n.id).max().unwrap_or(after);
            let events: Vec<Result<Event, Infallible>> = rows
                .into_iter()
                .map(|n| {
                    let id = n.id.to_string();
                    let view = NotificationView::from(n);
                    Ok(Event::default()
                        .event("notification")
                        .id(id)
                        .json_data(&view)
                        .unwrap_or_default())
                })
                .collect();
            Some((futures_util::stream::iter(events), (state, next)))
        }
    })
    .flatten()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Rules I do not want in my inbox.
    muted_rules: Vec<String>,
}

/// My notification preferences.
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "inbox", responses((status = 200, body = Preferences)))]
pub async fn preferences(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
) -> Result<Json<Preferences>, ApiError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(Preferences {
        muted_rules: store::notify::mutes(&mut conn, who.actor.user_id).await?,
    }))
}

/// Set my notification preferences.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "inbox", request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 422, body = Problem)))]
pub async fn set_preferences(
    State(state): State<Arc<AppState>>,
    who: Authenticated,
    body: JsonBody,
) -> Result<Json<Preferences>, ApiError> {
    let wanted: Preferences = body.parse()?;
    let rules = state.rules();
    let ids = rules.rule_ids();
    for (i, rule) in wanted.muted_rules.iter().enumerate() {
        if !ids.contains(&rule.as_str()) {
            return Err(ApiError::invalid(
                format!("muted_rules[{i}]"),
                format!("unknown rule `{rule}`; rules: {}", ids.join(", ")),
            ));
        }
    }
    let mut tx = state.db.begin_write().await?;
    store::notify::set_mutes(&mut tx, who.actor.user_id, &wanted.muted_rules).await?;
    let muted = store::notify::mutes(&mut tx, who.actor.user_id).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Json(Preferences { muted_rules: muted }))
}
