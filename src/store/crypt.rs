//! Free text encrypted at rest: the one place that seals and opens it. Every stored text about a
//! household (an event's payload with its reasons and descriptions, a decision's reason, a
//! break-the-glass reason, a report, a saved response that echoes them) is XChaCha20-Poly1305
//! (RustCrypto's `chacha20poly1305`) under a key kept outside the database, stored as
//! `v1:<key id>:<base64 of nonce and ciphertext>`. What the text belongs to (its household) is the
//! associated data, so a ciphertext moved to another household's row does not open.
//!
//! The key ring is a file beside the data (or `ZICHT_KEY`): one key per line, `<id> <base64>`, the
//! first one current. A rotation puts a new key first, seals every text again under it and then
//! drops the old ones ([`reseal`]); texts from before encryption are sealed the same way.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sqlx::Row;

use super::{Conn, StoreError};
use crate::domain::Event;

const VERSION: &str = "v1";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// What a text belongs to, bound to its ciphertext as associated data.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Household(&'a str),
    /// A report before it is matched: its household reference.
    Report(&'a str),
    /// A saved response of an idempotent request: the user and the key.
    Idempotency(i64, &'a str),
}

impl Owner<'_> {
    fn bytes(self) -> Vec<u8> {
        match self {
            Owner::Household(id) => format!("zicht:household:{id}"),
            Owner::Report(reference) => format!("zicht:report:{reference}"),
            Owner::Idempotency(user, key) => format!("zicht:idempotency:{user}:{key}"),
        }
        .into_bytes()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key ring {0} is malformed: each line is `<key id> <base64 of 32 bytes>`")]
    Malformed(String),
    #[error("the key ring {0} holds no key")]
    Empty(String),
    #[error(
        "the key file {0} does not exist, but the database holds encrypted text: restore the key \
         file from its backup (or set ZICHT_KEY_FILE to it)"
    )]
    Missing(PathBuf),
    #[error(
        "keys are rotated in a key file; ZICHT_KEY is set, so rotate by hand (docs/security.md)"
    )]
    NotAFile,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A key file, created with a fresh key when it does not exist.
    File(PathBuf),
    /// The key ring itself, from the environment (`ZICHT_KEY`): never written.
    Inline(String),
}

/// The key ring: the current key first, older keys while a rotation is under way.
#[derive(Clone, Default)]
pub struct Keys {
    ring: Vec<(String, XChaCha20Poly1305)>,
    source: Option<KeySource>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.ring.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keys").field("ids", &ids).finish()
    }
}

/// A loaded key ring and whether this load created it (the caller warns to back it up).
pub struct Loaded {
    pub keys: Keys,
    pub created: Option<PathBuf>,
}

impl Keys {
    /// Reads the key ring; creates the key file with one fresh key when it does not exist and
    /// `create` allows it (a database that holds sealed text needs its own key back instead).
    pub fn load(source: KeySource, create: bool) -> Result<Loaded, KeyError> {
        let (text, created, name) = match &source {
            KeySource::Inline(text) => (text.clone(), None, "ZICHT_KEY".to_owned()),
            KeySource::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => (text, None, path.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => {
                    return Err(KeyError::Missing(path.clone()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let text = ring_text(&[(new_key_id(), fresh_key())]);
                    write_key_file(path, &text, true)?;
                    (text, Some(path.clone()), path.display().to_string())
                }
                Err(source) => {
                    return Err(KeyError::Read {
                        path: path.clone(),
                        source,
                    });
                }
            },
        };
        let mut keys = Keys::parse(&text, &name)?;
        keys.source = Some(source);
        Ok(Loaded { keys, created })
    }

    fn parse(text: &str, name: &str) -> Result<Keys, KeyError> {
        let mut ring = Vec::new();
        // A line, or `;` between keys in the environment.
        for entry in text
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let malformed = || KeyError::Malformed(name.to_owned());
            let (id, key) = entry.split_once([' ', ':']).ok_or_else(malformed)?;
            let key = B64.decode(key.trim()).map_err(|_| malformed())?;
            if key.len() != KEY_BYTES || !valid_id(id) {
                return Err(malformed());
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&key).map_err(|_| malformed())?;
            ring.push((id.to_owned(), cipher));
        }
        if ring.is_empty() {
            return Err(KeyError::Empty(name.to_owned()));
        }
        Ok(Keys { ring, source: None })
    }

    /// The id of the key new texts are sealed under.
    pub fn current_id(&self) -> Option<&str> {
        self.ring.first().map(|(id, _)| id.as_str())
    }

    /// The ids of the keys in the ring, the current one first.
    pub fn ids(&self) -> Vec<String> {
        self.ring.iter().map(|(id, _)| id.clone()).collect()
    }

    /// Whether a rotation is under way (older keys still in the ring).
    pub fn rotating(&self) -> bool {
        self.ring.len() > 1
    }

    /// Seals `text` for `owner` under the current key.
    pub fn seal(&self, owner: Owner<'_>, text: &str) -> Result<String, StoreError> {
        let (id, cipher) = self.ring.first().ok_or(StoreError::NoKey)?;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| corrupt_crypt(format!("no randomness: {e}")))?;
        let aad = owner.bytes();
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| corrupt_crypt("encryption failed".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}:{id}:{}", B64.encode(bytes)))
    }

    /// Opens a stored text of `owner`. A text stored before encryption existed (no `v1:` prefix)
    /// is returned as it is, until `zicht migrate` or a start seals it.
    pub fn open(&self, owner: Owner<'_>, stored: &str) -> Result<String, StoreError> {
        let Some(rest) = stored.strip_prefix("v1:") else {
            return Ok(stored.to_owned());
        };
        let (id, body) = rest
            .split_once(':')
            .ok_or_else(|| corrupt_crypt("a sealed text without its key id".to_owned()))?;
        let cipher = self
            .ring
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, c)| c)
            .ok_or_else(|| StoreError::UnknownKey(id.to_owned()))?;
        let bytes = B64
            .decode(body)
            .map_err(|_| corrupt_crypt("a sealed text that is not base64".to_owned()))?;
        if bytes.len() < NONCE_BYTES {
            return Err(corrupt_crypt("a sealed text too short".to_owned()));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().unwrap_or([0; NONCE_BYTES]);
        let aad = owner.bytes();
        let plain = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Undecryptable(id.to_owned()))?;
        String::from_utf8(plain).map_err(|_| corrupt_crypt("a sealed text not UTF-8".to_owned()))
    }

    /// Starts a rotation: a new key first in the key file, the old ones after it. A rotation
    /// already under way (the file holds more than one key) is resumed as it is.
    pub fn begin_rotation(&self) -> Result<Keys, KeyError> {
        let Some(KeySource::File(path)) = &self.source else {
            return Err(KeyError::NotAFile);
        };
        let on_file = Keys::load(KeySource::File(path.clone()), false)?.keys;
        if on_file.rotating() {
            return Ok(on_file);
        }
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.clone(),
            source,
        })?;
        let fresh = ring_text(&[(new_key_id(), fresh_key())]);
        let old: String = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        write_key_file(path, &format!("{fresh}{old}"), false)?;
        Ok(Keys::load(KeySource::File(path.clone()), false)?.keys)
    }

    /// Ends a rotation: the key file keeps the current key only.
    pub fn finish_rotation(&self) -> Result<(), KeyError> {
        let Some(KeySource::File(path)) = &self.source else {
            return Err(KeyError::NotAFile);
        };
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.clone(),
            source,
        })?;
        let current = text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        write_key_file(path, &format!("{HEADER}{current}\n"), false)
    }

    /// The key file, when the keys came from one.
    pub fn file(&self) -> Option<&Path> {
        match &self.source {
            Some(KeySource::File(p)) => Some(p),
            _ => None,
        }
    }
}

const HEADER: &str = "# zicht's encryption key for free text. BACK THIS FILE UP, apart from the database\n\
# backups: without it no reason, description or note in the database can be read again.\n";

fn ring_text(keys: &[(String, [u8; KEY_BYTES])]) -> String {
    let mut text = HEADER.to_owned();
    for (id, key) in keys {
        text.push_str(&format!("{id} {}\n", B64.encode(key)));
    }
    text
}

fn fresh_key() -> [u8; KEY_BYTES] {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).expect("the operating system gives randomness");
    key
}

fn new_key_id() -> String {
    let mut id = [0u8; 6];
    getrandom::fill(&mut id).expect("the operating system gives randomness");
    super::hex(&id)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Writes the key file readable by its owner only, through a temporary file and a rename, so a
/// crash leaves the old or the new ring, never half of one.
fn write_key_file(path: &Path, text: &str, new: bool) -> Result<(), KeyError> {
    let err = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("key-new");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(text.as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
    }
    if new && path.exists() {
        return Err(err(std::io::Error::from(std::io::ErrorKind::AlreadyExists)));
    }
    std::fs::rename(&tmp, path).map_err(err)
}

fn corrupt_crypt(what: String) -> StoreError {
    StoreError::Corrupt(format!("sealed text: {what}"))
}

/// An event as stored: its payload sealed for its household.
pub(crate) fn seal_event(keys: &Keys, event: &Event) -> Result<String, StoreError> {
    let json = serde_json::to_string(event).map_err(|e| super::corrupt("event", e))?;
    keys.seal(Owner::Household(event.household().as_str()), &json)
}

/// An event read back from its stored payload.
pub(crate) fn open_event(keys: &Keys, household: &str, stored: &str) -> Result<Event, StoreError> {
    let json = keys.open(Owner::Household(household), stored)?;
    serde_json::from_str(&json).map_err(|e| super::corrupt("event payload", e))
}

/// Where sealed text is stored: the SQL that gives each stale row's key (`k`), text, and owner
/// (`kind`: `h` household, `r` report, `i` idempotency with the user in `num`), and the update that
/// writes a row's text again by its key.
struct Column {
    table: &'static str,
    select: &'static str,
    update: &'static str,
}

const COLUMNS: &[Column] = &[
    Column {
        table: "events",
        select: "SELECT CAST(id AS TEXT) AS k, payload AS text, 'h' AS kind, household_id AS owner,
                        CAST(0 AS BIGINT) AS num
                 FROM events WHERE payload NOT LIKE $1 ORDER BY id",
        update: "UPDATE events SET payload = $1 WHERE CAST(id AS TEXT) = $2",
    },
    Column {
        table: "alert_transitions",
        select: "SELECT CAST(t.id AS TEXT) AS k, t.reason AS text, 'h' AS kind, a.household_id AS owner,
                        CAST(0 AS BIGINT) AS num
                 FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id
                 WHERE t.reason IS NOT NULL AND t.reason NOT LIKE $1 ORDER BY t.id",
        update: "UPDATE alert_transitions SET reason = $1 WHERE CAST(id AS TEXT) = $2",
    },
    Column {
        table: "glass_access",
        select: "SELECT CAST(id AS TEXT) AS k, reason AS text, 'h' AS kind, household_id AS owner,
                        CAST(0 AS BIGINT) AS num
                 FROM glass_access WHERE reason NOT LIKE $1 ORDER BY id",
        update: "UPDATE glass_access SET reason = $1 WHERE CAST(id AS TEXT) = $2",
    },
    Column {
        table: "signal_reports",
        select: "SELECT receipt AS k, payload AS text, 'r' AS kind, reference AS owner,
                        CAST(0 AS BIGINT) AS num
                 FROM signal_reports WHERE payload NOT LIKE $1 ORDER BY receipt",
        update: "UPDATE signal_reports SET payload = $1 WHERE receipt = $2",
    },
    Column {
        table: "idempotency_keys",
        select: "SELECT CAST(user_id AS TEXT) || ' ' || key AS k, body AS text, 'i' AS kind, key AS owner,
                        user_id AS num
                 FROM idempotency_keys WHERE body IS NOT NULL AND body NOT LIKE $1 ORDER BY user_id, key",
        update: "UPDATE idempotency_keys SET body = $1 WHERE CAST(user_id AS TEXT) || ' ' || key = $2",
    },
];

/// How many stored texts are not sealed under `keys`' current key (plain text from before
/// encryption, or an older key): what a rotation has still to do.
pub async fn count_stale(conn: &mut Conn, keys: &Keys) -> Result<u64, StoreError> {
    let pattern = current_pattern(keys)?;
    let mut total = 0;
    for c in COLUMNS {
        let sql = format!("SELECT COUNT(*) FROM ({}) AS s", c.select);
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .fetch_one(&mut *conn)
            .await?;
        total += u64::try_from(n).unwrap_or(0);
    }
    Ok(total)
}

fn current_pattern(keys: &Keys) -> Result<String, StoreError> {
    Ok(format!(
        "{VERSION}:{}:%",
        keys.current_id().ok_or(StoreError::NoKey)?
    ))
}

/// Seals again, under the current key, up to `batch` stored texts of the first table that has
/// texts not under it, in one transaction; returns how many (0: nothing is left). Run to the end
/// it leaves no text under another key; stopped, it resumes where it was, since each batch looks
/// for what is still stale.
pub async fn reseal(db: &super::Db, keys: &Keys, batch: i64) -> Result<u64, StoreError> {
    reseal_where(db, keys, &current_pattern(keys)?, batch).await
}

/// Like [`reseal`], for `stale`: the texts whose stored form is NOT LIKE this pattern.
async fn reseal_where(
    db: &super::Db,
    keys: &Keys,
    stale: &str,
    batch: i64,
) -> Result<u64, StoreError> {
    for c in COLUMNS {
        let mut tx = db.begin_write().await?;
        let sql = format!("{} LIMIT $2", c.select);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stale)
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            continue;
        }
        for r in &rows {
            let k: String = r.try_get("k")?;
            let text: String = r.try_get("text")?;
            let kind: String = r.try_get("kind")?;
            let owner_text: String = r.try_get("owner")?;
            let num: i64 = r.try_get("num")?;
            let owner = match kind.as_str() {
                "h" => Owner::Household(&owner_text),
                "r" => Owner::Report(&owner_text),
                _ => Owner::Idempotency(num, &owner_text),
            };
            // A text from before encryption opens as itself.
            let plain = keys.open(owner, &text)?;
            sqlx::query(sqlx::AssertSqlSafe(c.update))
                .bind(keys.seal(owner, &plain)?)
                .bind(&k)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::debug!(table = c.table, rows = rows.len(), "texts sealed");
        return Ok(rows.len() as u64);
    }
    Ok(0)
}

/// Seals what a database from before encryption holds in plain text, once (the flag migration
/// 0017 sets), then checks that the key opens what is stored: a wrong key file stops the start
/// with a clear error instead of failing on the first page that shows a text.
pub async fn prepare(db: &super::Db, keys: &Keys) -> Result<u64, StoreError> {
    let plaintext: i64 = sqlx::query_scalar("SELECT plaintext FROM crypt_state WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let mut sealed = 0;
    if plaintext != 0 {
        // Texts sealed under any key are left alone; only plain ones are stale here.
        loop {
            let n = reseal_where(db, keys, "v1:%", 1000).await?;
            if n == 0 {
                break;
            }
            sealed += n;
        }
        sqlx::query("UPDATE crypt_state SET plaintext = 0 WHERE id = 1")
            .execute(db.pool())
            .await?;
    }
    let sample = sqlx::query(
        "SELECT household_id, payload FROM events WHERE payload LIKE 'v1:%' ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    if let Some(r) = sample {
        let household: String = r.try_get("household_id")?;
        let payload: String = r.try_get("payload")?;
        keys.open(Owner::Household(&household), &payload)?;
    }
    Ok(sealed)
}

/// Whether the database holds any sealed text (false also before its first migration).
pub async fn holds_sealed(db: &super::Db) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events WHERE payload LIKE 'v1:%'")
        .fetch_one(db.pool())
        .await
        .is_ok_and(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(text: &str) -> Keys {
        Keys::load(KeySource::Inline(text.to_owned()), false)
            .unwrap()
            .keys
    }

    #[test]
    fn a_text_opens_for_its_own_household_only() {
        let keys = ring("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let sealed = keys.seal(Owner::Household("H-1"), "zus vangt op").unwrap();
        assert!(sealed.starts_with("v1:k1:") && !sealed.contains("zus"));
        assert_eq!(
            keys.open(Owner::Household("H-1"), &sealed).unwrap(),
            "zus vangt op"
        );
        assert!(matches!(
            keys.open(Owner::Household("H-2"), &sealed),
            Err(StoreError::Undecryptable(_))
        ));
        // Two seals of one text differ (a fresh nonce each).
        assert_ne!(
            sealed,
            keys.seal(Owner::Household("H-1"), "zus vangt op").unwrap()
        );
    }

    #[test]
    fn the_environment_holds_a_ring_and_an_older_key_still_opens() {
        let old = ring("k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let sealed = old.seal(Owner::Report("VT-1"), "melding").unwrap();
        let both = ring(
            "k2:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=; k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        assert_eq!(both.current_id(), Some("k2"));
        assert_eq!(
            both.open(Owner::Report("VT-1"), &sealed).unwrap(),
            "melding"
        );
        let new = ring("k2:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
        assert!(matches!(
            new.open(Owner::Report("VT-1"), &sealed),
            Err(StoreError::UnknownKey(id)) if id == "k1"
        ));
        assert!(matches!(
            Keys::load(KeySource::Inline("k1:short".into()), false),
            Err(KeyError::Malformed(_))
        ));
    }
}
