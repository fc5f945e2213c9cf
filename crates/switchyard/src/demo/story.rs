//! The demo's first minute: the seed's test of a system ("ask to see how it
//! manages an oversell, a partial shipment, and a return that is out of
//! policy"), played through the engine's own use cases as soon as the shop
//! is seeded, so the three are on the dashboard when it opens:
//!
//! 1. An order wants more vintage posters than the whole shop holds. It is
//!    not oversold: what exists is reserved and the rest is held for a
//!    person (or backordered) with the routing's explanation.
//! 2. An order of two items ships one parcel now: `partially_shipped`.
//! 3. A customer asks to return a final-sale print because they changed
//!    their mind: out of policy, waiting for a person's decision as a
//!    `return_out_of_policy` exception (approve or reject, with who and why).

use std::collections::BTreeMap;

use anyhow::{anyhow, Context};
use switchyard_core::returns::{NewReturn, ReturnDraft};
use switchyard_core::{LocationCode, NewShipment, Quantity, Sku};
use switchyard_engine::Engine;
use switchyard_server::{parse_order, CreateOrderBody, OrderLineBody, ShipToBody};
use switchyard_store::OrderView;

use super::FINAL_SALE_SKU;

/// The vintage poster: 5 units in the whole shop, never backordered.
const SCARCE_SKU: &str = "POSTER-VINTAGE";

/// What the three stories left, for the start-up message.
#[derive(Debug)]
pub struct Told {
    /// The order that would have oversold: number, status, units placed,
    /// units wanted.
    pub oversell: (String, String, i64, i64),
    /// The partly shipped order: number and where its first parcel left.
    pub partial: (String, String),
    /// The out-of-policy return: its order's number, the customer's postal
    /// code and the exception waiting for a person.
    pub out_of_policy: (String, String, String),
}

impl Told {
    /// The lines `demo` prints: where to look at each story.
    pub fn render(&self, base: &str) -> String {
        let (number, status, placed, wanted) = &self.oversell;
        let (partial, from) = &self.partial;
        let (returned, postal, exception) = &self.out_of_policy;
        [
            "The seed's test, already on the dashboard:".to_owned(),
            format!(
                "  Oversell prevented:   order {number} wanted {wanted} vintage posters; {placed} were for sale and \
                 are reserved, the other {} are {status}, never oversold (Orders page, its routing explanation)",
                wanted - placed
            ),
            format!("  Partial shipment:     order {partial} shipped one parcel from {from}, the other waits (Orders)"),
            format!(
                "  Out-of-policy return: order {returned} (a final-sale print, \"changed my mind\") waits for a \
                 decision: {base}/exceptions ({exception}) and {base}/returns"
            ),
            format!("  Customers start returns at {base}/return (try order {returned} with postal code {postal})"),
            format!("  Store staff pick and hand over pickups at {base}/store"),
        ]
        .join("\n")
    }
}

fn body(external_id: &str, channel: &str, lines: &[(&str, i64, i64)], payment: &str) -> CreateOrderBody {
    CreateOrderBody {
        channel: channel.into(),
        external_id: external_id.into(),
        currency: "USD".into(),
        lines: lines
            .iter()
            .map(|(sku, quantity, unit_price)| OrderLineBody {
                sku: (*sku).into(),
                quantity: *quantity,
                unit_price: *unit_price,
                currency: None,
            })
            .collect(),
        ship_to: ShipToBody {
            name: "Ana Ruiz".into(),
            line1: "120 Oak St".into(),
            city: "Portland".into(),
            region: "OR".into(),
            postal_code: "97205".into(),
            country: "US".into(),
            lat: Some(45.5202),
            lon: Some(-122.6842),
        },
        service_level: Some("standard".into()),
        pickup_location: None,
        payment: Some(payment.into()),
        email: None,
    }
}

async fn take(engine: &Engine, b: CreateOrderBody) -> anyhow::Result<OrderView> {
    let order = parse_order(b).map_err(|e| anyhow!("a demo order is invalid: {}", e.message))?;
    Ok(engine.create_order(&order).await?.0)
}

/// Ships everything `order` holds, one parcel per location; `carrier`
/// names the carrier and tracking number of a location's parcel.
pub async fn ship_open(
    engine: &Engine,
    order: &OrderView,
    carrier: impl Fn(&str) -> (String, String),
) -> anyhow::Result<()> {
    let mut by_location: BTreeMap<String, Vec<(Sku, Quantity)>> = BTreeMap::new();
    for l in &order.lines {
        for a in &l.allocations {
            let open = a.quantity - a.shipped - a.released;
            if open > 0 {
                by_location.entry(a.location.clone()).or_default().push((Sku::parse(&l.sku)?, Quantity::new(open)?));
            }
        }
    }
    for (loc, lines) in by_location {
        let (name, tracking) = carrier(&loc);
        let shipment = NewShipment {
            location: LocationCode::parse(&loc)?,
            lines,
            carrier: Some(name),
            tracking: Some(tracking),
            tracking_url: None,
        };
        engine.ship(&order.id, &shipment).await?;
    }
    Ok(())
}

/// Plays the three stories on a freshly seeded shop.
pub async fn tell(engine: &Engine) -> anyhow::Result<Told> {
    // 1. More posters than exist: no oversell.
    let o = take(engine, body("SHOPIFY-DEMO-1", "shopify", &[(SCARCE_SKU, 6, 5500)], "paid")).await?;
    let placed: i64 = o.lines.iter().flat_map(|l| l.allocations.iter()).map(|a| a.quantity - a.released).sum();
    let oversell = (o.external_id.clone(), o.status.replace('_', " "), placed, 6);

    // 2. Two items, one parcel now.
    let lines = [("MUG-ENAMEL", 1, 1600), ("BLANKET-WOOL", 1, 14900)];
    let o = take(engine, body("AMAZON-DEMO-2", "amazon", &lines, "paid")).await?;
    // One parcel: the first line's, wherever it was placed.
    let (Some(line), true) = (o.lines.first(), o.lines.iter().all(|l| !l.allocations.is_empty())) else {
        return Err(anyhow!("the partial-shipment order was not placed in full: {}", o.status));
    };
    let a = &line.allocations[0];
    let shipment = NewShipment {
        location: LocationCode::parse(&a.location)?,
        lines: vec![(Sku::parse(&line.sku)?, Quantity::new(a.quantity)?)],
        carrier: Some("USPS".into()),
        tracking: Some("9400DEMO2".into()),
        tracking_url: None,
    };
    engine.ship(&o.id, &shipment).await?;
    let partial = (o.external_id.clone(), a.location.clone());

    // 3. A final-sale print, shipped, and a change of mind.
    let o = take(engine, body("ETSY-DEMO-3", "etsy", &[(FINAL_SALE_SKU, 1, 4500)], "paid")).await?;
    ship_open(engine, &o, |_| ("UPS".to_owned(), "1ZDEMO3".to_owned())).await?;
    let ask = NewReturn::parse(ReturnDraft {
        order_id: o.id.clone(),
        lines: vec![(FINAL_SALE_SKU.to_owned(), 1)],
        reason: "changed my mind".into(),
        condition: Some("unopened".into()),
        note: "Bought it as a gift; they already have one.".into(),
        by: "Ana Ruiz (customer)".into(),
    })
    .map_err(|e| anyhow!("the demo return is invalid: {e}"))?;
    let r = engine.request_return(&ask).await.context("requesting the demo return")?;
    let exception = r.exception_id.clone().ok_or_else(|| anyhow!("the final-sale return did not wait for a person"))?;
    Ok(Told { oversell, partial, out_of_policy: (o.external_id.clone(), "97205".into(), exception) })
}
