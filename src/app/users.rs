//! Users and their credentials: create a user, set a password, issue and revoke API tokens. The
//! API and the command line both come here, so the rules are the same on both.

use super::audit::{self, AuditAction, Origin};
use super::{AppError, Invalid};
use crate::auth;
use crate::domain::{Instant, PlaceName, Region, Role};
use crate::store::{self, Db, NewUserError, StoreError, TokenRow, Tx, UserRow};

/// A password for the pages has at least this many characters (NCSC guidance for passwords
/// without a second factor; argon2 makes guessing them slow).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    /// The gemeente a `gemeente_monitor` watches.
    pub gemeente: Option<PlaceName>,
    /// The Veilig Thuis region a `specialist` serves.
    pub region: Option<Region>,
}

impl NewUser {
    /// The rules a new user must meet, field by field.
    pub fn check(&self) -> Result<(), Vec<Invalid>> {
        let mut errors = Vec::new();
        let u = &self.username;
        let valid = (2..=64).contains(&u.len())
            && u.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && u.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if !valid {
            errors.push(Invalid::new(
                "username",
                "must be 2 to 64 characters: lower-case letters, digits and . _ -, starting with a letter or digit",
            ));
        }
        if self.role == Role::GemeenteMonitor && self.gemeente.is_none() {
            errors.push(Invalid::new(
                "gemeente",
                "required for a gemeente_monitor: the gemeente they watch",
            ));
        }
        if self.role == Role::Specialist && self.region.is_none() {
            errors.push(Invalid::new(
                "region",
                "required for a specialist: the region whose pool they are in",
            ));
        }
        if self.role == Role::VeiligThuis && self.region.is_none() {
            errors.push(Invalid::new(
                "region",
                "required for veilig_thuis: the region whose households it may break the glass for",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Creates a user (the caller checked [`crate::auth::policy::Action::ManageUsers`]).
pub async fn create_user(
    tx: &mut Tx,
    by: Origin<'_>,
    new: &NewUser,
    now: Instant,
) -> Result<UserRow, AppError> {
    new.check().map_err(AppError::Invalid)?;
    // A monitor watches a gemeente by its official name, the name households are kept under.
    let gemeente = new
        .gemeente
        .as_ref()
        .map(crate::domain::gemeente::official_place)
        .transpose()
        .map_err(|e| AppError::invalid("gemeente", e.to_string()))?;
    let user = store::create_user(
        tx,
        &new.username,
        new.role,
        gemeente.as_ref(),
        new.region,
        now,
    )
    .await
    .map_err(|e| match e {
        NewUserError::UsernameTaken => AppError::Conflict("this username is taken".into()),
        NewUserError::Store(e) => e.into(),
    })?;
    audit::record_ok(tx, by, AuditAction::UserCreate, None, now).await?;
    Ok(user)
}

/// Whether `password` is long enough for the pages.
pub fn check_password(password: &str) -> Result<(), Invalid> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(Invalid::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Sets a user's password for the pages.
pub async fn set_password(
    tx: &mut Tx,
    by: Origin<'_>,
    user_id: i64,
    password: &str,
    now: Instant,
) -> Result<(), AppError> {
    check_password(password).map_err(|e| AppError::Invalid(vec![e]))?;
    let hash = auth::hash_password(password);
    if !store::sessions::set_password_hash(tx, user_id, &hash).await? {
        return Err(AppError::NotFound("user"));
    }
    // Whoever signed in with the old password is signed out.
    store::sessions::end_sessions_of(tx, user_id).await?;
    audit::record_ok(tx, by, AuditAction::UserPassword, None, now).await?;
    Ok(())
}

/// The longest a token may be issued for, in days.
pub const MAX_TOKEN_DAYS: u32 = 366;

/// How long a token lives: `days` when asked (1 to [`MAX_TOKEN_DAYS`]), else the configured
/// default.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetime {
    pub days: Option<u32>,
    pub default_days: u32,
}

impl TokenLifetime {
    fn expires(self, now: Instant) -> Result<Instant, AppError> {
        let days = match self.days {
            Some(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => d,
            Some(_) => {
                return Err(AppError::invalid(
                    "expires_in_days",
                    format!("must be 1 to {MAX_TOKEN_DAYS}"),
                ));
            }
            None => self.default_days.max(1),
        };
        Ok(Instant::from_timestamp(
            now.timestamp() + jiff::SignedDuration::from_hours(24 * i64::from(days)),
        ))
    }
}

/// Issues an API token for a user; returns it with its secret, which is shown this once.
pub async fn issue_token(
    tx: &mut Tx,
    by: Origin<'_>,
    user_id: i64,
    name: &str,
    lifetime: TokenLifetime,
    now: Instant,
) -> Result<(TokenRow, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "must be 1 to 100 characters"));
    }
    let expires = lifetime.expires(now)?;
    let user = store::user(tx, user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if !user.active {
        return Err(AppError::Conflict(
            "this user is deactivated: a token would not work".into(),
        ));
    }
    let secret = auth::new_token();
    let row =
        store::create_token(tx, user_id, name, &auth::token_hash(&secret), now, expires).await?;
    audit::record_ok(tx, by, AuditAction::TokenCreate, None, now).await?;
    Ok((row, secret))
}

/// Revokes a token; it stops working at once. Revoking again changes nothing. Nobody revokes
/// their own last valid token through the API: they would lock themselves out by mistake.
pub async fn revoke_token(
    tx: &mut Tx,
    by: Origin<'_>,
    token_id: i64,
    now: Instant,
) -> Result<TokenRow, AppError> {
    if let Origin::Request(who) = by {
        let own = store::list_tokens(tx, who.actor.user_id).await?;
        let mine = own
            .iter()
            .any(|t| t.id == token_id && t.revoked_at.is_none() && t.expires_at > now);
        if mine && store::other_valid_tokens(tx, who.actor.user_id, token_id, now).await? == 0 {
            return Err(AppError::Conflict(
                "this is your last valid token: issue yourself another first".into(),
            ));
        }
    }
    let row = store::revoke_token(tx, token_id, now)
        .await?
        .ok_or(AppError::NotFound("token"))?;
    audit::record_ok(tx, by, AuditAction::TokenRevoke, None, now).await?;
    Ok(row)
}

/// Lifts the sign-in lock of the account `username` (see [`super::sign_in`]), and forgets its
/// failed attempts; whether there were any. Audited.
pub async fn unlock(
    tx: &mut Tx,
    by: Origin<'_>,
    username: &str,
    now: Instant,
) -> Result<bool, AppError> {
    store::find_user_by_name(tx, username)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let unlocked = super::sign_in::unlock(tx, username).await?;
    audit::record_ok(tx, by, AuditAction::UserUnlock, None, now).await?;
    Ok(unlocked)
}

/// Deactivates a user (the caller checked [`crate::auth::policy::Action::ManageUsers`]): their
/// sessions end, their tokens are revoked and they can sign in no more. Nobody deactivates
/// themselves, nor the last active admin. Audited.
pub async fn deactivate(
    tx: &mut Tx,
    by: Origin<'_>,
    user_id: i64,
    now: Instant,
) -> Result<UserRow, AppError> {
    let user = store::user(tx, user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if by.user_id() == Some(user_id) {
        return Err(AppError::Conflict(
            "you cannot deactivate yourself: ask another admin".into(),
        ));
    }
    if user.active && user.role == Role::Admin && store::active_admins(tx).await? <= 1 {
        return Err(AppError::Conflict(
            "this is the last active admin: make another admin first".into(),
        ));
    }
    store::deactivate_user(tx, user_id, now).await?;
    store::sessions::end_sessions_of(tx, user_id).await?;
    audit::record_ok(tx, by, AuditAction::UserDeactivate, None, now).await?;
    store::user(tx, user_id)
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// On an empty database, creates the user `admin` and returns its first token (shown once),
/// valid for `days`.
pub async fn bootstrap_admin(
    db: &Db,
    now: Instant,
    days: u32,
) -> Result<Option<String>, StoreError> {
    let token = auth::new_token();
    let expires = Instant::from_timestamp(
        now.timestamp() + jiff::SignedDuration::from_hours(24 * i64::from(days.max(1))),
    );
    let mut tx = db.begin_write().await?;
    let created = store::bootstrap_admin(&mut tx, &auth::token_hash(&token), now, expires).await?;
    tx.commit().await?;
    Ok(created.map(|_| token))
}
