//! Who is acting: the actor behind a bearer token or a session, and how tokens are made and
//! stored (random, shown once, kept only as SHA-256 hashes). Authorisation is decided in
//! [`policy`]. Pure: reading a token from a request is the HTTP layer's work.

pub mod policy;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::domain::{PlaceName, Region, Role};
use crate::store::UserRow;

/// Who is making the request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub gemeente: Option<PlaceName>,
    pub region: Option<Region>,
}

impl From<UserRow> for Actor {
    fn from(u: UserRow) -> Self {
        Actor {
            user_id: u.id,
            username: u.username,
            role: u.role,
            gemeente: u.gemeente,
            region: u.region,
        }
    }
}

/// A new random API token: `zicht_` and 256 random bits, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!(
        "zicht_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored of a token. Tokens carry 256 random bits, so a fast hash is enough: nothing can
/// be guessed, and lookups stay cheap on every request.
pub fn token_hash(token: &str) -> String {
    crate::store::hex(&Sha256::digest(token.as_bytes()))
}

/// An authenticated request: the actor and the request id that ties its audit rows to its logs.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub request_id: String,
    /// When the request came (the injected clock): what holds for a limited time, such as a
    /// break-the-glass read, is judged at this moment.
    pub at: crate::domain::Instant,
}

/// An argon2 hash of a password for the pages, with a random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Whether `password` matches a hash made by [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}
