//! A local stand-in of one marketplace's API, for tests and the demo: an
//! HTTP server on a loopback port that records every request, answers the
//! platform's calls in the platform's own shapes, keeps the stock levels
//! the stock calls set (so a test can ask "what does the channel show
//! now?"), and answers as scripted instead when told to: any status with an
//! optional `Retry-After`, or a hang (a timeout for the client).
//!
//! | kind | stock call it understands | where the level is kept |
//! |---|---|---|
//! | shopify | GraphQL `inventorySetQuantities` | `inventoryItemId` (gid) |
//! | woocommerce | `POST …/products/batch` `update[]` | product `id` |
//! | amazon | `PATCH /listings/2021-08-01/items/{seller}/{sku}` | SKU |
//! | etsy | `PUT /v3/application/listings/{id}/inventory` | listing id (first offering) |
//! | ebay | `POST /sell/inventory/v1/bulk_update_price_quantity` | SKU |
//!
//! Any path ending in `/token` is a token endpoint: it hands out numbered
//! access tokens (`tok-1`, `tok-2`, …) and rotated refresh tokens.
//!
//! Orders a test adds ([`StandIn::add_order`]; adding one with the same id
//! again is the platform's update of it) are served to polls, oldest change
//! first, from the change time the request names on (inclusive, to the
//! second):
//!
//! | kind | poll call | filter | pages |
//! |---|---|---|---|
//! | amazon | `GET /orders/v0/orders`, then `…/orders/{id}/orderItems` | `LastUpdatedAfter` | `NextToken` |
//! | etsy | `GET /v3/application/shops/{id}/receipts` | `min_last_modified` | `limit`/`offset` |
//! | ebay | `GET /sell/fulfillment/v1/order` | `filter=lastmodifieddate:[…..]` | `limit`/`offset` |
//!
//! [`StandIn::page_size`] makes pages smaller than the request asks, so a
//! few orders span several pages.
//!
//! [`smtp::SmtpStandIn`] is a mail server for the notifier's tests.
//! [`carrier::CarrierStandIn`] stands in for a return carrier's label API.
//! [`webhook::WebhookReceiver`] receives signed webhooks (customer notices, vendor purchase orders).

pub mod carrier;
pub mod smtp;
pub mod webhook;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use switchyard_core::ChannelKind;

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When it arrived.
    pub received: std::time::Instant,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether it is a stock call (as the table in the crate doc lists).
    pub fn is_stock(&self, kind: ChannelKind) -> bool {
        match kind {
            ChannelKind::Shopify => self.body_text().contains("inventorySetQuantities"),
            ChannelKind::Woocommerce => {
                self.path.contains("/products/batch") || self.path.contains("/variations/batch")
            }
            ChannelKind::Amazon => self.method == "PATCH" && self.path.starts_with("/listings/"),
            ChannelKind::Etsy => self.method == "PUT" && self.path.contains("/inventory"),
            ChannelKind::Ebay => self.path.contains("bulk_update_price_quantity"),
            _ => false,
        }
    }

    /// Whether it asks for a page of orders (not an order's items).
    pub fn is_poll(&self, kind: ChannelKind) -> bool {
        let path = self.path.split('?').next().unwrap_or("");
        self.method == "GET"
            && match kind {
                ChannelKind::Amazon => path == "/orders/v0/orders",
                ChannelKind::Etsy => path.starts_with("/v3/application/shops/") && path.ends_with("/receipts"),
                ChannelKind::Ebay => path == "/sell/fulfillment/v1/order",
                _ => false,
            }
    }

    /// The change time a poll asks from, decoded (`None` for an Amazon
    /// page asked for by `NextToken`, which carries its own).
    pub fn poll_since(&self, kind: ChannelKind) -> Option<String> {
        match kind {
            ChannelKind::Amazon => self.query("LastUpdatedAfter"),
            ChannelKind::Etsy => self.query("min_last_modified"),
            ChannelKind::Ebay => {
                let f = self.query("filter")?;
                let rest = f.split("lastmodifieddate:[").nth(1)?;
                Some(rest.split("..").next().unwrap_or("").to_owned())
            }
            _ => None,
        }
    }

    /// A query parameter, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.path.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k) == name).then(|| decode(v))
        })
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How to answer the next request instead of the platform's normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scripted {
    /// The normal answer (levels are kept).
    Normal,
    /// This status and body, with `Retry-After: secs` when given; nothing is
    /// kept.
    Status { status: u16, retry_after: Option<u64>, body: String },
    /// No answer for this long (the client times out first).
    Hang(Duration),
}

impl Scripted {
    pub fn status(status: u16) -> Scripted {
        Scripted::Status { status, retry_after: None, body: json!({"errors": [{"message": "scripted"}]}).to_string() }
    }

    pub fn throttled(retry_after: Option<u64>) -> Scripted {
        Scripted::Status { status: 429, retry_after, body: json!({"errors": [{"message": "slow down"}]}).to_string() }
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    script: VecDeque<Scripted>,
    levels: BTreeMap<String, i64>,
    tokens: u64,
    /// Every Nth stock call answers 429 (0: never), for the demo.
    throttle_every: u64,
    stock_calls: u64,
    /// Orders served to polls, by id.
    orders: BTreeMap<String, Stored>,
    /// The most orders in one page (0: as the request asks).
    page_size: usize,
    /// Requests for pages of orders so far.
    polls: usize,
    /// Orders to change when the nth page is asked for.
    changes: Vec<(usize, Value)>,
}

/// An order as a test added it.
#[derive(Debug, Clone)]
struct Stored {
    /// Its change time, comparable within one kind (see [`since_key`]).
    updated: String,
    /// Its creation time, the same way (Etsy's `sort_on=created`).
    created: String,
    order: Value,
    /// Amazon: its `OrderItems`.
    items: Value,
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    kind: ChannelKind,
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct App {
    kind: ChannelKind,
    inner: Arc<Mutex<Inner>>,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A test that panicked while holding the lock must not hide what was
    // recorded from the next assertion.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StandIn {
    /// Starts a stand-in of `kind` on a free loopback port.
    pub async fn start(kind: ChannelKind) -> std::io::Result<StandIn> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().fallback(answer).with_state(App { kind, inner: inner.clone() });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn { kind, addr, inner, task })
    }

    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// `http://127.0.0.1:<port>`: the connection's `base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers for the next requests, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        lock(&self.inner).script.extend(answers);
    }

    /// Answers every `n`th stock call with a 429 (`Retry-After: 1`).
    pub fn throttle_every(&self, n: u64) {
        lock(&self.inner).throttle_every = n;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner).requests.clone()
    }

    /// The stock calls so far.
    pub fn stock_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.is_stock(self.kind)).collect()
    }

    /// What the channel shows now, by the key its stock call names.
    pub fn levels(&self) -> BTreeMap<String, i64> {
        lock(&self.inner).levels.clone()
    }

    /// Adds an order for polls to find, or replaces the one with its id (the
    /// platform changed it): Etsy's receipt, eBay's order, or for Amazon
    /// `{"order": <Order>, "items": [<OrderItem>, …]}`. Returns its id;
    /// `None` when it has no id or change time the kind's poll reads
    /// (`AmazonOrderId` + `LastUpdateDate`, `receipt_id` +
    /// `updated_timestamp`, `orderId` + `lastModifiedDate`).
    pub fn add_order(&self, order: Value) -> Option<String> {
        let (id, stored) = stored(self.kind, order)?;
        lock(&self.inner).orders.insert(id.clone(), stored);
        Some(id)
    }

    /// Changes an order (as [`StandIn::add_order`]) when the `n`th request
    /// for a page of orders arrives (counting from 1), before it is
    /// answered: the platform changing an order while a poll pages.
    pub fn change_on_poll(&self, n: usize, order: Value) {
        lock(&self.inner).changes.push((n, order));
    }

    /// Serves at most `n` orders a page (0: as many as the request asks).
    pub fn page_size(&self, n: usize) {
        lock(&self.inner).page_size = n;
    }

    /// The requests for pages of orders so far.
    pub fn poll_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.is_poll(self.kind)).collect()
    }

    /// Forgets the requests recorded so far (levels are kept).
    pub fn clear_requests(&self) {
        lock(&self.inner).requests.clear();
    }
}

/// An order as the stand-in keeps it, by its id.
fn stored(kind: ChannelKind, order: Value) -> Option<(String, Stored)> {
    let (order, items) = match kind {
        ChannelKind::Amazon => (order["order"].clone(), order["items"].clone()),
        _ => (order, Value::Null),
    };
    let (id, updated, created) = match kind {
        ChannelKind::Amazon => {
            (id_text(&order["AmazonOrderId"])?, id_text(&order["LastUpdateDate"])?, id_text(&order["PurchaseDate"]))
        }
        ChannelKind::Etsy => (
            id_text(&order["receipt_id"])?,
            id_text(&order["updated_timestamp"])?,
            id_text(&order["created_timestamp"]),
        ),
        ChannelKind::Ebay => {
            (id_text(&order["orderId"])?, id_text(&order["lastModifiedDate"])?, id_text(&order["creationDate"]))
        }
        _ => return None,
    };
    let updated = since_key(kind, &updated);
    let created = created.map_or_else(|| updated.clone(), |c| since_key(kind, &c));
    Some((id, Stored { updated, created, order, items }))
}

async fn answer(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let rec = Recorded {
        method: method.as_str().to_owned(),
        path: uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect(),
        body: body.to_vec(),
        received: std::time::Instant::now(),
    };
    let scripted = {
        let mut inner = lock(&app.inner);
        inner.requests.push(rec.clone());
        if rec.is_poll(app.kind) {
            inner.polls += 1;
            let n = inner.polls;
            let due: Vec<Value> = inner.changes.iter().filter(|(at, _)| *at == n).map(|(_, o)| o.clone()).collect();
            for order in due {
                if let Some((id, s)) = stored(app.kind, order) {
                    inner.orders.insert(id, s);
                }
            }
        }
        let mut next = inner.script.pop_front().unwrap_or(Scripted::Normal);
        if next == Scripted::Normal && rec.is_stock(app.kind) {
            inner.stock_calls += 1;
            if inner.throttle_every > 0 && inner.stock_calls.is_multiple_of(inner.throttle_every) {
                next = Scripted::throttled(Some(1));
            }
        }
        next
    };
    match scripted {
        Scripted::Hang(d) => {
            tokio::time::sleep(d).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Scripted::Status { status, retry_after, body } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = (code, [("content-type", "application/json")], body).into_response();
            if let Some(secs) = retry_after {
                if let Ok(v) = secs.to_string().parse() {
                    r.headers_mut().insert("retry-after", v);
                }
            }
            r
        }
        Scripted::Normal => {
            let v = normal(&app, &rec);
            (StatusCode::OK, [("content-type", "application/json")], v.to_string()).into_response()
        }
    }
}

/// The platform's normal answer; stock calls set the levels they name.
fn normal(app: &App, rec: &Recorded) -> Value {
    let mut inner = lock(&app.inner);
    if rec.path.split('?').next().is_some_and(|p| p.ends_with("/token")) {
        inner.tokens += 1;
        let n = inner.tokens;
        return json!({"access_token": format!("tok-{n}"), "token_type": "bearer", "expires_in": 3600,
            "refresh_token": format!("rt-{n}")});
    }
    let body = rec.json();
    match app.kind {
        ChannelKind::Shopify if rec.is_stock(app.kind) => {
            for q in body["variables"]["input"]["quantities"].as_array().into_iter().flatten() {
                if let (Some(item), Some(n)) = (q["inventoryItemId"].as_str(), q["quantity"].as_i64()) {
                    inner.levels.insert(item.to_owned(), n);
                }
            }
            let group = json!({"id": "gid://shopify/InventoryAdjustmentGroup/1"});
            json!({"data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": []}}})
        }
        ChannelKind::Shopify => json!({"data": {}}),
        ChannelKind::Woocommerce if rec.is_stock(app.kind) => {
            for u in body["update"].as_array().into_iter().flatten() {
                if let (Some(id), Some(n)) = (id_text(&u["id"]), u["stock_quantity"].as_i64()) {
                    inner.levels.insert(id, n);
                }
            }
            json!({"update": body["update"]})
        }
        ChannelKind::Amazon if rec.is_stock(app.kind) => {
            let sku = rec.path.split('?').next().and_then(|p| p.rsplit('/').next()).map(decode).unwrap_or_default();
            if let Some(n) = body["patches"][0]["value"][0]["quantity"].as_i64() {
                inner.levels.insert(sku.clone(), n);
            }
            json!({"sku": sku, "status": "ACCEPTED", "submissionId": "standin", "issues": []})
        }
        ChannelKind::Etsy if rec.is_stock(app.kind) => {
            let listing = rec.path.split("/listings/").nth(1).and_then(|r| r.split('/').next()).unwrap_or("");
            if let Some(n) = body["products"][0]["offerings"][0]["quantity"].as_i64() {
                inner.levels.insert(listing.to_owned(), n);
            }
            body
        }
        ChannelKind::Etsy if rec.method == "GET" && rec.path.contains("/inventory") => {
            json!({"products": [{"product_id": 1, "sku": "", "is_deleted": false,
                "offerings": [{"offering_id": 1, "quantity": 0, "is_enabled": true, "is_deleted": false,
                    "price": {"amount": 1000, "divisor": 100, "currency_code": "USD"}}], "property_values": []}],
                "price_on_property": [], "quantity_on_property": [], "sku_on_property": []})
        }
        ChannelKind::Ebay if rec.is_stock(app.kind) => {
            let mut responses = Vec::new();
            for r in body["requests"].as_array().into_iter().flatten() {
                if let (Some(sku), Some(n)) = (r["sku"].as_str(), r["shipToLocationAvailability"]["quantity"].as_i64())
                {
                    inner.levels.insert(sku.to_owned(), n);
                    responses.push(json!({"sku": sku, "statusCode": 200}));
                }
            }
            json!({"responses": responses})
        }
        ChannelKind::Amazon | ChannelKind::Etsy | ChannelKind::Ebay if rec.method == "GET" => {
            orders_answer(app.kind, &inner, rec)
        }
        _ => json!({}),
    }
}

/// A change time as the stand-in compares them: Etsy's Unix seconds padded
/// to 20 digits; an ISO 8601 time to the second (`2026-11-20T18:40:02`).
fn since_key(kind: ChannelKind, text: &str) -> String {
    let text = text.trim();
    match kind {
        ChannelKind::Etsy => format!("{:0>20}", text.parse::<u64>().unwrap_or(0)),
        _ => text.chars().take(19).collect(),
    }
}

/// The orders changed since `since`, oldest change first, from `offset`,
/// at most `limit`; and how many there are in all.
fn orders_since<'a>(
    inner: &'a Inner,
    kind: ChannelKind,
    since: Option<&str>,
    offset: usize,
    limit: usize,
    by_created: bool,
) -> (Vec<&'a Stored>, usize) {
    let since = since.map(|s| since_key(kind, s)).unwrap_or_default();
    let mut all: Vec<(&String, &Stored)> = inner.orders.iter().filter(|(_, o)| o.updated >= since).collect();
    let key = |o: &Stored| if by_created { o.created.clone() } else { o.updated.clone() };
    all.sort_by(|a, b| (key(a.1), a.0).cmp(&(key(b.1), b.0)));
    let limit = match inner.page_size {
        0 => limit.max(1),
        n => n.min(limit.max(1)),
    };
    let total = all.len();
    (all.into_iter().skip(offset).take(limit).map(|(_, o)| o).collect(), total)
}

/// A poll's answer: a page of orders, or an Amazon order's items.
fn orders_answer(kind: ChannelKind, inner: &Inner, rec: &Recorded) -> Value {
    let path = rec.path.split('?').next().unwrap_or("");
    let number = |name: &str, default: usize| rec.query(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    match kind {
        ChannelKind::Amazon if path.ends_with("/orderItems") => {
            let id = path.trim_end_matches("/orderItems").rsplit('/').next().map(decode).unwrap_or_default();
            match inner.orders.get(&id) {
                Some(o) => json!({"payload": {"AmazonOrderId": id, "OrderItems": o.items}}),
                None => json!({"errors": [{"code": "InvalidInput", "message": "no such order"}]}),
            }
        }
        ChannelKind::Amazon if rec.is_poll(kind) => {
            // The NextToken holds where the run is: "<offset>|<since>".
            let (offset, since) = match rec.query("NextToken") {
                Some(t) => {
                    let (o, s) = t.split_once('|').unwrap_or(("0", ""));
                    (o.parse().unwrap_or(0), Some(s.to_owned()))
                }
                None => (0, rec.query("LastUpdatedAfter")),
            };
            let (page, total) =
                orders_since(inner, kind, since.as_deref(), offset, number("MaxResultsPerPage", 100), false);
            let seen = offset + page.len();
            let mut payload = json!({"Orders": page.iter().map(|o| o.order.clone()).collect::<Vec<_>>()});
            if seen < total {
                payload["NextToken"] = json!(format!("{seen}|{}", since.unwrap_or_default()));
            }
            json!({"payload": payload})
        }
        ChannelKind::Etsy if rec.is_poll(kind) => {
            let since = rec.query("min_last_modified");
            let by_created = rec.query("sort_on").as_deref() == Some("created");
            let (offset, limit) = (number("offset", 0), number("limit", 25));
            let (page, total) = orders_since(inner, kind, since.as_deref(), offset, limit, by_created);
            json!({"count": total, "results": page.iter().map(|o| o.order.clone()).collect::<Vec<_>>()})
        }
        ChannelKind::Ebay if rec.is_poll(kind) => {
            let (offset, limit) = (number("offset", 0), number("limit", 50));
            let (page, total) = orders_since(inner, kind, rec.poll_since(kind).as_deref(), offset, limit, false);
            json!({"href": rec.path, "limit": limit, "offset": offset, "total": total,
                "orders": page.iter().map(|o| o.order.clone()).collect::<Vec<_>>()})
        }
        _ => json!({}),
    }
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Percent-decoding of a path segment.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
