//! The shop's own orders of a period as a history to replay (the dashboard's
//! "simulate the last N days"), and the stock those orders took, so the
//! replay can start from the stock as it is now plus what they consumed.
//! Reading only; the replay is `switchyard_core::simulate`.

use std::collections::BTreeMap;

use switchyard_core::ShipTo;

use crate::db::Tx;
use crate::{args, StoreError};

/// One stored order, as the replay needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOrder {
    pub id: String,
    pub channel: String,
    pub external_id: String,
    pub created_at: i64,
    pub currency: String,
    pub service_level: String,
    pub pickup_location: Option<String>,
    pub ship_to: ShipTo,
    /// (SKU as stored, quantity, unit price in minor units), by line number.
    pub lines: Vec<(String, i64, i64)>,
}

/// Orders received in `[from_ms, to_ms)`, oldest first (then by id), at most
/// `limit`, each with its lines.
pub async fn orders_between(tx: &mut Tx, from_ms: i64, to_ms: i64, limit: i64) -> Result<Vec<StoredOrder>, StoreError> {
    let rows = tx
        .query(
            "SELECT id, channel, external_id, created_at, currency, service_level, pickup_location, ship_to \
             FROM orders WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id LIMIT $3",
            args![from_ms, to_ms, limit],
        )
        .await?;
    let mut orders = Vec::with_capacity(rows.len());
    let mut index = BTreeMap::new();
    for r in &rows {
        let id = r.string(0)?;
        let ship_to: ShipTo = serde_json::from_str(&r.string(7)?)
            .map_err(|e| StoreError::corrupt(format!("order {id}: ship_to: {e}")))?;
        index.insert(id.clone(), orders.len());
        orders.push(StoredOrder {
            id,
            channel: r.string(1)?,
            external_id: r.string(2)?,
            created_at: r.i64(3)?,
            currency: r.string(4)?,
            service_level: r.string(5)?,
            pickup_location: r.opt_string(6)?,
            ship_to,
            lines: Vec::new(),
        });
    }
    let Some(last) = orders.last().map(|o| o.created_at) else { return Ok(orders) };
    // The same orders' lines (those of orders past the limit at the last
    // instant are read and dropped).
    let lines = tx
        .query(
            "SELECT l.order_id, l.sku, l.quantity, l.unit_price FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE o.created_at >= $1 AND o.created_at <= $2 ORDER BY l.order_id, l.line_no",
            args![from_ms, last],
        )
        .await?;
    for r in &lines {
        if let Some(at) = index.get(&r.string(0)?) {
            orders[*at].lines.push((r.string(1)?, r.i64(2)?, r.i64(3)?));
        }
    }
    Ok(orders)
}

/// What the orders received in `[from_ms, to_ms)` did to stock, per
/// position: (SKU, location, units shipped or handed over, units still
/// reserved).
pub async fn consumed_between(
    tx: &mut Tx,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    tx.query(
        "SELECT r.sku, r.location, CAST(COALESCE(SUM(r.per_unit * COALESCE(a.shipped, 0)), 0) AS BIGINT), \
         CAST(COALESCE(SUM(r.held), 0) AS BIGINT) \
         FROM orders o JOIN reservations r ON r.order_id = o.id \
         LEFT JOIN (SELECT al.order_id, al.line_no, al.location, SUM(al.shipped) AS shipped FROM allocations al \
                    JOIN orders ao ON ao.id = al.order_id WHERE ao.created_at >= $1 AND ao.created_at < $2 \
                    GROUP BY al.order_id, al.line_no, al.location) a \
           ON a.order_id = r.order_id AND a.line_no = r.line_no AND a.location = r.location \
         WHERE o.created_at >= $1 AND o.created_at < $2 GROUP BY r.sku, r.location ORDER BY 1, 2",
        args![from_ms, to_ms],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.string(1)?, r.i64(2)?, r.i64(3)?)))
    .collect()
}
