//! Each connection's SKU map (`channel_skus`): the channel's SKU → ours.

use switchyard_core::{ChannelName, Sku};

use crate::db::Tx;
use crate::{args, StoreError};

/// One entry of a connection's SKU map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub channel_sku: String,
    pub sku: Sku,
    /// The platform's listing id, where it needs one to set stock.
    pub listing: Option<String>,
}

/// Maps `channel_sku` to `sku`, sold as `listing` (replacing an earlier
/// mapping).
pub async fn put(
    tx: &mut Tx,
    channel: &ChannelName,
    channel_sku: &str,
    sku: &Sku,
    listing: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_skus (channel, channel_sku, sku, updated_at, listing) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (channel, channel_sku) DO UPDATE SET sku = excluded.sku, updated_at = excluded.updated_at, \
         listing = excluded.listing",
        args![channel.as_str(), channel_sku, sku.as_str(), now, listing],
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

/// The whole map of a channel with listing ids, by channel SKU.
pub async fn entries(tx: &mut Tx, channel: &ChannelName) -> Result<Vec<Entry>, StoreError> {
    let rows = tx
        .query(
            "SELECT channel_sku, sku, listing FROM channel_skus WHERE channel = $1 ORDER BY channel_sku",
            args![channel.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let raw = r.string(1)?;
            let sku = Sku::parse(&raw).map_err(|e| StoreError::corrupt(format!("mapped sku {raw:?}: {e}")))?;
            Ok(Entry { channel_sku: r.string(0)?, sku, listing: r.opt_string(2)? })
        })
        .collect()
}
