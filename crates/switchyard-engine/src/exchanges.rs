//! Exchanges: the replacement order of an `exchange` return, created when
//! the return is authorized (by the policy or a person) in the same
//! transaction, through the normal order-taking use case
//! (`orders::take`: routing, reservation, zero oversell), and what becomes
//! of it as the return moves on. The rules — what the replacement is, and
//! which return status releases or cancels it — are the core's
//! (`switchyard_core::returns::exchange`); this module applies them.
//!
//! The replacement waits unpaid and never lapses (no reservation expiry):
//! its units stay reserved, or backordered with a visible `backordered`
//! exception when stock is short, until the return is settled as
//! `exchanged` (it is then marked paid and goes to the pick lists), or is
//! cancelled with the return before its units arrive.

use switchyard_core::returns::{
    replacement_order, replacement_step, wants_replacement, RefundMethod, ReplacementLine, ReplacementOf,
    ReplacementStep, ReturnStatus,
};
use switchyard_core::{EmailAddress, OrderStatus, PaymentState, Quantity, Sku};
use switchyard_store::returns::{self, LockedReturn};
use switchyard_store::{notifications, orders, Tx};

use crate::{Ctx, Error, StoreError};

/// Who acts for the exchange's own steps.
const SYSTEM: &str = "system";

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::corrupt(what.to_string()))
}

/// Creates the replacement order of a return just authorized as `rma`, when
/// its refund method is an exchange; records it on the return and on both
/// orders' timelines. Returns its id (`None`: not an exchange, or a SKU no
/// longer in the catalogue, noted on the return for a person).
pub(crate) async fn on_authorized(
    tx: &mut Tx,
    ctx: &Ctx,
    return_id: &str,
    order_id: &str,
    rma: &str,
    method: RefundMethod,
    now_ms: i64,
) -> Result<Option<String>, Error> {
    if !wants_replacement(method) {
        return Ok(None);
    }
    let stored = returns::lines(tx, return_id).await?;
    let unknown = crate::orders::unknown_skus(tx, stored.iter().map(|l| l.sku.as_str())).await?;
    if !unknown.is_empty() {
        let message = format!(
            "No replacement order created: {} no longer in the catalogue; create the replacement by hand",
            unknown.join(", ")
        );
        returns::event(tx, return_id, now_ms, "replacement_missing", SYSTEM, &message).await?;
        return Ok(None);
    }
    let origin = orders::lock(tx, order_id)
        .await?
        .ok_or_else(|| corrupt(format!("return {return_id} names no order {order_id}")))?;
    let facts = orders::facts(tx, order_id).await?;
    // An address the customer gave that no longer parses is simply not used.
    let email = notifications::customer_email(tx, order_id).await?.and_then(|a| EmailAddress::parse(&a).ok());
    let mut lines = Vec::with_capacity(stored.len());
    for l in &stored {
        lines.push(ReplacementLine {
            sku: Sku::parse(&l.sku).map_err(corrupt)?,
            quantity: Quantity::new(l.quantity).map_err(corrupt)?,
            unit_price: l.unit_price,
        });
    }
    let of = ReplacementOf {
        rma: rma.to_owned(),
        currency: facts.value.currency(),
        ship_to: facts.ship_to,
        service_level: origin.service_level,
        pickup_location: origin.pickup_location,
        email,
        lines,
    };
    let order = replacement_order(&of)?;
    let taken = crate::orders::take(tx, ctx, &order, false, now_ms).await?;
    if let Some(conflict) = taken.conflict {
        return Err(Error::Conflict(format!("the replacement order of {rma} exists with other content: {conflict}")));
    }
    let id = taken.id;
    // The hold lasts while the return travels: the sweeper never expires it.
    orders::set_expiry(tx, &id, None).await?;
    returns::set_replacement(tx, return_id, &id).await?;
    let what: Vec<String> = stored.iter().map(|l| format!("{} × {}", l.quantity, l.sku)).collect();
    let short = orders::unfilled_units(tx, &id).await?;
    let stock = if short > 0 {
        format!("{short} unit(s) backordered (not enough stock; see its backordered exception)")
    } else {
        "every unit reserved".to_owned()
    };
    let message = format!(
        "Replacement order {id} ({}/{rma}) created: {}; {stock}; held unpaid until the returned units arrive",
        order.channel,
        what.join(", ")
    );
    returns::event(tx, return_id, now_ms, "replacement_created", SYSTEM, &message).await?;
    let origin_note = format!("Return {rma} is an exchange: replacement order {id} created ({stock})");
    orders::event(tx, order_id, now_ms, "exchange_replacement", &origin_note).await?;
    let note = format!(
        "Replacement for return {rma} of order {order_id}: no payment is taken (the returned units pay for it); \
         released for fulfilment when the return is settled as exchanged"
    );
    orders::event(tx, &id, now_ms, "exchange", &note).await?;
    Ok(Some(id))
}

/// Applies the core's [`replacement_step`] for the return's new status `to`
/// to its replacement order, if it has one: releases it for fulfilment
/// (marked paid) or cancels it (its reservation released). Returns what
/// happened, for the return's timeline (`None`: no replacement, or nothing
/// to do).
pub(crate) async fn follow_return(
    tx: &mut Tx,
    ctx: &Ctx,
    r: &LockedReturn,
    to: ReturnStatus,
    now_ms: i64,
) -> Result<Option<String>, Error> {
    let Some(id) = r.replacement_order_id.as_deref() else { return Ok(None) };
    let label = r.rma.as_deref().unwrap_or(&r.id);
    let order = orders::lock(tx, id).await?.ok_or_else(|| corrupt(format!("replacement order {id} is missing")))?;
    let outcome = match replacement_step(to) {
        ReplacementStep::Keep => return Ok(None),
        ReplacementStep::Release if order.payment == PaymentState::Pending && order.status.is_open() => {
            crate::orders::pay(tx, ctx, id, now_ms).await?;
            let now = orders::lock(tx, id).await?.map_or(order.status, |o| o.status);
            let message = format!("Return {label} exchanged: released for fulfilment (status {})", now.as_str());
            orders::event(tx, id, now_ms, "exchange_released", &message).await?;
            format!("replacement order {id} released for fulfilment (status {})", now.as_str())
        }
        ReplacementStep::Cancel if order.status.transition(OrderStatus::Cancelled).is_ok() => {
            let message = format!("Return {label} {to}: the replacement is not needed");
            let released =
                crate::orders::cancel_locked(tx, ctx, id, order.status, &message, "exchange_cancelled", now_ms).await?;
            format!("replacement order {id} cancelled; {released} unit(s) released")
        }
        // Paid or shipped by hand, or cancelled already: a person decides.
        ReplacementStep::Release | ReplacementStep::Cancel => {
            format!(
                "replacement order {id} is {} (payment {}): left as it is",
                order.status.as_str(),
                order.payment.as_str()
            )
        }
    };
    returns::event(tx, &r.id, now_ms, "replacement", SYSTEM, &outcome).await?;
    let note = format!("Return {label}: {outcome}");
    orders::event(tx, &r.order_id, now_ms, "exchange_replacement", &note).await?;
    Ok(Some(outcome))
}
