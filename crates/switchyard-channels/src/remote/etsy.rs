//! Etsy: the Open API v3 on `https://openapi.etsy.com`, each request with
//! `x-api-key: <keystring>:<shared secret>` (the shared secret is required
//! from 9 February 2026) and `Authorization: Bearer <access token>`. Tokens
//! last an hour; the refresh is `POST https://api.etsy.com/v3/public/oauth/token`
//! with the form `grant_type=refresh_token`, `client_id`, `refresh_token`,
//! and its answer holds a new refresh token to store
//! (<https://developers.etsy.com/documentation/essentials/authentication>).
//!
//! Setting: `shop_id`. Credentials: `client_id`, `shared_secret`,
//! `refresh_token`.
//!
//! - **Stock**: a listing's quantity is its inventory record's — `updateListing`
//!   no longer sets it — and [`updateListingInventory`] replaces the whole
//!   record. So the first step reads it (`getListingInventory`), and
//!   [`Remote::resume`] writes it back with the quantity of each product whose
//!   `sku` is a level's SKU (or the only product, for a level named
//!   `listing:<id>`), everything else as it was: property values, prices
//!   (`amount ÷ divisor` written as a decimal number, exactly), enabled flags,
//!   processing profiles. Levels are grouped by listing (the level's
//!   `listing`). Limitations: a change made on Etsy between the read and the
//!   write is overwritten; Etsy takes 0 to 999 (more is sent as 999); where
//!   the quantity does not vary by property (`quantity_on_property` empty)
//!   every product shares it, so levels of one listing must agree.
//! - **Orders in**: `getShopReceipts` with `min_last_modified` (Unix seconds),
//!   `sort_on=created`, `sort_order=asc`, 100 a page by `offset`; each receipt
//!   is ready for [`crate::etsy::Etsy`]. Sorted by creation, a receipt that
//!   changes while a run pages keeps its place (sorted by change, it would
//!   jump to the end and shift the next page's first receipt onto a page
//!   already read: skipped). The checkpoint is the newest
//!   `updated_timestamp`, never past the run's start (the engine's rule).
//! - **Fulfilment**: [`createReceiptShipment`],
//!   `POST /v3/application/shops/{shop_id}/receipts/{receipt_id}/tracking`
//!   with `tracking_code` and `carrier_name`; Etsy marks the whole receipt
//!   shipped and emails the buyer (lines are not reported).
//! - **Cancel**: not in the Open API (a seller cancels in Shop Manager):
//!   [`Unsendable`].
//!
//! Rate: 10 requests a second and 10,000 a day per app by default
//! (<https://developers.etsy.com/documentation/essentials/rate-limits>).
//!
//! [`updateListingInventory`]: https://developers.etsy.com/documentation/reference#operation/updateListingInventory
//! [`createReceiptShipment`]: https://developers.etsy.com/documentation/reference#operation/createReceiptShipment

use serde_json::{json, Map, Value};

use super::wire::{self, setting};
use super::{
    Conn, Fulfilment, Host, Method, Outcome, Pending, PollPage, Polled, RateLimit, Remote, Request, Resume, Step,
    StockLevel, Token, Unsendable,
};
use crate::Kind;

const K: &str = "etsy";

/// The most Etsy takes for one offering.
const MAX_QUANTITY: i64 = 999;

pub struct Etsy;

fn number<'a>(id: &'a str, what: &str) -> Result<&'a str, Unsendable> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(Unsendable(format!("{K}: {what} {id:?} is not an Etsy id (a number)")))
    }
}

fn shop(conn: Conn<'_>) -> Result<&str, Unsendable> {
    number(setting(conn, K, "shop_id", "the Etsy shop's numeric id")?, "shop_id")
}

fn inventory_path(listing: &str) -> String {
    format!("/v3/application/listings/{listing}/inventory")
}

/// `amount ÷ divisor` as a decimal number's text, exactly (`1250 ÷ 100` is
/// `12.50`); `None` unless the divisor is a power of ten.
fn decimal(amount: i64, divisor: i64) -> Option<String> {
    let digits = divisor.checked_ilog10()?;
    if 10i64.checked_pow(digits)? != divisor {
        return None;
    }
    let (sign, magnitude) = if amount < 0 { ("-", amount.unsigned_abs()) } else { ("", amount.unsigned_abs()) };
    let d = divisor.unsigned_abs();
    Some(match digits {
        0 => format!("{sign}{magnitude}"),
        _ => format!("{sign}{}.{:0width$}", magnitude / d, magnitude % d, width = digits as usize),
    })
}

/// The `updateListingInventory` body for a `getListingInventory` answer with
/// these levels' quantities set.
fn inventory_update(listing: &str, levels: &[StockLevel], answer: &Value) -> Result<Value, Outcome> {
    let Some(products) = answer["products"].as_array() else {
        return Err(Outcome::Transient(format!("{K}: listing {listing}'s inventory has no products")));
    };
    let live: Vec<&Value> = products.iter().filter(|p| !p["is_deleted"].as_bool().unwrap_or(false)).collect();
    let shared = answer["quantity_on_property"].as_array().is_none_or(Vec::is_empty) && live.len() > 1;
    let clamp = |q: i64| q.clamp(0, MAX_QUANTITY);
    // The quantity each product gets: a level naming its SKU, or naming the
    // listing when it has one product.
    let quantity_of = |p: &Value| {
        let sku = p["sku"].as_str().unwrap_or("").trim();
        levels.iter().find(|l| {
            (!sku.is_empty() && l.channel_sku.trim() == sku)
                || (live.len() == 1 && l.channel_sku.trim() == format!("listing:{listing}"))
        })
    };
    let unmatched: Vec<&str> = levels
        .iter()
        .filter(|l| !live.iter().any(|p| quantity_of(p) == Some(*l)))
        .map(|l| l.channel_sku.as_str())
        .collect();
    if !unmatched.is_empty() {
        return Err(Outcome::Rejected(format!(
            "{K}: listing {listing} has no product with SKU {}",
            unmatched.join(", ")
        )));
    }
    let shared_quantity = if shared {
        let mut qs: Vec<i64> = levels.iter().map(|l| clamp(l.quantity)).collect();
        qs.dedup();
        if qs.len() > 1 {
            return Err(Outcome::Rejected(format!(
                "{K}: listing {listing}'s products share one quantity (it does not vary by property), \
                 but the levels for its SKUs differ: {}",
                levels.iter().map(|l| format!("{} {}", l.channel_sku, l.quantity)).collect::<Vec<_>>().join(", ")
            )));
        }
        qs.first().copied()
    } else {
        None
    };
    let mut out = Vec::with_capacity(live.len());
    for p in &live {
        let new_quantity = shared_quantity.or_else(|| quantity_of(p).map(|l| clamp(l.quantity)));
        let mut offerings = Vec::new();
        for o in p["offerings"].as_array().into_iter().flatten() {
            if o["is_deleted"].as_bool().unwrap_or(false) {
                continue;
            }
            let price = &o["price"];
            let text = match (price["amount"].as_i64(), price["divisor"].as_i64()) {
                (Some(a), Some(d)) => decimal(a, d),
                _ => None,
            };
            // A decimal's text read as a JSON number: written back the same
            // (Etsy's prices have far fewer than 15 digits).
            let Some(price) = text.and_then(|t| serde_json::from_str::<Value>(&t).ok()) else {
                return Err(Outcome::Transient(format!("{K}: listing {listing}: an offering's price is unreadable")));
            };
            let quantity = new_quantity.or_else(|| o["quantity"].as_i64()).unwrap_or(0);
            let mut offering = json!({
                "price": price,
                "quantity": quantity,
                "is_enabled": o["is_enabled"].as_bool().unwrap_or(true),
            });
            if let Some(state) = o.get("readiness_state_id").filter(|s| !s.is_null()) {
                offering["readiness_state_id"] = state.clone();
            }
            offerings.push(offering);
        }
        let mut values = Vec::new();
        for pv in p["property_values"].as_array().into_iter().flatten() {
            let mut kept = Map::new();
            for key in ["property_id", "value_ids", "scale_id", "property_name", "values"] {
                if let Some(v) = pv.get(key).filter(|v| !v.is_null()) {
                    kept.insert(key.to_owned(), v.clone());
                }
            }
            values.push(Value::Object(kept));
        }
        out.push(json!({"sku": p["sku"].as_str().unwrap_or(""), "property_values": values, "offerings": offerings}));
    }
    let mut body = json!({ "products": out });
    for key in ["price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property"] {
        if let Some(v) = answer.get(key).filter(|v| v.is_array()) {
            body[key] = v.clone();
        }
    }
    Ok(body)
}

impl Remote for Etsy {
    fn kind(&self) -> Kind {
        Kind::Etsy
    }

    fn default_host(&self, host: Host) -> Option<&'static str> {
        Some(match host {
            Host::Api => "https://openapi.etsy.com",
            Host::Auth => "https://api.etsy.com",
        })
    }

    fn rate_limit(&self) -> RateLimit {
        RateLimit { requests: 10, per_ms: 1000, burst: 10 }
    }

    fn max_levels_per_request(&self) -> usize {
        100
    }

    fn token_request(&self, conn: Conn<'_>) -> Result<Option<Request>, Unsendable> {
        let client_id = wire::credential(conn, K, "client_id", "the Etsy app's keystring")?;
        let refresh = wire::credential(conn, K, "refresh_token", "the shop owner's OAuth refresh token")?;
        let fields = [("grant_type", "refresh_token"), ("client_id", client_id), ("refresh_token", refresh)];
        Ok(Some(wire::form(Host::Auth, "/v3/public/oauth/token".into(), &fields)))
    }

    fn read_token(&self, body: &[u8]) -> Result<Token, String> {
        wire::read_oauth_token(K, body)
    }

    fn authorize(&self, conn: Conn<'_>, access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable> {
        if req.host == Host::Auth {
            return Ok(()); // the refresh form carries the client id
        }
        let keystring = wire::credential(conn, K, "client_id", "the Etsy app's keystring")?;
        let secret = wire::credential(conn, K, "shared_secret", "the Etsy app's shared secret")?;
        let token = wire::access_token(K, access_token)?;
        req.headers.push(("x-api-key".into(), format!("{keystring}:{secret}")));
        req.headers.push(("Authorization".into(), format!("Bearer {token}")));
        Ok(())
    }

    fn stock_requests(&self, _conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Step>, Unsendable> {
        let mut by_listing: Vec<(String, Vec<StockLevel>)> = Vec::new();
        for l in levels {
            let Some(listing) = l.listing.as_deref() else {
                return Err(Unsendable(format!(
                    "{K}: SKU {} has no listing id: map it to its Etsy listing",
                    l.channel_sku
                )));
            };
            let listing = number(listing, &format!("SKU {}'s listing", l.channel_sku))?.to_owned();
            match by_listing.iter_mut().find(|(id, _)| *id == listing) {
                Some((_, group)) => group.push(l.clone()),
                None => by_listing.push((listing, vec![l.clone()])),
            }
        }
        let mut steps = Vec::new();
        for (listing, group) in by_listing {
            for chunk in wire::chunks(&group, self.max_levels_per_request()) {
                let request = wire::bare(Host::Api, Method::Get, inventory_path(&listing));
                steps.push(Step::Ask { request, then: Resume(Pending::Stock(listing.clone(), chunk.to_vec())) });
            }
        }
        Ok(steps)
    }

    fn resume(&self, _conn: Conn<'_>, then: &Resume, answer: &[u8]) -> Result<Step, Outcome> {
        let Resume(Pending::Stock(listing, levels)) = then else {
            return Err(Outcome::Rejected(format!("{K}: a shipment is sent in one step")));
        };
        let v = wire::required_json(K, answer)?;
        let body = inventory_update(listing, levels, &v)?;
        Ok(Step::Send(wire::json(Host::Api, Method::Put, inventory_path(listing), &body)))
    }

    fn fulfilment_request(&self, conn: Conn<'_>, f: &Fulfilment) -> Result<Step, Unsendable> {
        let shop = shop(conn)?;
        let receipt = number(&f.external_id, "receipt id")?;
        if f.tracking.trim().is_empty() || f.carrier.trim().is_empty() {
            return Err(Unsendable(format!("{K}: receipt {receipt}: a shipment needs a carrier and a tracking code")));
        }
        let path = format!("/v3/application/shops/{shop}/receipts/{receipt}/tracking");
        let fields = [("tracking_code", f.tracking.trim()), ("carrier_name", f.carrier.trim()), ("send_bcc", "false")];
        Ok(Step::Send(wire::form(Host::Api, path, &fields)))
    }

    fn cancel_request(&self, _conn: Conn<'_>, external_id: &str, _reason: &str) -> Result<Request, Unsendable> {
        Err(Unsendable(format!(
            "{K}: receipt {external_id}: the Open API cannot cancel an order; cancel it in Shop Manager \
             (Orders & Shipping → the order → Cancel)"
        )))
    }

    fn probe_request(&self, conn: Conn<'_>) -> Result<Request, Unsendable> {
        Ok(wire::bare(Host::Api, Method::Get, format!("/v3/application/shops/{}", shop(conn)?)))
    }

    fn checkpoint_at(&self, ms: i64) -> String {
        ms.div_euclid(1000).to_string()
    }

    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome {
        if let Some(o) = wire::by_status(status, retry_after_secs, body) {
            return o;
        }
        match wire::json_answer(K, body) {
            Ok(_) => Outcome::Accepted,
            Err(o) => o,
        }
    }

    fn poll_request(
        &self,
        conn: Conn<'_>,
        checkpoint: Option<&str>,
        start_ms: i64,
        cursor: Option<&str>,
    ) -> Result<Option<Request>, Unsendable> {
        let shop = shop(conn)?;
        let since = match checkpoint {
            Some(c) => number(c, "checkpoint")?.to_owned(),
            None => start_ms.div_euclid(1000).max(0).to_string(),
        };
        let offset = match cursor {
            Some(c) => number(c, "cursor")?,
            None => "0",
        };
        let path = format!(
            "/v3/application/shops/{shop}/receipts?min_last_modified={since}&sort_on=created&sort_order=asc\
             &limit=100&offset={offset}"
        );
        Ok(Some(wire::bare(Host::Api, Method::Get, path)))
    }

    fn read_poll(&self, body: &[u8], cursor: Option<&str>) -> Result<PollPage, String> {
        let v: Value = serde_json::from_slice(body).map_err(|_| format!("{K}: the receipts answer is not JSON"))?;
        let results = v["results"].as_array().ok_or_else(|| match wire::error_words(body) {
            Some(words) => format!("{K}: getShopReceipts failed: {words}"),
            None => format!("{K}: the receipts answer has no results"),
        })?;
        let offset: u64 = cursor.and_then(|c| c.trim().parse().ok()).unwrap_or(0);
        let mut page = PollPage { orders: Vec::with_capacity(results.len()), next: None, newest: None };
        for r in results {
            let updated = wire::id_of(&r["updated_timestamp"]).or_else(|| wire::id_of(&r["update_timestamp"]));
            if let Some(updated) = updated {
                let newest = page.newest.as_deref().map_or(updated.as_str(), |n| wire::later_checkpoint(n, &updated));
                page.newest = Some(newest.to_owned());
            }
            page.orders.push(Polled::Ready(r.to_string().into_bytes()));
        }
        let seen = offset.saturating_add(results.len() as u64);
        let count = v["count"].as_u64().unwrap_or(0);
        if !results.is_empty() && seen < count {
            page.next = Some(seen.to_string());
        }
        Ok(page)
    }

    fn with_items(&self, _order: &[u8], _items: &[u8]) -> Result<Vec<u8>, String> {
        Err(format!("{K}: a receipt carries its transactions"))
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn prices_are_written_exactly() {
        assert_eq!(decimal(1250, 100).as_deref(), Some("12.50"));
        assert_eq!(decimal(5, 100).as_deref(), Some("0.05"));
        assert_eq!(decimal(-5, 100).as_deref(), Some("-0.05"));
        assert_eq!(decimal(1500, 1).as_deref(), Some("1500"));
        assert_eq!(decimal(1250, 3), None);
        assert_eq!(decimal(1250, 0), None);
        assert_eq!(decimal(i64::MIN, 1000).as_deref(), Some("-9223372036854775.808"));
    }
}
