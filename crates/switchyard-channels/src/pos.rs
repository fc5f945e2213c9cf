//! Point of sale and local pickup: Switchyard's own JSON, for a till or a
//! store's tablet.
//!
//! ```json
//! {"location": "FLAGSHIP", "receipt_id": "R-1001", "currency": "USD",
//!  "mode": "sale", "paid": true, "email": "ana@example.com",
//!  "lines": [{"sku": "TEE-M", "quantity": 1, "unit_price": 2800}],
//!  "customer": {"name": "Ana", "line1": "1 Oak St", "city": "Portland", "region": "OR",
//!               "postal_code": "97205", "country": "US"}}
//! ```
//!
//! | `mode` | canonical |
//! |---|---|
//! | `sale` (handed over at the counter) | `completed`, picked up at `location` |
//! | `pickup` (to collect later) | `accepted` (or `pending_payment` when not `paid`), pickup at `location` |
//! | `ship` (sent from the store's stock or elsewhere) | `accepted` / `pending_payment`, `customer` is the address |
//!
//! Prices are integer minor units, as everywhere in Switchyard's own API.
//!
//! The customer's e-mail, for a receipt by mail, is the optional `email`. An address the core would refuse is
//! left out (the order is kept, without mail).

use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::json::{self, At};
use crate::{Adapter, ChannelLine, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct Pos;

impl Adapter for Pos {
    fn kind(&self) -> Kind {
        Kind::Pos
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let v = json::parse(Kind::Pos, payload)?;
        Ok(vec![sale(&At::root(Kind::Pos, &v))?])
    }
}

fn sale(o: &At) -> Result<ChannelOrder, ParseError> {
    let fields = o.object()?;
    const KNOWN: [&str; 9] =
        ["location", "receipt_id", "currency", "mode", "paid", "lines", "customer", "service_level", "email"];
    if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(o.get(unknown).err("is not a field of a POS sale"));
    }
    let location = o.get("location").str()?.trim().to_owned();
    let external_id = o.get("receipt_id").id()?;
    let currency = Currency::parse(o.get("currency").str()?).map_err(|e| o.get("currency").err(e.to_string()))?;
    let paid = match o.get("paid").value() {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => *b,
        _ => return Err(o.get("paid").err("expected true or false")),
    };
    let mode = o.get("mode").opt_str()?.unwrap_or("sale");
    let mut lines = Vec::new();
    for item in o.get("lines").array()? {
        let quantity = item.get("quantity").int()?;
        if quantity < 1 {
            return Err(item.get("quantity").err(format!("must be at least 1 (got {quantity})")));
        }
        let unit_price = item.get("unit_price").int()?;
        if unit_price < 0 {
            return Err(item.get("unit_price").err("must not be negative"));
        }
        lines.push(ChannelLine { sku: item.get("sku").str()?.trim().to_owned(), quantity, unit_price, discount: 0 });
    }
    if lines.is_empty() {
        return Err(o.get("lines").err("has no lines"));
    }
    let customer = o.get("customer");
    let (status, service_level, pickup_location) = match mode {
        "sale" => (OrderStatus::Completed, "pickup", Some(location)),
        "pickup" => (if paid { OrderStatus::Accepted } else { OrderStatus::PendingPayment }, "pickup", Some(location)),
        "ship" => {
            if customer.is_null() {
                return Err(customer.err("is needed to ship (name and address)"));
            }
            let level = o.get("service_level").opt_str()?.unwrap_or("standard");
            (if paid { OrderStatus::Accepted } else { OrderStatus::PendingPayment }, level, None)
        }
        other => return Err(o.get("mode").err(format!("{other:?} is not sale, pickup or ship"))),
    };
    let ship_to = if customer.is_null() {
        ShipTo { name: "Walk-in customer".into(), ..ShipTo::default() }
    } else {
        customer.object()?;
        let text = |k: &str| -> Result<String, ParseError> { Ok(customer.get(k).text()?.trim().to_owned()) };
        ShipTo {
            name: text("name")?,
            line1: text("line1")?,
            city: text("city")?,
            region: text("region")?,
            postal_code: text("postal_code")?,
            country: text("country")?,
            lat: None,
            lon: None,
        }
    };
    Ok(ChannelOrder {
        channel: "pos".into(),
        external_id,
        currency: currency.as_str().to_owned(),
        lines,
        ship_to,
        service_level: Some(service_level.to_owned()),
        pickup_location,
        payment: if paid { "paid" } else { "pending" }.into(),
        status,
        fulfilled_by: FulfilledBy::Merchant,
        shipping: 0,
        email: o.get("email").email(),
    })
}
