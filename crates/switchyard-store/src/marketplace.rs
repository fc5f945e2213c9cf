//! Orders a marketplace fulfils from its own stock (Amazon FBA, eBay's own
//! fulfilment), `marketplace_orders`: recorded for reporting, never routed
//! or reserved against ours.

use switchyard_core::ChannelName;

use crate::db::Tx;
use crate::{args, StoreError};

/// One marketplace-fulfilled order as the channel last described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketplaceOrder {
    pub external_id: String,
    /// The canonical status the channel's maps to.
    pub status: String,
    pub currency: String,
    /// Minor units: lines less discounts, plus shipping.
    pub total: i64,
    pub units: i64,
    /// `[{"sku", "quantity", "unit_price"}]` as JSON.
    pub lines: String,
}

/// Records an order, or its newer status when it was recorded before.
pub async fn record(tx: &mut Tx, channel: &ChannelName, o: &MarketplaceOrder, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO marketplace_orders (channel, external_id, status, currency, total, units, lines, received_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (channel, external_id) DO UPDATE SET \
         status = excluded.status, total = excluded.total, units = excluded.units, lines = excluded.lines, \
         updated_at = excluded.updated_at",
        args![channel.as_str(), &o.external_id, &o.status, &o.currency, o.total, o.units, &o.lines, now_ms],
    )
    .await?;
    Ok(())
}

/// How many marketplace-fulfilled orders and units a channel recorded.
pub async fn totals(tx: &mut Tx, channel: &ChannelName) -> Result<(i64, i64), StoreError> {
    let r = tx
        .query_one(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM marketplace_orders \
             WHERE channel = $1",
            args![channel.as_str()],
        )
        .await?;
    Ok((r.i64(0)?, r.i64(1)?))
}
