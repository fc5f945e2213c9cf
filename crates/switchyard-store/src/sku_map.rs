//! Each connection's SKU map (`channel_skus`): the channel's SKU → ours.

use switchyard_core::{ChannelName, Sku};

use crate::db::Tx;
use crate::{args, StoreError};

/// Maps `channel_sku` to `sku` (replacing an earlier mapping).
pub async fn put(tx: &mut Tx, channel: &ChannelName, channel_sku: &str, sku: &Sku, now: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_skus (channel, channel_sku, sku, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (channel, channel_sku) DO UPDATE SET sku = excluded.sku, updated_at = excluded.updated_at",
        args![channel.as_str(), channel_sku, sku.as_str(), now],
    )
    .await?;
    Ok(())
}

/// Removes a mapping; whether there was one.
pub async fn delete(tx: &mut Tx, channel: &ChannelName, channel_sku: &str) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            "DELETE FROM channel_skus WHERE channel = $1 AND channel_sku = $2",
            args![channel.as_str(), channel_sku],
        )
        .await?;
    Ok(n > 0)
}

/// The whole map of a channel, by channel SKU.
pub async fn list(tx: &mut Tx, channel: &ChannelName) -> Result<Vec<(String, Sku)>, StoreError> {
    let rows = tx
        .query(
            "SELECT channel_sku, sku FROM channel_skus WHERE channel = $1 ORDER BY channel_sku",
            args![channel.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let raw = r.string(1)?;
            let sku = Sku::parse(&raw).map_err(|e| StoreError::corrupt(format!("mapped sku {raw:?}: {e}")))?;
            Ok((r.string(0)?, sku))
        })
        .collect()
}
