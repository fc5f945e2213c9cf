//! Webhook deliveries a channel already made (`channel_deliveries`).

use switchyard_core::ChannelName;

use crate::db::Tx;
use crate::{args, StoreError};

/// Records a delivery; `false` when it was recorded before.
pub async fn record(tx: &mut Tx, channel: &ChannelName, delivery_id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            "INSERT INTO channel_deliveries (channel, delivery_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel, delivery_id) DO NOTHING",
            args![channel.as_str(), delivery_id, now_ms],
        )
        .await?;
    Ok(n > 0)
}

/// Whether the delivery was recorded.
pub async fn seen(tx: &mut Tx, channel: &ChannelName, delivery_id: &str) -> Result<bool, StoreError> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM channel_deliveries WHERE channel = $1 AND delivery_id = $2",
            args![channel.as_str(), delivery_id],
        )
        .await?;
    Ok(row.is_some())
}
