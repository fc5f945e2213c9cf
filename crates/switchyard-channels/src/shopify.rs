//! Shopify: the REST Admin `Order` resource, which is also the body of the
//! `orders/create`, `orders/updated` and `orders/cancelled` webhooks.
//!
//! | Shopify | canonical |
//! |---|---|
//! | `cancelled_at` set | `cancelled` |
//! | `fulfillment_status: "fulfilled"` | `shipped` |
//! | `fulfillment_status: "partial"` | `partially_shipped` |
//! | `financial_status: "pending"` / `"partially_paid"` | `pending_payment` (payment `pending`) |
//! | anything else (`paid`, `authorized`, ...) | `accepted` (payment `paid`) |
//!
//! Money is Shopify's decimal strings (`"19.99"`) in the order's
//! `currency`; a line's discount is the sum of its `discount_allocations`
//! (else `total_discount`); gift-card lines hold no stock and are skipped.
//!
//! The customer's e-mail is `email` (else `contact_email`, else `customer.email`). An address the core would
//! refuse is left out (the order is kept, without mail).

use serde_json::Value;
use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::json::{self, At};
use crate::{Adapter, ChannelLine, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct Shopify;

impl Adapter for Shopify {
    fn kind(&self) -> Kind {
        Kind::Shopify
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let v = json::parse(Kind::Shopify, payload)?;
        let root = At::root(Kind::Shopify, &v);
        if !root.get("orders").is_null() {
            return root.get("orders").array()?.iter().map(order).collect();
        }
        if root.get("order").value().is_object() {
            return Ok(vec![order(&root.get("order"))?]);
        }
        Ok(vec![order(&root)?])
    }
}

fn currency(at: &At) -> Result<Currency, ParseError> {
    let raw = at.str()?;
    Currency::parse(raw).map_err(|e| at.err(e.to_string()))
}

fn order(o: &At) -> Result<ChannelOrder, ParseError> {
    o.object()?;
    let external_id = o.get("id").id()?;
    let currency = currency(&o.get("currency"))?;
    let exp = currency.exponent();
    let mut lines = Vec::new();
    for item in o.get("line_items").array()? {
        if item.get("gift_card").value() == &Value::Bool(true) {
            continue;
        }
        lines.push(line(&item, exp)?);
    }
    if lines.is_empty() {
        return Err(o.get("line_items").err("has no line that holds stock"));
    }
    let financial = o.get("financial_status").text()?;
    let pending = matches!(financial, "pending" | "partially_paid");
    let status = if !o.get("cancelled_at").is_null() {
        OrderStatus::Cancelled
    } else {
        match o.get("fulfillment_status").text()? {
            "fulfilled" => OrderStatus::Shipped,
            "partial" => OrderStatus::PartiallyShipped,
            _ if pending => OrderStatus::PendingPayment,
            _ => OrderStatus::Accepted,
        }
    };
    let mut shipping = 0i64;
    let mut service = None;
    for s in o.get("shipping_lines").opt_array()? {
        shipping = shipping.checked_add(s.get("price").opt_decimal(exp)?).ok_or_else(|| s.err("total too large"))?;
        let words = format!("{} {}", s.get("code").text()?, s.get("title").text()?).to_lowercase();
        service = service.or(crate::service_level_from_words(&words));
    }
    let address =
        if o.get("shipping_address").is_null() { o.get("billing_address") } else { o.get("shipping_address") };
    Ok(ChannelOrder {
        channel: "shopify".into(),
        external_id,
        currency: currency.as_str().to_owned(),
        lines,
        ship_to: ship_to(&address)?,
        service_level: service.map(str::to_owned),
        pickup_location: None,
        payment: if pending { "pending" } else { "paid" }.into(),
        status,
        fulfilled_by: FulfilledBy::Merchant,
        shipping,
        email: [o.get("email"), o.get("contact_email"), o.get("customer").get("email")].iter().find_map(At::email),
    })
}

fn line(item: &At, exp: u32) -> Result<ChannelLine, ParseError> {
    let sku = match item.get("sku").text()?.trim() {
        "" => match item.get("variant_id").is_null() {
            true => return Err(item.err("has neither a sku nor a variant_id")),
            false => format!("variant:{}", item.get("variant_id").id()?),
        },
        sku => sku.to_owned(),
    };
    let quantity = item.get("quantity").int()?;
    if quantity < 1 {
        return Err(item.get("quantity").err(format!("must be at least 1 (got {quantity})")));
    }
    let unit_price = item.get("price").decimal(exp)?;
    let allocations = item.get("discount_allocations").opt_array()?;
    let discount = if allocations.is_empty() {
        item.get("total_discount").opt_decimal(exp)?
    } else {
        let mut sum = 0i64;
        for a in allocations {
            sum = sum.checked_add(a.get("amount").decimal(exp)?).ok_or_else(|| a.err("total too large"))?;
        }
        sum
    };
    Ok(ChannelLine { sku, quantity, unit_price, discount })
}

fn ship_to(a: &At) -> Result<ShipTo, ParseError> {
    if a.is_null() {
        return Err(a.err("is missing (no shipping or billing address)"));
    }
    a.object()?;
    let name = match a.get("name").text()?.trim() {
        "" => format!("{} {}", a.get("first_name").text()?, a.get("last_name").text()?).trim().to_owned(),
        n => n.to_owned(),
    };
    let line2 = a.get("address2").text()?.trim();
    let line1 = a.get("address1").text()?.trim();
    let code_or = |code: &str, name: &str| -> Result<String, ParseError> {
        Ok(match a.get(code).text()?.trim() {
            "" => a.get(name).text()?.trim().to_owned(),
            c => c.to_owned(),
        })
    };
    Ok(ShipTo {
        name,
        line1: if line2.is_empty() { line1.to_owned() } else { format!("{line1}, {line2}") },
        city: a.get("city").text()?.trim().to_owned(),
        region: code_or("province_code", "province")?,
        postal_code: a.get("zip").text()?.trim().to_owned(),
        country: code_or("country_code", "country")?,
        lat: a.get("latitude").value().as_f64(),
        lon: a.get("longitude").value().as_f64(),
    })
}
