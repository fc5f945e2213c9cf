//! The platforms' APIs, as data: the requests Switchyard sends (stock
//! levels, fulfilments, cancellations, order polls, token refreshes) built
//! purely from a connection's settings, and the platforms' answers read
//! back into typed results. No IO: the engine sends each [`Request`] to the
//! connection's base URL with its HTTP client and hands the answer to
//! [`Remote::outcome`] and the readers here.
//!
//! One module per platform, each a unit struct implementing [`Remote`];
//! [`remote`] is the one registry (POS, wholesale and `api` connections have
//! no remote API: orders come to us, nothing goes back).
//!
//! What each platform does (each module's doc has the details and sources):
//! - `shopify`: stock by GraphQL `inventorySetQuantities` (250 a request);
//!   fulfilment asks for the order's fulfillment orders, then
//!   `fulfillmentCreate`; cancel by `orderCancel`; orders come by webhook;
//!   a fixed access token.
//! - `woocommerce`: stock by REST v3 `products/batch` and `variations/batch`
//!   (100 a request); fulfilment sets status `completed`, then adds a
//!   customer note with the tracking; cancel sets status `cancelled`; orders
//!   come by webhook; basic auth with the REST keys.
//! - `amazon`: stock by Listings Items `patchListingsItem` (one SKU a
//!   request); fulfilment asks for the order items, then `confirmShipment`;
//!   no cancel ([`Unsendable`]); orders polled with `getOrders`, each then
//!   needing `getOrderItems`; LWA token refresh.
//! - `etsy`: stock asks for the listing's inventory, then
//!   `updateListingInventory`; fulfilment by `createReceiptShipment`; no
//!   cancel; receipts polled with `getShopReceipts`; OAuth refresh whose
//!   refresh tokens rotate.
//! - `ebay`: stock by Inventory `bulkUpdatePriceQuantity` (25 a request);
//!   fulfilment asks for the order, then `createShippingFulfillment`; cancel
//!   not sent; orders polled with Fulfillment `getOrders`; OAuth refresh.
//!
//! A message is sent as [`Step`]s: most are one [`Step::Send`]; where the
//! platform's write needs ids only it knows (Shopify's fulfillment order
//! line items, Amazon's order item ids, eBay's line item ids, Etsy's whole
//! inventory record), the first step is a [`Step::Ask`] whose answer
//! [`Remote::resume`] turns into the next step. Times come in as arguments
//! (`shipped_at_ms`, `start_ms`); nothing here reads a clock.
//!
//! Secrets: [`Request::headers`] never hold one until [`Remote::authorize`]
//! adds it at send time, and the `Debug` and `Serialize` forms of
//! [`Request`], [`Conn`] and [`Token`] hide them (a token refresh's form
//! body holds the refresh token and is shown as its length only).

mod amazon;
mod ebay;
mod etsy;
mod shopify;
mod wire;
mod woocommerce;

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::SerializeStruct;
use serde::Serialize;

use crate::Kind;

pub use amazon::Amazon;
pub use ebay::Ebay;
pub use etsy::Etsy;
pub use shopify::Shopify;
pub use wire::{checkpoint_ms, iso8601_from_ms, later_checkpoint};
pub use woocommerce::WooCommerce;

/// Which of the platform's hosts a request goes to: its API, or its OAuth
/// token endpoint (Amazon's `api.amazon.com`, eBay's identity API). A
/// connection's `base_url` setting replaces both (a stand-in, a test); see
/// [`Remote::base_url`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Host {
    Api,
    Auth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

/// One HTTP request to a platform. `path` starts with `/` and includes the
/// query string; `headers` never include credentials: the engine adds them
/// with [`Remote::authorize`] just before sending, so a request can be
/// logged or stored as it is — except a token refresh ([`Host::Auth`]),
/// whose form body holds the refresh token: never store one. `Debug` and
/// `Serialize` hide credential headers and form bodies all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    pub host: Host,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body, with its content type (`application/json`,
    /// `application/x-www-form-urlencoded`).
    pub body: Option<(String, Vec<u8>)>,
}

/// Headers whose values are credentials (compared without regard to case).
const SECRET_HEADERS: [&str; 4] = ["authorization", "x-shopify-access-token", "x-amz-access-token", "x-api-key"];

impl Request {
    /// The value of a header (the first of that name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Headers as they may be shown: credentials replaced by `<hidden>`.
    fn shown_headers(&self) -> Vec<(&str, &str)> {
        let secret = |k: &str| SECRET_HEADERS.iter().any(|s| k.eq_ignore_ascii_case(s));
        self.headers.iter().map(|(k, v)| (k.as_str(), if secret(k) { "<hidden>" } else { v.as_str() })).collect()
    }

    /// The body as it may be shown: JSON as text; a form (a token refresh's
    /// secrets) as its length only.
    fn shown_body(&self) -> Option<String> {
        self.body.as_ref().map(|(kind, bytes)| match kind.starts_with("application/json") {
            true => String::from_utf8_lossy(bytes).into_owned(),
            false => format!("<{kind}, {} bytes>", bytes.len()),
        })
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("host", &self.host)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.shown_headers())
            .field("body", &self.shown_body())
            .finish()
    }
}

impl Serialize for Request {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Request", 5)?;
        st.serialize_field("host", &self.host)?;
        st.serialize_field("method", &self.method)?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("headers", &self.shown_headers())?;
        st.serialize_field("body", &self.shown_body())?;
        st.end()
    }
}

/// The secrets of a connection, as the platform issued them (write-only:
/// never shown, never logged). Keys by kind:
/// - shopify: `access_token` (a custom app's Admin API access token)
/// - woocommerce: `consumer_key`, `consumer_secret`
/// - amazon: `client_id`, `client_secret`, `refresh_token` (Login with Amazon)
/// - etsy: `client_id` (the app's keystring), `shared_secret` (sent with it
///   in `x-api-key` since February 2026), `refresh_token` (OAuth 2 + PKCE)
/// - ebay: `client_id`, `client_secret`, `refresh_token` (OAuth user token)
pub type Credentials = BTreeMap<String, String>;

/// A connection as the remote side needs it: its (non-secret) settings —
/// e.g. Shopify's `shop` and `location_id`, Amazon's `seller_id` and
/// `marketplace_id`, Etsy's `shop_id`; each module's doc lists its own —
/// and its credentials. `Debug` shows the credentials' names only.
#[derive(Clone, Copy)]
pub struct Conn<'a> {
    pub settings: &'a BTreeMap<String, String>,
    pub credentials: &'a Credentials,
}

impl fmt::Debug for Conn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("settings", self.settings)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A fresh access token from a token endpoint. `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub access_token: String,
    pub expires_in_secs: i64,
    /// The refresh token when the answer holds one: Etsy rotates them (store
    /// it, the old one no longer works); Amazon repeats the one it was given.
    pub refresh_token: Option<String>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<hidden>")
            .field("expires_in_secs", &self.expires_in_secs)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// One SKU's level to tell the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    /// The channel's SKU (ours when the SKU map has no entry for it).
    pub channel_sku: String,
    /// The platform's id for the listing when it needs one to set stock
    /// (Shopify's inventory item id, WooCommerce's product id, Etsy's
    /// listing id; WooCommerce's `<parent id>:<variation id>` for a
    /// variation); `None` when the SKU is enough (Amazon, eBay).
    pub listing: Option<String>,
    /// Units to offer; a negative level is sent as 0.
    pub quantity: i64,
}

/// A shipment to report back to the order's origin channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fulfilment {
    /// The platform's order id (`ChannelOrder::external_id`).
    pub external_id: String,
    pub lines: Vec<FulfilledLine>,
    pub carrier: String,
    pub tracking: String,
    pub tracking_url: Option<String>,
    /// When it shipped, milliseconds since the epoch.
    pub shipped_at_ms: i64,
}

/// A shipped line, by the channel's SKU as the order's line carried it
/// (`variant:<id>`, `asin:<ASIN>`, `item:<id>` when the platform gave no
/// SKU): where the platform needs its own line ids, the first [`Step`] asks
/// for the order and the SKU finds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FulfilledLine {
    pub channel_sku: String,
    pub quantity: i64,
}

/// How a message is sent: one request, or a question whose answer builds
/// the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send it; its [`Remote::outcome`] is the message's.
    Send(Request),
    /// Send `request` first; when its outcome is [`Outcome::Accepted`], give
    /// its body with `then` to [`Remote::resume`], which returns the next
    /// step. Any other outcome is the message's. A question is a read, or
    /// (WooCommerce's status change) a write that is harmless to repeat, so
    /// a message that fails half-way is simply sent again from its start.
    Ask { request: Request, then: Resume },
}

/// What a [`Step::Ask`]'s answer completes; the engine only hands it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume(pub(crate) Pending);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Stock levels of one listing (Etsy), the listing id first.
    Stock(String, Vec<StockLevel>),
    Fulfilment(Fulfilment),
}

/// What an answer means for the message that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Accepted,
    /// Rate limited: wait (the platform's `Retry-After`, else a default)
    /// and send again; not a failure of the message.
    Throttled { retry_after_secs: Option<i64> },
    /// Worth sending again later (5xx, a timeout, a garbled answer).
    Transient(String),
    /// Will never succeed as it is (4xx, a GraphQL `userErrors` entry):
    /// dead-letter it and tell a human.
    Rejected(String),
}

/// A request the connection cannot build (a setting or credential missing,
/// a listing id unknown): the message cannot be sent until a human fixes
/// the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsendable(pub String);

/// A page of orders from a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPage {
    /// Each order's payload, as the channel's [`crate::Adapter`] parses it
    /// — or, for Amazon, an order whose items must be fetched first.
    pub orders: Vec<Polled>,
    /// The next page's cursor, when there is one.
    pub next: Option<String>,
    /// The newest change time seen on this page (the platform's own
    /// timestamp, as it writes it): the checkpoint to resume from.
    pub newest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled {
    /// A payload the adapter parses as it is.
    Ready(Vec<u8>),
    /// An order whose lines need one more request (Amazon's getOrderItems);
    /// [`Remote::with_items`] joins the answers into the adapter's payload.
    NeedsItems { order: Vec<u8>, items: Request },
}

/// How fast a platform may be called, per connection: `requests` every
/// `per_ms` milliseconds on average, up to `burst` at once (a token bucket).
/// Amazon limits each operation apart: see [`Remote::limit_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per_ms: u32,
    pub burst: u32,
}

/// One platform's remote API.
pub trait Remote: Sync {
    fn kind(&self) -> Kind;

    /// The platform's own host (`https://…`, no trailing slash); `None`
    /// where each shop has its own (Shopify, WooCommerce).
    fn default_host(&self, host: Host) -> Option<&'static str>;

    /// Where a request to `host` goes for this connection: its `base_url`
    /// setting when it has one (a stand-in, a test), else the platform's own
    /// host (Shopify: the `shop`'s `myshopify.com` domain; WooCommerce: the
    /// `store_url`; Amazon: the `region`'s endpoint).
    fn base_url(&self, conn: Conn<'_>, host: Host) -> Result<String, Unsendable> {
        if let Some(url) = conn.settings.get("base_url").map(|u| u.trim().trim_end_matches('/')) {
            if !url.is_empty() {
                return Ok(url.to_owned());
            }
        }
        self.default_host(host).map(str::to_owned).ok_or_else(|| {
            Unsendable(format!("{}: the setting `base_url` (where to send requests) is missing", self.kind().as_str()))
        })
    }

    /// Its documented rate limit for the calls that matter most (stock
    /// pushes).
    fn rate_limit(&self) -> RateLimit;

    /// The limit a request counts against, and that bucket's name: one
    /// bucket (`"api"`, [`Remote::rate_limit`]) unless the platform limits
    /// operations apart (Amazon).
    fn limit_for(&self, _req: &Request) -> (&'static str, RateLimit) {
        ("api", self.rate_limit())
    }

    /// At most this many levels in one stock request.
    fn max_levels_per_request(&self) -> usize;

    /// The token refresh request, for platforms whose access tokens expire
    /// (Amazon, Etsy, eBay); `None` for those with a fixed token (Shopify,
    /// WooCommerce).
    fn token_request(&self, conn: Conn<'_>) -> Result<Option<Request>, Unsendable>;

    /// Reads a token endpoint's answer.
    fn read_token(&self, body: &[u8]) -> Result<Token, String>;

    /// Adds credentials to a request (`X-Shopify-Access-Token`,
    /// `x-amz-access-token`, `Authorization: Bearer`, Etsy's `x-api-key`,
    /// WooCommerce's and eBay's token endpoint's basic auth). `access_token`
    /// is the refreshed token where the platform has one.
    fn authorize(&self, conn: Conn<'_>, access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable>;

    /// The steps that set these levels (at most
    /// [`Remote::max_levels_per_request`] each), in the platform's real
    /// inventory API shape; absolute quantities, so sending one twice is
    /// harmless.
    fn stock_requests(&self, conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Step>, Unsendable>;

    /// The steps that tell the origin channel an order shipped.
    fn fulfilment_request(&self, conn: Conn<'_>, f: &Fulfilment) -> Result<Step, Unsendable>;

    /// The request that cancels an order on its origin channel (`reason` is
    /// a note for the platform's staff where it takes one).
    fn cancel_request(&self, conn: Conn<'_>, external_id: &str, reason: &str) -> Result<Request, Unsendable>;

    /// The next step after a [`Step::Ask`] was accepted with `answer`. An
    /// `Err` is the message's outcome: [`Outcome::Transient`] for an answer
    /// that cannot be read, [`Outcome::Rejected`] when it shows the message
    /// can never be sent as it is (no line left to fulfil for a SKU).
    fn resume(&self, conn: Conn<'_>, then: &Resume, answer: &[u8]) -> Result<Step, Outcome> {
        let _ = (conn, then, answer);
        Err(Outcome::Rejected(format!("{}: nothing to resume", self.kind().as_str())))
    }

    /// A cheap authenticated read that shows whether the connection's
    /// settings and credentials work ("Test connection"); it changes
    /// nothing on the platform.
    fn probe_request(&self, conn: Conn<'_>) -> Result<Request, Unsendable>;

    /// Reads any answer (status, `Retry-After` header in seconds, body).
    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome;

    /// The request for one page of orders changed since `checkpoint` (the
    /// platform's timestamp from an earlier [`PollPage::newest`]; `None`:
    /// since `start_ms`), continuing at `cursor` (an earlier
    /// [`PollPage::next`]; keep the checkpoint unchanged while following a
    /// run of pages, and move it to the newest seen — [`later_checkpoint`]
    /// — after the last). `None` when the platform is not polled (Shopify
    /// and WooCommerce send webhooks). The checkpoint is inclusive: the
    /// newest order comes again, and a repeat is harmless.
    fn poll_request(
        &self,
        conn: Conn<'_>,
        checkpoint: Option<&str>,
        start_ms: i64,
        cursor: Option<&str>,
    ) -> Result<Option<Request>, Unsendable>;

    /// A time as this platform writes a poll checkpoint (ISO 8601 with
    /// milliseconds; Etsy: Unix seconds).
    fn checkpoint_at(&self, ms: i64) -> String {
        wire::iso8601_from_ms(ms)
    }

    /// Reads one page of a poll asked for with `cursor` (Etsy's pages are
    /// numbered by offset, which the answer does not repeat). An `Err` is
    /// worth trying again at the next poll.
    fn read_poll(&self, body: &[u8], cursor: Option<&str>) -> Result<PollPage, String>;

    /// Joins an order and its items' answers into the adapter's payload
    /// (Amazon); others never return [`Polled::NeedsItems`].
    fn with_items(&self, order: &[u8], items: &[u8]) -> Result<Vec<u8>, String>;
}

/// The registry: the remote API of each kind that has one.
pub fn remote(kind: Kind) -> Option<&'static dyn Remote> {
    match kind {
        Kind::Shopify => Some(&Shopify),
        Kind::Woocommerce => Some(&WooCommerce),
        Kind::Amazon => Some(&Amazon),
        Kind::Etsy => Some(&Etsy),
        Kind::Ebay => Some(&Ebay),
        Kind::Pos | Kind::Wholesale | Kind::Api => None,
    }
}
