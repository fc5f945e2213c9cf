//! Return data counted over a period, and the candidate orders for a
//! customer's self-service return. Counting only: what the counts mean
//! (cohorts, rates, percentiles) is `switchyard_core::returns::stats`;
//! whether a customer proved an order is `core::returns::contact_matches`.
//!
//! Every query selects by a time range first, on an index (migration 0024:
//! `returns_created`, `returns_refunded`; the metrics' `orders_created`).

use switchyard_core::ShipTo;

use crate::db::{placeholders, Tx, Value};
use crate::{args, StoreError};

/// A time range `[from_ms, to_ms)`.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// (key, reason, returns, units) rows.
pub type ReasonRows = Vec<(String, String, i64, i64)>;

fn reason_rows(rows: &[crate::Row]) -> Result<ReasonRows, StoreError> {
    rows.iter().map(|r| Ok((r.string(0)?, r.string(1)?, r.i64(2)?, r.i64(3)?))).collect()
}

/// Per (SKU, reason): returns requested in the range and their units.
pub async fn reasons_by_sku(tx: &mut Tx, range: Range) -> Result<ReasonRows, StoreError> {
    let sql = "SELECT l.sku, r.reason, CAST(COUNT(DISTINCT r.id) AS BIGINT), CAST(SUM(l.quantity) AS BIGINT) \
               FROM returns r JOIN return_lines l ON l.return_id = r.id \
               WHERE r.created_at >= $1 AND r.created_at < $2 GROUP BY l.sku, r.reason ORDER BY l.sku, r.reason";
    reason_rows(&tx.query(sql, args![range.from_ms, range.to_ms]).await?)
}

/// Per (channel, reason): returns requested in the range and their units.
pub async fn reasons_by_channel(tx: &mut Tx, range: Range) -> Result<ReasonRows, StoreError> {
    let sql = "SELECT o.channel, r.reason, CAST(COUNT(DISTINCT r.id) AS BIGINT), CAST(SUM(l.quantity) AS BIGINT) \
               FROM returns r JOIN orders o ON o.id = r.order_id JOIN return_lines l ON l.return_id = r.id \
               WHERE r.created_at >= $1 AND r.created_at < $2 \
               GROUP BY o.channel, r.reason ORDER BY o.channel, r.reason";
    reason_rows(&tx.query(sql, args![range.from_ms, range.to_ms]).await?)
}

/// Returns requested in the range, and their units.
pub async fn requested(tx: &mut Tx, range: Range) -> Result<(i64, i64), StoreError> {
    let sql = "SELECT CAST(COUNT(DISTINCT r.id) AS BIGINT), CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) \
               FROM returns r JOIN return_lines l ON l.return_id = r.id WHERE r.created_at >= $1 AND r.created_at < $2";
    let r = tx.query_one(sql, args![range.from_ms, range.to_ms]).await?;
    Ok((r.i64(0)?, r.i64(1)?))
}

/// Units shipped per SKU (as ordered: a bundle is its own SKU) of the
/// orders received in the range.
pub async fn shipped_by_sku(tx: &mut Tx, range: Range) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = "SELECT l.sku, CAST(SUM(a.shipped) AS BIGINT) FROM orders o \
               JOIN order_lines l ON l.order_id = o.id \
               JOIN allocations a ON a.order_id = l.order_id AND a.line_no = l.line_no \
               WHERE o.created_at >= $1 AND o.created_at < $2 GROUP BY l.sku ORDER BY l.sku";
    let rows = tx.query(sql, args![range.from_ms, range.to_ms]).await?;
    rows.iter().map(|r| Ok((r.string(0)?, r.i64(1)?))).collect()
}

/// Units per SKU on returns ever authorized (with an RMA) and not called
/// off (`cancelled`: its units may be asked for again) of the orders
/// received in the range.
pub async fn returned_by_sku(tx: &mut Tx, range: Range) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = "SELECT l.sku, CAST(SUM(l.quantity) AS BIGINT) FROM orders o \
               JOIN returns r ON r.order_id = o.id JOIN return_lines l ON l.return_id = r.id \
               WHERE o.created_at >= $1 AND o.created_at < $2 AND r.rma IS NOT NULL AND r.status <> $3 \
               GROUP BY l.sku ORDER BY l.sku";
    let cancelled = switchyard_core::returns::ReturnStatus::Cancelled.as_str();
    let rows = tx.query(sql, args![range.from_ms, range.to_ms, cancelled]).await?;
    rows.iter().map(|r| Ok((r.string(0)?, r.i64(1)?))).collect()
}

/// Milliseconds from request to refund of each return refunded in the
/// range.
pub async fn turnarounds(tx: &mut Tx, range: Range) -> Result<Vec<i64>, StoreError> {
    let sql = "SELECT refunded_at - created_at FROM returns WHERE refunded_at >= $1 AND refunded_at < $2 \
               ORDER BY refunded_at, id";
    let rows = tx.query(sql, args![range.from_ms, range.to_ms]).await?;
    rows.iter().map(|r| r.i64(0)).collect()
}

// ------------------------------------------------------- self-service

/// An order a customer may be asking about: its id, its ship-to postal
/// code and its customer's e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateOrder {
    pub id: String,
    pub postal_code: String,
    pub email: Option<String>,
}

/// The most orders one typed number may match (the same external id on
/// several channels, plus our own id).
pub const MAX_CANDIDATES: i64 = 20;

/// Orders whose channel order number is one of `numbers`, or whose id is
/// (both on an index), in id order.
pub async fn candidate_orders(tx: &mut Tx, numbers: &[String]) -> Result<Vec<CandidateOrder>, StoreError> {
    if numbers.is_empty() {
        return Ok(vec![]);
    }
    let n = numbers.len();
    let sql = format!(
        "SELECT id, ship_to, customer_email FROM orders WHERE external_id IN ({}) OR id IN ({}) ORDER BY id LIMIT ${}",
        placeholders(1, n),
        placeholders(n + 1, n),
        2 * n + 1
    );
    let mut params: Vec<Value> = numbers.iter().map(Value::from).collect();
    params.extend(numbers.iter().map(Value::from));
    params.push(Value::from(MAX_CANDIDATES));
    let rows = tx.query(&sql, &params).await?;
    rows.iter()
        .map(|r| {
            let ship_to: ShipTo = serde_json::from_str(&r.string(1)?).map_err(StoreError::corrupt)?;
            Ok(CandidateOrder { id: r.string(0)?, postal_code: ship_to.postal_code, email: r.opt_string(2)? })
        })
        .collect()
}
