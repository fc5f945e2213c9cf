//! Amazon: the Selling Partner API, on `sellingpartnerapi-<region>.amazon.com`
//! (setting `region`: `na`, the default, `eu` or `fe`), with a Login with
//! Amazon access token in `x-amz-access-token`. Tokens last an hour: the
//! refresh is `POST https://api.amazon.com/auth/o2/token` with the form
//! `grant_type=refresh_token`, `refresh_token`, `client_id`, `client_secret`
//! (<https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api>).
//!
//! Settings: `seller_id` (the merchant token), `marketplace_id` (e.g.
//! `ATVPDKIKX0DER`), `product_type` (default `PRODUCT`),
//! `fulfillment_channel_code` (default `DEFAULT`, merchant-fulfilled).
//!
//! - **Stock**: Listings Items `patchListingsItem`,
//!   `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…`,
//!   one SKU a request, a JSON Patch `merge` of
//!   `/attributes/fulfillment_availability` with
//!   `[{fulfillment_channel_code, quantity}]`: `merge` (added June 2025)
//!   sets the quantity and keeps the listing's handling time and restock
//!   date, which `replace` would drop
//!   (<https://developer-docs.amazon.com/sp-api/docs/merge-a-listing>). The
//!   answer is 200 with `status: INVALID` and `issues` when Amazon refuses
//!   it: a rejection.
//! - **Orders in**: Orders v0 `getOrders` with `LastUpdatedAfter` (ISO 8601)
//!   and the statuses `amazon.rs` can take (not `Pending`, which has no
//!   prices yet), 100 a page, then `NextToken`; each order is
//!   [`Polled::NeedsItems`] with its `getOrderItems` request, and
//!   [`Remote::with_items`] joins the two into the `{"order", "items"}`
//!   payload [`crate::amazon::Amazon`] parses. An order whose items run to
//!   a second page is refused by the parser (it names the `NextToken`).
//! - **Fulfilment**: Orders v0 `confirmShipment`,
//!   `POST /orders/v0/orders/{orderId}/shipmentConfirmation`
//!   (<https://developer-docs.amazon.com/sp-api/docs/confirm-the-shipment-status>).
//!   It names order item ids, so the first step asks for the order's items
//!   and the shipped SKUs (`SellerSKU`, or `asin:<ASIN>`) find them, up to
//!   what is left unshipped. `carrierCode` is Amazon's code when the carrier
//!   is one it lists, else `Other` with the carrier's name; the package
//!   reference id is a number derived from the tracking number, so sending
//!   the same shipment twice edits it rather than adding one.
//! - **Cancel**: the Orders API has no seller cancellation (it is done in
//!   Seller Central, or by an order acknowledgement feed): [`Unsendable`].
//!
//! Rates are per operation (the `x-amzn-RateLimit-Limit` defaults):
//! `patchListingsItem` 5/s burst 10 ([`Remote::rate_limit`], what stock
//! pushes meet); `getOrders` 0.0167/s burst 20; `getOrderItems` 0.5/s burst
//! 30; `confirmShipment` 2/s burst 10 — [`Remote::limit_for`] names each.

use serde_json::{json, Value};

use super::wire::{self, opt_setting, setting};
use super::{
    Conn, Fulfilment, Host, Method, Outcome, Pending, PollPage, Polled, RateLimit, Remote, Request, Resume, Step,
    StockLevel, Token, Unsendable,
};
use crate::Kind;

const K: &str = "amazon";

/// The order statuses polled: all but `Pending` and `PendingAvailability`,
/// whose items carry no prices yet (the order comes again once it moves).
const POLLED_STATUSES: &str = "Unshipped,PartiallyShipped,Shipped,InvoiceUnconfirmed,Canceled,Unfulfillable";

/// Amazon's carrier codes for the carriers most shipped with; any other is
/// sent as `Other` with its name.
const CARRIER_CODES: [&str; 24] = [
    "UPS",
    "USPS",
    "FedEx",
    "DHL",
    "DHL eCommerce",
    "OnTrac",
    "Amazon Shipping",
    "Royal Mail",
    "Parcelforce",
    "DPD",
    "Hermes",
    "Evri",
    "Yodel",
    "GLS",
    "Deutsche Post",
    "Canada Post",
    "Purolator",
    "Australia Post",
    "Japan Post",
    "Yamato Transport",
    "Sagawa Express",
    "La Poste",
    "Colissimo",
    "Chronopost",
];

pub struct Amazon;

fn marketplace(conn: Conn<'_>) -> Result<&str, Unsendable> {
    setting(conn, K, "marketplace_id", "the Amazon marketplace, e.g. ATVPDKIKX0DER")
}

fn items_request(order_id: &str) -> Request {
    wire::bare(Host::Api, Method::Get, format!("/orders/v0/orders/{}/orderItems", wire::encode(order_id)))
}

/// A package reference id: positive and numeric, the same for the same
/// tracking number (FNV-1a, 32 bits, plus one).
fn package_reference(tracking: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in tracking.trim().bytes() {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (u64::from(hash) + 1).to_string()
}

fn carrier(name: &str) -> (String, Option<String>) {
    let squeeze = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    match CARRIER_CODES.iter().find(|c| squeeze(c) == squeeze(name)) {
        Some(code) => ((*code).to_owned(), None),
        None => ("Other".to_owned(), Some(name.trim().to_owned())),
    }
}

impl Remote for Amazon {
    fn kind(&self) -> Kind {
        Kind::Amazon
    }

    fn default_host(&self, host: Host) -> Option<&'static str> {
        Some(match host {
            Host::Api => "https://sellingpartnerapi-na.amazon.com",
            Host::Auth => "https://api.amazon.com",
        })
    }

    fn base_url(&self, conn: Conn<'_>, host: Host) -> Result<String, Unsendable> {
        if let Some(url) = opt_setting(conn, "base_url") {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        match (host, opt_setting(conn, "region").unwrap_or("na")) {
            (Host::Auth, _) => Ok("https://api.amazon.com".into()),
            (Host::Api, region @ ("na" | "eu" | "fe")) => Ok(format!("https://sellingpartnerapi-{region}.amazon.com")),
            (Host::Api, other) => {
                Err(Unsendable(format!("{K}: the setting `region` must be na, eu or fe, not {other:?}")))
            }
        }
    }

    fn rate_limit(&self) -> RateLimit {
        RateLimit { requests: 5, per_ms: 1000, burst: 10 }
    }

    fn limit_for(&self, req: &Request) -> (&'static str, RateLimit) {
        let path = req.path.split('?').next().unwrap_or("");
        match (req.method, path) {
            (_, p) if p.starts_with("/listings/") => ("patchListingsItem", self.rate_limit()),
            (Method::Get, "/orders/v0/orders") => ("getOrders", RateLimit { requests: 1, per_ms: 60_000, burst: 20 }),
            (Method::Get, p) if p.ends_with("/orderItems") => {
                ("getOrderItems", RateLimit { requests: 1, per_ms: 2000, burst: 30 })
            }
            (Method::Post, p) if p.ends_with("/shipmentConfirmation") => {
                ("confirmShipment", RateLimit { requests: 2, per_ms: 1000, burst: 10 })
            }
            _ => ("other", RateLimit { requests: 1, per_ms: 1000, burst: 5 }),
        }
    }

    fn max_levels_per_request(&self) -> usize {
        1
    }

    fn token_request(&self, conn: Conn<'_>) -> Result<Option<Request>, Unsendable> {
        let client_id = wire::credential(conn, K, "client_id", "the LWA app's client id")?;
        let client_secret = wire::credential(conn, K, "client_secret", "the LWA app's client secret")?;
        let refresh = wire::credential(conn, K, "refresh_token", "the seller's LWA refresh token")?;
        let fields = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ];
        Ok(Some(wire::form(Host::Auth, "/auth/o2/token".into(), &fields)))
    }

    fn read_token(&self, body: &[u8]) -> Result<Token, String> {
        wire::read_oauth_token(K, body)
    }

    fn authorize(&self, _conn: Conn<'_>, access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable> {
        if req.host == Host::Auth {
            return Ok(()); // the token request carries its client credentials in its form
        }
        req.headers.push(("x-amz-access-token".into(), wire::access_token(K, access_token)?.to_owned()));
        Ok(())
    }

    fn stock_requests(&self, conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Step>, Unsendable> {
        let seller = setting(conn, K, "seller_id", "the seller's merchant token")?;
        let marketplace = marketplace(conn)?;
        let product_type = opt_setting(conn, "product_type").unwrap_or("PRODUCT");
        let channel = opt_setting(conn, "fulfillment_channel_code").unwrap_or("DEFAULT");
        let mut steps = Vec::with_capacity(levels.len());
        for l in levels {
            let sku = l.channel_sku.trim();
            if sku.is_empty() {
                return Err(Unsendable(format!("{K}: a stock level has no SKU")));
            }
            let path = format!(
                "/listings/2021-08-01/items/{}/{}?marketplaceIds={}",
                wire::encode(seller),
                wire::encode(sku),
                wire::encode(marketplace)
            );
            let body = json!({
                "productType": product_type,
                "patches": [{
                    "op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": channel, "quantity": l.quantity.max(0)}],
                }],
            });
            steps.push(Step::Send(wire::json(Host::Api, Method::Patch, path, &body)));
        }
        Ok(steps)
    }

    fn fulfilment_request(&self, conn: Conn<'_>, f: &Fulfilment) -> Result<Step, Unsendable> {
        marketplace(conn)?;
        if f.external_id.trim().is_empty() || f.lines.is_empty() {
            return Err(Unsendable(format!("{K}: a shipment needs an order id and its lines")));
        }
        if f.tracking.trim().is_empty() || f.carrier.trim().is_empty() {
            return Err(Unsendable(format!(
                "{K}: order {}: confirmShipment needs a carrier and a tracking number",
                f.external_id
            )));
        }
        Ok(Step::Ask { request: items_request(f.external_id.trim()), then: Resume(Pending::Fulfilment(f.clone())) })
    }

    fn resume(&self, conn: Conn<'_>, then: &Resume, answer: &[u8]) -> Result<Step, Outcome> {
        let Resume(Pending::Fulfilment(f)) = then else {
            return Err(Outcome::Rejected(format!("{K}: nothing to resume for stock")));
        };
        let marketplace = marketplace(conn).map_err(|e| Outcome::Rejected(e.0))?;
        let v = wire::required_json(K, answer)?;
        let Some(items) = v["payload"]["OrderItems"].as_array() else {
            return Err(Outcome::Transient(format!("{K}: the getOrderItems answer has no OrderItems")));
        };
        // (order item id, its names, left to ship)
        let mut open: Vec<(String, Vec<String>, i64)> = items
            .iter()
            .filter_map(|item| {
                let id = wire::id_of(&item["OrderItemId"])?;
                let ordered = item["QuantityOrdered"].as_i64()?;
                let left = ordered - item["QuantityShipped"].as_i64().unwrap_or(0);
                let mut names: Vec<String> =
                    item["SellerSKU"].as_str().map(|s| s.trim().to_owned()).into_iter().collect();
                names.extend(wire::id_of(&item["ASIN"]).map(|a| format!("asin:{a}")));
                Some((id, names, left))
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
                    "{K}: order {}: {wanted} more of SKU {} than Amazon has left to ship",
                    f.external_id, line.channel_sku
                )));
            }
        }
        let (code, name) = carrier(&f.carrier);
        let mut package = json!({
            "packageReferenceId": package_reference(&f.tracking),
            "carrierCode": code,
            "trackingNumber": f.tracking.trim(),
            "shipDate": wire::iso8601_from_ms(f.shipped_at_ms),
            "orderItems": shipped.iter().map(|(id, q)| json!({"orderItemId": id, "quantity": q})).collect::<Vec<_>>(),
        });
        if let Some(name) = name {
            package["carrierName"] = Value::String(name);
        }
        let path = format!("/orders/v0/orders/{}/shipmentConfirmation", wire::encode(f.external_id.trim()));
        let body = json!({"packageDetail": package, "marketplaceId": marketplace});
        Ok(Step::Send(wire::json(Host::Api, Method::Post, path, &body)))
    }

    fn cancel_request(&self, _conn: Conn<'_>, external_id: &str, _reason: &str) -> Result<Request, Unsendable> {
        Err(Unsendable(format!(
            "{K}: order {external_id}: the Selling Partner API's Orders API has no seller cancellation; \
             cancel it in Seller Central (Orders → Manage Orders → Cancel order)"
        )))
    }

    fn probe_request(&self, _conn: Conn<'_>) -> Result<Request, Unsendable> {
        Ok(wire::bare(Host::Api, Method::Get, "/sellers/v1/marketplaceParticipations".to_owned()))
    }

    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome {
        if let Some(o) = wire::by_status(status, retry_after_secs, body) {
            return o;
        }
        let v = match wire::json_answer(K, body) {
            Ok(v) => v,
            Err(o) => return o,
        };
        if let Some(words) = v["errors"].as_array().filter(|e| !e.is_empty()).and_then(|_| wire::error_words(body)) {
            return Outcome::Rejected(format!("{K}: {words}"));
        }
        if v["status"].as_str() == Some("INVALID") {
            let issues: Vec<String> = v["issues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| i["severity"].as_str().unwrap_or("ERROR") == "ERROR")
                .map(|i| {
                    format!("{}: {}", wire::id_of(&i["code"]).unwrap_or_default(), i["message"].as_str().unwrap_or(""))
                })
                .collect();
            let sku = v["sku"].as_str().unwrap_or("?");
            return Outcome::Rejected(format!("{K}: SKU {sku} refused: {}", wire::short(&issues.join("; "))));
        }
        Outcome::Accepted
    }

    fn poll_request(
        &self,
        conn: Conn<'_>,
        checkpoint: Option<&str>,
        start_ms: i64,
        cursor: Option<&str>,
    ) -> Result<Option<Request>, Unsendable> {
        let marketplace = wire::encode(marketplace(conn)?);
        let path = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            Some(next) => format!("/orders/v0/orders?MarketplaceIds={marketplace}&NextToken={}", wire::encode(next)),
            None => {
                let since = checkpoint.map(str::to_owned).unwrap_or_else(|| wire::iso8601_from_ms(start_ms));
                format!(
                    "/orders/v0/orders?MarketplaceIds={marketplace}&LastUpdatedAfter={}&OrderStatuses={}\
                     &MaxResultsPerPage=100",
                    wire::encode(since.trim()),
                    wire::encode(POLLED_STATUSES)
                )
            }
        };
        Ok(Some(wire::bare(Host::Api, Method::Get, path)))
    }

    fn read_poll(&self, body: &[u8], _cursor: Option<&str>) -> Result<PollPage, String> {
        let v: Value = serde_json::from_slice(body).map_err(|_| format!("{K}: the getOrders answer is not JSON"))?;
        if let Some(words) = v["errors"].as_array().filter(|e| !e.is_empty()).and_then(|_| wire::error_words(body)) {
            return Err(format!("{K}: getOrders failed: {words}"));
        }
        let payload = &v["payload"];
        let orders = payload["Orders"].as_array().ok_or_else(|| format!("{K}: the getOrders answer has no Orders"))?;
        let mut page = PollPage { orders: Vec::with_capacity(orders.len()), next: None, newest: None };
        for (i, o) in orders.iter().enumerate() {
            let id =
                wire::id_of(&o["AmazonOrderId"]).ok_or_else(|| format!("{K}: Orders[{i}] has no AmazonOrderId"))?;
            if let Some(updated) = o["LastUpdateDate"].as_str() {
                let newest = page.newest.as_deref().map_or(updated, |n| wire::later_checkpoint(n, updated));
                page.newest = Some(newest.to_owned());
            }
            page.orders.push(Polled::NeedsItems { order: o.to_string().into_bytes(), items: items_request(&id) });
        }
        page.next = payload["NextToken"].as_str().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        Ok(page)
    }

    fn with_items(&self, order: &[u8], items: &[u8]) -> Result<Vec<u8>, String> {
        let order: Value = serde_json::from_slice(order).map_err(|_| format!("{K}: the order is not JSON"))?;
        let items: Value =
            serde_json::from_slice(items).map_err(|_| format!("{K}: the getOrderItems answer is not JSON"))?;
        Ok(json!({"order": order, "items": items}).to_string().into_bytes())
    }
}
