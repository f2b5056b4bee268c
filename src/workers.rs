//! The background workers: loops that claim work from the database, do it, and record it, until
//! their shutdown token is cancelled. No work lives only in memory: a restart picks up where the
//! last run stopped.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::notify::{digest, webhook};
use crate::app::{AppState, alerting, audit, reports};
use crate::store::{self, StoreError};

/// The scheduler: attaches new reports to their households, evaluates due households (at once on start, which catches up deadlines missed
/// while zicht was down), publishes the audit head once a day, then sleeps until the earliest due time, a new event, or at most a
/// minute, until cancelled.
pub async fn scheduler(state: Arc<AppState>, shutdown: CancellationToken) {
    loop {
        let now = state.clock.now();
        if let Err(e) = reports::attach_pending(&state, now).await {
            tracing::error!(error = %e, "attaching reports failed; retrying");
        }
        if let Err(e) = alerting::run_due(&state, now).await {
            tracing::error!(error = %e, "scheduler run failed; retrying");
        }
        if let Err(e) = audit::publish_head(&state, now).await {
            tracing::error!(error = %e, "cannot publish the audit head; retrying");
        }
        let wait = match next_wait(&state).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the schedule");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = state.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

async fn next_wait(state: &AppState) -> Result<Duration, StoreError> {
    let mut conn = state.db.acquire().await?;
    let next = store::next_due(&mut conn).await?;
    let now = state.clock.now();
    // At most a minute, so a clock jump or a missed wake-up costs little.
    let cap = Duration::from_secs(60);
    Ok(match next {
        Some(due) if due <= now => Duration::ZERO,
        Some(due) => {
            Duration::from_millis(u64::try_from(due.millis() - now.millis()).unwrap_or(0)).min(cap)
        }
        None => cap,
    })
}

/// The delivery worker: delivers what is due, then sleeps until the next delivery is due, new
/// notifications arrive, or at most half a minute. When `shutdown` comes during a run, the
/// delivery in flight is finished and recorded and no other one is begun: the worker returns
/// within one send timeout, before the pool closes.
pub async fn webhooks(state: Arc<AppState>, shutdown: CancellationToken) {
    let client = webhook::client();
    loop {
        if let Err(e) = webhook::heartbeat(&state, state.clock.now()).await {
            tracing::error!(error = %e, "cannot queue heartbeats");
        }
        if let Err(e) = digest::enqueue_weekly(&state, state.clock.now()).await {
            tracing::error!(error = %e, "cannot queue the monitors' weekly digests");
        }
        if let Err(e) = webhook::deliver_until(&state, &client, &shutdown).await {
            tracing::error!(error = %e, "webhook delivery run failed; retrying");
        }
        if shutdown.is_cancelled() {
            return;
        }
        let wait = match state.db.acquire().await {
            Ok(mut conn) => match store::notify::next_delivery(&mut conn).await {
                Ok(Some(due)) => Duration::from_millis(
                    u64::try_from(due.millis() - state.clock.now().millis()).unwrap_or(0),
                ),
                Ok(None) | Err(_) => Duration::from_secs(30),
            },
            Err(_) => Duration::from_secs(5),
        }
        .min(Duration::from_secs(30));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = state.outbox.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
