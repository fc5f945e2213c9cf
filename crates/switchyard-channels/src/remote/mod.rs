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

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Kind;

/// Which of the platform's hosts a request goes to: its API, or its OAuth
/// token endpoint (Amazon's `api.amazon.com`, eBay's identity API). A
/// connection's `base_url` replaces both (a stand-in, a test).
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
/// logged or stored as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub host: Host,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body, with its content type (`application/json`,
    /// `application/x-www-form-urlencoded`).
    pub body: Option<(String, Vec<u8>)>,
}

/// The secrets of a connection, as the platform issued them (write-only:
/// never shown, never logged). Keys by kind:
/// - shopify: `access_token` (a custom app's Admin API access token)
/// - woocommerce: `consumer_key`, `consumer_secret`
/// - amazon: `client_id`, `client_secret`, `refresh_token` (Login with Amazon)
/// - etsy: `client_id` (the app's keystring), `refresh_token` (OAuth 2 + PKCE)
/// - ebay: `client_id`, `client_secret`, `refresh_token` (OAuth user token)
pub type Credentials = BTreeMap<String, String>;

/// A connection as the remote side needs it: its (non-secret) settings —
/// e.g. Shopify's `location_id`, Amazon's `seller_id` and `marketplace_id`,
/// Etsy's `shop_id` — and its credentials.
#[derive(Debug, Clone, Copy)]
pub struct Conn<'a> {
    pub settings: &'a BTreeMap<String, String>,
    pub credentials: &'a Credentials,
}

/// A fresh access token from a token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub access_token: String,
    pub expires_in_secs: i64,
    /// Present when the platform rotates refresh tokens (Etsy): store it,
    /// the old one no longer works.
    pub refresh_token: Option<String>,
}

/// One SKU's level to tell the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    /// The channel's SKU (ours when the SKU map has no entry for it).
    pub channel_sku: String,
    /// The platform's id for the listing when it needs one to set stock
    /// (Shopify's inventory item id, WooCommerce's product id, Etsy's
    /// listing id); `None` when the SKU is enough (Amazon, eBay).
    pub listing: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FulfilledLine {
    pub channel_sku: String,
    pub quantity: i64,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per_ms: u32,
    pub burst: u32,
}

/// One platform's remote API.
pub trait Remote: Sync {
    fn kind(&self) -> Kind;

    /// The platform's own hosts (`https://…`, no trailing slash).
    fn default_host(&self, host: Host) -> &'static str;

    /// Its documented rate limit for the calls we make.
    fn rate_limit(&self) -> RateLimit;

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
    /// WooCommerce's basic auth). `access_token` is the refreshed token
    /// where the platform has one.
    fn authorize(&self, conn: Conn<'_>, access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable>;

    /// The requests that set these levels (at most
    /// [`Remote::max_levels_per_request`] each), in the platform's real
    /// inventory API shape; absolute quantities, so sending one twice is
    /// harmless.
    fn stock_requests(&self, conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Request>, Unsendable>;

    /// The request that tells the origin channel an order shipped.
    fn fulfilment_request(&self, conn: Conn<'_>, f: &Fulfilment) -> Result<Request, Unsendable>;

    /// The request that cancels an order on its origin channel.
    fn cancel_request(&self, conn: Conn<'_>, external_id: &str, reason: &str) -> Result<Request, Unsendable>;

    /// Reads any answer (status, `Retry-After` header in seconds, body).
    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome;

    /// The request for one page of orders changed since `checkpoint` (the
    /// platform's timestamp from an earlier [`PollPage::newest`]; `None`:
    /// since `start_ms`), continuing at `cursor`. `None` when the platform
    /// is not polled (Shopify and WooCommerce send webhooks).
    fn poll_request(
        &self,
        conn: Conn<'_>,
        checkpoint: Option<&str>,
        start_ms: i64,
        cursor: Option<&str>,
    ) -> Result<Option<Request>, Unsendable>;

    /// Reads one page of a poll.
    fn read_poll(&self, body: &[u8]) -> Result<PollPage, String>;

    /// Joins an order and its items' answers into the adapter's payload
    /// (Amazon); others never return [`Polled::NeedsItems`].
    fn with_items(&self, order: &[u8], items: &[u8]) -> Result<Vec<u8>, String>;
}

/// The registry: the remote API of each kind that has one.
pub fn remote(kind: Kind) -> Option<&'static dyn Remote> {
    match kind {
        Kind::Shopify | Kind::Woocommerce | Kind::Amazon | Kind::Etsy | Kind::Ebay => None,
        Kind::Pos | Kind::Wholesale | Kind::Api => None,
    }
}
