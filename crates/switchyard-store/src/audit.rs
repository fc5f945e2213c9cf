//! The audit: replays the stock ledger against the positions and checks
//! every position against what orders hold.
//!
//! It only reads, and should run in a snapshot transaction (`Db::snapshot`)
//! so that every check sees the same moment. Each finding is a line of
//! [`AuditReport::drift`]; a clean report has none. [`order_exceptions`]
//! reads what the engine checks against the core's exception invariant.

use std::collections::BTreeMap;

use switchyard_core::{ExceptionKind, ExceptionStatus, OrderStatus, PaymentState};

use crate::db::{placeholders, Tx, Value};
use crate::{args, AuditReport, StoreError};

/// Runs every check and counts what was checked.
pub async fn audit(tx: &mut Tx) -> Result<AuditReport, StoreError> {
    let mut drift = Vec::new();
    let positions_checked = ledger_replay(tx, &mut drift).await?;
    ledger_orphans(tx, &mut drift).await?;
    reserved_vs_held(tx, &mut drift).await?;
    closed_orders_holding(tx, &mut drift).await?;
    holds_vs_allocations(tx, &mut drift).await?;
    let sql = "SELECT CAST((SELECT COUNT(*) FROM reservations) AS BIGINT), \
               CAST((SELECT COUNT(*) FROM stock_ledger) AS BIGINT)";
    let counts = tx.query_one(sql, args![]).await?;
    let reservations = counts.i64(0)?;
    let reservations_checked =
        usize::try_from(reservations).map_err(|_| StoreError::corrupt(format!("{reservations} reservations")))?;
    Ok(AuditReport { positions_checked, reservations_checked, ledger_entries: counts.i64(1)?, drift })
}

/// Every position must be sound and equal the sum of its ledger entries.
/// Returns how many positions were checked.
async fn ledger_replay(tx: &mut Tx, drift: &mut Vec<String>) -> Result<usize, StoreError> {
    let sql = "SELECT s.sku, s.location, s.on_hand, s.reserved, s.safety_stock, \
               CAST(COALESCE(SUM(l.on_hand_delta), 0) AS BIGINT), \
               CAST(COALESCE(SUM(l.reserved_delta), 0) AS BIGINT), \
               CAST(COALESCE(SUM(l.safety_stock_delta), 0) AS BIGINT) \
               FROM stock s LEFT JOIN stock_ledger l ON l.sku = s.sku AND l.location = s.location \
               GROUP BY s.sku, s.location, s.on_hand, s.reserved, s.safety_stock ORDER BY s.sku, s.location";
    let rows = tx.query(sql, args![]).await?;
    for r in &rows {
        let (sku, loc) = (r.string(0)?, r.string(1)?);
        let stored = (r.i64(2)?, r.i64(3)?, r.i64(4)?);
        let replayed = (r.i64(5)?, r.i64(6)?, r.i64(7)?);
        let (on_hand, reserved, safety) = stored;
        if !(0..=on_hand).contains(&reserved) {
            drift.push(format!("{sku}@{loc}: reserved {reserved} outside 0..={on_hand}"));
        }
        if stored != replayed {
            let (l_on_hand, l_reserved, l_safety) = replayed;
            drift.push(format!(
                "{sku}@{loc}: position on_hand={on_hand} reserved={reserved} safety_stock={safety}, \
                 ledger says on_hand={l_on_hand} reserved={l_reserved} safety_stock={l_safety}"
            ));
        }
    }
    Ok(rows.len())
}

/// Ledger entries must belong to a position.
async fn ledger_orphans(tx: &mut Tx, drift: &mut Vec<String>) -> Result<(), StoreError> {
    let sql = "SELECT l.sku, l.location, CAST(COUNT(*) AS BIGINT) FROM stock_ledger l LEFT JOIN stock s \
               ON s.sku = l.sku AND s.location = l.location WHERE s.sku IS NULL \
               GROUP BY l.sku, l.location ORDER BY l.sku, l.location";
    for r in tx.query(sql, args![]).await? {
        drift.push(format!("{}@{}: {} ledger entries but no position", r.string(0)?, r.string(1)?, r.i64(2)?));
    }
    Ok(())
}

/// A position's reserved units must be exactly what reservations hold.
async fn reserved_vs_held(tx: &mut Tx, drift: &mut Vec<String>) -> Result<(), StoreError> {
    let sql = "SELECT s.sku, s.location, s.reserved, CAST(COALESCE(SUM(r.held), 0) AS BIGINT) FROM stock s \
               LEFT JOIN reservations r ON r.sku = s.sku AND r.location = s.location \
               GROUP BY s.sku, s.location, s.reserved ORDER BY s.sku, s.location";
    for r in tx.query(sql, args![]).await? {
        let (reserved, held) = (r.i64(2)?, r.i64(3)?);
        if reserved != held {
            drift.push(format!("{}@{}: reserved {reserved} but open orders hold {held}", r.string(0)?, r.string(1)?));
        }
    }
    Ok(())
}

/// An order that can no longer hold stock (shipped, completed, cancelled:
/// whatever the core says is not open) must hold none.
async fn closed_orders_holding(tx: &mut Tx, drift: &mut Vec<String>) -> Result<(), StoreError> {
    let closed: Vec<Value> =
        OrderStatus::ALL.iter().filter(|s| !s.is_open()).map(|s| Value::from(s.as_str())).collect();
    let sql = format!(
        "SELECT r.order_id, r.sku, r.location, r.held, o.status FROM reservations r \
         JOIN orders o ON o.id = r.order_id WHERE r.held > 0 AND o.status IN ({}) \
         ORDER BY r.order_id, r.sku, r.location",
        placeholders(1, closed.len())
    );
    for r in tx.query(&sql, &closed).await? {
        let (order, sku, loc, held, status) = (r.string(0)?, r.string(1)?, r.string(2)?, r.i64(3)?, r.string(4)?);
        drift.push(format!("order {order} is {status} but still holds {held} × {sku}@{loc}"));
    }
    Ok(())
}

/// A reservation must hold exactly its allocation's open units times the
/// components per unit, and must have an allocation at all.
async fn holds_vs_allocations(tx: &mut Tx, drift: &mut Vec<String>) -> Result<(), StoreError> {
    // `expected` is NULL when the reservation has no allocation.
    // A line may have several allocations at one location (one per routing).
    let sql = "SELECT r.order_id, r.line_no, r.sku, r.location, r.held, r.per_unit * a.open \
               FROM reservations r LEFT JOIN (SELECT order_id, line_no, location, \
               CAST(SUM(quantity - shipped - released) AS BIGINT) AS open FROM allocations \
               GROUP BY order_id, line_no, location) a ON a.order_id = r.order_id \
               AND a.line_no = r.line_no AND a.location = r.location \
               WHERE a.order_id IS NULL OR r.held <> r.per_unit * a.open \
               ORDER BY r.order_id, r.line_no, r.sku, r.location";
    for r in tx.query(sql, args![]).await? {
        let (order, line, sku, loc, held) = (r.string(0)?, r.i64(1)?, r.string(2)?, r.string(3)?, r.i64(4)?);
        drift.push(match r.opt_i64(5)? {
            Some(expected) => format!(
                "order {order} line {line}: holds {held} × {sku}@{loc} but its allocation leaves {expected} open"
            ),
            None => format!("order {order} line {line}: holds {held} × {sku}@{loc} but has no allocation there"),
        });
    }
    Ok(())
}

/// An order's state and the kinds of its open and dismissed exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderExceptions {
    pub order_id: String,
    pub status: OrderStatus,
    pub payment: PaymentState,
    /// Line units not allocated anywhere.
    pub unfilled: i64,
    pub open: Vec<ExceptionKind>,
    pub dismissed: Vec<ExceptionKind>,
}

/// Every order that is `backordered` or `on_hold` or has an open or
/// dismissed exception, with those exceptions' kinds, by order id.
pub async fn order_exceptions(tx: &mut Tx) -> Result<Vec<OrderExceptions>, StoreError> {
    let sql = "SELECT o.id, o.status, o.payment, CAST(COALESCE((SELECT SUM(l.backordered) FROM order_lines l \
               WHERE l.order_id = o.id), 0) AS BIGINT) FROM orders o WHERE o.status IN ($1, $2) \
               OR o.id IN (SELECT e.order_id FROM exceptions e WHERE e.status IN ($3, $4) AND e.order_id IS NOT NULL) \
               ORDER BY o.id";
    let (open, dismissed) = (ExceptionStatus::Open.as_str(), ExceptionStatus::Dismissed.as_str());
    let mut orders = BTreeMap::new();
    let held = (OrderStatus::Backordered.as_str(), OrderStatus::OnHold.as_str());
    for r in tx.query(sql, args![held.0, held.1, open, dismissed]).await? {
        let (id, status, payment) = (r.string(0)?, r.string(1)?, r.string(2)?);
        let o = OrderExceptions {
            order_id: id.clone(),
            status: OrderStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("status {status:?}")))?,
            payment: PaymentState::parse(&payment)
                .ok_or_else(|| StoreError::corrupt(format!("payment {payment:?}")))?,
            unfilled: r.i64(3)?,
            open: vec![],
            dismissed: vec![],
        };
        orders.insert(id, o);
    }
    let sql = "SELECT order_id, kind, status FROM exceptions WHERE status IN ($1, $2) AND order_id IS NOT NULL \
               ORDER BY order_id, created_at";
    for r in tx.query(sql, args![open, dismissed]).await? {
        let (id, kind, status) = (r.string(0)?, r.string(1)?, r.string(2)?);
        let kind = ExceptionKind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("kind {kind:?}")))?;
        let Some(o) = orders.get_mut(&id) else { continue };
        if status == open {
            o.open.push(kind);
        } else {
            o.dismissed.push(kind);
        }
    }
    Ok(orders.into_values().collect())
}
