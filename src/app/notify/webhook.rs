//! Webhook delivery: Standard Webhooks signatures, and a worker that claims due deliveries from
//! the outbox one at a time, sends each (stamped and signed at that moment, with a timeout well
//! inside its lease), and records the outcome, fenced on its claim: delivered, retried with
//! exponential backoff and jitter (honouring `Retry-After`, for 429, 5xx and network errors),
//! dead-lettered after the last attempt, or the endpoint disabled on 410 Gone.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::domain::Instant;
use crate::store::{self, StoreError};

/// A new endpoint secret: `whsec_` and 32 random bytes, base64 (the Standard Webhooks form).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret's bytes: the
/// signature of the Standard Webhooks specification, made by its official crate.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    signatures(&[secret], id, timestamp, body)
}

/// The `webhook-signature` header for the secrets in force: one signature per secret, separated
/// by spaces, so that a receiver verifies with either while a secret is rotated (Standard
/// Webhooks: a verifier accepts the message when any signature matches).
pub fn signatures(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    let signed: Vec<String> = secrets
        .iter()
        .map(|secret| {
            // A secret in the `whsec_<base64>` form is keyed with its bytes (every secret zicht
            // makes); any other text with its own bytes, as before.
            let signer = standardwebhooks::Webhook::new(secret).unwrap_or_else(|_| {
                standardwebhooks::Webhook::from_bytes(secret.as_bytes().to_vec())
                    .expect("any bytes are a key")
            });
            signer
                .sign(id, timestamp, body.as_bytes())
                .expect("a body of text signs")
        })
        .collect();
    signed.join(" ")
}

/// Attempts before a delivery is dead-lettered: with the backoff below, about a day.
pub const MAX_ATTEMPTS: i64 = 12;
/// How long a claim holds; a worker that dies between claim and send frees it after this.
pub const LEASE_MS: i64 = 60_000;
/// The longest one send may take, connecting included. A worker claims one delivery at a time,
/// so its lease outlasts the send by far: no other worker takes a delivery over while it is sent.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const _: () = assert!(SEND_TIMEOUT.as_millis() * 3 <= LEASE_MS as u128);
/// The shortest wait before a retry, even when the receiver asks for `Retry-After: 0`.
const MIN_RETRY: Duration = Duration::from_secs(1);

/// The wait before attempt `attempts + 1`: 30 s doubling to at most 6 h, with ±20 % jitter so
/// retries of many deliveries do not arrive at once.
fn backoff(attempts: i64) -> Duration {
    let base = 30.0 * 2f64.powi((attempts - 1).clamp(0, 20) as i32);
    let capped = base.min(6.0 * 3600.0);
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    let unit = f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX);
    Duration::from_secs_f64(capped * (0.8 + 0.4 * unit))
}

/// `Retry-After` in seconds or as an HTTP date, capped at a day.
fn retry_after(headers: &reqwest::header::HeaderMap, now: Instant) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let secs = match value.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
            u64::try_from((at - now.timestamp()).get_seconds()).unwrap_or(0)
        }
    };
    Some(Duration::from_secs(secs.min(86_400)))
}

fn later(now: Instant, wait: Duration) -> Instant {
    Instant::from_millis(now.millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2))
        .unwrap_or(now)
}

/// What one delivery run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
}

/// Delivers every delivery that is due, until none is.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> Result<Report, StoreError> {
    deliver_until(state, client, &CancellationToken::new()).await
}

/// Delivers what is due, one delivery at a time, until none is or `stop` is cancelled: a
/// delivery in flight when `stop` comes is finished and recorded, and no other one is begun.
///
/// Every step reads the clock when it happens: a delivery is claimed when it is due at that
/// moment, stamped and signed when it is sent (a slow receiver earlier in the run makes no
/// timestamp stale), and recorded at the time its answer came.
pub async fn deliver_until(
    state: &AppState,
    client: &reqwest::Client,
    stop: &CancellationToken,
) -> Result<Report, StoreError> {
    use store::notify::AttemptStatus::{Dead, Delivered, Retry};
    let mut report = Report::default();
    while !stop.is_cancelled() {
        let mut tx = state.db.begin_write().await?;
        let claimed = store::notify::claim_deliveries(
            &mut tx,
            state.db.backend(),
            state.clock.now(),
            LEASE_MS,
            1,
        )
        .await?;
        tx.commit().await?;
        let Some(d) = claimed.into_iter().next() else {
            break;
        };
        // The connection that records the outcome is taken before the send, so a full pool cannot
        // hold the record back: from claim to record is at most the send timeout and one wait
        // for the writer, well inside the lease.
        let mut conn = state.db.acquire().await?;
        let outcome = send(client, &d, state.clock.now()).await;
        let answered = state.clock.now();
        let (status, http, error, counted) = match &outcome {
            Outcome::Delivered(status) => (Delivered, Some(*status), None, &mut report.delivered),
            Outcome::Gone => (Dead, Some(410), Some("410 Gone"), &mut report.dead),
            Outcome::Retry {
                status,
                error,
                wait,
            } if d.attempts < MAX_ATTEMPTS => {
                let wait = wait.unwrap_or_else(|| backoff(d.attempts)).max(MIN_RETRY);
                let next = later(answered, wait);
                (
                    Retry(next),
                    *status,
                    Some(error.as_str()),
                    &mut report.retrying,
                )
            }
            Outcome::Retry { status, error, .. } | Outcome::Refused { status, error } => {
                (Dead, *status, Some(error.as_str()), &mut report.dead)
            }
        };
        if store::notify::record_attempt(&mut conn, &d, status, http, error, answered).await? {
            *counted += 1;
            if status == Dead {
                tracing::warn!(
                    delivery = d.id,
                    endpoint = d.endpoint,
                    "webhook delivery dead-lettered"
                );
            }
        } else {
            // Another worker took it over, or an admin queued it again or disabled its endpoint
            // meanwhile: what they wrote stands.
            tracing::warn!(
                delivery = d.id,
                "webhook delivery changed hands during the attempt; its outcome is not recorded"
            );
        }
        if matches!(outcome, Outcome::Gone) {
            store::notify::disable_endpoint(
                &mut conn,
                d.endpoint,
                "the receiver answered 410 Gone",
            )
            .await?;
            tracing::warn!(
                endpoint = d.endpoint,
                "webhook endpoint disabled after 410 Gone"
            );
        }
    }
    Ok(report)
}

enum Outcome {
    Delivered(u16),
    Gone,
    Retry {
        status: Option<u16>,
        error: String,
        wait: Option<Duration>,
    },
    Refused {
        status: Option<u16>,
        error: String,
    },
}

/// Sends one delivery, stamped and signed at `now`, the moment it is sent.
async fn send(client: &reqwest::Client, d: &store::notify::Claimed, now: Instant) -> Outcome {
    let timestamp = now.millis().div_euclid(1000);
    let request = client
        .post(&d.url)
        .timeout(SEND_TIMEOUT)
        .header("content-type", "application/json")
        .header("webhook-id", &d.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signatures(
                &d.secrets.iter().map(String::as_str).collect::<Vec<_>>(),
                &d.message_id,
                timestamp,
                &d.payload,
            ),
        )
        .body(d.payload.clone());
    match request.send().await {
        Ok(r) if r.status().is_success() => Outcome::Delivered(r.status().as_u16()),
        Ok(r) if r.status().as_u16() == 410 => Outcome::Gone,
        Ok(r)
            if r.status().as_u16() == 429
                || r.status().is_server_error()
                || r.status().as_u16() == 408 =>
        {
            Outcome::Retry {
                status: Some(r.status().as_u16()),
                error: format!("receiver answered {}", r.status()),
                wait: retry_after(r.headers(), now),
            }
        }
        Ok(r) => Outcome::Refused {
            status: Some(r.status().as_u16()),
            error: format!("receiver answered {}", r.status()),
        },
        // The error names the URL and the kind of failure, never the payload.
        Err(e) => Outcome::Retry {
            status: None,
            error: e.without_url().to_string(),
            wait: None,
        },
    }
}

/// Queues this hour's heartbeat for every active endpoint (a receiver that hears nothing for more
/// than an hour knows the pipeline is down).
pub async fn heartbeat(state: &AppState, now: Instant) -> Result<u64, StoreError> {
    let mut tx = state.db.begin_write().await?;
    let queued = store::notify::enqueue_heartbeats(&mut tx, now).await?;
    tx.commit().await?;
    Ok(queued)
}

/// The HTTP client for webhooks: short timeouts, no redirects (a signed request goes where it was
/// configured to go).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("zicht/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification (standard-webhooks.com).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_zicht_made_before_sign_as_they_did() {
        // HMAC-SHA256 over `id.timestamp.body` keyed with the decoded secret, as the hand-written
        // code of before computed it (value checked apart from both).
        let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let body = r#"{"email":"test@example.com","username":"test_user"}"#;
        let sig = signature(secret, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body);
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn while_a_secret_is_rotated_either_verifies() {
        let (old, new) = (new_secret(), new_secret());
        let body = r#"{"type":"heartbeat"}"#;
        // The verifier checks the timestamp against its own clock (5 minutes either way).
        let ts = jiff::Timestamp::now().as_second();
        let header = signatures(&[&old, &new], "msg_1", ts, body);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("webhook-id", "msg_1".parse().unwrap());
        headers.insert("webhook-timestamp", ts.to_string().parse().unwrap());
        headers.insert("webhook-signature", header.parse().unwrap());
        for secret in [&old, &new] {
            let verifier = standardwebhooks::Webhook::new(secret).unwrap();
            assert!(verifier.verify(body.as_bytes(), &headers).is_ok());
        }
        let other = standardwebhooks::Webhook::new(&new_secret()).unwrap();
        assert!(other.verify(body.as_bytes(), &headers).is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_secs(24) && backoff(1) <= Duration::from_secs(36));
        assert!(backoff(5) >= Duration::from_secs(384));
        assert!(backoff(30) <= Duration::from_secs(6 * 3600 * 12 / 10));
    }
}
