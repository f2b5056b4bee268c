//! Rotating the key that seals free text (`zicht keys rotate`): a new key goes first in the key
//! file, every stored text is sealed again under it in batches, then the old key is dropped. The
//! old key stays in the ring until the last text is resealed, so an interrupted rotation leaves
//! every text readable and is resumed by running the command again.

use super::audit::{self, AuditAction, Origin};
use crate::domain::Instant;
use crate::store::{AuditOutcome, Db, StoreError, crypt};

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub from: Vec<String>,
    pub to: String,
    pub resealed: u64,
}

/// Rotates `db`'s key (the database migrated, no instance of the service running: one still
/// holding the old key would keep sealing under it). `progress(done, total)` after each batch.
pub async fn rotate(
    db: &Db,
    batch: i64,
    now: Instant,
    mut progress: impl FnMut(u64, u64),
) -> Result<Rotated, StoreError> {
    let old = db.keys().clone();
    let keys = old.begin_rotation()?;
    let to = keys.current_id().ok_or(StoreError::NoKey)?.to_owned();
    let from: Vec<String> = keys.ids().into_iter().filter(|id| *id != to).collect();
    let db = db.clone().with_keys(keys.clone());
    let total = {
        let mut conn = db.acquire().await?;
        crypt::count_stale(&mut conn, &keys).await?
    };
    let mut resealed = 0;
    progress(0, total);
    loop {
        let n = crypt::reseal(&db, &keys, batch).await?;
        if n == 0 {
            break;
        }
        resealed += n;
        progress(resealed, total.max(resealed));
    }
    keys.finish_rotation()?;
    let purpose = format!("from:{} to:{to}", from.join(","));
    let mut tx = db.begin_write().await?;
    audit::record_as(
        &mut tx,
        Origin::Operator,
        AuditAction::KeysRotate,
        None,
        AuditOutcome::Ok,
        Some(&purpose),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Rotated { from, to, resealed })
}
