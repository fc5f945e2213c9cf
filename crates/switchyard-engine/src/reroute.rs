//! Moving stock that orders hold: re-routing an order on demand, a store
//! rejecting an allocation (it cannot find the item), and counts and
//! adjustments of a position — a count below what is reserved takes units
//! back from the newest orders and routes them again.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_core::lifecycle::{self, Reroute, Routed};
use switchyard_core::{ImportRow, LedgerKind, LocationCode, OrderStatus, Position, Sku};
use switchyard_store::{catalog, orders, stock, ImportSummary, Tx};

use crate::allocate::{allocate_and_reserve, Facts, Mode};
use crate::{exceptions, Ctx, Error};

/// What a release gave back: units, and (sku, location, units) per key.
pub(crate) struct Released {
    pub units: i64,
    pub keys: Vec<(String, String, i64)>,
}

/// Releases what an order holds — at one (line, location), or everything —
/// and makes those line units unfilled again.
pub(crate) async fn release_scope(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    status: OrderStatus,
    scope: Option<(i64, &LocationCode)>,
    now_ms: i64,
) -> Result<Released, Error> {
    if !status.is_open() || status == OrderStatus::ReadyForPickup {
        return Err(Error::Conflict(format!("a {} order cannot be re-routed", status.as_str())));
    }
    let mut held = orders::held(tx, id).await?;
    if let Some((line, loc)) = scope {
        held.retain(|h| h.line_no == line && h.location == loc.as_str());
        if held.is_empty() {
            return Err(Error::Conflict(format!("line {line} holds nothing at {loc}")));
        }
    }
    let mut out = Released { units: 0, keys: vec![] };
    for h in &held {
        let pos = stock::lock_existing(tx, &h.sku, &h.location).await?;
        let d = pos.release(h.units)?;
        stock::apply_delta(tx, &h.sku, &h.location, &d, "re-route", Some(id), now_ms).await?;
        orders::reduce_reservation(tx, id, h, h.units).await?;
        out.units += h.units;
        out.keys.push((h.sku.clone(), h.location.clone(), h.units));
    }
    for a in orders::open_allocations(tx, id).await? {
        if scope.is_some_and(|(l, loc)| l != a.line_no || loc.as_str() != a.location) {
            continue;
        }
        orders::release_allocation(tx, id, a.line_no, a.seq, a.units).await?;
        orders::add_unfilled(tx, id, a.line_no, a.units).await?;
    }
    crate::dropship::released(tx, ctx, id, &held, now_ms).await?;
    crate::outbox::atp_changed(tx, ctx, held.iter().map(|h| h.sku.as_str()), now_ms).await?;
    Ok(out)
}

/// Locks, in (sku, location) order, every position the orders' lines (and
/// `extra` SKUs) could draw on — right after their order rows and before
/// anything is released, so no lock is taken out of order later (a
/// PostgreSQL deadlock with order intake otherwise).
async fn lock_positions_of(tx: &mut Tx, order_ids: &[String], extra: &[&str]) -> Result<(), Error> {
    let mut skus: BTreeSet<String> = orders::line_skus(tx, order_ids).await?.into_iter().collect();
    skus.extend(extra.iter().map(|s| (*s).to_owned()));
    let listed: Vec<&str> = skus.iter().map(String::as_str).collect();
    let facts = catalog::sku_facts(tx, &listed).await?;
    let bundle_skus: Vec<&str> =
        listed.iter().copied().filter(|s| facts.get(*s).is_some_and(|f| f.is_bundle)).collect();
    let mut units: BTreeSet<String> = listed.iter().map(|s| (*s).to_owned()).collect();
    for c in catalog::components_of(tx, &bundle_skus).await? {
        units.insert(c.component.to_string());
    }
    let units: Vec<&str> = units.iter().map(String::as_str).collect();
    stock::positions_of(tx, &units, true).await?;
    Ok(())
}

/// Why units are being routed again, for the timeline.
pub(crate) struct Why<'a> {
    pub actor: &'a str,
    pub what: &'a str,
    pub reason: &'a str,
    pub released_units: i64,
}

/// Routes a locked order's unfilled units with the active policy and
/// settles its exceptions and status.
pub(crate) async fn route_unfilled(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    order: &orders::LockedOrder,
    avoid: Vec<(Sku, LocationCode)>,
    why: &Why<'_>,
    now_ms: i64,
) -> Result<(), Error> {
    let wants = crate::orders::unfilled_wants(tx, id).await?;
    let routed = if wants.is_empty() {
        Routed::default()
    } else {
        let of = orders::facts(tx, id).await?;
        let facts = Facts::of_order(&of, order, avoid);
        allocate_and_reserve(tx, ctx, id, &wants, &facts, Mode::Policy, now_ms).await?
    };
    let open = exceptions::open_kinds(tx, id).await?;
    let r = Reroute {
        status: order.status,
        payment: order.payment,
        open: &open,
        unfilled: orders::unfilled_units(tx, id).await?,
        released_units: why.released_units,
        actor: why.actor,
        what: why.what,
        reason: why.reason,
    };
    let fx = lifecycle::on_rerouted(&r, &routed)?;
    for (kind, resolution, note) in &fx.close {
        exceptions::close(tx, id, Some(*kind), resolution, why.actor, note, now_ms).await?;
    }
    for (kind, message) in &fx.open {
        exceptions::open(tx, ctx, id, *kind, message, now_ms).await?;
    }
    orders::events(tx, id, now_ms, &fx.events).await?;
    if let Some(next) = fx.status {
        orders::set_status(tx, id, next, now_ms).await?;
        crate::notify::status_changed(tx, id, order.status, next, now_ms).await?;
    }
    Ok(())
}

/// Re-routes an order's unshipped units; with `reject = (line, location)`
/// a store could not find that line's item: its units there are released,
/// the count there is corrected down (never below other orders'
/// reservations) and the item is not taken from there again.
pub(crate) async fn reroute(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    reject: Option<(i64, &LocationCode)>,
    actor: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| Error::NotFound { what: "order", key: id.to_owned() })?;
    if let Some((line, _)) = reject {
        if !orders::has_line(tx, id, line).await? {
            return Err(Error::NotFound { what: "order line", key: format!("{id}/{line}") });
        }
    }
    lock_positions_of(tx, &[id.to_owned()], &[]).await?;
    let released = release_scope(tx, ctx, id, order.status, reject, now_ms).await?;
    if let Some((_, loc)) = reject {
        // A short pick that left nothing here: the order's step here ends.
        switchyard_store::fulfilment::clear_if_done(tx, id, loc.as_str()).await?;
    }
    let mut avoid = Vec::new();
    if reject.is_some() {
        for (sku, location, units) in &released.keys {
            let pos = stock::lock_existing(tx, sku, location).await?;
            let missing = (*units).min(pos.on_hand - pos.reserved);
            if missing > 0 {
                let d = pos.adjust(-missing)?;
                let why = format!("not found at {location} for order {id}: {reason}");
                stock::apply_delta(tx, sku, location, &d, &why, Some(id), now_ms).await?;
            }
            if let (Ok(s), Ok(l)) = (Sku::parse(sku), LocationCode::parse(location)) {
                avoid.push((s, l));
            }
        }
    }
    let what = match reject {
        Some((line, loc)) => format!("{loc} could not find line {line}'s item"),
        None => "re-route requested".to_owned(),
    };
    let why = Why { actor, what: &what, reason, released_units: released.units };
    route_unfilled(tx, ctx, id, &order, avoid, &why, now_ms).await
}

/// Checks that a position can hold stock: the SKU exists and is not a
/// bundle, and the location exists.
async fn check_stock_key(tx: &mut Tx, sku: &Sku, location: &LocationCode) -> Result<(), Error> {
    match catalog::sku_is_bundle(tx, sku).await? {
        None => return Err(Error::UnknownSku(sku.to_string())),
        Some(true) => {
            return Err(Error::Conflict(format!("{sku} is a bundle: it has no stock of its own; count its components")))
        }
        Some(false) => {}
    }
    if !catalog::location_exists(tx, location).await? {
        return Err(Error::UnknownLocation(location.to_string()));
    }
    Ok(())
}

/// Checks the key, creates the position if it is the first count there,
/// and locks it.
async fn lock_for_change(tx: &mut Tx, sku: &Sku, location: &LocationCode, now_ms: i64) -> Result<Position, Error> {
    check_stock_key(tx, sku, location).await?;
    stock::ensure_position(tx, sku.as_str(), location.as_str(), now_ms).await?;
    Ok(stock::lock_existing(tx, sku.as_str(), location.as_str()).await?)
}

/// Sets on_hand (and optionally safety stock) of a position that may
/// already be locked.
async fn set_position(
    tx: &mut Tx,
    sku: &Sku,
    location: &LocationCode,
    on_hand: i64,
    safety_stock: Option<i64>,
    reason: &str,
    now_ms: i64,
) -> Result<Position, Error> {
    let mut pos = lock_for_change(tx, sku, location, now_ms).await?;
    let count = pos.count(on_hand)?;
    let safety = safety_stock.map(|s| pos.set_safety_stock(s)).transpose()?;
    for d in [Some(count), safety].into_iter().flatten() {
        if d.on_hand != 0 || d.safety_stock != 0 || d.kind == LedgerKind::CycleCount {
            stock::apply_delta(tx, sku.as_str(), location.as_str(), &d, reason, None, now_ms).await?;
            pos = pos.apply(&d);
        }
    }
    Ok(pos)
}

/// A cycle count. Below what open orders hold, it takes units back from
/// the newest of them, which are then routed again. Their order rows are
/// locked first (orders before stock, as everywhere).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn count(
    tx: &mut Tx,
    ctx: &Ctx,
    sku: &Sku,
    location: &LocationCode,
    on_hand: i64,
    safety_stock: Option<i64>,
    reason: &str,
    now_ms: i64,
) -> Result<Position, Error> {
    let mut locked = BTreeMap::new();
    // Round 1 reads what is reserved without a lock, locks the newest
    // holders' order rows and then (in key order) every position they and
    // the count touch. A later round runs only if orders reserved more in
    // between: the position is locked by then, so that reading is final.
    // A first reading that needs nothing taken back is not final either:
    // the SKU's positions are locked and it is read again (issue 7: an order
    // reserving in between made the count answer 409 `below_reserved`).
    let mut position_locked = false;
    for _round in 0..4 {
        let reserved = stock::reserved_now(tx, sku.as_str(), location.as_str()).await?.unwrap_or(0);
        let excess = reserved - on_hand.max(0);
        if on_hand < 0 || (excess <= 0 && position_locked) {
            break;
        }
        if excess <= 0 {
            lock_positions_of(tx, &[], &[sku.as_str()]).await?;
            position_locked = true;
            continue;
        }
        let mut bumped: Vec<(String, i64)> = Vec::new();
        let mut freed = 0;
        for (order_id, line_no, held) in orders::holders_newest_first(tx, sku.as_str(), location.as_str()).await? {
            if freed >= excess {
                break;
            }
            freed += held;
            bumped.push((order_id, line_no));
        }
        let mut ids: Vec<String> = bumped.iter().map(|(o, _)| o.clone()).filter(|o| !locked.contains_key(o)).collect();
        ids.sort();
        ids.dedup();
        for o in &ids {
            if let Some(order) = orders::lock(tx, o).await? {
                locked.insert(o.clone(), order);
            }
        }
        lock_positions_of(tx, &ids, &[sku.as_str()]).await?;
        position_locked = true;
        for (order_id, line_no) in &bumped {
            // The holders were read before their rows were locked: another
            // count may have taken this line's units back meanwhile. Then
            // there is nothing to release here; the next round reads again.
            let still_holds = orders::held(tx, order_id)
                .await?
                .iter()
                .any(|h| h.line_no == *line_no && h.location == location.as_str());
            if !still_holds {
                continue;
            }
            let status = locked.get(order_id).map_or(OrderStatus::Cancelled, |o| o.status);
            release_scope(tx, ctx, order_id, status, Some((*line_no, location)), now_ms).await?;
        }
    }
    let pos = set_position(tx, sku, location, on_hand, safety_stock, reason, now_ms).await?;
    let what = format!("a count of {sku} at {location} found {on_hand}");
    for (o, order) in &locked {
        let why = Why { actor: "system", what: &what, reason, released_units: 0 };
        route_unfilled(tx, ctx, o, order, vec![], &why, now_ms).await?;
    }
    crate::outbox::atp_changed(tx, ctx, [sku.as_str()], now_ms).await?;
    Ok(pos)
}

/// A signed correction of on_hand.
pub(crate) async fn adjust(
    tx: &mut Tx,
    ctx: &Ctx,
    sku: &Sku,
    location: &LocationCode,
    delta: i64,
    reason: &str,
    now_ms: i64,
) -> Result<Position, Error> {
    let pos = lock_for_change(tx, sku, location, now_ms).await?;
    let d = pos.adjust(delta)?;
    stock::apply_delta(tx, sku.as_str(), location.as_str(), &d, reason, None, now_ms).await?;
    crate::outbox::atp_changed(tx, ctx, [sku.as_str()], now_ms).await?;
    Ok(pos.apply(&d))
}

/// SKUs and counts from a file, all in one transaction: a bad row changes
/// nothing and is reported with its index. Rows are applied in (sku,
/// location) order, the order every transaction locks positions in.
pub(crate) async fn import(tx: &mut Tx, ctx: &Ctx, rows: &[ImportRow], now_ms: i64) -> Result<ImportSummary, Error> {
    let mut summary = ImportSummary::default();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| (&rows[*a].sku, &rows[*a].location).cmp(&(&rows[*b].sku, &rows[*b].location)));
    for i in order {
        let row = &rows[i];
        let created = catalog::insert_sku_if_missing(tx, &row.sku, &row.title, now_ms)
            .await
            .map_err(|e| Error::from(e).at_row(i))?;
        summary.skus_created += usize::from(created);
        set_position(tx, &row.sku, &row.location, row.on_hand, row.safety_stock, "import", now_ms)
            .await
            .map_err(|e| e.at_row(i))?;
        summary.positions_set += 1;
    }
    crate::outbox::atp_changed(tx, ctx, rows.iter().map(|r| r.sku.as_str()), now_ms).await?;
    Ok(summary)
}
