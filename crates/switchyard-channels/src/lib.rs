//! Sales channels: each platform's own payloads in, Switchyard's canonical
//! order out. Pure: bytes → [`ChannelOrder`] (or a precise [`ParseError`]);
//! no IO, no clock. The HTTP clients, webhooks and pollers that feed these
//! parsers live in the engine and server; what they send out comes from the
//! engine's typed outbox, and [`remote`] builds it in each platform's own API
//! shape — stock levels, shipments, cancellations, order polls, token
//! refreshes as request data — and reads the answers back, just as purely.
//!
//! One module per channel, each with one [`Adapter`]; [`adapter`] is the one
//! registry. Adding a channel: a module with a unit struct implementing
//! [`Adapter`], a [`Kind`] variant, a line in [`adapter`], fixtures under
//! `tests/fixtures/<kind>/` — nothing else changes.
//!
//! | kind | payload |
//! |---|---|
//! | `shopify` | REST Admin `Order` JSON (the orders/create, /updated, /cancelled webhook body; a list) |
//! | `woocommerce` | REST v3 order JSON, as the order.created / order.updated webhooks send it (or an array) |
//! | `amazon` | SP-API Orders v0: `{"order": <getOrder or getOrders response>, "items": <getOrderItems response(s)>}` |
//! | `etsy` | Open API v3 shop receipt JSON (`getShopReceipt`), or `getShopReceipts`' `{"count", "results"}` |
//! | `ebay` | Sell Fulfillment API order JSON (`getOrder`), or `getOrders`' `{"orders": [...], "total"}` |
//! | `pos` | Switchyard's own point-of-sale / pickup JSON |
//! | `wholesale` | a purchase-order CSV, one row per line |

pub mod amazon;
pub mod ebay;
pub mod etsy;
mod json;
mod money;
pub mod pos;
pub mod remote;
pub mod shopify;
pub mod webhook;
pub mod wholesale;
pub mod woocommerce;

use serde::Serialize;
use switchyard_core::intake::{LineDraft, OrderDraft};
use switchyard_core::{OrderStatus, ShipTo};

pub use money::{decimal_minor, scaled_minor};

/// The platforms Switchyard speaks to (the core's `ChannelKind`; `api` is a
/// plain `POST /api/v1/orders` client and has no adapter).
pub use switchyard_core::ChannelKind as Kind;

/// Who ships the order: us (routed and reserved against our stock), or the
/// marketplace from its own warehouse (Amazon FBA: recorded for reporting,
/// never routed or reserved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilledBy {
    Merchant,
    Marketplace,
}

/// An order line as the channel sold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelLine {
    /// The channel's SKU (or `variant:<id>` / `listing:<id>` when the
    /// platform gave none); the connection's SKU map turns it into ours.
    pub sku: String,
    pub quantity: i64,
    /// Minor units, before discounts.
    pub unit_price: i64,
    /// Minor units taken off this line in all (0 when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub discount: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The canonical order a payload becomes: the shape of the
/// `POST /api/v1/orders` body, plus the channel's status (mapped to the
/// canonical vocabulary) and who fulfils it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelOrder {
    pub channel: String,
    pub external_id: String,
    pub currency: String,
    pub lines: Vec<ChannelLine>,
    pub ship_to: ShipTo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup_location: Option<String>,
    /// `paid` or `pending`.
    pub payment: String,
    /// The canonical status the channel's own status maps to.
    pub status: OrderStatus,
    pub fulfilled_by: FulfilledBy,
    /// Minor units charged for shipping (0 when free or unknown).
    #[serde(skip_serializing_if = "is_zero")]
    pub shipping: i64,
    /// The customer's e-mail address, for the notifications; `None` when
    /// the platform gave none the core accepts (see each module's doc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl ChannelOrder {
    /// The draft the core's intake validates (`NewOrder::parse`), for the
    /// connection named `channel`.
    pub fn to_draft(&self, channel: &str) -> OrderDraft {
        OrderDraft {
            channel: channel.to_owned(),
            external_id: self.external_id.clone(),
            currency: self.currency.clone(),
            lines: self
                .lines
                .iter()
                .map(|l| LineDraft {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    currency: None,
                })
                .collect(),
            ship_to: self.ship_to.clone(),
            service_level: self.service_level.clone(),
            pickup_location: self.pickup_location.clone(),
            payment: Some(self.payment.clone()),
            email: self.email.clone(),
        }
    }
}

/// Why a payload was refused: where, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {at}: {problem}")]
pub struct ParseError {
    pub kind: &'static str,
    /// A JSON path (`line_items[2].price`) or `line N` of a CSV.
    pub at: String,
    pub problem: String,
}

impl ParseError {
    pub fn new(kind: Kind, at: impl Into<String>, problem: impl Into<String>) -> Self {
        ParseError { kind: kind.as_str(), at: at.into(), problem: problem.into() }
    }
}

/// One channel's parser.
pub trait Adapter: Sync {
    fn kind(&self) -> Kind;

    /// Turns one payload, as the platform sends or returns it, into the
    /// canonical orders it holds (a webhook holds one; a list or a CSV may
    /// hold several). All or nothing: any bad order refuses the payload.
    fn parse(&self, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError>;
}

/// The registry: the adapter of each kind that has one.
pub fn adapter(kind: Kind) -> Option<&'static dyn Adapter> {
    match kind {
        Kind::Shopify => Some(&shopify::Shopify),
        Kind::Woocommerce => Some(&woocommerce::WooCommerce),
        Kind::Pos => Some(&pos::Pos),
        Kind::Wholesale => Some(&wholesale::Wholesale),
        Kind::Amazon => Some(&amazon::Amazon),
        Kind::Etsy => Some(&etsy::Etsy),
        Kind::Ebay => Some(&ebay::Ebay),
        Kind::Api => None,
    }
}

/// Parses a payload of `kind`.
pub fn parse(kind: Kind, payload: &[u8]) -> Result<Vec<ChannelOrder>, ParseError> {
    match adapter(kind) {
        Some(a) => a.parse(payload),
        None => Err(ParseError::new(kind, "", "this kind has no payload parser yet")),
    }
}

/// One order line given as a total for its quantity (WooCommerce's
/// `subtotal`, Amazon's `ItemPrice`, eBay's `lineItemCost`) as canonical
/// lines: one when the total divides by the quantity, else two (10.00 for 3:
/// one at 3.34 and two at 3.33), so the order's total is kept to the minor
/// unit. The line's `discount` stays whole, on the first of them.
pub(crate) fn lines_from_total(sku: String, quantity: i64, total: i64, discount: i64) -> Vec<ChannelLine> {
    let (base, extra) = (total / quantity, total % quantity);
    if extra == 0 {
        return vec![ChannelLine { sku, quantity, unit_price: base, discount }];
    }
    vec![
        ChannelLine { sku: sku.clone(), quantity: extra, unit_price: base + 1, discount },
        ChannelLine { sku, quantity: quantity - extra, unit_price: base, discount: 0 },
    ]
}

/// Expedited or same-day shipping, from the words of a shipping method's
/// code and title (`"Express"`, `"UPSNextDay"`, `"Same-day courier"`);
/// `None` (standard) otherwise. Spaces, hyphens and case do not matter.
pub(crate) fn service_level_from_words(words: &str) -> Option<&'static str> {
    let squeezed: String = words.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    if squeezed.contains("sameday") {
        Some("same_day")
    } else if ["express", "expedited", "priority", "overnight", "nextday"].iter().any(|w| squeezed.contains(w)) {
        Some("expedited")
    } else {
        None
    }
}
