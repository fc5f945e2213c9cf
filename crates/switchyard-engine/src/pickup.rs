//! Pickup orders at the counter: staff mark an order ready once every unit
//! is set aside at the pickup store (`accepted` → `ready_for_pickup`), and
//! the customer's collection hands the units over (`ready_for_pickup` →
//! `completed`): the reservations are consumed as a shipment would consume
//! them, recorded as a shipment with carrier `pickup`, and the order's
//! channel is told. A counter sale (POS `sale`) is handed over at once.

use std::collections::BTreeMap;

use switchyard_core::fulfilment::PickStep;
use switchyard_core::lifecycle;
use switchyard_core::{IllegalTransition, LocationCode, NewShipment, OrderStatus, Quantity, Sku};
use switchyard_store::{catalog, orders, Tx};

use crate::orders::{hand_over, record_shipment};
use crate::{Ctx, Error};

fn not_found(id: &str) -> Error {
    Error::NotFound { what: "order", key: id.to_owned() }
}

/// Marks an order ready for pickup at `location`: every unit must be
/// allocated there (a person moves stray units first: re-route, override).
pub(crate) async fn ready(tx: &mut Tx, id: &str, location: &LocationCode, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let next = order.status.transition(OrderStatus::ReadyForPickup)?;
    let Some(place) = catalog::get_location(tx, location).await? else {
        return Err(Error::UnknownLocation(location.to_string()));
    };
    if !place.can_pickup {
        return Err(Error::Conflict(format!("location {location} does not hand orders over (can_pickup is off)")));
    }
    let unfilled = orders::unfilled_units(tx, id).await?;
    if unfilled > 0 {
        return Err(Error::Conflict(format!("{unfilled} unit(s) are not allocated yet: the order cannot be ready")));
    }
    let open = orders::open_allocations(tx, id).await?;
    if open.is_empty() {
        return Err(Error::Conflict("nothing is set aside for this order".into()));
    }
    if let Some(stray) = open.iter().find(|a| a.location != location.as_str()) {
        return Err(Error::Conflict(format!(
            "line {} has {} unit(s) at {}, not at {location}: move them there first (re-route or override)",
            stray.line_no, stray.units, stray.location
        )));
    }
    orders::set_status(tx, id, next, now_ms).await?;
    // When it became ready, for the uncollected-pickup rule.
    switchyard_store::fulfilment::set_step(tx, id, location.as_str(), PickStep::ReadyForPickup, now_ms).await?;
    orders::event(tx, id, now_ms, "ready_for_pickup", &format!("Ready for pickup at {location}")).await?;
    let m =
        switchyard_core::outbox::Message::ReadyForPickup { order_id: id.to_owned(), location: location.to_string() };
    crate::notify::notice(tx, m, now_ms).await?;
    Ok(())
}

/// The customer collected the order: everything set aside is handed over
/// and the order is `completed`.
pub(crate) async fn picked_up(tx: &mut Tx, ctx: &Ctx, id: &str, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    if order.status != OrderStatus::ReadyForPickup {
        return Err(IllegalTransition { from: order.status, to: OrderStatus::Completed }.into());
    }
    let next = order.status.transition(OrderStatus::Completed)?;
    let s = everything_open(tx, id, "pickup").await?;
    let consumed = hand_over(tx, id, &s, now_ms).await?;
    orders::set_status(tx, id, next, now_ms).await?;
    record_shipment(tx, ctx, id, &s, now_ms).await?;
    orders::event(tx, id, now_ms, "picked_up", &format!("Picked up at {}; status completed", s.location)).await?;
    crate::exceptions::apply(tx, ctx, id, &lifecycle::on_picked_up(), now_ms).await?;
    crate::outbox::atp_changed(tx, ctx, consumed.iter().map(String::as_str), now_ms).await?;
    Ok(())
}

/// A shipped order the customer already has (a counter sale) is
/// `completed`.
pub(crate) async fn complete_shipped(tx: &mut Tx, id: &str, note: &str, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let next = order.status.transition(OrderStatus::Completed)?;
    orders::set_status(tx, id, next, now_ms).await?;
    orders::event(tx, id, now_ms, "completed", note).await?;
    Ok(())
}

/// Every open unit of the order as one shipment from the one location that
/// holds them all.
async fn everything_open(tx: &mut Tx, id: &str, carrier: &str) -> Result<NewShipment, Error> {
    let open = orders::open_allocations(tx, id).await?;
    let Some(first) = open.first() else {
        return Err(Error::Conflict("nothing is set aside for this order".into()));
    };
    if let Some(stray) = open.iter().find(|a| a.location != first.location) {
        return Err(Error::Conflict(format!(
            "the order's units are at {} and {}: it cannot be handed over at one counter",
            first.location, stray.location
        )));
    }
    let location = LocationCode::parse(&first.location)?;
    let skus: BTreeMap<i64, String> = orders::line_skus_of(tx, id).await?.into_iter().collect();
    let mut lines: BTreeMap<String, i64> = BTreeMap::new();
    for a in &open {
        let sku = skus.get(&a.line_no).ok_or_else(|| Error::Conflict(format!("line {} is missing", a.line_no)))?;
        *lines.entry(sku.clone()).or_default() += a.units;
    }
    let lines = lines
        .into_iter()
        .map(|(sku, units)| Ok((Sku::parse(&sku)?, Quantity::new(units)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(NewShipment { location, lines, carrier: Some(carrier.to_owned()), tracking: None, tracking_url: None })
}
