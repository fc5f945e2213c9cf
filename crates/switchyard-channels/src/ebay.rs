//! eBay: the Sell Fulfillment API order (`getOrder`), or the
//! `{"orders": [...], "total", ...}` page `getOrders` answers (a
//! `{"order": …}` wrapper is accepted too).
//!
//! | eBay | canonical |
//! |---|---|
//! | `cancelStatus.cancelState: CANCELED`, or `orderPaymentStatus: FULLY_REFUNDED` | `cancelled` |
//! | `cancelState: CANCEL_REQUESTED` / `IN_PROGRESS` (the buyer asked to cancel) | `on_hold` |
//! | `orderPaymentStatus: PENDING` / `FAILED` | `pending_payment` (payment `pending`) |
//! | `orderFulfillmentStatus: FULFILLED` | `shipped` |
//! | `orderFulfillmentStatus: IN_PROGRESS` (some lines shipped) | `partially_shipped` |
//! | `orderFulfillmentStatus: NOT_STARTED` | `accepted` |
//!
//! The rows are read top-down: a cancellation wins over payment, payment
//! over fulfilment. `PAID` and `PARTIALLY_REFUNDED` are paid. A failed
//! payment stays `pending_payment`, so the unpaid-order timeout releases it.
//!
//! Money is `{value: "19.99", currency: "USD"}`, converted exactly, every
//! amount in `pricingSummary.total`'s currency (the seller's; the buyer's is
//! in `convertedFrom*`, not read). A line's `lineItemCost` is its total for
//! `quantity`: the unit price is total ÷ quantity, split into two lines when
//! not whole (as WooCommerce's are). Its discount is `lineItemCost −
//! discountedLineItemCost`, else the sum of its `appliedPromotions`.
//! Shipping is `pricingSummary.deliveryCost − deliveryDiscount`. eBay writes
//! some discounts as negative amounts: a discount's sign is ignored. A line
//! without `sku` is `item:<legacyItemId>` (`item:<id>:<legacyVariationId>`
//! for a variation).
//!
//! The first `fulfillmentStartInstructions` entry says how it leaves:
//! `FULFILLED_BY_EBAY` is `fulfilled_by: marketplace` (recorded, never
//! routed); `PREPARE_FOR_PICKUP` is a `pickup` at `pickupStep.merchantLocationKey`;
//! otherwise it ships to `shippingStep.shipTo`, at `expedited` when the
//! `shippingServiceCode` names an express, priority, next-day, ... service
//! (`same_day` for same day).
//!
//! The customer's e-mail is `buyer.buyerRegistrationAddress.email`, else the ship-to's `email` (eBay's relay
//! addresses). An address the core would refuse is left out (the order is kept, without mail).

use serde_json::Value;
use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::json::{self, At};
use crate::{Adapter, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct Ebay;

impl Adapter for Ebay {
    fn kind(&self) -> Kind {
        Kind::Ebay
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let v = json::parse(Kind::Ebay, payload)?;
        let root = At::root(Kind::Ebay, &v);
        root.object()?;
        if !root.get("orders").is_null() {
            return root.get("orders").array()?.iter().map(order).collect();
        }
        if root.get("order").value().is_object() {
            return Ok(vec![order(&root.get("order"))?]);
        }
        Ok(vec![order(&root)?])
    }
}

fn order(o: &At) -> Result<ChannelOrder, ParseError> {
    o.object()?;
    let external_id = o.get("orderId").id()?;
    let cancel = o.get("cancelStatus").get("cancelState");
    let cancelling = match cancel.opt_str()? {
        None | Some("NONE_REQUESTED") => None,
        Some("CANCELED") => Some(OrderStatus::Cancelled),
        Some("CANCEL_REQUESTED" | "IN_PROGRESS") => Some(OrderStatus::OnHold),
        Some(other) => return Err(cancel.err(format!("{other:?} is not an eBay cancel state"))),
    };
    let (refunded, pending) = match o.get("orderPaymentStatus").str()? {
        "PAID" | "PARTIALLY_REFUNDED" => (false, false),
        "PENDING" | "FAILED" => (false, true),
        "FULLY_REFUNDED" => (true, false),
        other => return Err(o.get("orderPaymentStatus").err(format!("{other:?} is not an eBay payment status"))),
    };
    let fulfilment = match o.get("orderFulfillmentStatus").str()? {
        "FULFILLED" => OrderStatus::Shipped,
        "IN_PROGRESS" => OrderStatus::PartiallyShipped,
        "NOT_STARTED" => OrderStatus::Accepted,
        other => {
            return Err(o.get("orderFulfillmentStatus").err(format!("{other:?} is not an eBay fulfillment status")))
        }
    };
    let status = match cancelling {
        _ if refunded => OrderStatus::Cancelled,
        Some(s) => s,
        None if pending => OrderStatus::PendingPayment,
        None => fulfilment,
    };
    let pricing = o.get("pricingSummary");
    let currency = pricing.get("total").get("currency").currency()?;
    let mut lines = Vec::new();
    for item in o.get("lineItems").array()? {
        item.object()?;
        let sku = match item.get("sku").text()?.trim() {
            "" => match item.get("legacyVariationId").is_null() {
                true => format!("item:{}", item.get("legacyItemId").id()?),
                false => format!("item:{}:{}", item.get("legacyItemId").id()?, item.get("legacyVariationId").id()?),
            },
            sku => sku.to_owned(),
        };
        let quantity = item.get("quantity").int()?;
        if quantity < 1 {
            return Err(item.get("quantity").err(format!("must be at least 1 (got {quantity})")));
        }
        let cost = amount(&item.get("lineItemCost"), currency)?;
        let discounted = item.get("discountedLineItemCost");
        let discount = if !discounted.is_null() {
            let after = amount(&discounted, currency)?;
            cost.checked_sub(after).filter(|d| *d >= 0).ok_or_else(|| discounted.err("is more than lineItemCost"))?
        } else {
            let mut sum = 0i64;
            for p in item.get("appliedPromotions").opt_array()? {
                let off = discount_amount(&p.get("discountAmount"), currency)?;
                sum = sum.checked_add(off).ok_or_else(|| p.err("total too large"))?;
            }
            if sum > cost {
                return Err(item.get("appliedPromotions").err("take off more than lineItemCost"));
            }
            sum
        };
        lines.extend(crate::lines_from_total(sku, quantity, cost, discount));
    }
    if lines.is_empty() {
        return Err(o.get("lineItems").err("has no lines"));
    }
    let delivery = opt_amount(&pricing.get("deliveryCost"), currency)?;
    let shipping = delivery
        .checked_sub(discount_amount(&pricing.get("deliveryDiscount"), currency)?)
        .filter(|n| *n >= 0)
        .ok_or_else(|| pricing.get("deliveryDiscount").err("is more than deliveryCost"))?;
    let first = o.get("fulfillmentStartInstructions").opt_array()?.into_iter().next();
    let Some(instruction) = first else {
        return Err(o.get("fulfillmentStartInstructions").err("is missing: where the order goes is unknown"));
    };
    let step = instruction.get("shippingStep");
    let (fulfilled_by, service_level, pickup_location) =
        match instruction.get("fulfillmentInstructionsType").opt_str()? {
            Some("FULFILLED_BY_EBAY") => (FulfilledBy::Marketplace, None, None),
            Some("PREPARE_FOR_PICKUP") => {
                let key = instruction.get("pickupStep").get("merchantLocationKey");
                (FulfilledBy::Merchant, Some("pickup"), Some(key.str()?.trim().to_owned()))
            }
            _ => {
                let code = step.get("shippingServiceCode").text()?;
                (FulfilledBy::Merchant, crate::service_level_from_words(code), None)
            }
        };
    let ship_to = match step.get("shipTo").is_null() {
        false => ship_to(&step.get("shipTo"))?,
        true if fulfilled_by == FulfilledBy::Marketplace || pickup_location.is_some() => ShipTo::default(),
        true => return Err(step.get("shipTo").err("is missing: a shipped order needs an address")),
    };
    Ok(ChannelOrder {
        channel: "ebay".into(),
        external_id,
        currency: currency.as_str().to_owned(),
        lines,
        ship_to,
        service_level: service_level.map(str::to_owned),
        pickup_location,
        payment: if pending { "pending" } else { "paid" }.into(),
        status,
        fulfilled_by,
        shipping,
        email: [o.get("buyer").get("buyerRegistrationAddress").get("email"), step.get("shipTo").get("email")]
            .iter()
            .find_map(At::email),
    })
}

/// `{value, currency}` in the order's currency; the value's text as given.
fn value_text<'a>(at: &At<'a>, currency: Currency) -> Result<(At<'a>, String), ParseError> {
    at.object()?;
    let code = at.get("currency").str()?;
    if code != currency.as_str() {
        return Err(at.get("currency").err(format!("{code} is not the order's currency {currency}")));
    }
    let value = at.get("value");
    let text = match value.value() {
        Value::String(s) => s.trim().to_owned(),
        // Read from the number's exact text, never through a float.
        Value::Number(n) => n.to_string(),
        Value::Null => return Err(value.err("is missing")),
        _ => return Err(value.err("expected an amount like \"19.99\"")),
    };
    Ok((value, text))
}

/// An amount in minor units.
fn amount(at: &At, currency: Currency) -> Result<i64, ParseError> {
    let (value, text) = value_text(at, currency)?;
    crate::decimal_minor(&text, currency.exponent()).map_err(|e| value.err(e))
}

fn opt_amount(at: &At, currency: Currency) -> Result<i64, ParseError> {
    if at.is_null() {
        Ok(0)
    } else {
        amount(at, currency)
    }
}

/// A discount in minor units, whichever sign eBay wrote it with; 0 when
/// absent.
fn discount_amount(at: &At, currency: Currency) -> Result<i64, ParseError> {
    if at.is_null() {
        return Ok(0);
    }
    let (value, text) = value_text(at, currency)?;
    let magnitude = text.strip_prefix('-').unwrap_or(&text);
    crate::decimal_minor(magnitude, currency.exponent()).map_err(|e| value.err(e))
}

fn ship_to(s: &At) -> Result<ShipTo, ParseError> {
    s.object()?;
    let a = s.get("contactAddress");
    a.object()?;
    let text = |k: &str| -> Result<String, ParseError> { Ok(a.get(k).text()?.trim().to_owned()) };
    let (first, second) = (text("addressLine1")?, text("addressLine2")?);
    Ok(ShipTo {
        name: s.get("fullName").text()?.trim().to_owned(),
        line1: if second.is_empty() { first } else { format!("{first}, {second}") },
        city: text("city")?,
        region: text("stateOrProvince")?,
        postal_code: text("postalCode")?,
        country: text("countryCode")?,
        lat: None,
        lon: None,
    })
}
