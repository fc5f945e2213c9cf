//! The order use cases: take, pay, ship, cancel, and the sweeper's expiry
//! of unpaid holds and auto-cancel of orders held too long. Each runs
//! inside one transaction its caller opened: the order row is locked
//! first, then stock rows in (sku, location) order.

use std::collections::BTreeMap;

use switchyard_core::lifecycle::{self, Routed};
use switchyard_core::outbox::Message;
use switchyard_core::repeat::{self, Received};
use switchyard_core::{
    address, ExceptionKind, ExpiredAction, IllegalTransition, NewOrder, NewShipment, OrderStatus, PaymentState,
};
use switchyard_store::{
    catalog, orders, rfc3339, stock, AllocationView, EventView, LineView, OrderView, ShipToView, Tx,
};

use crate::allocate::{allocate_and_reserve, allocate_measured, Facts, LineOutcome, Mode, Want};
use crate::exceptions;
use crate::{Ctx, Error};

/// How a take went: the order's id, and whether it is new (false: the same
/// channel and external id were seen before; no stock was touched).
pub(crate) struct Taken {
    pub id: String,
    pub created: bool,
    /// A repeat whose content differs from the first delivery: how it
    /// differs (recorded on the original order's timeline; the caller
    /// answers with [`Error::IdempotencyConflict`]).
    pub conflict: Option<String>,
    /// The new order as `get_order_brief` would read it back, built from
    /// what the take wrote (no read-back queries); `None` when the take
    /// opened exceptions (their rows carry ids and joins only the store
    /// has): the caller reads the order back then.
    pub view: Option<OrderView>,
}

/// Takes an order: claims (channel, external_id), allocates and reserves,
/// checks the address, opens exceptions, sets the status. With
/// `keep_unknown` (an order from a channel connection), lines whose SKU we
/// do not know keep the order: it is held, unrouted, with an `unknown_sku`
/// exception until the channel's SKUs are mapped; otherwise such an order
/// is refused.
pub(crate) async fn take(
    tx: &mut Tx,
    ctx: &Ctx,
    o: &NewOrder,
    keep_unknown: bool,
    now_ms: i64,
) -> Result<Taken, Error> {
    let id = ctx.ids.next(now_ms);
    // Claim first: a duplicate stops here, before it touches any stock row.
    if !orders::claim(tx, &id, o, OrderStatus::Accepted, now_ms).await? {
        let existing = switchyard_store::views::find_order_id(tx, o.channel.as_str(), o.external_id.as_str())
            .await?
            .ok_or_else(|| Error::NotFound { what: "order", key: format!("{}/{}", o.channel, o.external_id) })?;
        let differences = repeat::differences(&orders::received(tx, &existing).await?, &Received::of(o));
        let conflict = if differences.is_empty() {
            None
        } else {
            let message = format!(
                "{}/{} was received before with different content ({}); the original order is kept unchanged",
                o.channel,
                o.external_id,
                differences.join("; ")
            );
            tracing::warn!(order_id = %existing, %message, "idempotency conflict");
            orders::event(tx, &existing, now_ms, "idempotency_conflict", &format!("Repeat refused: {message}")).await?;
            Some(message)
        };
        return Ok(Taken { id: existing, created: false, conflict, view: None });
    }
    // A switched-off channel takes no new orders (a repeat delivery of one
    // it took before was answered above). Failing here undoes the claim.
    let view = crate::allocate::catalog_view(tx, ctx).await?;
    match view.channel_active(&o.channel) {
        Some(false) => return Err(Error::ChannelInactive(o.channel.to_string())),
        Some(true) => {}
        // An order from a channel nobody configured registers it.
        None => catalog::register_channel(tx, &o.channel, now_ms).await?,
    }
    let wants: Vec<Want> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| Want { line_no: i as i64 + 1, sku: line.sku.clone(), units: line.quantity.as_i64() })
        .collect();
    if keep_unknown {
        let unknown = unknown_skus(tx, o.lines.iter().map(|l| l.sku.as_str())).await?;
        if !unknown.is_empty() {
            for (w, line) in wants.iter().zip(&o.lines) {
                orders::insert_line(tx, &id, w.line_no, &line.sku, w.units, line.unit_price).await?;
            }
            hold_unmapped(tx, ctx, &id, o, &unknown, now_ms).await?;
            crate::notify::taken(tx, &id, OrderStatus::OnHold, now_ms).await?;
            return Ok(Taken { id, created: true, conflict: None, view: None });
        }
    }
    let facts = Facts {
        channel: o.channel.clone(),
        value: switchyard_core::Money::new(o.total_minor, o.currency),
        ship_to: &o.ship_to,
        service_level: o.service_level,
        pickup_location: o.pickup_location.as_ref(),
        avoid: vec![],
        catalog: Some(view),
        paid: o.payment == PaymentState::Paid,
    };
    let (routed, outcomes) = allocate_measured(tx, ctx, &id, &wants, &facts, Mode::Policy, false, now_ms).await?;
    // The lines, written once now that routing is done, with what this first
    // routing met and achieved, for the fill and stockout rates (recorded
    // once, never updated: later re-routes do not change it).
    let lines: Vec<orders::RoutedLine<'_>> = wants
        .iter()
        .zip(&o.lines)
        .zip(&outcomes)
        .map(|((w, line), out)| orders::RoutedLine {
            line_no: w.line_no,
            sku: &line.sku,
            quantity: w.units,
            unit_price: line.unit_price,
            backordered: out.unfilled,
            atp_at_order: out.atp,
        })
        .collect();
    orders::insert_routed_lines(tx, &id, &lines).await?;
    let problems: Vec<String> =
        address::hold_problems(&o.ship_to, o.service_level).iter().map(ToString::to_string).collect();
    let received = format!("Received from {} as {} ({} line(s))", o.channel, o.external_id, o.lines.len());
    let (status, fx) = lifecycle::on_taken(o.payment, received, &routed, &problems);
    let expires = (o.payment == PaymentState::Pending).then(|| now_ms.saturating_add(ctx.config.reservation_ttl_ms));
    orders::settle(tx, &id, status, expires, now_ms).await?;
    exceptions::apply(tx, ctx, &id, &fx, now_ms).await?;
    crate::notify::taken(tx, &id, status, now_ms).await?;
    let view = (fx.open.is_empty() && fx.close.is_empty())
        .then(|| taken_view(&id, o, status, expires, &wants, &outcomes, &fx.events, now_ms));
    Ok(Taken { id, created: true, conflict: None, view })
}

/// A new order as it was just written: the order row, its lines with their
/// allocations (in the order they were written, none shipped or released
/// yet), no exceptions, and its timeline — `fx_events`, all at `now_ms`.
#[allow(clippy::too_many_arguments)]
fn taken_view(
    id: &str,
    o: &NewOrder,
    status: OrderStatus,
    expires: Option<i64>,
    wants: &[Want],
    outcomes: &[LineOutcome],
    fx_events: &[(&str, String)],
    now_ms: i64,
) -> OrderView {
    let at = rfc3339(now_ms);
    let lines = wants
        .iter()
        .zip(&o.lines)
        .zip(outcomes)
        .map(|((w, line), out)| LineView {
            sku: line.sku.to_string(),
            quantity: w.units,
            unit_price: line.unit_price,
            allocations: out
                .allocations
                .iter()
                .map(|(location, n)| AllocationView {
                    location: location.to_string(),
                    quantity: *n,
                    shipped: 0,
                    released: 0,
                })
                .collect(),
            backordered: out.unfilled,
        })
        .collect();
    let events = fx_events.iter().map(|(kind, message)| EventView {
        at: at.clone(),
        kind: (*kind).to_owned(),
        message: message.clone(),
    });
    OrderView {
        id: id.to_owned(),
        channel: o.channel.to_string(),
        external_id: o.external_id.to_string(),
        status: status.as_str().to_owned(),
        currency: o.currency.as_str().to_owned(),
        total: o.total_minor,
        payment: o.payment.as_str().to_owned(),
        service_level: o.service_level.as_str().to_owned(),
        pickup_location: o.pickup_location.as_ref().map(ToString::to_string),
        ship_to: ShipToView::from(o.ship_to.clone()),
        lines,
        exceptions: vec![],
        shipments: None,
        events: Some(events.collect()),
        routing: None,
        reservation_expires_at: expires.map(rfc3339),
        created_at: at.clone(),
        updated_at: at,
    }
}

/// The SKUs among `skus` that are not in our catalogue, in order.
pub(crate) async fn unknown_skus<'a>(
    tx: &mut Tx,
    skus: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, Error> {
    let skus: std::collections::BTreeSet<&str> = skus.into_iter().collect();
    let list: Vec<&str> = skus.iter().copied().collect();
    let known = catalog::sku_facts(tx, &list).await?;
    Ok(list.into_iter().filter(|s| !known.contains_key(*s)).map(str::to_owned).collect())
}

/// Holds a new order whose lines name SKUs we do not know: nothing is
/// routed or reserved until they are mapped.
async fn hold_unmapped(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    o: &NewOrder,
    unknown: &[String],
    now_ms: i64,
) -> Result<(), Error> {
    let received = format!("Received from {} as {} ({} line(s))", o.channel, o.external_id, o.lines.len());
    orders::event(tx, id, now_ms, "received", &received).await?;
    // Nothing allocated when taken; no availability to speak of for SKUs
    // we do not know.
    orders::record_intake_unrouted(tx, id).await?;
    orders::settle(tx, id, OrderStatus::OnHold, None, now_ms).await?;
    // A held stand-in is shown as the channel's own SKU: that is what to map.
    let shown: Vec<String> = unknown
        .iter()
        .map(|s| switchyard_core::channel::channel_sku_of(s).map_or_else(|| s.clone(), |raw| format!("{raw:?}")))
        .collect();
    let message = format!(
        "{} sent SKU(s) we do not know: {}. Map them to ours (the channel's SKU map) and the order is routed.",
        o.channel,
        shown.join(", ")
    );
    exceptions::open(tx, ctx, id, ExceptionKind::UnknownSku, &message, now_ms).await?;
    orders::event(tx, id, now_ms, "status", "Status on_hold").await?;
    Ok(())
}

/// Orders of `channel` held because `channel_sku` was unknown, now that it
/// is mapped to `sku`: their lines take our SKU, and an order whose SKUs
/// are all known is routed (its `unknown_sku` exception resolved by a
/// retry). Returns the orders routed.
pub(crate) async fn resume_mapped(
    tx: &mut Tx,
    ctx: &Ctx,
    channel: &str,
    channel_sku: &str,
    sku: &str,
    now_ms: i64,
) -> Result<Vec<String>, Error> {
    let (kind, open) = (ExceptionKind::UnknownSku.as_str(), switchyard_core::ExceptionStatus::Open.as_str());
    let mut routed = Vec::new();
    for (order_id, exception_id) in orders::held_with_line(tx, channel, channel_sku, kind, open).await? {
        orders::rename_line_sku(tx, &order_id, channel_sku, sku).await?;
        let note = format!("{channel}'s SKU {channel_sku} is mapped to our {sku}");
        orders::event(tx, &order_id, now_ms, "sku_mapped", &note).await?;
        let skus = orders::line_skus(tx, std::slice::from_ref(&order_id)).await?;
        if unknown_skus(tx, skus.iter().map(String::as_str)).await?.is_empty() {
            let r = switchyard_core::Resolution {
                action: switchyard_core::ResolutionAction::Retry,
                actor: "system".into(),
                note: "every SKU is mapped".into(),
                address: None,
                location: None,
            };
            exceptions::resolve(tx, ctx, &exception_id, &r, now_ms).await?;
            routed.push(order_id);
        }
    }
    Ok(routed)
}

/// The order's lines with unfilled units, as allocation wants them.
pub(crate) async fn unfilled_wants(tx: &mut Tx, id: &str) -> Result<Vec<Want>, Error> {
    Ok(orders::unfilled_lines(tx, id)
        .await?
        .into_iter()
        .map(|(line_no, sku, units)| Want { line_no, sku, units })
        .collect())
}

fn not_found(id: &str) -> Error {
    Error::NotFound { what: "order", key: id.to_owned() }
}

/// Marks a pending order paid; an order whose hold lapsed is allocated again.
pub(crate) async fn pay(tx: &mut Tx, ctx: &Ctx, id: &str, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    if order.payment == PaymentState::Paid {
        return Err(Error::Conflict(format!("order {id} is already paid")));
    }
    let mut unfilled = orders::unfilled_units(tx, id).await?;
    let mut again: Option<Routed> = None;
    if order.status == OrderStatus::OnHold && unfilled > 0 {
        // The hold expired and the stock went back: allocate again.
        let wants = unfilled_wants(tx, id).await?;
        let of = orders::facts(tx, id).await?;
        let facts = Facts::of_order(&of, &order, vec![]);
        let routed = allocate_and_reserve(tx, ctx, id, &wants, &facts, Mode::Policy, now_ms).await?;
        unfilled = orders::unfilled_units(tx, id).await?;
        again = Some(routed);
    }
    let open = exceptions::open_kinds(tx, id).await?;
    let fx = lifecycle::on_paid(order.status, &open, unfilled, again.as_ref())?;
    exceptions::apply(tx, ctx, id, &fx, now_ms).await?;
    orders::set_payment(tx, id, PaymentState::Paid).await?;
    orders::set_expiry(tx, id, None).await?;
    // Units placed at a dropship vendor get their purchase order now (a
    // re-allocation above ran as unpaid, so it issued none either).
    crate::dropship::issue_on_payment(tx, ctx, id, now_ms).await?;
    if let Some(next) = fx.status {
        orders::set_status(tx, id, next, now_ms).await?;
        crate::notify::status_changed(tx, id, order.status, next, now_ms).await?;
    }
    Ok(())
}

/// Cancels an order (any open status). `by_channel`: the order's own
/// channel cancelled it, so it is not told back.
pub(crate) async fn cancel(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    reason: &str,
    by_channel: bool,
    now_ms: i64,
) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let why = if reason.is_empty() { String::new() } else { format!(": {reason}") };
    let code = if reason.is_empty() { "cancelled" } else { reason };
    cancel_locked(tx, ctx, id, order.status, &format!("Cancelled{why}"), code, now_ms).await?;
    if !by_channel {
        tell_origin_cancelled(tx, id, code, now_ms).await?;
    }
    Ok(())
}

/// Queues the news of a cancellation made here for the order's channel.
pub(crate) async fn tell_origin_cancelled(tx: &mut Tx, id: &str, reason: &str, now_ms: i64) -> Result<(), Error> {
    let m = Message::CancelAtOrigin { order_id: id.to_owned(), reason: reason.to_owned() };
    switchyard_store::outbox::enqueue(tx, &m, now_ms).await?;
    Ok(())
}

/// Cancels a locked order: releases what it holds, closes its exceptions,
/// notes why on the timeline and queues a notification. Returns the units
/// released.
pub(crate) async fn cancel_locked(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    status: OrderStatus,
    message: &str,
    reason: &str,
    now_ms: i64,
) -> Result<i64, Error> {
    let next = status.transition(OrderStatus::Cancelled)?;
    // Short of stock when cancelled: units waiting for a restock (an open
    // backordered exception). Units unfilled for another reason (a lapsed
    // payment, a hold for a person) are not an oversell.
    let short = if exceptions::open_kinds(tx, id).await?.contains(&ExceptionKind::Backordered) {
        orders::unfilled_units(tx, id).await?
    } else {
        0
    };
    orders::record_cancellation(tx, id, reason, short).await?;
    let released = release_all(tx, ctx, id, "cancel", now_ms).await?;
    orders::set_status(tx, id, next, now_ms).await?;
    orders::set_expiry(tx, id, None).await?;
    orders::set_auto_cancel(tx, id, None).await?;
    exceptions::close(tx, id, None, "cancel", "system", "order cancelled", now_ms).await?;
    orders::event(tx, id, now_ms, "cancelled", &format!("{message}; released {released} unit(s)")).await?;
    let m = Message::OrderCancelled { order_id: id.to_owned(), reason: reason.to_owned() };
    crate::notify::notice(tx, m, now_ms).await?;
    Ok(released)
}

/// Gives back everything an order still holds (its open purchase orders
/// are cancelled); returns the units.
pub(crate) async fn release_all(tx: &mut Tx, ctx: &Ctx, id: &str, reason: &str, now_ms: i64) -> Result<i64, Error> {
    let held = orders::held(tx, id).await?;
    let mut released = 0;
    for h in &held {
        let pos = stock::lock_existing(tx, &h.sku, &h.location).await?;
        let d = pos.release(h.units)?;
        stock::apply_delta(tx, &h.sku, &h.location, &d, reason, Some(id), now_ms).await?;
        orders::reduce_reservation(tx, id, h, h.units).await?;
        released += h.units;
    }
    orders::release_all_allocations(tx, id).await?;
    crate::dropship::released(tx, ctx, id, &held, now_ms).await?;
    crate::outbox::atp_changed(tx, ctx, held.iter().map(|h| h.sku.as_str()), now_ms).await?;
    Ok(released)
}

/// Ships line units from one location: consumes their reservations.
pub(crate) async fn ship(tx: &mut Tx, ctx: &Ctx, id: &str, s: &NewShipment, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    if !order.status.can_ship() {
        return Err(IllegalTransition { from: order.status, to: OrderStatus::Shipped }.into());
    }
    if !catalog::location_exists(tx, &s.location).await? {
        return Err(Error::UnknownLocation(s.location.to_string()));
    }
    let consumed = hand_over(tx, id, s, now_ms).await?;
    switchyard_store::fulfilment::clear_if_done(tx, id, s.location.as_str()).await?;
    let open_units = orders::open_units(tx, id).await?;
    let unfilled = orders::unfilled_units(tx, id).await?;
    let next = lifecycle::after_shipment(order.status, open_units, unfilled)?;
    orders::set_status(tx, id, next, now_ms).await?;
    let shipment_id = record_shipment(tx, ctx, id, s, now_ms).await?;
    crate::notify::notice(tx, Message::OrderShipped { order_id: id.to_owned(), shipment_id }, now_ms).await?;
    let what: Vec<String> = s.lines.iter().map(|(sku, q)| format!("{} × {sku}", q.get())).collect();
    let tracking = match (&s.carrier, &s.tracking) {
        (Some(c), Some(t)) => format!(" via {c} ({t})"),
        (Some(c), None) => format!(" via {c}"),
        (None, Some(t)) => format!(" (tracking {t})"),
        (None, None) => String::new(),
    };
    let message = format!("Shipped {} from {}{tracking}; status {}", what.join(", "), s.location, next.as_str());
    orders::event(tx, id, now_ms, "shipped", &message).await?;
    crate::outbox::atp_changed(tx, ctx, consumed.iter().map(String::as_str), now_ms).await?;
    Ok(())
}

/// Stores a shipment (or a handover at the counter) and queues the news
/// for the order's channel (told when it has an API and is live); returns
/// its id.
pub(crate) async fn record_shipment(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    s: &NewShipment,
    now_ms: i64,
) -> Result<String, Error> {
    let shipment_id = ctx.ids.next(now_ms);
    orders::insert_shipment(tx, &shipment_id, id, s, now_ms).await?;
    let m = Message::Shipped { order_id: id.to_owned(), shipment_id: shipment_id.clone() };
    switchyard_store::outbox::enqueue(tx, &m, now_ms).await?;
    Ok(shipment_id)
}

/// The units of a shipment leave the location: the allocations they came
/// from are marked shipped and their reservations consumed (on-hand and
/// reserved both go down, in the ledger). Returns the SKUs whose stock
/// changed.
pub(crate) async fn hand_over(tx: &mut Tx, id: &str, s: &NewShipment, now_ms: i64) -> Result<Vec<String>, Error> {
    let loc = s.location.as_str();
    let takes = shipment_takes(orders::open_at(tx, id, loc).await?, s)?;
    // The reservations behind those units, consumed in key order.
    let mut consume: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (line_no, seq, take) in &takes {
        for (sku, per_unit) in orders::reservation_parts(tx, id, *line_no, loc).await? {
            *consume.entry((sku, *line_no)).or_default() += take * per_unit;
        }
        orders::ship_allocation(tx, id, *line_no, *seq, *take).await?;
    }
    for ((sku, line_no), units) in &consume {
        let pos = stock::lock_existing(tx, sku, loc).await?;
        let d = pos.ship(*units)?;
        stock::apply_delta(tx, sku, loc, &d, "shipment", Some(id), now_ms).await?;
        let h = orders::Held {
            line_no: *line_no,
            sku: sku.clone(),
            location: loc.to_owned(),
            units: *units,
            for_po: false,
        };
        orders::reduce_reservation(tx, id, &h, *units).await?;
    }
    let mut skus: Vec<String> = consume.into_keys().map(|(sku, _)| sku).collect();
    skus.dedup();
    Ok(skus)
}

/// Matches a shipment's lines to the open allocated units at its location:
/// (line_no, allocation seq, units) per allocation touched.
fn shipment_takes(mut open: Vec<(i64, i64, String, i64)>, s: &NewShipment) -> Result<Vec<(i64, i64, i64)>, Error> {
    let mut takes = Vec::new();
    for (sku, qty) in &s.lines {
        let mut left = qty.as_i64();
        for (line_no, seq, line_sku, units) in open.iter_mut() {
            if line_sku == sku.as_str() && *units > 0 && left > 0 {
                let take = left.min(*units);
                *units -= take;
                left -= take;
                takes.push((*line_no, *seq, take));
            }
        }
        if left > 0 {
            return Err(Error::ExceedsAllocation(format!(
                "cannot ship {} × {sku} from {}: {} more than is allocated there and not yet shipped",
                qty.get(),
                s.location,
                left
            )));
        }
    }
    Ok(takes)
}

/// Releases an unpaid order whose hold lapsed; false when it was paid or
/// cancelled meanwhile (nothing changes).
pub(crate) async fn expire(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    action: ExpiredAction,
    now_ms: i64,
) -> Result<bool, Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    if order.status != OrderStatus::PendingPayment
        || order.payment != PaymentState::Pending
        || order.reservation_expires_at.is_none_or(|e| e > now_ms)
    {
        return Ok(false);
    }
    let next = order.status.transition(action.status())?;
    let released = release_all(tx, ctx, id, "reservation expired", now_ms).await?;
    if action == ExpiredAction::Hold {
        orders::unfill_unshipped(tx, id).await?;
    }
    orders::set_expiry(tx, id, None).await?;
    orders::set_status(tx, id, next, now_ms).await?;
    if action == ExpiredAction::Hold {
        let why = "Payment did not arrive in time; stock released; paying re-allocates";
        exceptions::open(tx, ctx, id, ExceptionKind::PaymentTimeout, why, now_ms).await?;
    } else {
        exceptions::close(tx, id, None, "cancel", "system", "payment timed out; order cancelled", now_ms).await?;
        orders::record_cancellation(tx, id, "payment_timeout", 0).await?;
        let m = Message::OrderCancelled { order_id: id.to_owned(), reason: "payment_timeout".to_owned() };
        crate::notify::notice(tx, m, now_ms).await?;
        tell_origin_cancelled(tx, id, "payment_timeout", now_ms).await?;
    }
    let message = format!("Payment did not arrive in time; released {released} unit(s); status {}", next.as_str());
    orders::event(tx, id, now_ms, "reservation_expired", &message).await?;
    Ok(true)
}

/// The exception kinds that hold an order for a person to decide.
const HOLD_KINDS: [ExceptionKind; 3] =
    [ExceptionKind::Unroutable, ExceptionKind::PickupUnavailable, ExceptionKind::SplitOverLimit];

/// Cancels an order still held when its auto-cancel time came; false when
/// it was settled meanwhile (allocated, approved, cancelled).
pub(crate) async fn auto_cancel(tx: &mut Tx, ctx: &Ctx, id: &str, now_ms: i64) -> Result<bool, Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let unfilled = orders::unfilled_units(tx, id).await?;
    let holding = exceptions::open_kinds(tx, id).await?.iter().any(|k| HOLD_KINDS.contains(k));
    orders::set_auto_cancel(tx, id, None).await?;
    if order.status != OrderStatus::OnHold || unfilled == 0 || !holding {
        return Ok(false);
    }
    let message = "Held past the routing policy's auto-cancel time; cancelled";
    cancel_locked(tx, ctx, id, order.status, message, "auto_cancel", now_ms).await?;
    tell_origin_cancelled(tx, id, "auto_cancel", now_ms).await?;
    Ok(true)
}
