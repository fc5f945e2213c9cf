//! WooCommerce: the REST API v3 (`/wp-json/wc/v3/…`) on the store's own site
//! (setting `store_url`, `https://…`), with HTTP basic auth of the REST
//! key's `consumer_key:consumer_secret` — which WooCommerce accepts over
//! HTTPS only. Keys do not expire. Orders come in by webhook.
//!
//! - **Stock**: [`products/batch`] with `{"update": [{"id", "manage_stock":
//!   true, "stock_quantity"}]}`, 100 a request (WooCommerce's batch limit).
//!   A variation's stock lives on the variation: its level's `listing` is
//!   `<parent id>:<variation id>`, sent to `products/<parent>/variations/batch`.
//!   A batch answers 200 with an `error` on each item it refused: any such
//!   error rejects the request.
//! - **Fulfilment**: WooCommerce has no tracking field of its own, so two
//!   steps: `PUT orders/<id>` with `status: completed` (harmless to repeat),
//!   then a [customer note] with the carrier and tracking number (and link),
//!   which WooCommerce emails to the buyer. Lines are not reported: the
//!   order is completed as a whole.
//! - **Cancel**: `PUT orders/<id>` with `status: cancelled` (the reason is
//!   not sent: the order has no field for it).
//!
//! Rate: WooCommerce sets none for REST v3; the store's host does. We pace
//! ourselves at 5 requests a second (bursts of 10) to spare shared hosting.
//!
//! [`products/batch`]: https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-products
//! [customer note]: https://woocommerce.github.io/woocommerce-rest-api-docs/#create-an-order-note

use serde_json::{json, Value};

use super::wire::{self, opt_setting};
use super::{
    Conn, Fulfilment, Host, Method, Outcome, Pending, PollPage, RateLimit, Remote, Request, Resume, Step, StockLevel,
    Token, Unsendable,
};
use crate::Kind;

const K: &str = "woocommerce";

pub struct WooCommerce;

/// A WooCommerce id: digits only.
fn number<'a>(id: &'a str, what: &str) -> Result<&'a str, Unsendable> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(Unsendable(format!("{K}: {what} {id:?} is not a WooCommerce id (a number)")))
    }
}

fn order_path(external_id: &str) -> Result<String, Unsendable> {
    Ok(format!("/wp-json/wc/v3/orders/{}", number(external_id, "order id")?))
}

impl Remote for WooCommerce {
    fn kind(&self) -> Kind {
        Kind::Woocommerce
    }

    fn default_host(&self, _host: Host) -> Option<&'static str> {
        None
    }

    fn base_url(&self, conn: Conn<'_>, _host: Host) -> Result<String, Unsendable> {
        if let Some(url) = opt_setting(conn, "base_url") {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        let url = wire::setting(conn, K, "store_url", "the store's address, https://…")?;
        match url.strip_prefix("https://") {
            Some(rest) if !rest.is_empty() => Ok(url.trim_end_matches('/').to_owned()),
            _ => Err(Unsendable(format!(
                "{K}: the setting `store_url` must start with https:// (WooCommerce takes its keys over HTTPS only)"
            ))),
        }
    }

    fn rate_limit(&self) -> RateLimit {
        RateLimit { requests: 5, per_ms: 1000, burst: 10 }
    }

    fn max_levels_per_request(&self) -> usize {
        100
    }

    fn token_request(&self, _conn: Conn<'_>) -> Result<Option<Request>, Unsendable> {
        Ok(None)
    }

    fn read_token(&self, _body: &[u8]) -> Result<Token, String> {
        Err(format!("{K}: REST keys do not expire; there is nothing to refresh"))
    }

    fn authorize(&self, conn: Conn<'_>, _access_token: Option<&str>, req: &mut Request) -> Result<(), Unsendable> {
        let key = wire::credential(conn, K, "consumer_key", "the REST API key's consumer key")?;
        let secret = wire::credential(conn, K, "consumer_secret", "the REST API key's consumer secret")?;
        req.headers.push(("Authorization".into(), wire::basic(key, secret)));
        Ok(())
    }

    fn stock_requests(&self, _conn: Conn<'_>, levels: &[StockLevel]) -> Result<Vec<Step>, Unsendable> {
        // (parent product id or None for products, updates), in first-seen order
        let mut groups: Vec<(Option<String>, Vec<Value>)> = Vec::new();
        for l in levels {
            let Some(listing) = l.listing.as_deref() else {
                return Err(Unsendable(format!(
                    "{K}: SKU {} has no product id: map it to its WooCommerce product (or parent:variation)",
                    l.channel_sku
                )));
            };
            let what = format!("SKU {}'s product", l.channel_sku);
            let (parent, id) = match listing.split_once(':') {
                Some((parent, variation)) => (Some(number(parent, &what)?.to_owned()), number(variation, &what)?),
                None => (None, number(listing, &what)?),
            };
            // An id written as a number, as WooCommerce writes it.
            let id: u64 = id.parse().map_err(|_| Unsendable(format!("{K}: {what} {id} is too large")))?;
            let update = json!({"id": id, "manage_stock": true, "stock_quantity": l.quantity.max(0)});
            match groups.iter_mut().find(|(p, _)| *p == parent) {
                Some((_, updates)) => updates.push(update),
                None => groups.push((parent, vec![update])),
            }
        }
        let mut steps = Vec::new();
        for (parent, updates) in groups {
            let path = match &parent {
                Some(p) => format!("/wp-json/wc/v3/products/{p}/variations/batch"),
                None => "/wp-json/wc/v3/products/batch".to_owned(),
            };
            for chunk in wire::chunks(&updates, self.max_levels_per_request()) {
                let body = json!({ "update": chunk });
                steps.push(Step::Send(wire::json(Host::Api, Method::Post, path.clone(), &body)));
            }
        }
        Ok(steps)
    }

    fn fulfilment_request(&self, _conn: Conn<'_>, f: &Fulfilment) -> Result<Step, Unsendable> {
        let request = wire::json(Host::Api, Method::Put, order_path(&f.external_id)?, &json!({"status": "completed"}));
        Ok(Step::Ask { request, then: Resume(Pending::Fulfilment(f.clone())) })
    }

    fn resume(&self, _conn: Conn<'_>, then: &Resume, _answer: &[u8]) -> Result<Step, Outcome> {
        let Resume(Pending::Fulfilment(f)) = then else {
            return Err(Outcome::Rejected(format!("{K}: nothing to resume for stock")));
        };
        let mut note = format!("Shipped with {}, tracking number {}.", f.carrier.trim(), f.tracking.trim());
        if let Some(url) = f.tracking_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            note.push_str(&format!(" Track it at {url}"));
        }
        let path = format!("{}/notes", order_path(&f.external_id).map_err(|e| Outcome::Rejected(e.0))?);
        let body = json!({"note": note, "customer_note": true});
        Ok(Step::Send(wire::json(Host::Api, Method::Post, path, &body)))
    }

    fn cancel_request(&self, _conn: Conn<'_>, external_id: &str, _reason: &str) -> Result<Request, Unsendable> {
        Ok(wire::json(Host::Api, Method::Put, order_path(external_id)?, &json!({"status": "cancelled"})))
    }

    fn probe_request(&self, _conn: Conn<'_>) -> Result<Request, Unsendable> {
        Ok(wire::bare(Host::Api, Method::Get, "/wp-json/wc/v3/system_status".to_owned()))
    }

    fn outcome(&self, status: u16, retry_after_secs: Option<i64>, body: &[u8]) -> Outcome {
        if let Some(o) = wire::by_status(status, retry_after_secs, body) {
            return o;
        }
        // WordPress answers 200 with an HTML page when a plugin or a cache
        // gets in the way: not our answer, try again later.
        let v = match wire::required_json(K, body) {
            Ok(v) => v,
            Err(o) => return o,
        };
        let mut words = Vec::new();
        for key in ["create", "update", "delete"] {
            for item in v[key].as_array().into_iter().flatten() {
                let error = &item["error"];
                if error.is_object() {
                    let id = wire::id_of(&item["id"]).unwrap_or_else(|| "?".into());
                    let message = error["message"].as_str().or(error["code"].as_str()).unwrap_or("refused");
                    words.push(format!("{key} {id}: {message}"));
                }
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
