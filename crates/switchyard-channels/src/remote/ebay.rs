//! eBay: the Sell APIs on `https://api.ebay.com` with an OAuth user access
//! token (`Authorization: Bearer`, two hours). The refresh is
//! `POST /identity/v1/oauth2/token` with basic auth of `client_id:client_secret`
//! and the form `grant_type=refresh_token`, `refresh_token`, `scope`
//! (<https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html>);
//! setting `scope` defaults to [`DEFAULT_SCOPE`] (`sell.inventory` and
//! `sell.fulfillment`).
//!
//! - **Stock**: Inventory API `bulkUpdatePriceQuantity`, `{"requests": [{"sku",
//!   "shipToLocationAvailability": {"quantity"}}]}`, 25 SKUs a request. The
//!   answer is 200 (or 207) with a `statusCode` and `errors` per SKU: any
//!   SKU refused rejects the request. It sets the inventory item's total; an
//!   offer with its own lower `availableQuantity` still caps its listing, and
//!   only listings the Inventory API manages can be set this way.
//! - **Orders in**: Fulfillment API `getOrders` with
//!   `filter=lastmodifieddate:[<ISO 8601>..]`, 100 a page by `offset`; each
//!   order is ready for [`crate::ebay::Ebay`]. The checkpoint is the newest
//!   `lastModifiedDate`.
//! - **Fulfilment**: `createShippingFulfillment` names eBay's line item ids,
//!   so the first step asks for the order (`getOrder`) and the shipped SKUs
//!   (`sku`, or `item:<legacyItemId>[:<legacyVariationId>]`) find the lines
//!   not yet fulfilled; then `POST /sell/fulfillment/v1/order/{orderId}/
//!   shipping_fulfillment` with `lineItems`, `shippedDate`,
//!   `shippingCarrierCode` (the carrier as given: eBay's codes are `USPS`,
//!   `UPS`, `FedEx`, …) and `trackingNumber`; 201 is done.
//! - **Cancel**: not sent — [`Unsendable`]. A seller's cancellation is the
//!   Post-Order API's `POST /post-order/v2/cancellation`, which takes another
//!   authorization scheme and, for EU and UK sellers, signed requests; cancel
//!   in Seller Hub.
//!
//! Rate: the Sell APIs count calls a day (Inventory 2,000,000; Fulfillment
//! 100,000); we pace at 10 a second, bursts of 20.
//!
//! Sources:
//! <https://developer.ebay.com/api-docs/sell/inventory/resources/offer/methods/bulkUpdatePriceQuantity>,
//! <https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrders>, and
//! `createShippingFulfillment` under
//! <https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/shipping_fulfillment/methods/>.

use serde_json::{json, Value};

use super::wire::{self, opt_setting};
use super::{
    Conn, Fulfilment, Host, Method, Outcome, Pending, PollPage, Polled, RateLimit, Remote, Request, Resume, Step,
    StockLevel, Token, Unsendable,
};
use crate::Kind;

const K: &str = "ebay";

/// The scopes the calls above need.
pub const DEFAULT_SCOPE: &str =
    "https://api.ebay.com/oauth/api_scope/sell.inventory https://api.ebay.com/oauth/api_scope/sell.fulfillment";

pub struct Ebay;

fn order_path(external_id: &str) -> Result<String, Unsendable> {
    let id = external_id.trim();
    if id.is_empty() {
        return Err(Unsendable(format!("{K}: a shipment needs its order id")));
    }
    Ok(format!("/sell/fulfillment/v1/order/{}", wire::encode(id)))
}

/// A checkpoint or time as eBay's filter writes it: ISO 8601 characters
/// kept, anything else encoded.
fn filter_time(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '0'..='9' | 'T' | 'Z' | ':' | '.' | '-' => c.to_string(),
            other => wire::encode(&other.to_string()),
        })
        .collect()
}

impl Remote for Ebay {
    fn kind(&self) -> Kind {
        Kind::Ebay
    }

    fn default_host(&self, _host: Host) -> Option<&'static str> {
        Some("https://api.ebay.com")
    }

    fn rate_limit(&self) -> RateLimit {
        RateLimit { requests: 10, per_ms: 1000, burst: 20 }
    }

    fn max_levels_per_request(&self) -> usize {
        25
    }

    fn token_request(&self, conn: Conn<'_>) -> Result<Option<Request>, Unsendable> {
        wire::credential(conn, K, "client_id", "the eBay app's client id")?;
        wire::credential(conn, K, "client_secret", "the eBay app's client secret")?;
        let refresh = wire::credential(conn, K, "refresh_token", "the seller's OAuth refresh token")?;
        let scope = opt_setting(conn, "scope").unwrap_or(DEFAULT_SCOPE);
        let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", scope)];
        Ok(Some(wire::form(Host::Auth, "/identity/v1/oauth2/token".into(), &fields)))
    }

    fn read_token(&self, body: &[u8]) -> Result<Token, String> {
        wire::read_oauth_token(K, body)
    }

    fn authorize(&self, conn: Conn<'_>, access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable> {
        let value = match req.host {
            Host::Auth => wire::basic(
                wire::credential(conn, K, "client_id", "the eBay app's client id")?,
                wire::credential(conn, K, "client_secret", "the eBay app's client secret")?,
            ),
            Host::Api => format!("Bearer {}", wire::access_token(K, access_token)?),
        };
        req.headers.push(("Authorization".into(), value));
        Ok(())
    }

    fn stock_requests(&self, _conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Step>, Unsendable> {
        let mut steps = Vec::new();
        for chunk in wire::chunks(levels, self.max_levels_per_request()) {
            let mut requests = Vec::with_capacity(chunk.len());
            for l in chunk {
                let sku = l.channel_sku.trim();
                if sku.is_empty() || sku.len() > 50 {
                    return Err(Unsendable(format!("{K}: SKU {sku:?} must be 1 to 50 characters for eBay")));
                }
                requests.push(json!({"sku": sku, "shipToLocationAvailability": {"quantity": l.quantity.max(0)}}));
            }
            let path = "/sell/inventory/v1/bulk_update_price_quantity".to_owned();
            steps.push(Step::Send(wire::json(Host::Api, Method::Post, path, &json!({ "requests": requests }))));
        }
        Ok(steps)
    }

    fn fulfilment_request(&self, _conn: Conn<'_>, f: &Fulfilment) -> Result<Step, Unsendable> {
        let path = order_path(&f.external_id)?;
        if f.lines.is_empty() {
            return Err(Unsendable(format!("{K}: order {} shipped no lines", f.external_id)));
        }
        Ok(Step::Ask {
            request: wire::bare(Host::Api, Method::Get, path),
            then: Resume(Pending::Fulfilment(f.clone())),
        })
    }

    fn resume(&self, _conn: Conn<'_>, then: &Resume, answer: &[u8]) -> Result<Step, Outcome> {
        let Resume(Pending::Fulfilment(f)) = then else {
            return Err(Outcome::Rejected(format!("{K}: nothing to resume for stock")));
        };
        let v = wire::required_json(K, answer)?;
        let Some(items) = v["lineItems"].as_array() else {
            return Err(Outcome::Transient(format!("{K}: the getOrder answer has no lineItems")));
        };
        // (line item id, its names, quantity not yet fulfilled)
        let mut open: Vec<(String, Vec<String>, i64)> = items
            .iter()
            .filter(|li| li["lineItemFulfillmentStatus"].as_str() != Some("FULFILLED"))
            .filter_map(|li| {
                let id = wire::id_of(&li["lineItemId"])?;
                let mut names: Vec<String> = li["sku"].as_str().map(|s| s.trim().to_owned()).into_iter().collect();
                if let Some(item) = wire::id_of(&li["legacyItemId"]) {
                    names.push(match wire::id_of(&li["legacyVariationId"]) {
                        Some(variation) => format!("item:{item}:{variation}"),
                        None => format!("item:{item}"),
                    });
                }
                Some((id, names, li["quantity"].as_i64().unwrap_or(0)))
            })
            .collect();
        let mut shipped: Vec<(String, i64)> = Vec::new();
        for line in &f.lines {
            let mut wanted = line.quantity;
            for (id, names, left) in open.iter_mut() {
                if wanted > 0 && *left > 0 && names.iter().any(|n| !n.is_empty() && *n == line.channel_sku) {
                    let take = wanted.min(*left);
                    (*left, wanted) = (*left - take, wanted - take);
                    match shipped.iter_mut().find(|(i, _)| i == id) {
                        Some((_, q)) => *q += take,
                        None => shipped.push((id.clone(), take)),
                    }
                }
            }
            if wanted > 0 {
                return Err(Outcome::Rejected(format!(
                    "{K}: order {}: {wanted} more of SKU {} than eBay has unfulfilled",
                    f.external_id, line.channel_sku
                )));
            }
        }
        let body = json!({
            "lineItems": shipped.iter().map(|(id, q)| json!({"lineItemId": id, "quantity": q})).collect::<Vec<_>>(),
            "shippedDate": wire::iso8601_from_ms(f.shipped_at_ms),
            "shippingCarrierCode": f.carrier.trim(),
            "trackingNumber": f.tracking.trim(),
        });
        let path = format!("{}/shipping_fulfillment", order_path(&f.external_id).map_err(|e| Outcome::Rejected(e.0))?);
        Ok(Step::Send(wire::json(Host::Api, Method::Post, path, &body)))
    }

    fn cancel_request(&self, _conn: Conn<'_>, external_id: &str, _reason: &str) -> Result<Request, Unsendable> {
        Err(Unsendable(format!(
            "{K}: order {external_id}: Switchyard does not send eBay cancellations (the Post-Order API needs its \
             own authorization and, for EU/UK sellers, signed requests); cancel it in Seller Hub"
        )))
    }

    fn probe_request(&self, _conn: Conn<'_>) -> Result<Request, Unsendable> {
        Ok(wire::bare(Host::Api, Method::Get, "/sell/fulfillment/v1/order?limit=1".to_owned()))
    }

    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome {
        if let Some(o) = wire::by_status(status, retry_after_secs, body) {
            return o;
        }
        let v = match wire::json_answer(K, body) {
            Ok(v) => v,
            Err(o) => return o,
        };
        let mut words = Vec::new();
        for r in v["responses"].as_array().into_iter().flatten() {
            let code = r["statusCode"].as_i64().unwrap_or(200);
            let errors: Vec<String> = r["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["longMessage"].as_str().or(e["message"].as_str()).map(str::to_owned))
                .collect();
            if !(200..300).contains(&code) || !errors.is_empty() {
                let sku = r["sku"].as_str().unwrap_or("?");
                let why = if errors.is_empty() { format!("status {code}") } else { errors.join(", ") };
                words.push(format!("{sku}: {why}"));
            }
        }
        if words.is_empty() {
            Outcome::Accepted
        } else {
            Outcome::Rejected(format!("{K}: {}", wire::short(&words.join("; "))))
        }
    }

    fn poll_request(
        &self,
        _conn: Conn<'_>,
        checkpoint: Option<&str>,
        start_ms: i64,
        cursor: Option<&str>,
    ) -> Result<Option<Request>, Unsendable> {
        let since = checkpoint.map(filter_time).unwrap_or_else(|| wire::iso8601_from_ms(start_ms));
        let offset = match cursor.map(str::trim) {
            Some(c) if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) => c,
            Some(c) => return Err(Unsendable(format!("{K}: the cursor {c:?} is not an offset"))),
            None => "0",
        };
        let path =
            format!("/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B{since}..%5D&limit=100&offset={offset}");
        Ok(Some(wire::bare(Host::Api, Method::Get, path)))
    }

    fn read_poll(&self, body: &[u8], _cursor: Option<&str>) -> Result<PollPage, String> {
        let v: Value = serde_json::from_slice(body).map_err(|_| format!("{K}: the getOrders answer is not JSON"))?;
        let orders = match &v["orders"] {
            Value::Array(orders) => orders.as_slice(),
            Value::Null if v["total"].as_u64() == Some(0) => &[],
            _ => {
                return Err(match wire::error_words(body) {
                    Some(words) => format!("{K}: getOrders failed: {words}"),
                    None => format!("{K}: the getOrders answer has no orders"),
                })
            }
        };
        let mut page = PollPage { orders: Vec::with_capacity(orders.len()), next: None, newest: None };
        for o in orders {
            if let Some(modified) = o["lastModifiedDate"].as_str() {
                let newest = page.newest.as_deref().map_or(modified, |n| wire::later_checkpoint(n, modified));
                page.newest = Some(newest.to_owned());
            }
            page.orders.push(Polled::Ready(o.to_string().into_bytes()));
        }
        let (offset, total) = (v["offset"].as_u64().unwrap_or(0), v["total"].as_u64().unwrap_or(0));
        let seen = offset.saturating_add(orders.len() as u64);
        if !orders.is_empty() && seen < total {
            page.next = Some(seen.to_string());
        }
        Ok(page)
    }

    fn with_items(&self, _order: &[u8], _items: &[u8]) -> Result<Vec<u8>, String> {
        Err(format!("{K}: an order carries its line items"))
    }
}
