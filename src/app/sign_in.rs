//! Signing in to the pages, throttled per account name and per client address: after a few
//! failures each next attempt waits twice as long, and after [`Throttle::lock_after`] failures
//! the name (or address) is locked for the configured time, or until an admin unlocks it.
//!
//! An unknown name is throttled, answered and worked on exactly like a known one (its password
//! is checked against a dummy argon2 hash), so neither the answer, its timing nor the lockout
//! tells whether an account exists. The state is in the database: a restart or a second instance
//! does not reset it. Every attempt is audited with its outcome, never with the password, and
//! with the account only when it exists (a mistyped password in the name field stays unrecorded).

use std::net::IpAddr;
use std::sync::OnceLock;

use jiff::SignedDuration;
use sha2::{Digest, Sha256};

use super::AppState;
use super::audit::{self, AuditAction, Origin};
use crate::auth;
use crate::domain::Instant;
use crate::store::{self, AuditOutcome, StoreError, UserRow, sign_in::Failures};

/// When a key (a name, or an address) is slowed down and when it is locked.
#[derive(Debug, Clone, Copy)]
struct Throttle {
    /// From this many failures on, the next attempt waits 1 s, then 2 s, 4 s, ...
    backoff_from: i64,
    /// This many failures lock the key for the lockout time (Primero locks an account after 6).
    lock_after: i64,
}

/// An account name: slowed after 3 failures, locked after 6.
const ACCOUNT: Throttle = Throttle {
    backoff_from: 3,
    lock_after: 6,
};

/// One client address may try more names (an office shares one address), but not unboundedly:
/// that is password spraying.
const ADDRESS: Throttle = Throttle {
    backoff_from: 10,
    lock_after: 30,
};

/// Failures older than a day are forgotten (a lockout that has lifted and a day without failures).
const FORGET_AFTER: SignedDuration = SignedDuration::from_hours(24);

/// An attempt to sign in.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The peer address, when known.
    pub client: Option<IpAddr>,
    pub request_id: &'a str,
}

/// How an attempt ended.
#[derive(Debug)]
pub enum Outcome {
    Welcome(UserRow),
    /// Wrong name or password: the two are not told apart.
    Refused,
    /// Too many failures: nothing was checked; try again after this many seconds.
    Throttled {
        retry_after_secs: i64,
    },
}

/// The dummy hash an unknown name's password is checked against, so that the answer costs the
/// same argon2 work as a wrong password. Made once, at start ([`prepare`]).
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::new_token()))
}

/// Makes the dummy hash now, so the first unknown name does not take longer than the rest.
pub fn prepare() {
    dummy_hash();
}

fn key(kind: &str, value: &str) -> String {
    format!("{kind}:{}", store::hex(&Sha256::digest(value.as_bytes())))
}

/// The throttle key of an account name as typed (names are lower-case; so is the key).
pub fn account_key(username: &str) -> String {
    key("user", &username.trim().to_lowercase())
}

fn address_key(client: IpAddr) -> String {
    key("addr", &client.to_string())
}

/// Signs in, or says why not.
pub async fn sign_in(app: &AppState, attempt: Attempt<'_>) -> Result<Outcome, StoreError> {
    let now = app.clock.now();
    let since = Instant::from_timestamp(now.timestamp() - FORGET_AFTER);
    let mut keys = vec![(account_key(attempt.username), ACCOUNT)];
    if let Some(client) = attempt.client {
        keys.push((address_key(client), ADDRESS));
    }
    let mut conn = app.db.acquire().await?;
    let mut blocked_until = 0;
    for (key, _) in &keys {
        let Failures {
            blocked_until: b, ..
        } = store::sign_in::failures(&mut conn, key, since).await?;
        blocked_until = blocked_until.max(b);
    }
    let found = store::sessions::password_hash(&mut conn, attempt.username.trim()).await?;
    drop(conn);
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    fn origin<'a>(user: Option<&'a UserRow>, request_id: &'a str) -> Origin<'a> {
        Origin::SignIn {
            user_id: user.map(|u| u.id),
            username: user.map(|u| u.username.as_str()),
            request_id,
        }
    }
    if blocked_until > now.millis() {
        // Nothing is checked while blocked: a right password teaches nothing either.
        let mut conn = app.db.acquire().await?;
        audit::record_as(
            &mut conn,
            origin(user.as_ref(), attempt.request_id),
            AuditAction::SignInThrottled,
            None,
            AuditOutcome::Denied,
            None,
            now,
        )
        .await?;
        let secs = (blocked_until - now.millis() + 999) / 1000;
        return Ok(Outcome::Throttled {
            retry_after_secs: secs.max(1),
        });
    }
    // The same argon2 work whether or not the name exists or has a password.
    let right = auth::verify_password(attempt.password, hash.as_deref().unwrap_or(dummy_hash()))
        && hash.is_some();
    let mut tx = app.db.begin_write().await?;
    let outcome = match user {
        Some(user) if right => {
            store::sign_in::clear(&mut tx, &keys[0].0).await?;
            audit::record_as(
                &mut tx,
                origin(Some(&user), attempt.request_id),
                AuditAction::SignIn,
                None,
                AuditOutcome::Ok,
                None,
                now,
            )
            .await?;
            Outcome::Welcome(user)
        }
        user => {
            for (key, throttle) in &keys {
                let count = store::sign_in::add_failure(&mut tx, key, now, since).await?;
                if let Some(wait) = throttle.wait(count, app.settings.sign_in_lockout_minutes) {
                    let until = Instant::from_timestamp(now.timestamp() + wait);
                    store::sign_in::block(&mut tx, key, until).await?;
                }
            }
            audit::record_as(
                &mut tx,
                origin(user.as_ref(), attempt.request_id),
                AuditAction::SignIn,
                None,
                AuditOutcome::Denied,
                None,
                now,
            )
            .await?;
            Outcome::Refused
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

impl Throttle {
    /// How long a key with `failures` waits before its next attempt.
    fn wait(self, failures: i64, lockout_minutes: u32) -> Option<SignedDuration> {
        if failures >= self.lock_after {
            Some(SignedDuration::from_mins(i64::from(lockout_minutes)))
        } else if failures >= self.backoff_from {
            // 1 s, 2 s, 4 s, ... up to a minute; the lock does the rest.
            let exponent = u32::try_from(failures - self.backoff_from).unwrap_or(0);
            Some(SignedDuration::from_secs(
                (1_i64 << exponent.min(6)).min(60),
            ))
        } else {
            None
        }
    }
}

/// Lifts the lock of an account name (an admin's decision, audited by the caller); whether it
/// had failures.
pub async fn unlock(conn: &mut store::Conn, username: &str) -> Result<bool, StoreError> {
    store::sign_in::clear(conn, &account_key(username)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_then_lock() {
        let waits: Vec<Option<i64>> = (1..=7)
            .map(|n| ACCOUNT.wait(n, 30).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            waits,
            [
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(1800),
                Some(1800)
            ]
        );
        assert_eq!(ADDRESS.wait(9, 30), None);
        assert_eq!(ADDRESS.wait(29, 30), Some(SignedDuration::from_secs(60)));
        assert_eq!(ADDRESS.wait(30, 30), Some(SignedDuration::from_mins(30)));
    }

    #[test]
    fn keys_are_hashes_of_what_was_typed() {
        assert_eq!(account_key(" Petra "), account_key("petra"));
        assert!(!account_key("geheim-wachtwoord").contains("geheim"));
    }
}
