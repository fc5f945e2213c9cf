//! WooCommerce: the REST API v3 order, which is also the body of the
//! `order.created` / `order.updated` webhooks (a list of them is accepted).
//!
//! | WooCommerce `status` | canonical |
//! |---|---|
//! | `pending`, `on-hold`, `checkout-draft` | `pending_payment` (payment `pending`) |
//! | `processing` | `accepted` |
//! | `completed` | `completed` |
//! | `cancelled`, `refunded`, `failed`, `trash` | `cancelled` |
//!
//! Money is decimal strings in the order's `currency` (the float `price`
//! field is never read). A line's unit price is its `subtotal` (before
//! coupons) divided by its quantity; when that is not whole in minor units
//! the line becomes two (10.00 for 3: one at 3.34, two at 3.33) so the
//! total is exact. Its discount is `subtotal − total`. `local_pickup` shipping is noted as
//! `pickup` only when the connection names the store (not known here), so
//! it stays `standard`.
//!
//! The customer's e-mail is `billing.email`. An address the core would refuse is left out (the order is kept,
//! without mail).

use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::json::{self, At};
use crate::{Adapter, ChannelLine, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct WooCommerce;

impl Adapter for WooCommerce {
    fn kind(&self) -> Kind {
        Kind::Woocommerce
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let v = json::parse(Kind::Woocommerce, payload)?;
        let root = At::root(Kind::Woocommerce, &v);
        if v.is_array() {
            return root.array()?.iter().map(order).collect();
        }
        Ok(vec![order(&root)?])
    }
}

fn order(o: &At) -> Result<ChannelOrder, ParseError> {
    o.object()?;
    let external_id = o.get("id").id()?;
    let raw_currency = o.get("currency").str()?;
    let currency = Currency::parse(raw_currency).map_err(|e| o.get("currency").err(e.to_string()))?;
    let exp = currency.exponent();
    let (status, pending) = match o.get("status").str()? {
        "pending" | "on-hold" | "checkout-draft" => (OrderStatus::PendingPayment, true),
        "processing" => (OrderStatus::Accepted, false),
        "completed" => (OrderStatus::Completed, false),
        "cancelled" | "refunded" | "failed" | "trash" => (OrderStatus::Cancelled, false),
        other => return Err(o.get("status").err(format!("{other:?} is not a WooCommerce order status"))),
    };
    let mut lines = Vec::new();
    for item in o.get("line_items").array()? {
        lines.extend(line(&item, exp)?);
    }
    if lines.is_empty() {
        return Err(o.get("line_items").err("has no lines"));
    }
    let mut shipping = 0i64;
    for s in o.get("shipping_lines").opt_array()? {
        shipping = shipping.checked_add(s.get("total").opt_decimal(exp)?).ok_or_else(|| s.err("total too large"))?;
    }
    let has_shipping = !o.get("shipping").is_null() && !o.get("shipping").get("address_1").text()?.trim().is_empty();
    let address = if has_shipping { o.get("shipping") } else { o.get("billing") };
    Ok(ChannelOrder {
        channel: "woocommerce".into(),
        external_id,
        currency: currency.as_str().to_owned(),
        lines,
        ship_to: ship_to(&address)?,
        service_level: None,
        pickup_location: None,
        payment: if pending { "pending" } else { "paid" }.into(),
        status,
        fulfilled_by: FulfilledBy::Merchant,
        shipping,
        email: o.get("billing").get("email").email(),
    })
}

/// One WooCommerce line; two when its subtotal does not divide evenly by
/// its quantity (10.00 for 3: one at 3.34 and two at 3.33), so the order's
/// total is kept to the cent.
fn line(item: &At, exp: u32) -> Result<Vec<ChannelLine>, ParseError> {
    let sku = match item.get("sku").text()?.trim() {
        "" => {
            let variation = item.get("variation_id").value().as_i64().unwrap_or(0);
            let id = if variation > 0 { item.get("variation_id").id()? } else { item.get("product_id").id()? };
            format!("product:{id}")
        }
        sku => sku.to_owned(),
    };
    let quantity = item.get("quantity").int()?;
    if quantity < 1 {
        return Err(item.get("quantity").err(format!("must be at least 1 (got {quantity})")));
    }
    let subtotal = item.get("subtotal").decimal(exp)?;
    let total = item.get("total").decimal(exp)?;
    if total > subtotal {
        return Err(item.get("total").err("is more than the line's subtotal"));
    }
    Ok(crate::lines_from_total(sku, quantity, subtotal, subtotal - total))
}

fn ship_to(a: &At) -> Result<ShipTo, ParseError> {
    a.object()?;
    let name = format!("{} {}", a.get("first_name").text()?.trim(), a.get("last_name").text()?.trim());
    let line1 = a.get("address_1").text()?.trim();
    let line2 = a.get("address_2").text()?.trim();
    Ok(ShipTo {
        name: name.trim().to_owned(),
        line1: if line2.is_empty() { line1.to_owned() } else { format!("{line1}, {line2}") },
        city: a.get("city").text()?.trim().to_owned(),
        region: a.get("state").text()?.trim().to_owned(),
        postal_code: a.get("postcode").text()?.trim().to_owned(),
        country: a.get("country").text()?.trim().to_owned(),
        lat: None,
        lon: None,
    })
}
