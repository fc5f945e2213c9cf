//! Orders and what hangs off them: lines, allocations (line units placed at
//! a location), reservations (component units held in a position), the
//! timeline (`order_events`) and shipments.
//!
//! Primitives only: which status an order moves to, and when, is decided by
//! the engine with the core's state machine.

use switchyard_core::dropship::PoStatus;
use switchyard_core::repeat::Received;
use switchyard_core::{
    ChannelName, Currency, LocationCode, Money, NewOrder, NewShipment, OrderStatus, PaymentState, ServiceLevel, ShipTo,
    Sku,
};

use crate::db::{Row, Tx, Value};
use crate::{args, StoreError};

/// The fields of an order row that a change needs, read under its lock.
#[derive(Debug, Clone)]
pub struct LockedOrder {
    pub status: OrderStatus,
    pub payment: PaymentState,
    pub service_level: ServiceLevel,
    pub pickup_location: Option<LocationCode>,
    pub reservation_expires_at: Option<i64>,
}

/// Channel, value and ship-to of a stored order: what routing needs.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub channel: ChannelName,
    pub value: Money,
    pub ship_to: ShipTo,
}

/// Units of one order line held at one position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub line_no: i64,
    pub sku: String,
    pub location: String,
    pub units: i64,
    /// The units are held for a dropship purchase order still open at that
    /// location (read in the same statement: no extra one for orders
    /// without one).
    pub for_po: bool,
}

fn parse_status(raw: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::parse(raw).ok_or_else(|| StoreError::corrupt(format!("order status {raw:?}")))
}

/// Inserts the order (with its customer's e-mail address, when it has one)
/// unless `(channel, external_id)` exists; returns whether it was inserted.
/// Runs before any stock row is touched, so a duplicate delivery never
/// reserves twice.
pub async fn claim(tx: &mut Tx, id: &str, o: &NewOrder, status: OrderStatus, now_ms: i64) -> Result<bool, StoreError> {
    let ship_to = serde_json::to_string(&o.ship_to).map_err(StoreError::corrupt)?;
    let n = tx
        .execute(
            "INSERT INTO orders (id, channel, external_id, status, currency, total_minor, payment, \
             service_level, pickup_location, ship_to, reservation_expires_at, created_at, updated_at, \
             received_payment, customer_email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $11, \
             $7, $12) ON CONFLICT (channel, external_id) DO NOTHING",
            args![
                id,
                o.channel.as_str(),
                o.external_id.as_str(),
                status.as_str(),
                o.currency.as_str(),
                o.total_minor,
                o.payment.as_str(),
                o.service_level.as_str(),
                o.pickup_location.as_ref().map(|p| p.as_str()),
                ship_to,
                now_ms,
                o.email.as_ref().map(|e| e.as_str())
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Adds a line with all its units unfilled (allocation fills them).
pub async fn insert_line(
    tx: &mut Tx,
    id: &str,
    line_no: i64,
    sku: &Sku,
    quantity: i64,
    unit_price: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, backordered) \
         VALUES ($1, $2, $3, $4, $5, $4)",
        args![id, line_no, sku.as_str(), quantity, unit_price],
    )
    .await?;
    Ok(())
}

/// A new order's line with what its first routing did: written once, after
/// routing, instead of inserted before it and updated twice.
pub struct RoutedLine<'a> {
    pub line_no: i64,
    pub sku: &'a Sku,
    pub quantity: i64,
    pub unit_price: i64,
    /// Units not allocated.
    pub backordered: i64,
    /// The SKU's available-to-promise before the order reserved anything.
    pub atp_at_order: i64,
}

/// Inserts a routed new order's lines in one statement; the units allocated
/// at intake (`filled_at_order`) are what is not backordered.
pub async fn insert_routed_lines(tx: &mut Tx, id: &str, lines: &[RoutedLine<'_>]) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut params = vec![Value::from(id)];
    let mut rows = Vec::with_capacity(lines.len());
    for l in lines {
        let n = params.len();
        rows.push(format!("($1, ${}, ${}, ${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7));
        params.extend([
            Value::from(l.line_no),
            Value::from(l.sku.as_str()),
            Value::from(l.quantity),
            Value::from(l.unit_price),
            Value::from(l.backordered),
            Value::from(l.quantity - l.backordered),
            Value::from(l.atp_at_order),
        ]);
    }
    let sql = format!(
        "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, backordered, filled_at_order, \
         atp_at_order) VALUES {}",
        rows.join(", ")
    );
    tx.execute(&sql, &params).await?;
    Ok(())
}

/// Records what a new order held before routing (its lines name SKUs we do
/// not know yet) met at intake: the units allocated, none; its
/// available-to-promise stays unknown (NULL), so metrics leave it out.
pub async fn record_intake_unrouted(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE order_lines SET filled_at_order = quantity - backordered WHERE order_id = $1", args![id])
        .await?;
    Ok(())
}

/// Records why an order was cancelled and the units it was short of stock
/// then (0: none).
pub async fn record_cancellation(tx: &mut Tx, id: &str, reason: &str, short_units: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE orders SET cancel_reason = $1, cancel_short_units = $2 WHERE id = $3",
        args![reason, short_units, id],
    )
    .await?;
    Ok(())
}

/// Locks the order row (first, before any stock row) and reads it.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<LockedOrder>, StoreError> {
    let sql = format!(
        "SELECT status, payment, service_level, pickup_location, reservation_expires_at FROM orders WHERE id = $1{}",
        tx.for_update()
    );
    let Some(r) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    let payment = r.string(1)?;
    let level = r.string(2)?;
    let pickup = r.opt_string(3)?;
    Ok(Some(LockedOrder {
        status: parse_status(&r.string(0)?)?,
        payment: PaymentState::parse(&payment).ok_or_else(|| StoreError::corrupt(format!("payment {payment:?}")))?,
        service_level: ServiceLevel::parse(&level)
            .ok_or_else(|| StoreError::corrupt(format!("service level {level:?}")))?,
        pickup_location: pickup.map(|p| LocationCode::parse(&p).map_err(StoreError::corrupt)).transpose()?,
        reservation_expires_at: r.opt_i64(4)?,
    }))
}

/// Channel, value and ship-to of an order.
pub async fn facts(tx: &mut Tx, id: &str) -> Result<OrderFacts, StoreError> {
    let r = tx.query_one("SELECT channel, total_minor, currency, ship_to FROM orders WHERE id = $1", args![id]).await?;
    Ok(OrderFacts {
        channel: ChannelName::parse(&r.string(0)?).map_err(StoreError::corrupt)?,
        value: Money::new(r.i64(1)?, Currency::parse(&r.string(2)?).map_err(StoreError::corrupt)?),
        ship_to: serde_json::from_str(&r.string(3)?).map_err(StoreError::corrupt)?,
    })
}

pub async fn set_status(tx: &mut Tx, id: &str, status: OrderStatus, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3", args![status.as_str(), now_ms, id])
        .await?;
    Ok(())
}

/// When an unpaid order's hold lapses (`None`: it does not).
pub async fn set_expiry(tx: &mut Tx, id: &str, expires_at: Option<i64>) -> Result<(), StoreError> {
    tx.execute("UPDATE orders SET reservation_expires_at = $1 WHERE id = $2", args![expires_at, id]).await?;
    Ok(())
}

/// When the sweeper cancels the order if it is still held (`None`: never).
pub async fn set_auto_cancel(tx: &mut Tx, id: &str, at: Option<i64>) -> Result<(), StoreError> {
    tx.execute("UPDATE orders SET auto_cancel_at = $1 WHERE id = $2", args![at, id]).await?;
    Ok(())
}

pub async fn set_payment(tx: &mut Tx, id: &str, payment: PaymentState) -> Result<(), StoreError> {
    tx.execute("UPDATE orders SET payment = $1 WHERE id = $2", args![payment.as_str(), id]).await?;
    Ok(())
}

/// Appends an entry to the order's timeline.
pub async fn event(tx: &mut Tx, id: &str, now_ms: i64, kind: &str, message: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO order_events (order_id, at, kind, message) VALUES ($1, $2, $3, $4)",
        args![id, now_ms, kind, message],
    )
    .await?;
    Ok(())
}

/// Appends several entries to the order's timeline in one statement, in
/// order.
pub async fn events(tx: &mut Tx, id: &str, now_ms: i64, entries: &[(&str, String)]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..entries.len()).map(|i| format!("($1, $2, ${}, ${})", 3 + 2 * i, 4 + 2 * i)).collect();
    let sql = format!("INSERT INTO order_events (order_id, at, kind, message) VALUES {}", rows.join(", "));
    let mut params = vec![Value::from(id), Value::from(now_ms)];
    for (kind, message) in entries {
        params.push(Value::from(*kind));
        params.push(Value::from(message.as_str()));
    }
    tx.execute(&sql, &params).await?;
    Ok(())
}

/// Sets a new order's status and unpaid-hold expiry at once.
pub async fn settle(
    tx: &mut Tx,
    id: &str,
    status: OrderStatus,
    expires_at: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE orders SET status = $1, reservation_expires_at = $2, updated_at = $3 WHERE id = $4",
        args![status.as_str(), expires_at, now_ms, id],
    )
    .await?;
    Ok(())
}

fn held_row(r: &Row) -> Result<Held, StoreError> {
    Ok(Held { line_no: r.i64(0)?, sku: r.string(1)?, location: r.string(2)?, units: r.i64(3)?, for_po: r.bool(4)? })
}

/// What the order still holds, in (sku, location) order: the lock order.
pub async fn held(tx: &mut Tx, id: &str) -> Result<Vec<Held>, StoreError> {
    tx.query(
        "SELECT line_no, sku, location, held, EXISTS (SELECT 1 FROM purchase_orders p WHERE p.order_id = \
         reservations.order_id AND p.location = reservations.location AND p.status IN ($2, $3)) \
         FROM reservations WHERE order_id = $1 AND held > 0 ORDER BY sku, location, line_no",
        args![id, PoStatus::Sent.as_str(), PoStatus::Confirmed.as_str()],
    )
    .await?
    .iter()
    .map(held_row)
    .collect()
}

/// Adds units to a line's reservation at a position.
#[allow(clippy::too_many_arguments)]
pub async fn add_reservation(
    tx: &mut Tx,
    id: &str,
    line_no: i64,
    sku: &str,
    location: &str,
    per_unit: i64,
    units: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO reservations (order_id, line_no, sku, location, per_unit, held) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id, line_no, sku, location) \
         DO UPDATE SET held = reservations.held + excluded.held",
        args![id, line_no, sku, location, per_unit, units],
    )
    .await?;
    Ok(())
}

/// Takes `units` off a line's reservation at a position (released or shipped).
pub async fn reduce_reservation(tx: &mut Tx, id: &str, h: &Held, units: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE reservations SET held = held - $1 WHERE order_id = $2 AND line_no = $3 AND sku = $4 AND location = $5",
        args![units, id, h.line_no, h.sku.as_str(), h.location.as_str()],
    )
    .await?;
    Ok(())
}

/// Records line units placed at a location, as a new allocation of the
/// line (numbered after its earlier ones): allocations made by different
/// routings are never merged, so a released one stays as it was.
pub async fn add_allocation(tx: &mut Tx, id: &str, line_no: i64, location: &str, units: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO allocations (order_id, line_no, seq, location, quantity, shipped, released) \
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, 0, 0 FROM allocations \
         WHERE order_id = $1 AND line_no = $2",
        args![id, line_no, location, units],
    )
    .await?;
    Ok(())
}

/// Marks every unshipped allocated unit of the order released.
pub async fn release_all_allocations(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE allocations SET released = quantity - shipped WHERE order_id = $1", args![id]).await?;
    Ok(())
}

/// One allocation with units neither shipped nor released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAllocation {
    pub line_no: i64,
    /// Which of the line's allocations.
    pub seq: i64,
    pub location: String,
    pub units: i64,
}

/// The order's allocations with open units, by line and then as made.
pub async fn open_allocations(tx: &mut Tx, id: &str) -> Result<Vec<OpenAllocation>, StoreError> {
    tx.query(
        "SELECT line_no, seq, location, quantity - shipped - released FROM allocations \
         WHERE order_id = $1 AND quantity - shipped - released > 0 ORDER BY line_no, seq",
        args![id],
    )
    .await?
    .iter()
    .map(|r| Ok(OpenAllocation { line_no: r.i64(0)?, seq: r.i64(1)?, location: r.string(2)?, units: r.i64(3)? }))
    .collect()
}

/// Releases `units` of one of a line's allocations.
pub async fn release_allocation(tx: &mut Tx, id: &str, line_no: i64, seq: i64, units: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE allocations SET released = released + $1 WHERE order_id = $2 AND line_no = $3 AND seq = $4",
        args![units, id, line_no, seq],
    )
    .await?;
    Ok(())
}

/// Records `units` of one of a line's allocations as shipped.
pub async fn ship_allocation(tx: &mut Tx, id: &str, line_no: i64, seq: i64, units: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE allocations SET shipped = shipped + $1 WHERE order_id = $2 AND line_no = $3 AND seq = $4",
        args![units, id, line_no, seq],
    )
    .await?;
    Ok(())
}

/// Changes a line's unfilled units by `delta`.
pub async fn add_unfilled(tx: &mut Tx, id: &str, line_no: i64, delta: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE order_lines SET backordered = backordered + $1 WHERE order_id = $2 AND line_no = $3",
        args![delta, id, line_no],
    )
    .await?;
    Ok(())
}

/// Sets a line's unfilled units.
pub async fn set_unfilled(tx: &mut Tx, id: &str, line_no: i64, units: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE order_lines SET backordered = $1 WHERE order_id = $2 AND line_no = $3",
        args![units, id, line_no],
    )
    .await?;
    Ok(())
}

/// Makes every unshipped unit of the order unfilled again (its hold
/// lapsed and the stock went back).
pub async fn unfill_unshipped(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE order_lines SET backordered = quantity - COALESCE((SELECT SUM(a.shipped) FROM allocations a \
         WHERE a.order_id = order_lines.order_id AND a.line_no = order_lines.line_no), 0) WHERE order_id = $1",
        args![id],
    )
    .await?;
    Ok(())
}

/// (line_no, sku, unfilled units) of the lines that have any.
pub async fn unfilled_lines(tx: &mut Tx, id: &str) -> Result<Vec<(i64, Sku, i64)>, StoreError> {
    tx.query(
        "SELECT line_no, sku, backordered FROM order_lines WHERE order_id = $1 AND backordered > 0 ORDER BY line_no",
        args![id],
    )
    .await?
    .iter()
    .map(|r| Ok((r.i64(0)?, Sku::parse(&r.string(1)?).map_err(StoreError::corrupt)?, r.i64(2)?)))
    .collect()
}

/// Line units of the order not allocated anywhere.
pub async fn unfilled_units(tx: &mut Tx, id: &str) -> Result<i64, StoreError> {
    tx.query_one("SELECT CAST(COALESCE(SUM(backordered), 0) AS BIGINT) FROM order_lines WHERE order_id = $1", args![id])
        .await?
        .i64(0)
}

/// (line number, SKU) of an order's lines.
pub async fn line_skus_of(tx: &mut Tx, id: &str) -> Result<Vec<(i64, String)>, StoreError> {
    tx.query("SELECT line_no, sku FROM order_lines WHERE order_id = $1 ORDER BY line_no", args![id])
        .await?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.string(1)?)))
        .collect()
}

/// Allocated units neither shipped nor released, over the whole order.
pub async fn open_units(tx: &mut Tx, id: &str) -> Result<i64, StoreError> {
    tx.query_one(
        "SELECT CAST(COALESCE(SUM(quantity - shipped - released), 0) AS BIGINT) FROM allocations WHERE order_id = $1",
        args![id],
    )
    .await?
    .i64(0)
}

/// (line_no, seq, sku, open units) of the order's allocations at one
/// location, by line and then as made.
pub async fn open_at(tx: &mut Tx, id: &str, location: &str) -> Result<Vec<(i64, i64, String, i64)>, StoreError> {
    tx.query(
        "SELECT l.line_no, a.seq, l.sku, a.quantity - a.shipped - a.released FROM order_lines l \
         JOIN allocations a ON a.order_id = l.order_id AND a.line_no = l.line_no \
         WHERE l.order_id = $1 AND a.location = $2 ORDER BY l.line_no, a.seq",
        args![id, location],
    )
    .await?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.i64(1)?, r.string(2)?, r.i64(3)?)))
    .collect()
}

/// (sku, units per line unit) reserved for a line at a location.
pub async fn reservation_parts(
    tx: &mut Tx,
    id: &str,
    line_no: i64,
    location: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    tx.query(
        "SELECT sku, per_unit FROM reservations WHERE order_id = $1 AND line_no = $2 AND location = $3 ORDER BY sku",
        args![id, line_no, location],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.i64(1)?)))
    .collect()
}

/// Whether the order has a line with this number.
pub async fn has_line(tx: &mut Tx, id: &str, line_no: i64) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt("SELECT 1 FROM order_lines WHERE order_id = $1 AND line_no = $2", args![id, line_no])
        .await?
        .is_some())
}

/// The distinct SKUs on the lines of these orders.
pub async fn line_skus(tx: &mut Tx, ids: &[String]) -> Result<Vec<String>, StoreError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT DISTINCT sku FROM order_lines WHERE order_id IN ({}) ORDER BY sku",
        crate::db::placeholders(1, ids.len())
    );
    let params: Vec<Value> = ids.iter().map(Value::from).collect();
    tx.query(&sql, &params).await?.iter().map(|r| r.string(0)).collect()
}

/// Records a shipment.
pub async fn insert_shipment(
    tx: &mut Tx,
    shipment_id: &str,
    id: &str,
    s: &NewShipment,
    now_ms: i64,
) -> Result<(), StoreError> {
    let lines: Vec<serde_json::Value> =
        s.lines.iter().map(|(sku, q)| serde_json::json!({"sku": sku, "quantity": q.get()})).collect();
    let lines = serde_json::Value::Array(lines).to_string();
    tx.execute(
        "INSERT INTO shipments (id, order_id, location, carrier, tracking, lines, created_at, tracking_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            shipment_id,
            id,
            s.location.as_str(),
            s.carrier.as_deref(),
            s.tracking.as_deref(),
            lines,
            now_ms,
            s.tracking_url.as_deref()
        ],
    )
    .await?;
    Ok(())
}

/// Orders of `channel` with an open exception of `kind` (the engine's
/// `unknown_sku`) and a line naming `sku`: (order id, exception id).
pub async fn held_with_line(
    tx: &mut Tx,
    channel: &str,
    sku: &str,
    kind: &str,
    open: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = tx
        .query(
            "SELECT DISTINCT o.id, e.id FROM orders o JOIN exceptions e ON e.order_id = o.id \
             JOIN order_lines l ON l.order_id = o.id \
             WHERE o.channel = $1 AND l.sku = $2 AND e.kind = $3 AND e.status = $4 ORDER BY o.id",
            args![channel, sku, kind, open],
        )
        .await?;
    rows.iter().map(|r| Ok((r.string(0)?, r.string(1)?))).collect()
}

/// Renames the SKU of an order's lines (a channel's SKU that is now mapped
/// to ours); returns the lines changed.
pub async fn rename_line_sku(tx: &mut Tx, id: &str, from: &str, to: &str) -> Result<u64, StoreError> {
    tx.execute("UPDATE order_lines SET sku = $3 WHERE order_id = $1 AND sku = $2", args![id, from, to]).await
}

/// A recorded shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRecord {
    pub id: String,
    pub order_id: String,
    pub location: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// Where the customer follows the parcel (migration 0023).
    pub tracking_url: Option<String>,
    /// (our SKU, units).
    pub lines: Vec<(String, i64)>,
    pub created_at: i64,
}

const SHIPMENT_COLUMNS: &str = "id, order_id, location, carrier, tracking, lines, created_at, tracking_url";

/// One shipment, by id.
pub async fn shipment(tx: &mut Tx, shipment_id: &str) -> Result<Option<ShipmentRecord>, StoreError> {
    let sql = format!("SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE id = $1");
    tx.query_opt(&sql, args![shipment_id]).await?.as_ref().map(shipment_from_row).transpose()
}

/// An order's shipments (handovers at a counter included), oldest first.
pub async fn shipments_of(tx: &mut Tx, order_id: &str) -> Result<Vec<ShipmentRecord>, StoreError> {
    let sql = format!("SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE order_id = $1 ORDER BY created_at, id");
    tx.query(&sql, args![order_id]).await?.iter().map(shipment_from_row).collect()
}

/// Reads a row of [`SHIPMENT_COLUMNS`].
fn shipment_from_row(r: &Row) -> Result<ShipmentRecord, StoreError> {
    let id = r.string(0)?;
    let raw: serde_json::Value =
        serde_json::from_str(&r.string(5)?).map_err(|e| StoreError::corrupt(format!("lines of shipment {id}: {e}")))?;
    let mut lines = Vec::new();
    for l in raw.as_array().into_iter().flatten() {
        match (l["sku"].as_str(), l["quantity"].as_i64()) {
            (Some(sku), Some(q)) => lines.push((sku.to_owned(), q)),
            _ => return Err(StoreError::corrupt(format!("a line of shipment {id}: {l}"))),
        }
    }
    Ok(ShipmentRecord {
        order_id: r.string(1)?,
        location: r.string(2)?,
        carrier: r.opt_string(3)?,
        tracking: r.opt_string(4)?,
        tracking_url: r.opt_string(7)?,
        lines,
        created_at: r.i64(6)?,
        id,
    })
}

/// Orders in `status` whose hold lapsed at or before `now_ms`, soonest first.
pub async fn expired_holds(
    tx: &mut Tx,
    status: OrderStatus,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    tx.query(
        "SELECT id FROM orders WHERE status = $1 AND reservation_expires_at <= $2 \
         ORDER BY reservation_expires_at, id LIMIT $3",
        args![status.as_str(), now_ms, limit],
    )
    .await?
    .iter()
    .map(|r| r.string(0))
    .collect()
}

/// Orders whose auto-cancel time has come, soonest first.
pub async fn auto_cancel_due(tx: &mut Tx, now_ms: i64, limit: i64) -> Result<Vec<String>, StoreError> {
    tx.query(
        "SELECT id FROM orders WHERE auto_cancel_at <= $1 ORDER BY auto_cancel_at, id LIMIT $2",
        args![now_ms, limit],
    )
    .await?
    .iter()
    .map(|r| r.string(0))
    .collect()
}

/// (order_id, line_no, units) holding a position, newest order first (by
/// the injected time the order was taken, then its id).
pub async fn holders_newest_first(
    tx: &mut Tx,
    sku: &str,
    location: &str,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    tx.query(
        "SELECT r.order_id, r.line_no, r.held FROM reservations r JOIN orders o ON o.id = r.order_id \
         WHERE r.sku = $1 AND r.location = $2 AND r.held > 0 \
         ORDER BY o.created_at DESC, r.order_id DESC, r.line_no DESC",
        args![sku, location],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.i64(1)?, r.i64(2)?)))
    .collect()
}

/// Replaces the order's ship-to address.
pub async fn set_ship_to(tx: &mut Tx, order_id: &str, ship_to_json: &str, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE orders SET ship_to = $1, updated_at = $2 WHERE id = $3", args![ship_to_json, now_ms, order_id])
        .await?;
    Ok(())
}

/// What the order was first received with: currency, the payment state the
/// first delivery said (unknown for orders taken before it was kept) and
/// its lines.
pub async fn received(tx: &mut Tx, id: &str) -> Result<Received, StoreError> {
    let r = tx.query_one("SELECT currency, received_payment FROM orders WHERE id = $1", args![id]).await?;
    let currency = Currency::parse(&r.string(0)?).map_err(StoreError::corrupt)?;
    let payment = match r.opt_string(1)? {
        None => None,
        Some(p) => Some(PaymentState::parse(&p).ok_or_else(|| StoreError::corrupt(format!("payment {p:?}")))?),
    };
    let lines = tx
        .query("SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no", args![id])
        .await?
        .iter()
        .map(|r| Ok((Sku::parse(&r.string(0)?).map_err(StoreError::corrupt)?, r.i64(1)?, r.i64(2)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Received { currency, payment, lines })
}
