//! Amazon: the Selling Partner API's Orders API v0. An order's lines are not
//! in the order, so the payload pairs the two responses:
//!
//! ```json
//! {"order": <getOrder response, or its payload>,
//!  "items": <getOrderItems response, or its payload>}
//! ```
//!
//! `order` may also be a `getOrders` response (`{"payload": {"Orders": [...]}}`)
//! when `items` is a list of `getOrderItems` responses, at least one per
//! order, matched by `AmazonOrderId`; an order without its items, or items of
//! an order that is not there, refuse the payload. Pages of one order's items
//! are joined in the order given; the last must have no `NextToken`.
//!
//! | Amazon `OrderStatus` | canonical |
//! |---|---|
//! | `Pending` (placed, payment not yet authorised) | `pending_payment` (payment `pending`) |
//! | `PendingAvailability` (a pre-order, not yet authorised) | `pending_payment` (payment `pending`) |
//! | `Unshipped` | `accepted` |
//! | `PartiallyShipped` | `partially_shipped` |
//! | `Shipped`, `InvoiceUnconfirmed` (shipped, invoice not yet confirmed) | `shipped` |
//! | `Canceled`, `Unfulfillable` (a multi-channel order Amazon cannot fill) | `cancelled` |
//!
//! `FulfillmentChannel` `AFN` (Fulfilled by Amazon) is `fulfilled_by:
//! marketplace` — recorded for reporting, never routed or reserved; `MFN` is
//! `merchant`. `ShipmentServiceLevelCategory` `SameDay` is `same_day`;
//! `Expedited`, `NextDay`, `SecondDay` and `Priority` are `expedited`;
//! `Standard`, `FreeEconomy` and `Scheduled` are standard — except a Prime
//! order we ship ourselves (`IsPrime`, `MFN`), which is at least `expedited`.
//!
//! Money is `{CurrencyCode, Amount: "19.99"}`, every amount in the order's
//! currency (`OrderTotal`'s, else the first item's). `ItemPrice` is the
//! line's total for `QuantityOrdered`, so the unit price is total ÷ quantity,
//! split into two lines when not whole (as WooCommerce's are); the line's
//! discount is its `PromotionDiscount`; shipping is the sum of `ShippingPrice
//! − ShippingDiscount`. An item with `QuantityOrdered: 0` (cancelled on its
//! own) is left out; a line without `SellerSKU` is `asin:<ASIN>`.
//!
//! What Amazon leaves out, and what we decide:
//! - A `Pending` order's items carry no prices, so it is refused (at the
//!   item's `ItemPrice`): take it once it is `Unshipped`. Storing it at price
//!   0 would keep that price, since a repeated order is answered with the
//!   order first stored. (An order cancelled while Pending is refused the
//!   same way; it was never taken, so there is nothing to record.)
//! - `ShippingAddress` is left out of Pending orders: it is required for an
//!   `MFN` order unless it is cancelled; an `AFN` or cancelled order without
//!   one gets a blank address. Without a restricted data token Amazon sends
//!   only `City`, `StateOrRegion`, `PostalCode` and `CountryCode`: that is
//!   kept as it is (enough to route; the label needs the rest).
//!
//! The customer's e-mail is `BuyerInfo.BuyerEmail` (Amazon's masked relay address, when the app may see it). An
//! address the core would refuse is left out (the order is kept, without mail).

use switchyard_core::{Currency, OrderStatus, ShipTo};

use crate::json::{self, At};
use crate::{Adapter, ChannelOrder, FulfilledBy, Kind, ParseError};

pub struct Amazon;

impl Adapter for Amazon {
    fn kind(&self) -> Kind {
        Kind::Amazon
    }

    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
        let v = json::parse(Kind::Amazon, payload)?;
        let root = At::root(Kind::Amazon, &v);
        root.object()?;
        if root.get("order").is_null() {
            if !root.get("payload").is_null() || !root.get("AmazonOrderId").is_null() {
                return Err(root.err(
                    "is an Amazon response on its own: send {\"order\": <getOrder response>, \"items\": \
                     <getOrderItems response>} (an order does not carry its items)",
                ));
            }
            return Err(root.get("order").err("is missing: send {\"order\": …, \"items\": …}"));
        }
        let order_at = payload_of(&root.get("order"))?;
        let orders =
            if order_at.get("Orders").is_null() { vec![order_at.clone()] } else { order_at.get("Orders").array()? };
        if orders.is_empty() {
            return Err(order_at.get("Orders").err("has no orders"));
        }
        let pages = item_pages(&root.get("items"))?;
        let mut used = vec![false; pages.len()];
        let mut matched = Vec::with_capacity(orders.len());
        for o in &orders {
            o.object()?;
            let id = o.get("AmazonOrderId").id()?;
            let mut mine = Vec::new();
            for (i, (page_id, page)) in pages.iter().enumerate() {
                if *page_id == id {
                    used[i] = true;
                    mine.push(page);
                }
            }
            let Some(last) = mine.last() else {
                return Err(o.err(format!(
                    "has no items in \"items\" (getOrders does not list them): add the getOrderItems response for {id}"
                )));
            };
            if !last.get("NextToken").text()?.trim().is_empty() {
                return Err(last.get("NextToken").err("is set: more items are on another page; fetch them all"));
            }
            matched.push((o, id, mine));
        }
        if let Some(((id, page), _)) = pages.iter().zip(&used).find(|(_, used)| !**used) {
            return Err(page.err(format!("holds the items of order {id}, which is not in \"order\"")));
        }
        let mut out = Vec::with_capacity(matched.len());
        for (o, id, mine) in matched {
            let mut items = Vec::new();
            for page in mine {
                items.extend(page.get("OrderItems").array()?);
            }
            out.push(order(o, &id, &items)?);
        }
        Ok(out)
    }
}

/// A response's `payload` (or the payload itself); an error response is
/// refused with Amazon's own words.
fn payload_of<'a>(at: &At<'a>) -> Result<At<'a>, ParseError> {
    at.object()?;
    let errors = at.get("errors");
    if !errors.is_null() {
        let first = errors.array()?.into_iter().next().ok_or_else(|| errors.err("is an empty error list"))?;
        let (code, message) = (first.get("code").text()?, first.get("message").text()?);
        return Err(errors.err(format!("Amazon answered with an error, not an order: {code}: {message}")));
    }
    let payload = at.get("payload");
    if payload.is_null() {
        return Ok(at.clone());
    }
    payload.object()?;
    Ok(payload)
}

/// The `getOrderItems` pages given, each with its `AmazonOrderId`.
fn item_pages<'a>(items: &At<'a>) -> Result<Vec<(String, At<'a>)>, ParseError> {
    if items.is_null() {
        return Err(items.err("is missing: the getOrderItems response of each order"));
    }
    let responses = if items.value().is_array() { items.array()? } else { vec![items.clone()] };
    let mut pages = Vec::with_capacity(responses.len());
    for r in responses {
        let page = payload_of(&r)?;
        pages.push((page.get("AmazonOrderId").id()?, page));
    }
    Ok(pages)
}

fn order(o: &At, id: &str, items: &[At]) -> Result<ChannelOrder, ParseError> {
    let (status, pending) = match o.get("OrderStatus").str()? {
        "Pending" | "PendingAvailability" => (OrderStatus::PendingPayment, true),
        "Unshipped" => (OrderStatus::Accepted, false),
        "PartiallyShipped" => (OrderStatus::PartiallyShipped, false),
        "Shipped" | "InvoiceUnconfirmed" => (OrderStatus::Shipped, false),
        "Canceled" | "Unfulfillable" => (OrderStatus::Cancelled, false),
        other => return Err(o.get("OrderStatus").err(format!("{other:?} is not an Amazon order status"))),
    };
    let fulfilled_by = match o.get("FulfillmentChannel").str()? {
        "AFN" => FulfilledBy::Marketplace,
        "MFN" => FulfilledBy::Merchant,
        other => return Err(o.get("FulfillmentChannel").err(format!("{other:?} is not AFN or MFN"))),
    };
    let currency = order_currency(o, items, pending)?;
    let mut lines = Vec::new();
    let mut shipping = 0i64;
    for item in items {
        item.object()?;
        let quantity = item.get("QuantityOrdered").int()?;
        if quantity < 0 {
            return Err(item.get("QuantityOrdered").err(format!("must not be negative (got {quantity})")));
        }
        if quantity == 0 {
            continue;
        }
        let sku = match item.get("SellerSKU").text()?.trim() {
            "" => format!("asin:{}", item.get("ASIN").id()?),
            sku => sku.to_owned(),
        };
        let total = price(&item.get("ItemPrice"), currency, pending)?;
        let discount = opt_money(&item.get("PromotionDiscount"), currency)?;
        if discount > total {
            return Err(item.get("PromotionDiscount").err("is more than the item's ItemPrice"));
        }
        lines.extend(crate::lines_from_total(sku, quantity, total, discount));
        let charged = opt_money(&item.get("ShippingPrice"), currency)?
            .checked_sub(opt_money(&item.get("ShippingDiscount"), currency)?)
            .filter(|n| *n >= 0)
            .ok_or_else(|| item.get("ShippingDiscount").err("is more than the item's ShippingPrice"))?;
        shipping = shipping.checked_add(charged).ok_or_else(|| item.err("shipping total too large"))?;
    }
    if lines.is_empty() {
        return Err(o.err(format!("has no item with a QuantityOrdered above 0 (order {id})")));
    }
    let mut service = match o.get("ShipmentServiceLevelCategory").opt_str()? {
        None | Some("Standard" | "FreeEconomy" | "Scheduled") => None,
        Some("Expedited" | "NextDay" | "SecondDay" | "Priority") => Some("expedited"),
        Some("SameDay") => Some("same_day"),
        Some(other) => {
            return Err(o
                .get("ShipmentServiceLevelCategory")
                .err(format!("{other:?} is not an Amazon shipment category")))
        }
    };
    if service.is_none() && o.get("IsPrime").flag()? && fulfilled_by == FulfilledBy::Merchant {
        service = Some("expedited");
    }
    let address = o.get("ShippingAddress");
    let ship_to = if !address.is_null() {
        ship_to(&address)?
    } else if fulfilled_by == FulfilledBy::Marketplace || status == OrderStatus::Cancelled {
        ShipTo::default()
    } else {
        return Err(address
            .err("is missing: a merchant-fulfilled order needs one (Amazon leaves it out while an order is Pending)"));
    };
    Ok(ChannelOrder {
        channel: "amazon".into(),
        external_id: id.to_owned(),
        currency: currency.as_str().to_owned(),
        lines,
        ship_to,
        service_level: service.map(str::to_owned),
        pickup_location: None,
        payment: if pending { "pending" } else { "paid" }.into(),
        status,
        fulfilled_by,
        shipping,
        email: o.get("BuyerInfo").get("BuyerEmail").email(),
    })
}

/// `OrderTotal`'s currency; without an `OrderTotal`, the first item's price's.
fn order_currency(o: &At, items: &[At], pending: bool) -> Result<Currency, ParseError> {
    let total = o.get("OrderTotal");
    if !total.is_null() {
        total.object()?;
        return total.get("CurrencyCode").currency();
    }
    let first = items.iter().find(|i| i.get("QuantityOrdered").value().as_i64() != Some(0));
    match first {
        Some(item) if !item.get("ItemPrice").is_null() => item.get("ItemPrice").get("CurrencyCode").currency(),
        Some(item) => Err(missing_price(&item.get("ItemPrice"), pending)),
        None => Err(o.get("OrderTotal").err("is missing, and no item has a price: the currency is unknown")),
    }
}

fn missing_price(at: &At, pending: bool) -> ParseError {
    if pending {
        at.err("is missing: Amazon gives no prices while an order is Pending; take the order once it is Unshipped")
    } else {
        at.err("is missing (an order cancelled before payment has no prices and was never taken)")
    }
}

/// An item's `ItemPrice`, which it must have.
fn price(at: &At, currency: Currency, pending: bool) -> Result<i64, ParseError> {
    if at.is_null() {
        return Err(missing_price(at, pending));
    }
    opt_money(at, currency)
}

/// `{CurrencyCode, Amount}` in the order's currency, in minor units; 0 when
/// absent.
fn opt_money(at: &At, currency: Currency) -> Result<i64, ParseError> {
    if at.is_null() {
        return Ok(0);
    }
    at.object()?;
    let code = at.get("CurrencyCode").str()?;
    if code != currency.as_str() {
        return Err(at.get("CurrencyCode").err(format!("{code} is not the order's currency {currency}")));
    }
    at.get("Amount").decimal(currency.exponent())
}

fn ship_to(a: &At) -> Result<ShipTo, ParseError> {
    a.object()?;
    let mut street = Vec::new();
    for key in ["AddressLine1", "AddressLine2", "AddressLine3"] {
        let line = a.get(key).text()?.trim();
        if !line.is_empty() {
            street.push(line);
        }
    }
    let text = |k: &str| -> Result<String, ParseError> { Ok(a.get(k).text()?.trim().to_owned()) };
    Ok(ShipTo {
        name: text("Name")?,
        line1: street.join(", "),
        city: text("City")?,
        region: text("StateOrRegion")?,
        postal_code: text("PostalCode")?,
        country: text("CountryCode")?,
        lat: None,
        lon: None,
    })
}
