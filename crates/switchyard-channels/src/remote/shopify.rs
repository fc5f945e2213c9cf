//! Shopify: the GraphQL Admin API, `POST /admin/api/<api_version>/graphql.json`
//! on the shop's own `myshopify.com` domain, with the custom app's token in
//! `X-Shopify-Access-Token` (credential `access_token`; it does not expire).
//! Orders come in by webhook, so nothing is polled.
//!
//! Settings: `shop` (`example` or `example.myshopify.com`), `location_id`
//! (the Shopify location whose stock we set, numeric or a
//! `gid://shopify/Location/…`), `api_version` (default [`DEFAULT_API_VERSION`]).
//!
//! - **Stock**: [`inventorySetQuantities`] with `name: "available"`,
//!   `reason: "correction"`, absolute quantities per inventory item (the
//!   level's `listing`, numeric or a gid) at `location_id`, 250 a request
//!   (Shopify documents no maximum; 250 keeps each request's cost small).
//!   The compare-and-set check is turned off — Switchyard is the source of
//!   truth — with `ignoreCompareQuantity: true`, or, from API version
//!   2026-04 on, where that argument is gone, `changeFromQuantity: null` on
//!   each quantity.
//! - **Fulfilment**: `fulfillmentCreate` needs the order's *fulfillment
//!   order* line items, which only Shopify knows, so the first step asks for
//!   the order's fulfillment orders ([`Step::Ask`]); [`Remote::resume`]
//!   matches each shipped line to open line items by SKU (or
//!   `variant:<id>`), takes what remains on them in order, and builds
//!   `fulfillmentCreate` with the tracking (`notifyCustomer: true`). Shopify
//!   takes one location's fulfillment orders in one fulfillment: lines spread
//!   over fulfillment orders at two locations are refused, as are lines with
//!   nothing left to fulfil.
//! - **Cancel**: `orderCancel` with reason `OTHER`, our reason as the staff
//!   note, the customer notified and refunded to the original payment
//!   methods (`refundMethod`, or `refund: true` before API version 2025-07),
//!   and `restock: false`: the stock is ours, and our next stock push sets
//!   Shopify's level.
//! - **Answers**: 429, or a GraphQL error with `extensions.code: THROTTLED`
//!   (Shopify answers those with 200), are throttled — the wait is worked
//!   out from `extensions.cost` when there is no `Retry-After`; 5xx and
//!   `INTERNAL_SERVER_ERROR` are transient; any `userErrors` (or
//!   `orderCancelUserErrors`) entry is a rejection with Shopify's words.
//!
//! Rate: calculated query cost, 100 points a second on a standard plan
//! (<https://shopify.dev/docs/api/usage/rate-limits>); a mutation costs about
//! 10, so 10 requests a second.
//!
//! [`inventorySetQuantities`]: https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities
//! Also: <https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate>,
//! <https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderCancel>.

use serde_json::{json, Value};

use super::wire::{self, opt_setting, setting};
use super::{
    Conn, Fulfilment, Host, Method, Outcome, Pending, PollPage, RateLimit, Remote, Request, Resume, Step, StockLevel,
    Token, Unsendable,
};
use crate::Kind;

/// A stable API version that still has `ignoreCompareQuantity` and has
/// `orderCancel(refundMethod:)`.
pub const DEFAULT_API_VERSION: &str = "2025-10";

const K: &str = "shopify";

const SET_QUANTITIES: &str = "mutation SetStock($input: InventorySetQuantitiesInput!) { \
    inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { field message code } } }";

const FULFILMENT_ORDERS: &str = "query FulfillmentOrders($id: ID!) { order(id: $id) { id \
    fulfillmentOrders(first: 50) { nodes { id status assignedLocation { location { id } } \
    lineItems(first: 250) { nodes { id sku remainingQuantity variant { legacyResourceId } } } } } } }";

const CREATE_FULFILMENT: &str = "mutation Ship($fulfillment: FulfillmentInput!) { \
    fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } } }";

const CANCEL: &str = "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, \
    $notifyCustomer: Boolean, $staffNote: String, $refundMethod: OrderCancelRefundMethodInput) { \
    orderCancel(orderId: $orderId, reason: $reason, restock: $restock, notifyCustomer: $notifyCustomer, \
    staffNote: $staffNote, refundMethod: $refundMethod) { job { id } orderCancelUserErrors { field message code } } }";

const CANCEL_BEFORE_2025_07: &str = "mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, \
    $restock: Boolean!, $refund: Boolean!, $notifyCustomer: Boolean, $staffNote: String) { \
    orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refund: $refund, \
    notifyCustomer: $notifyCustomer, staffNote: $staffNote) { job { id } \
    orderCancelUserErrors { field message code } } }";

pub struct Shopify;

/// `2025-10` (or `unstable`): what the URL and the version checks need.
fn api_version(conn: Conn<'_>) -> Result<&str, Unsendable> {
    let v = opt_setting(conn, "api_version").unwrap_or(DEFAULT_API_VERSION);
    let b = v.as_bytes();
    let dated = b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
    if dated || v == "unstable" {
        Ok(v)
    } else {
        Err(Unsendable(format!("{K}: the setting `api_version` must look like 2025-10, not {v:?}")))
    }
}

/// Whether the API version is `since` (`YYYY-MM`) or later.
fn at_least(version: &str, since: &str) -> bool {
    version == "unstable" || version >= since
}

fn graphql(conn: Conn<'_>, query: &str, variables: Value) -> Result<Request, Unsendable> {
    let path = format!("/admin/api/{}/graphql.json", api_version(conn)?);
    Ok(wire::json(Host::Api, Method::Post, path, &json!({"query": query, "variables": variables})))
}

/// A global id for `id` (numeric, or already a gid of that type).
fn gid(kind: &str, id: &str, what: &str) -> Result<String, Unsendable> {
    let id = id.trim();
    let prefix = format!("gid://shopify/{kind}/");
    let number = id.strip_prefix(&prefix).unwrap_or(id);
    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(format!("{prefix}{number}"))
    } else {
        Err(Unsendable(format!("{K}: {what} {id:?} is not a Shopify {kind} id (a number or {prefix}…)")))
    }
}

impl Remote for Shopify {
    fn kind(&self) -> Kind {
        Kind::Shopify
    }

    fn default_host(&self, _host: Host) -> Option<&'static str> {
        None
    }

    fn base_url(&self, conn: Conn<'_>, _host: Host) -> Result<String, Unsendable> {
        if let Some(url) = opt_setting(conn, "base_url") {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        let shop = setting(conn, K, "shop", "the shop's myshopify.com name")?.to_ascii_lowercase();
        let name = shop.strip_prefix("https://").unwrap_or(&shop).trim_end_matches('/');
        let name = name.strip_suffix(".myshopify.com").unwrap_or(name);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Unsendable(format!(
                "{K}: the setting `shop` must be the shop's myshopify.com name, not {shop:?}"
            )));
        }
        Ok(format!("https://{name}.myshopify.com"))
    }

    fn rate_limit(&self) -> RateLimit {
        RateLimit { requests: 10, per_ms: 1000, burst: 20 }
    }

    fn max_levels_per_request(&self) -> usize {
        250
    }

    fn token_request(&self, _conn: Conn<'_>) -> Result<Option<Request>, Unsendable> {
        Ok(None)
    }

    fn read_token(&self, _body: &[u8]) -> Result<Token, String> {
        Err(format!("{K}: an app's Admin API access token does not expire; there is nothing to refresh"))
    }

    fn authorize(&self, conn: Conn<'_>, _access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable> {
        let token = wire::credential(conn, K, "access_token", "the app's Admin API access token")?;
        req.headers.push(("X-Shopify-Access-Token".into(), token.to_owned()));
        Ok(())
    }

    fn stock_requests(&self, conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Step>, Unsendable> {
        let location =
            gid("Location", setting(conn, K, "location_id", "the Shopify location we set stock at")?, "location_id")?;
        let version = api_version(conn)?;
        let mut steps = Vec::new();
        for chunk in wire::chunks(levels, self.max_levels_per_request()) {
            let mut quantities = Vec::with_capacity(chunk.len());
            for l in chunk {
                let Some(item) = l.listing.as_deref() else {
                    return Err(Unsendable(format!(
                        "{K}: SKU {} has no inventory item id: map it to its Shopify inventory item",
                        l.channel_sku
                    )));
                };
                let mut q = json!({
                    "inventoryItemId": gid("InventoryItem", item, &format!("SKU {}'s inventory item", l.channel_sku))?,
                    "locationId": location,
                    "quantity": l.quantity.max(0),
                });
                if at_least(version, "2026-04") {
                    q["changeFromQuantity"] = Value::Null;
                }
                quantities.push(q);
            }
            let mut input = json!({"name": "available", "reason": "correction", "quantities": quantities});
            if !at_least(version, "2026-04") {
                input["ignoreCompareQuantity"] = Value::Bool(true);
            }
            steps.push(Step::Send(graphql(conn, SET_QUANTITIES, json!({ "input": input }))?));
        }
        Ok(steps)
    }

    fn fulfilment_request(&self, conn: Conn<'_>, f: &Fulfilment) -> Result<Step, Unsendable> {
        let order = gid("Order", &f.external_id, "order id")?;
        if f.lines.is_empty() {
            return Err(Unsendable(format!("{K}: order {} shipped no lines", f.external_id)));
        }
        let request = graphql(conn, FULFILMENT_ORDERS, json!({ "id": order }))?;
        Ok(Step::Ask { request, then: Resume(Pending::Fulfilment(f.clone())) })
    }

    fn resume(&self, conn: Conn<'_>, then: &Resume, answer: &[u8]) -> Result<Step, Outcome> {
        let Resume(Pending::Fulfilment(f)) = then else {
            return Err(Outcome::Rejected(format!("{K}: nothing to resume for stock")));
        };
        let v = wire::required_json(K, answer)?;
        let order = &v["data"]["order"];
        if order.is_null() {
            return Err(Outcome::Rejected(format!("{K}: order {} was not found", f.external_id)));
        }
        let Some(nodes) = order["fulfillmentOrders"]["nodes"].as_array() else {
            return Err(Outcome::Transient(format!("{K}: the answer has no fulfillmentOrders")));
        };
        // (fulfillment order id, its location, [(line item id, sku names, remaining)])
        let mut open = Vec::new();
        for fo in nodes.iter().filter(|fo| matches!(fo["status"].as_str(), Some("OPEN" | "IN_PROGRESS"))) {
            let Some(id) = fo["id"].as_str() else { continue };
            let location = fo["assignedLocation"]["location"]["id"].as_str().unwrap_or("").to_owned();
            let mut items = Vec::new();
            for li in fo["lineItems"]["nodes"].as_array().into_iter().flatten() {
                let (Some(li_id), Some(left)) = (li["id"].as_str(), li["remainingQuantity"].as_i64()) else {
                    continue;
                };
                let mut names: Vec<String> = li["sku"].as_str().map(|s| s.trim().to_owned()).into_iter().collect();
                if let Some(variant) = wire::id_of(&li["variant"]["legacyResourceId"]) {
                    names.push(format!("variant:{variant}"));
                }
                items.push((li_id.to_owned(), names, left));
            }
            open.push((id.to_owned(), location, items));
        }
        // In first-use order.
        let mut chosen: Vec<Chosen> = Vec::new();
        for line in &f.lines {
            let mut wanted = line.quantity;
            for (fo_id, location, items) in open.iter_mut() {
                for (li_id, names, left) in items.iter_mut() {
                    if wanted == 0 || *left <= 0 || !names.iter().any(|n| !n.is_empty() && *n == line.channel_sku) {
                        continue;
                    }
                    let take = wanted.min(*left);
                    (*left, wanted) = (*left - take, wanted - take);
                    let at = match chosen.iter().position(|(id, _, _)| id == fo_id) {
                        Some(at) => at,
                        None => {
                            chosen.push((fo_id.clone(), location.clone(), Vec::new()));
                            chosen.len() - 1
                        }
                    };
                    chosen[at].2.push((li_id.clone(), take));
                }
            }
            if wanted > 0 {
                return Err(Outcome::Rejected(format!(
                    "{K}: order {}: {} more of SKU {} than Shopify has open to fulfil",
                    f.external_id, wanted, line.channel_sku
                )));
            }
        }
        if chosen.iter().any(|(_, location, _)| *location != chosen[0].1) {
            return Err(Outcome::Rejected(format!(
                "{K}: order {}: the shipped lines sit in fulfillment orders at different Shopify locations; \
                 Shopify takes one location per fulfillment",
                f.external_id
            )));
        }
        let by_order: Vec<Value> = chosen
            .iter()
            .map(|(fo_id, _, items)| {
                let lines: Vec<Value> = items.iter().map(|(id, q)| json!({"id": id, "quantity": q})).collect();
                json!({"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": lines})
            })
            .collect();
        let mut tracking = json!({"company": f.carrier, "number": f.tracking});
        if let Some(url) = &f.tracking_url {
            tracking["url"] = Value::String(url.clone());
        }
        let fulfillment =
            json!({"lineItemsByFulfillmentOrder": by_order, "notifyCustomer": true, "trackingInfo": tracking});
        graphql(conn, CREATE_FULFILMENT, json!({ "fulfillment": fulfillment }))
            .map(Step::Send)
            .map_err(|e| Outcome::Rejected(e.0))
    }

    fn cancel_request(&self, conn: Conn<'_>, external_id: &str, reason: &str) -> Result<Request, Unsendable> {
        let order = gid("Order", external_id, "order id")?;
        let note: String = reason.chars().take(255).collect();
        let base = json!({"orderId": order, "reason": "OTHER", "restock": false, "notifyCustomer": true,
            "staffNote": note});
        if at_least(api_version(conn)?, "2025-07") {
            let mut vars = base;
            vars["refundMethod"] = json!({"originalPaymentMethodsRefund": true});
            graphql(conn, CANCEL, vars)
        } else {
            let mut vars = base;
            vars["refund"] = Value::Bool(true);
            graphql(conn, CANCEL_BEFORE_2025_07, vars)
        }
    }

    fn probe_request(&self, conn: Conn<'_>) -> Result<Request, Unsendable> {
        graphql(conn, "query { shop { name } }", json!({}))
    }

    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome {
        if let Some(o) = wire::by_status(status, retry_after_secs, body) {
            return o;
        }
        let v = match wire::required_json(K, body) {
            Ok(v) => v,
            Err(o) => return o,
        };
        if let Some(errors) = v["errors"].as_array().filter(|e| !e.is_empty()) {
            let code = |e: &Value| e["extensions"]["code"].as_str().unwrap_or("").to_owned();
            if errors.iter().any(|e| code(e) == "THROTTLED") {
                return Outcome::Throttled { retry_after_secs: retry_after_secs.or_else(|| throttle_wait(&v)) };
            }
            let words: Vec<String> = errors.iter().filter_map(|e| e["message"].as_str().map(str::to_owned)).collect();
            let words = wire::short(&words.join("; "));
            if errors.iter().any(|e| code(e) == "INTERNAL_SERVER_ERROR") {
                return Outcome::Transient(format!("{K}: {words}"));
            }
            return Outcome::Rejected(format!("{K}: {words}"));
        }
        if let Some(errors) = v.get("errors").and_then(Value::as_str) {
            return Outcome::Rejected(format!("{K}: {}", wire::short(errors)));
        }
        let mut words = Vec::new();
        for payload in v["data"].as_object().into_iter().flat_map(|d| d.values()) {
            for key in ["userErrors", "orderCancelUserErrors"] {
                for e in payload[key].as_array().into_iter().flatten() {
                    let field = e["field"].as_array().map(|f| {
                        f.iter()
                            .map(|p| p.as_str().map(str::to_owned).unwrap_or_else(|| p.to_string()))
                            .collect::<Vec<_>>()
                    });
                    let message = e["message"].as_str().unwrap_or("(no message)");
                    words.push(match field {
                        Some(f) if !f.is_empty() => format!("{}: {message}", f.join(".")),
                        _ => message.to_owned(),
                    });
                }
            }
        }
        if !words.is_empty() {
            words.dedup();
            return Outcome::Rejected(format!("{K}: {}", wire::short(&words.join("; "))));
        }
        Outcome::Accepted
    }

    fn poll_request(
        &self,
        _conn: Conn<'_>,
        _checkpoint: Option<&str>,
        _start_ms: i64,
        _cursor: Option<&str>,
    ) -> Result<Option<Request>, Unsendable> {
        Ok(None)
    }

    fn read_poll(&self, _body: &[u8], _cursor: Option<&str>) -> Result<PollPage, String> {
        Err(format!("{K}: orders come by webhook; nothing is polled"))
    }

    fn with_items(&self, _order: &[u8], _items: &[u8]) -> Result<Vec<u8>, String> {
        Err(format!("{K}: an order carries its lines"))
    }
}

/// A fulfillment order's id, its location's id, and the (line item id,
/// quantity) pairs taken from it.
type Chosen = (String, String, Vec<(String, i64)>);

/// Seconds until the query cost Shopify asked for is back in the bucket,
/// from the answer's `extensions.cost.throttleStatus`.
fn throttle_wait(v: &Value) -> Option<i64> {
    let cost = &v["extensions"]["cost"];
    let (asked, status) = (cost["requestedQueryCost"].as_f64()?, &cost["throttleStatus"]);
    let (available, rate) = (status["currentlyAvailable"].as_f64()?, status["restoreRate"].as_f64()?);
    if rate.is_nan() || rate <= 0.0 || !asked.is_finite() || !available.is_finite() {
        return None;
    }
    // Whole seconds, at least one; a wait of hours is capped (the bucket
    // holds at most a few thousand points).
    let secs = ((asked - available) / rate).ceil().clamp(1.0, 3600.0);
    // `secs` is a whole number between 1 and 3600: the cast is exact.
    Some(secs as i64)
}
