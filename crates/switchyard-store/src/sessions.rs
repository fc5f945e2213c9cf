//! Dashboard sessions (`sessions`): one row per signed-in browser, keyed by
//! a hash of its random id.

use crate::db::Tx;
use crate::{args, StoreError};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub binding: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The staff member who opened it; `None` for the admin token.
    pub staff_id: Option<String>,
}

pub async fn insert(tx: &mut Tx, s: &SessionRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sessions (id_hash, binding, csrf, created_at, expires_at, staff_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        args![
            s.id_hash.as_str(),
            s.binding.as_str(),
            s.csrf.as_str(),
            s.created_at,
            s.expires_at,
            s.staff_id.as_deref()
        ],
    )
    .await?;
    Ok(())
}

/// The session unless it has expired by `now_ms`.
pub async fn get(tx: &mut Tx, id_hash: &str, now_ms: i64) -> Result<Option<SessionRecord>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT id_hash, binding, csrf, created_at, expires_at, staff_id FROM sessions \
             WHERE id_hash = $1 AND expires_at > $2",
            args![id_hash, now_ms],
        )
        .await?;
    row.map(|r| {
        Ok(SessionRecord {
            id_hash: r.string(0)?,
            binding: r.string(1)?,
            csrf: r.string(2)?,
            created_at: r.i64(3)?,
            expires_at: r.i64(4)?,
            staff_id: r.opt_string(5)?,
        })
    })
    .transpose()
}

/// Ends one session; whether it existed.
pub async fn delete(tx: &mut Tx, id_hash: &str) -> Result<bool, StoreError> {
    Ok(tx.execute("DELETE FROM sessions WHERE id_hash = $1", args![id_hash]).await? > 0)
}

/// Removes sessions expired by `now_ms`.
pub async fn purge_expired(tx: &mut Tx, now_ms: i64) -> Result<u64, StoreError> {
    tx.execute("DELETE FROM sessions WHERE expires_at <= $1", args![now_ms]).await
}

/// Ends every session of a staff member (disabled, or a new password).
pub async fn delete_for_staff(tx: &mut Tx, staff_id: &str) -> Result<u64, StoreError> {
    tx.execute("DELETE FROM sessions WHERE staff_id = $1", args![staff_id]).await
}
