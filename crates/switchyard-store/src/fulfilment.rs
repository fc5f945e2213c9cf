//! Fulfilment at a location (migration 0023): where each order stands there
//! (`fulfilment_steps`: picked, packed, ready for pickup — no row: still to
//! pick — and since when), and the rows a location's pick list is built
//! from. Which order comes first and which step may follow which are the
//! core's rules (`switchyard_core::fulfilment`), applied by the engine.

use serde::Serialize;
use switchyard_core::fulfilment::PickStep;
use switchyard_core::{ExceptionKind, OrderStatus, ServiceLevel};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::db::{placeholders, Row, Tx, Value};
use crate::{args, StoreError};

/// A location's pick list: its open orders, most urgent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PickList {
    pub location: String,
    pub orders: Vec<PickOrder>,
    /// Whether more orders wait than the list shows (it is bounded).
    pub more: bool,
}

/// One order on a pick list, with what to pick at this location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PickOrder {
    pub id: String,
    pub external_id: String,
    pub channel: String,
    pub status: String,
    pub service_level: String,
    pub created_at: String,
    /// `to_pick`, `picked`, `packed` or `ready_for_pickup` at this location.
    pub step: String,
    /// What staff can do next: `picked`, `packed`, `ship`,
    /// `ready_for_pickup`, `picked_up`, `short_pick`.
    pub actions: Vec<String>,
    pub lines: Vec<PickLine>,
}

/// Units of one order line to pick at the location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PickLine {
    /// The line's number, from 1 (what a short pick names).
    pub line_no: i64,
    pub sku: String,
    pub title: String,
    /// Units allocated here and neither shipped nor released.
    pub quantity: i64,
}

/// An order with units to pick at a location, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub order_id: String,
    pub external_id: String,
    pub channel: String,
    pub status: OrderStatus,
    pub service_level: ServiceLevel,
    pub created_at: i64,
    pub step: Option<PickStep>,
}

fn step_of(raw: &str) -> Result<PickStep, StoreError> {
    PickStep::parse(raw).ok_or_else(|| StoreError::corrupt(format!("fulfilment step {raw:?}")))
}

/// The step recorded for an order at a location, and when.
pub async fn step_at(tx: &mut Tx, order_id: &str, location: &str) -> Result<Option<(PickStep, i64)>, StoreError> {
    let sql = "SELECT step, at FROM fulfilment_steps WHERE order_id = $1 AND location = $2";
    match tx.query_opt(sql, args![order_id, location]).await? {
        None => Ok(None),
        Some(r) => Ok(Some((step_of(&r.string(0)?)?, r.i64(1)?))),
    }
}

/// Records the step an order reached at a location.
pub async fn set_step(tx: &mut Tx, order_id: &str, location: &str, step: PickStep, at: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO fulfilment_steps (order_id, location, step, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (order_id, location) DO UPDATE SET step = excluded.step, at = excluded.at",
        args![order_id, location, step.as_str(), at],
    )
    .await?;
    Ok(())
}

/// Forgets the order's step at a location once nothing of it is open there
/// (everything shipped, or released by a short pick): were units routed
/// there again, they would be picked afresh.
pub async fn clear_if_done(tx: &mut Tx, order_id: &str, location: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM fulfilment_steps WHERE order_id = $1 AND location = $2 AND NOT EXISTS \
         (SELECT 1 FROM allocations a WHERE a.order_id = $1 AND a.location = $2 \
         AND a.quantity - a.shipped - a.released > 0)",
        args![order_id, location],
    )
    .await?;
    Ok(())
}

/// Up to `limit` orders in one of `statuses` and `levels` with open units
/// at `location`, oldest first.
pub async fn candidates(
    tx: &mut Tx,
    location: &str,
    statuses: &[OrderStatus],
    levels: &[ServiceLevel],
    limit: i64,
) -> Result<Vec<Candidate>, StoreError> {
    if statuses.is_empty() || levels.is_empty() || limit < 1 {
        return Ok(vec![]);
    }
    let mut params = vec![Value::from(location)];
    params.extend(statuses.iter().map(|s| Value::from(s.as_str())));
    params.extend(levels.iter().map(|l| Value::from(l.as_str())));
    params.push(Value::from(limit));
    let sql = format!(
        "SELECT o.id, o.external_id, o.channel, o.status, o.service_level, o.created_at, f.step FROM orders o \
         LEFT JOIN fulfilment_steps f ON f.order_id = o.id AND f.location = $1 \
         WHERE o.status IN ({}) AND o.service_level IN ({}) AND o.id IN (SELECT a.order_id FROM allocations a \
         WHERE a.location = $1 AND a.quantity - a.shipped - a.released > 0) \
         ORDER BY o.created_at, o.id LIMIT ${}",
        placeholders(2, statuses.len()),
        placeholders(2 + statuses.len(), levels.len()),
        params.len()
    );
    tx.query(&sql, &params).await?.iter().map(candidate).collect()
}

fn candidate(r: &Row) -> Result<Candidate, StoreError> {
    let (status, level) = (r.string(3)?, r.string(4)?);
    Ok(Candidate {
        order_id: r.string(0)?,
        external_id: r.string(1)?,
        channel: r.string(2)?,
        status: OrderStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("order status {status:?}")))?,
        service_level: ServiceLevel::parse(&level)
            .ok_or_else(|| StoreError::corrupt(format!("service level {level:?}")))?,
        created_at: r.i64(5)?,
        step: r.opt_string(6)?.as_deref().map(step_of).transpose()?,
    })
}

/// (order id, line) → what to pick of it at `location`, for these orders,
/// by order and line.
pub async fn open_lines(
    tx: &mut Tx,
    location: &str,
    order_ids: &[String],
) -> Result<Vec<(String, PickLine)>, StoreError> {
    if order_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut params = vec![Value::from(location)];
    params.extend(order_ids.iter().map(Value::from));
    let sql = format!(
        "SELECT a.order_id, l.line_no, l.sku, COALESCE(s.title, l.sku), \
         CAST(SUM(a.quantity - a.shipped - a.released) AS BIGINT) FROM allocations a \
         JOIN order_lines l ON l.order_id = a.order_id AND l.line_no = a.line_no \
         LEFT JOIN skus s ON s.sku = l.sku \
         WHERE a.location = $1 AND a.order_id IN ({}) AND a.quantity - a.shipped - a.released > 0 \
         GROUP BY a.order_id, l.line_no, l.sku, s.title ORDER BY a.order_id, l.line_no",
        placeholders(2, order_ids.len())
    );
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(|r| {
            let line = PickLine { line_no: r.i64(1)?, sku: r.string(2)?, title: r.string(3)?, quantity: r.i64(4)? };
            Ok((r.string(0)?, line))
        })
        .collect()
}

/// Orders in `status` whose step `step` was reached at or before
/// `before_ms` and that never had an exception of `kind`: (order id,
/// location, when), oldest first.
pub async fn reached_before(
    tx: &mut Tx,
    step: PickStep,
    status: OrderStatus,
    before_ms: i64,
    kind: ExceptionKind,
    limit: i64,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    tx.query(
        "SELECT f.order_id, f.location, f.at FROM fulfilment_steps f JOIN orders o ON o.id = f.order_id \
         WHERE f.step = $1 AND f.at <= $2 AND o.status = $3 \
         AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.order_id = f.order_id AND e.kind = $4) \
         ORDER BY f.at, f.order_id LIMIT $5",
        args![step.as_str(), before_ms, status.as_str(), kind.as_str(), limit],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.string(1)?, r.i64(2)?)))
    .collect()
}
