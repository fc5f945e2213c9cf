//! Returns: policy versions (`return_policies`), returns with their decision
//! (`returns`), their lines (`return_lines`), what was received in which
//! grade (`return_receipts`), each return's timeline (`return_events`) and
//! the RMA counter per day (`return_rma_days`); plus the order facts a
//! return request is built from. Read models are in `return_views`.
//!
//! Primitives only: which status a return moves to, what a grade means and
//! which returns hold an order's units are the core's rules, applied by the
//! engine; statuses are bound from the core's enums.

use switchyard_core::returns::ReturnStatus;

use crate::db::{placeholders, Tx, Value};
use crate::{args, StoreError};

// ------------------------------------------------------------- policies

/// Saves a return policy text as a new, inactive version; returns it.
pub async fn insert_policy(tx: &mut Tx, body: &str, note: &str, by: &str, now_ms: i64) -> Result<i64, StoreError> {
    tx.query_one(
        "INSERT INTO return_policies (body, note, created_by, created_at, is_active) \
         VALUES ($1, $2, $3, $4, $5) RETURNING version",
        args![body, note, by, now_ms, false],
    )
    .await?
    .i64(0)
}

/// A version's text, locking the row (activation reads, then switches).
pub async fn lock_policy_body(tx: &mut Tx, version: i64) -> Result<Option<String>, StoreError> {
    let sql = format!("SELECT body FROM return_policies WHERE version = $1{}", tx.for_update());
    tx.query_opt(&sql, args![version]).await?.map(|r| r.string(0)).transpose()
}

/// Makes `version` the only active return policy.
pub async fn set_active(tx: &mut Tx, version: i64, by: &str, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE return_policies SET is_active = $1 WHERE is_active = $2", args![false, true]).await?;
    tx.execute(
        "UPDATE return_policies SET is_active = $1, activated_at = $2, activated_by = $3 WHERE version = $4",
        args![true, now_ms, by, version],
    )
    .await?;
    Ok(())
}

/// The active version and its text; `None`: the built-in default applies.
pub async fn active_policy_body(tx: &mut Tx) -> Result<Option<(i64, String)>, StoreError> {
    let row = tx.query_opt("SELECT version, body FROM return_policies WHERE is_active = $1", args![true]).await?;
    row.map(|r| Ok((r.i64(0)?, r.string(1)?))).transpose()
}

// ------------------------------------------------- what the order says

/// An order line with its units shipped (over all its allocations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub shipped: i64,
}

/// The order's lines with the units each shipped, by line.
pub async fn shipped_lines(tx: &mut Tx, order_id: &str) -> Result<Vec<ShippedLine>, StoreError> {
    let sql = "SELECT l.line_no, l.sku, l.quantity, l.unit_price, \
               CAST(COALESCE((SELECT SUM(a.shipped) FROM allocations a \
               WHERE a.order_id = l.order_id AND a.line_no = l.line_no), 0) AS BIGINT) \
               FROM order_lines l WHERE l.order_id = $1 ORDER BY l.line_no";
    tx.query(sql, args![order_id])
        .await?
        .iter()
        .map(|r| {
            Ok(ShippedLine {
                line_no: r.i64(0)?,
                sku: r.string(1)?,
                quantity: r.i64(2)?,
                unit_price: r.i64(3)?,
                shipped: r.i64(4)?,
            })
        })
        .collect()
}

/// When the order's latest shipment left, if any.
pub async fn last_shipped_at(tx: &mut Tx, order_id: &str) -> Result<Option<i64>, StoreError> {
    tx.query_one("SELECT MAX(created_at) FROM shipments WHERE order_id = $1", args![order_id]).await?.opt_i64(0)
}

/// (location, units shipped from it) of the given lines of an order.
pub async fn shipped_from(tx: &mut Tx, order_id: &str, line_nos: &[i64]) -> Result<Vec<(String, i64)>, StoreError> {
    if line_nos.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT location, CAST(SUM(shipped) AS BIGINT) FROM allocations WHERE order_id = $1 AND line_no IN ({}) \
         GROUP BY location ORDER BY location",
        placeholders(2, line_nos.len())
    );
    let mut params = vec![Value::from(order_id)];
    params.extend(line_nos.iter().map(|n| Value::from(*n)));
    tx.query(&sql, &params).await?.iter().map(|r| Ok((r.string(0)?, r.i64(1)?))).collect()
}

/// A line of an earlier return of an order, with what the engine needs to
/// tell whether that return still holds the units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierLine {
    pub return_id: String,
    pub status: ReturnStatus,
    /// Whether it was ever authorized (it has an RMA).
    pub authorized: bool,
    pub line_no: i64,
    pub quantity: i64,
}

/// Every line of every return of the order.
pub async fn lines_of_order_returns(tx: &mut Tx, order_id: &str) -> Result<Vec<EarlierLine>, StoreError> {
    let sql = "SELECT r.id, r.status, r.rma, l.line_no, l.quantity FROM returns r \
               JOIN return_lines l ON l.return_id = r.id WHERE r.order_id = $1 ORDER BY r.id, l.line_no";
    tx.query(sql, args![order_id])
        .await?
        .iter()
        .map(|r| {
            Ok(EarlierLine {
                return_id: r.string(0)?,
                status: status(&r.string(1)?)?,
                authorized: r.opt_string(2)?.is_some(),
                line_no: r.i64(3)?,
                quantity: r.i64(4)?,
            })
        })
        .collect()
}

// -------------------------------------------------------------- returns

pub(crate) fn status(raw: &str) -> Result<ReturnStatus, StoreError> {
    ReturnStatus::parse(raw).ok_or_else(|| StoreError::corrupt(format!("return status {raw:?}")))
}

/// The next RMA sequence number of `day` (1 for its first).
pub async fn next_rma_seq(tx: &mut Tx, day: &str) -> Result<i64, StoreError> {
    tx.query_one(
        "INSERT INTO return_rma_days (day, last_seq) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last_seq = return_rma_days.last_seq + 1 RETURNING last_seq",
        args![day],
    )
    .await?
    .i64(0)
}

/// A new return row, its decision already made.
#[derive(Debug, Clone)]
pub struct NewReturnRow<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub status: ReturnStatus,
    pub reason: &'a str,
    pub reason_text: &'a str,
    pub condition: Option<&'a str>,
    pub outcome: &'a str,
    pub explanation: &'a str,
    /// The core's `ReturnDecision` as JSON.
    pub decision: &'a str,
    pub policy_version: Option<i64>,
    pub currency: &'a str,
    /// (subtotal, restocking fee, shipping fee, refund) in minor units.
    pub money: (i64, i64, i64, i64),
    pub refund_method: &'a str,
    pub shipping_paid_by: &'a str,
    pub destination: &'a str,
    pub created_by: &'a str,
}

/// Inserts a return (without an RMA or lines).
pub async fn insert(tx: &mut Tx, r: &NewReturnRow<'_>, now_ms: i64) -> Result<(), StoreError> {
    let (subtotal, restocking_fee, shipping_fee, refund) = r.money;
    tx.execute(
        "INSERT INTO returns (id, order_id, status, reason, reason_text, item_condition, outcome, explanation, \
         decision, policy_version, currency, subtotal, restocking_fee, shipping_fee, refund, refund_method, \
         shipping_paid_by, destination, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)",
        args![
            r.id,
            r.order_id,
            r.status.as_str(),
            r.reason,
            r.reason_text,
            r.condition,
            r.outcome,
            r.explanation,
            r.decision,
            r.policy_version,
            r.currency,
            subtotal,
            restocking_fee,
            shipping_fee,
            refund,
            r.refund_method,
            r.shipping_paid_by,
            r.destination,
            r.created_by,
            now_ms
        ],
    )
    .await?;
    Ok(())
}

/// Adds the units of one order line a return takes back.
pub async fn insert_line(
    tx: &mut Tx,
    return_id: &str,
    line_no: i64,
    sku: &str,
    quantity: i64,
    unit_price: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO return_lines (return_id, line_no, sku, quantity, unit_price, received) \
         VALUES ($1, $2, $3, $4, $5, 0)",
        args![return_id, line_no, sku, quantity, unit_price],
    )
    .await?;
    Ok(())
}

/// Appends an entry to the return's timeline.
pub async fn event(
    tx: &mut Tx,
    return_id: &str,
    now_ms: i64,
    kind: &str,
    actor: &str,
    message: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO return_events (return_id, at, kind, actor, message) VALUES ($1, $2, $3, $4, $5)",
        args![return_id, now_ms, kind, actor, message],
    )
    .await?;
    Ok(())
}

/// The fields of a return row a change needs, read under its lock.
#[derive(Debug, Clone)]
pub struct LockedReturn {
    pub id: String,
    pub order_id: String,
    pub status: ReturnStatus,
    pub rma: Option<String>,
    pub exception_id: Option<String>,
    pub destination: String,
    /// The core's `ReturnDecision` as JSON.
    pub decision: String,
    pub currency: String,
    pub refunded: Option<i64>,
    /// An exchange's replacement order, once created.
    pub replacement_order_id: Option<String>,
}

/// Locks a return row (before any stock row) and reads it.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<LockedReturn>, StoreError> {
    let sql = format!(
        "SELECT id, order_id, status, rma, exception_id, destination, decision, currency, refunded, \
         replacement_order_id FROM returns WHERE id = $1{}",
        tx.for_update()
    );
    let Some(r) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    Ok(Some(LockedReturn {
        id: r.string(0)?,
        order_id: r.string(1)?,
        status: status(&r.string(2)?)?,
        rma: r.opt_string(3)?,
        exception_id: r.opt_string(4)?,
        destination: r.string(5)?,
        decision: r.string(6)?,
        currency: r.string(7)?,
        refunded: r.opt_i64(8)?,
        replacement_order_id: r.opt_string(9)?,
    }))
}

/// The return an exception is about, if any.
pub async fn id_by_exception(tx: &mut Tx, exception_id: &str) -> Result<Option<String>, StoreError> {
    tx.query_opt("SELECT id FROM returns WHERE exception_id = $1", args![exception_id])
        .await?
        .map(|r| r.string(0))
        .transpose()
}

/// The return with this RMA number, if any.
pub async fn id_by_rma(tx: &mut Tx, rma: &str) -> Result<Option<String>, StoreError> {
    tx.query_opt("SELECT id FROM returns WHERE rma = $1", args![rma]).await?.map(|r| r.string(0)).transpose()
}

pub async fn set_status(tx: &mut Tx, id: &str, s: ReturnStatus, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE returns SET status = $1, updated_at = $2 WHERE id = $3", args![s.as_str(), now_ms, id]).await?;
    Ok(())
}

pub async fn set_rma(tx: &mut Tx, id: &str, rma: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE returns SET rma = $1 WHERE id = $2", args![rma, id]).await?;
    Ok(())
}

/// Binds the return to the exception that asks a person about it.
pub async fn set_exception(tx: &mut Tx, id: &str, exception_id: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE returns SET exception_id = $1 WHERE id = $2", args![exception_id, id]).await?;
    Ok(())
}

/// Links an exchange to the replacement order it created.
pub async fn set_replacement(tx: &mut Tx, id: &str, order_id: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE returns SET replacement_order_id = $1 WHERE id = $2", args![order_id, id]).await?;
    Ok(())
}

/// Records the refund paid out.
pub async fn set_refunded(tx: &mut Tx, id: &str, amount: i64, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE returns SET refunded = $1, refunded_at = $2 WHERE id = $3", args![amount, now_ms, id]).await?;
    Ok(())
}

/// A return line with its units received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub received: i64,
}

/// The return's lines, by order line.
pub async fn lines(tx: &mut Tx, id: &str) -> Result<Vec<StoredLine>, StoreError> {
    tx.query(
        "SELECT line_no, sku, quantity, unit_price, received FROM return_lines WHERE return_id = $1 ORDER BY line_no",
        args![id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(StoredLine {
            line_no: r.i64(0)?,
            sku: r.string(1)?,
            quantity: r.i64(2)?,
            unit_price: r.i64(3)?,
            received: r.i64(4)?,
        })
    })
    .collect()
}

/// Units of one return line received in one grade.
#[derive(Debug, Clone)]
pub struct NewReceipt<'a> {
    pub line_no: i64,
    pub sku: &'a str,
    pub grade: &'a str,
    pub disposition: &'a str,
    pub quantity: i64,
    pub location: &'a str,
}

/// Records received units and adds them to their line.
pub async fn receive(tx: &mut Tx, id: &str, r: &NewReceipt<'_>, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO return_receipts (return_id, line_no, sku, grade, disposition, quantity, location, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![id, r.line_no, r.sku, r.grade, r.disposition, r.quantity, r.location, now_ms],
    )
    .await?;
    tx.execute(
        "UPDATE return_lines SET received = received + $1 WHERE return_id = $2 AND line_no = $3",
        args![r.quantity, id, r.line_no],
    )
    .await?;
    Ok(())
}

// --------------------------------------------------------------- labels

/// Records that the return's label was issued: by whom (the carrier) and
/// its tracking number, if any.
pub async fn set_label(
    tx: &mut Tx,
    id: &str,
    carrier: &str,
    tracking: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE returns SET carrier = $1, tracking = $2, label_issued_at = $3 WHERE id = $4",
        args![carrier, tracking, now_ms, id],
    )
    .await?;
    Ok(())
}

/// Sets the tracking number (given when the parcel was handed over).
pub async fn set_tracking(tx: &mut Tx, id: &str, tracking: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE returns SET tracking = $1 WHERE id = $2", args![tracking, id]).await?;
    Ok(())
}

/// Keeps the label file a carrier sent (base64), replacing an older one.
pub async fn put_label_file(
    tx: &mut Tx,
    id: &str,
    content_type: &str,
    body_base64: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO return_label_files (return_id, content_type, body_base64, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (return_id) DO UPDATE SET content_type = excluded.content_type, \
         body_base64 = excluded.body_base64, created_at = excluded.created_at",
        args![id, content_type, body_base64, now_ms],
    )
    .await?;
    Ok(())
}

/// The label file a carrier sent: (content type, base64 body).
pub async fn label_file(tx: &mut Tx, id: &str) -> Result<Option<(String, String)>, StoreError> {
    let row = tx
        .query_opt("SELECT content_type, body_base64 FROM return_label_files WHERE return_id = $1", args![id])
        .await?;
    row.map(|r| Ok((r.string(0)?, r.string(1)?))).transpose()
}
