//! The facts the catalogue health check reads besides the catalogue itself
//! (`catalog::list_skus`, `list_locations`) and the policies
//! (`views::active_policy`, `shadow_policy`): stock summed per SKU, what
//! sold lately, and the lines held for SKUs we do not know. Reading only;
//! what counts as a problem is `switchyard_core::doctor`.

use crate::db::Tx;
use crate::{args, StoreError};

/// Units on hand per SKU, summed over every location: (SKU, units).
pub async fn on_hand_by_sku(tx: &mut Tx) -> Result<Vec<(String, i64)>, StoreError> {
    tx.query("SELECT sku, CAST(SUM(on_hand) AS BIGINT) FROM stock GROUP BY sku ORDER BY sku", args![])
        .await?
        .iter()
        .map(|r| Ok((r.string(0)?, r.i64(1)?)))
        .collect()
}

/// SKUs of our catalogue on orders received at or after `since_ms`: (SKU,
/// orders), by SKU.
pub async fn ordered_since(tx: &mut Tx, since_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
    tx.query(
        "SELECT l.sku, CAST(COUNT(DISTINCT o.id) AS BIGINT) FROM orders o \
         JOIN order_lines l ON l.order_id = o.id JOIN skus s ON s.sku = l.sku \
         WHERE o.created_at >= $1 GROUP BY l.sku ORDER BY l.sku",
        args![since_ms],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.i64(1)?)))
    .collect()
}

/// Lines of orders with an open exception of `kind` (the engine's
/// `unknown_sku`) whose SKU is not in our catalogue: (channel, SKU as
/// held, orders), by channel and SKU.
pub async fn held_unknown_lines(tx: &mut Tx, kind: &str, open: &str) -> Result<Vec<(String, String, i64)>, StoreError> {
    tx.query(
        "SELECT o.channel, l.sku, CAST(COUNT(DISTINCT o.id) AS BIGINT) FROM exceptions e \
         JOIN orders o ON o.id = e.order_id JOIN order_lines l ON l.order_id = o.id \
         LEFT JOIN skus s ON s.sku = l.sku \
         WHERE e.kind = $1 AND e.status = $2 AND s.sku IS NULL GROUP BY o.channel, l.sku ORDER BY 1, 2",
        args![kind, open],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.string(1)?, r.i64(2)?)))
    .collect()
}
