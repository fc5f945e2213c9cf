//! Positions (`stock`) and their append-only ledger (`stock_ledger`).
//!
//! A position only changes through [`apply_delta`], which writes the delta a
//! `switchyard_core::Position` rule computed together with its ledger row, so
//! the ledger always sums to the positions. Reads that precede a change lock
//! the rows (`FOR UPDATE` on PostgreSQL) and always in (sku, location) order.

use std::collections::BTreeMap;

use switchyard_core::{LocationCode, Position, Sku, StockDelta};

use crate::db::{placeholders, Tx};
use crate::{args, StoreError};

/// Applies a delta computed by `Position`'s rules and appends it to the
/// ledger.
pub async fn apply_delta(
    tx: &mut Tx,
    sku: &str,
    location: &str,
    d: &StockDelta,
    reason: &str,
    order_id: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE stock SET on_hand = on_hand + $1, reserved = reserved + $2, \
         safety_stock = safety_stock + $3, updated_at = $4 WHERE sku = $5 AND location = $6",
        args![d.on_hand, d.reserved, d.safety_stock, now_ms, sku, location],
    )
    .await?;
    tx.execute(
        "INSERT INTO stock_ledger (sku, location, kind, on_hand_delta, reserved_delta, \
         safety_stock_delta, reason, order_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![sku, location, d.kind.as_str(), d.on_hand, d.reserved, d.safety_stock, reason, order_id, now_ms],
    )
    .await?;
    Ok(())
}

/// Creates an empty position if there is none (a first count or receipt).
pub async fn ensure_position(tx: &mut Tx, sku: &str, location: &str, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO stock (sku, location, on_hand, reserved, safety_stock, updated_at) \
         VALUES ($1, $2, 0, 0, 0, $3) ON CONFLICT (sku, location) DO NOTHING",
        args![sku, location, now_ms],
    )
    .await?;
    Ok(())
}

/// Reads one position, locking it until commit.
pub async fn lock_position(tx: &mut Tx, sku: &str, location: &str) -> Result<Option<Position>, StoreError> {
    let sql = format!(
        "SELECT on_hand, reserved, safety_stock FROM stock WHERE sku = $1 AND location = $2{}",
        tx.for_update()
    );
    let Some(r) = tx.query_opt(&sql, args![sku, location]).await? else { return Ok(None) };
    Ok(Some(Position { on_hand: r.i64(0)?, reserved: r.i64(1)?, safety_stock: r.i64(2)? }))
}

/// Reads a position that must exist (an order holds units there, or it
/// was just created), locking it until commit. A missing row is corrupt
/// data, never a zero position.
pub async fn lock_existing(tx: &mut Tx, sku: &str, location: &str) -> Result<Position, StoreError> {
    lock_position(tx, sku, location)
        .await?
        .ok_or_else(|| StoreError::corrupt(format!("no stock row for {sku}@{location}, which something refers to")))
}

/// Every position of the given SKUs, in key order; locked when `lock`.
pub async fn positions_of(
    tx: &mut Tx,
    skus: &[&str],
    lock: bool,
) -> Result<BTreeMap<(Sku, LocationCode), Position>, StoreError> {
    let mut out = BTreeMap::new();
    if skus.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT sku, location, on_hand, reserved, safety_stock FROM stock WHERE sku IN ({}) \
         ORDER BY sku, location{}",
        placeholders(1, skus.len()),
        if lock { tx.for_update() } else { "" }
    );
    let params: Vec<crate::Value> = skus.iter().map(|s| crate::Value::from(*s)).collect();
    for r in tx.query(&sql, &params).await? {
        let sku = Sku::parse(&r.string(0)?).map_err(StoreError::corrupt)?;
        let location = LocationCode::parse(&r.string(1)?).map_err(StoreError::corrupt)?;
        out.insert((sku, location), Position { on_hand: r.i64(2)?, reserved: r.i64(3)?, safety_stock: r.i64(4)? });
    }
    Ok(out)
}

/// Units reserved at a position now, read without a lock (the count
/// decides which orders to take units back from before it locks them).
pub async fn reserved_now(tx: &mut Tx, sku: &str, location: &str) -> Result<Option<i64>, StoreError> {
    tx.query_opt("SELECT reserved FROM stock WHERE sku = $1 AND location = $2", args![sku, location])
        .await?
        .map(|r| r.i64(0))
        .transpose()
}
