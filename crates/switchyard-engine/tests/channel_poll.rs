//! Orders in by polling, against local stand-ins of Amazon (SP-API Orders
//! v0), Etsy (shop receipts) and eBay (Fulfillment `getOrders`): polled
//! orders become reserved canonical orders, pages are followed, a restart
//! resumes from the stored checkpoint without losing or doubling an order,
//! 429s and 5xx back off without moving the checkpoint, a channel's
//! cancellation releases stock, FBA orders are not reserved, refused
//! payloads are logged and skipped, tokens are refreshed once and Etsy's
//! rotated refresh token is used next. Time is a `ManualClock`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{assert_clean, loc, sku};
use serde_json::{json, Value};

use switchyard_channels::remote::iso8601_from_ms;
use switchyard_core::sync::Backoff;
use switchyard_core::{Channel, ChannelDraft, ChannelKind, ChannelName, SkuDef};
use switchyard_engine::{ChannelSync, Config, Engine, IdGen, ManualClock, SyncOptions};
use switchyard_standin::{Scripted, StandIn};
use switchyard_store::testing::{Backend, TestDb};
use switchyard_store::{OrderFilter, OrderView};

both!(
    amazon_orders_are_reserved_with_their_items_and_fba_orders_are_not,
    ebay_pages_are_followed_and_a_cancellation_in_a_later_poll_releases_stock,
    etsy_receipts_come_in_and_the_rotated_refresh_token_is_used_next,
    a_restart_resumes_from_the_checkpoint_and_neither_loses_nor_doubles_an_order,
    a_429_and_a_500_back_off_without_moving_the_checkpoint_and_then_succeed,
    a_refused_payload_is_logged_and_skipped_and_the_run_goes_on,
    a_run_stopped_by_the_rate_limit_goes_on_where_it_stopped,
    an_order_that_changes_while_a_run_pages_is_neither_skipped_nor_its_change_lost,
);

const NOW: i64 = 1_790_000_000_000;

struct T {
    e: Arc<Engine>,
    clock: Arc<ManualClock>,
    url: String,
}

async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(7)).await.expect("open engine");
    reopen_setup(&e).await;
    T { e: Arc::new(e), clock, url: db.url.clone() }
}

async fn reopen_setup(e: &Engine) {
    e.put_location(&switchyard_store::testing::warehouse("A", 1)).await.expect("location");
    for s in ["TEE", "MUG", "CAP"] {
        e.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
        e.set_stock(&sku(s), &loc("A"), 10, None, "start").await.expect("stock");
    }
}

fn options() -> SyncOptions {
    SyncOptions {
        tick: Duration::from_millis(10),
        request_timeout: Duration::from_millis(500),
        backoff: Backoff { first_ms: 1_000, max_ms: 4_000, max_attempts: 3 },
        default_retry_after_ms: 2_000,
    }
}

fn kind(k: &str) -> ChannelKind {
    ChannelKind::parse(k).expect("kind")
}

fn pairs(p: &[(&str, &str)]) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Connects a channel of the stand-in's kind, named after it.
async fn connect(e: &Engine, standin: &StandIn, mode: &str) -> ChannelName {
    let k = standin.kind();
    type Pairs = &'static [(&'static str, &'static str)];
    let (settings, credentials): (Pairs, Pairs) = match k.as_str() {
        "amazon" => (
            &[("seller_id", "A1SELLER"), ("marketplace_id", "ATVPDKIKX0DER")],
            &[("client_id", "amzn1.app"), ("client_secret", "amzn-secret"), ("refresh_token", "Atzr|r1")],
        ),
        "etsy" => (
            &[("shop_id", "5550001")],
            &[("client_id", "keystring"), ("shared_secret", "s"), ("refresh_token", "rt-0")],
        ),
        "ebay" => (&[], &[("client_id", "ebay-app"), ("client_secret", "ebay-secret"), ("refresh_token", "v^1.1#r")]),
        other => panic!("no connection recipe for {other}"),
    };
    let c = Channel::parse(ChannelDraft {
        name: k.as_str().into(),
        kind: Some(k.as_str().into()),
        mode: Some(mode.into()),
        base_url: Some(standin.url()),
        settings: pairs(settings),
        active: true,
        ..ChannelDraft::default()
    })
    .expect("channel");
    e.put_connection(&c, None, Some(pairs(credentials))).await.expect("connect");
    c.name
}

fn worker(e: &Arc<Engine>) -> ChannelSync {
    ChannelSync::new(e.clone(), options()).expect("sync worker")
}

/// `minutes` after the start of the look-back (a day before NOW).
fn iso(minutes_before_now: i64) -> String {
    iso8601_from_ms(NOW - minutes_before_now * 60_000)
}

fn usd(amount: &str) -> Value {
    json!({"CurrencyCode": "USD", "Amount": amount})
}

/// An Amazon order with its items: `(sku, quantity, line total)`.
fn amazon_order(id: &str, updated: &str, status: &str, channel: &str, items: &[(&str, i64, &str)]) -> Value {
    let total: i64 = items.iter().map(|(_, _, t)| t.replace('.', "").parse::<i64>().expect("amount")).sum();
    json!({
        "order": {
            "AmazonOrderId": id, "PurchaseDate": iso(120), "LastUpdateDate": updated, "OrderStatus": status,
            "FulfillmentChannel": channel, "MarketplaceId": "ATVPDKIKX0DER", "ShipmentServiceLevelCategory": "Standard",
            "IsPrime": false, "OrderTotal": usd(&format!("{}.{:02}", total / 100, total % 100)),
            "ShippingAddress": {"Name": "Dana W", "AddressLine1": "4100 SE Hawthorne Blvd", "City": "Portland",
                "StateOrRegion": "OR", "PostalCode": "97214", "CountryCode": "US"},
        },
        "items": items.iter().enumerate().map(|(i, (s, q, t))| json!({
            "ASIN": format!("B0{i}"), "SellerSKU": s, "OrderItemId": format!("{id}-{i}"), "QuantityOrdered": q,
            "QuantityShipped": 0, "ItemPrice": usd(t), "PromotionDiscount": usd("0.00"),
        })).collect::<Vec<_>>(),
    })
}

fn ebay_money(v: &str) -> Value {
    json!({"value": v, "currency": "USD"})
}

/// An eBay order of one line: `quantity` of `sku` for `line_total`.
fn ebay_order(id: &str, modified: &str, cancel_state: &str, sku: &str, quantity: i64, line_total: &str) -> Value {
    json!({
        "orderId": id, "creationDate": iso(120), "lastModifiedDate": modified,
        "orderFulfillmentStatus": "NOT_STARTED", "orderPaymentStatus": "PAID",
        "cancelStatus": {"cancelState": cancel_state, "cancelRequests": []},
        "pricingSummary": {"priceSubtotal": ebay_money(line_total), "total": ebay_money(line_total)},
        "fulfillmentStartInstructions": [{"fulfillmentInstructionsType": "SHIP_TO", "shippingStep": {
            "shipTo": {"fullName": "Mark K", "contactAddress": {"addressLine1": "1501 Pike Pl", "city": "Seattle",
                "stateOrProvince": "WA", "postalCode": "98101", "countryCode": "US"}},
            "shippingCarrierCode": "USPS", "shippingServiceCode": "USPSGround"}}],
        "lineItems": [{"lineItemId": format!("{id}-1"), "legacyItemId": "1155", "sku": sku,
            "lineItemCost": ebay_money(line_total), "quantity": quantity, "appliedPromotions": []}],
    })
}

/// An Etsy receipt of one transaction: `quantity` of `sku` at `unit_cents`.
fn etsy_receipt(id: u64, updated_secs: i64, status: &str, sku: &str, quantity: i64, unit_cents: i64) -> Value {
    let cents = |amount: i64| json!({"amount": amount, "divisor": 100, "currency_code": "USD"});
    json!({
        "receipt_id": id, "status": status, "is_paid": true, "is_shipped": false,
        "name": "Priya N", "first_line": "77 Massachusetts Ave", "city": "Cambridge", "state": "MA", "zip": "02139",
        "country_iso": "US", "created_timestamp": updated_secs - 60, "updated_timestamp": updated_secs,
        "grandtotal": cents(quantity * unit_cents), "subtotal": cents(quantity * unit_cents),
        "total_shipping_cost": cents(0), "discount_amt": cents(0),
        "transactions": [{"transaction_id": id * 10, "quantity": quantity, "listing_id": 1234567001_u64,
            "sku": sku, "price": cents(unit_cents), "is_digital": false}],
    })
}

async fn orders_of(e: &Engine, channel: &ChannelName) -> Vec<OrderView> {
    let f = OrderFilter { channel: Some(channel.to_string()), limit: 100, ..OrderFilter::default() };
    let mut orders = e.list_orders(&f).await.expect("orders").orders;
    orders.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    orders
}

async fn available(e: &Engine, s: &str) -> i64 {
    e.availability(&sku(s)).await.expect("availability").expect("sku").available
}

async fn amazon_orders_are_reserved_with_their_items_and_fba_orders_are_not(t: T) {
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    // Live: stock goes out in the same rounds, sharing the one token.
    let ch = connect(&t.e, &amzn, "live").await;
    amzn.add_order(amazon_order("111-1", &iso(50), "Unshipped", "MFN", &[("TEE", 2, "30.00"), ("MUG", 1, "9.99")]));
    amzn.add_order(amazon_order("111-2", &iso(40), "Shipped", "AFN", &[("CAP", 3, "45.00")]));
    let mut w = worker(&t.e);
    w.round().await.expect("round");

    let orders = orders_of(&t.e, &ch).await;
    assert_eq!(orders.len(), 1, "the FBA order is recorded by Amazon, not reserved here: {orders:?}");
    let o = &orders[0];
    assert_eq!((o.external_id.as_str(), o.status.as_str(), o.payment.as_str()), ("111-1", "accepted", "paid"));
    assert_eq!((o.currency.as_str(), o.total), ("USD", 3_999));
    let lines: Vec<_> = o.lines.iter().map(|l| (l.sku.as_str(), l.quantity, l.unit_price)).collect();
    assert_eq!(lines, [("TEE", 2, 1_500), ("MUG", 1, 999)]);
    assert_eq!(o.allocated_units(), 3);
    assert_eq!((available(&t.e, "TEE").await, available(&t.e, "MUG").await), (8, 9));
    assert_eq!(available(&t.e, "CAP").await, 10, "nothing reserved for FBA");
    let status = t.e.channel_sync_status(&ch).await.expect("status");
    assert_eq!((status.marketplace_orders, status.marketplace_units), (1, 3), "the FBA order is recorded");

    let polls = amzn.poll_requests();
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].poll_since(kind("amazon")), Some(iso8601_from_ms(NOW - 86_400_000)), "a day's look-back");
    assert_eq!(polls[0].header("x-amz-access-token"), Some("tok-1"));
    let items: Vec<_> = amzn.requests().into_iter().filter(|r| r.path.ends_with("/orderItems")).collect();
    assert_eq!(items.len(), 2, "each order's items asked for once");
    let tokens = amzn.requests().iter().filter(|r| r.path.ends_with("/token")).count();
    assert_eq!(tokens, 1, "one token refresh for the polls and the pushes");
    assert_eq!(amzn.levels().get("TEE"), Some(&8), "the polled order's reservation went out in the same round");

    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!(state.checkpoint, Some(iso(40)), "the newest change seen");
    assert_eq!((state.failures, state.next_poll_at, state.polled_at), (0, NOW + 60_000, Some(NOW)));
    let status = t.e.channel_sync_status(&ch).await.expect("status");
    assert!(status.recent.iter().any(|a| a.purpose == "poll" && a.outcome == "accepted" && a.http_status == Some(200)));

    // Not due yet: nothing asked. Due: asked from the checkpoint; the
    // newest order comes again and changes nothing.
    t.clock.advance_ms(30_000);
    w.round().await.expect("round");
    assert_eq!(amzn.poll_requests().len(), 1, "not before the poll interval");
    t.clock.advance_ms(30_000);
    w.round().await.expect("round");
    let polls = amzn.poll_requests();
    assert_eq!(polls.len(), 2);
    assert_eq!(polls[1].poll_since(kind("amazon")), Some(iso(40)));
    assert_eq!(orders_of(&t.e, &ch).await.len(), 1);
    assert_eq!(available(&t.e, "TEE").await, 8);
    assert_clean(&t.e).await;
}

async fn ebay_pages_are_followed_and_a_cancellation_in_a_later_poll_releases_stock(t: T) {
    let ebay = StandIn::start(kind("ebay")).await.expect("up");
    let ch = connect(&t.e, &ebay, "import_only").await;
    ebay.page_size(2);
    for i in 0..5 {
        ebay.add_order(ebay_order(&format!("12-{i}"), &iso(60 - i), "NONE_REQUESTED", "TEE", 1, "12.00"));
    }
    let mut w = worker(&t.e);
    w.round().await.expect("round");
    let polls = ebay.poll_requests();
    let offsets: Vec<_> = polls.iter().map(|r| r.query("offset").unwrap_or_default()).collect();
    assert_eq!(offsets, ["0", "2", "4"], "three pages of two");
    assert!(polls.iter().all(|r| r.poll_since(kind("ebay")) == Some(iso8601_from_ms(NOW - 86_400_000))));
    let orders = orders_of(&t.e, &ch).await;
    assert_eq!(orders.len(), 5);
    for o in &orders {
        assert_eq!((o.status.as_str(), o.total, o.allocated_units()), ("accepted", 1_200, 1), "{o:?}");
        assert_eq!(o.lines[0].unit_price, 1_200);
    }
    assert_eq!(available(&t.e, "TEE").await, 5);
    assert!(ebay.stock_requests().is_empty(), "import only: orders in, no stock out");
    assert_eq!(t.e.channel_poll_state(&ch).await.expect("state").checkpoint, Some(iso(56)));

    // The buyer cancels 12-2 on eBay: it changes, and the next poll sees it.
    ebay.add_order(ebay_order("12-2", &iso(10), "CANCELED", "TEE", 1, "12.00"));
    t.clock.advance_ms(60_000);
    w.round().await.expect("round");
    let last = ebay.poll_requests().pop().expect("a poll");
    assert_eq!(last.poll_since(kind("ebay")), Some(iso(56)), "from the checkpoint");
    let orders = orders_of(&t.e, &ch).await;
    assert_eq!(orders.len(), 5);
    let cancelled: Vec<_> = orders.iter().filter(|o| o.status == "cancelled").map(|o| o.external_id.as_str()).collect();
    assert_eq!(cancelled, ["12-2"]);
    assert_eq!(available(&t.e, "TEE").await, 6, "its reservation released");
    assert_eq!(t.e.channel_poll_state(&ch).await.expect("state").checkpoint, Some(iso(10)));
    assert_clean(&t.e).await;
}

async fn etsy_receipts_come_in_and_the_rotated_refresh_token_is_used_next(t: T) {
    let etsy = StandIn::start(kind("etsy")).await.expect("up");
    let ch = connect(&t.e, &etsy, "import_only").await;
    let secs = NOW / 1_000;
    etsy.add_order(etsy_receipt(3_001, secs - 600, "Paid", "MUG", 2, 2_250));
    let mut w = worker(&t.e);
    w.round().await.expect("round");
    let orders = orders_of(&t.e, &ch).await;
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(
        (o.external_id.as_str(), o.status.as_str(), o.total, o.allocated_units()),
        ("3001", "accepted", 4_500, 2)
    );
    assert_eq!((o.lines[0].sku.as_str(), o.lines[0].unit_price), ("MUG", 2_250));
    assert_eq!(available(&t.e, "MUG").await, 8);
    let poll = etsy.poll_requests().pop().expect("a poll");
    assert_eq!(poll.poll_since(kind("etsy")), Some((secs - 86_400).to_string()));
    assert_eq!(poll.path.split('?').next(), Some("/v3/application/shops/5550001/receipts"));
    assert_eq!(poll.header("authorization"), Some("Bearer tok-1"));
    assert_eq!(t.e.channel_poll_state(&ch).await.expect("state").checkpoint, Some((secs - 600).to_string()));

    // An hour later the token has expired: the refresh uses the refresh
    // token Etsy rotated to (rt-1), not the one first entered (rt-0).
    etsy.add_order(etsy_receipt(3_002, secs + 3_000, "Paid", "CAP", 1, 1_000));
    t.clock.advance_ms(3_600_000);
    w.round().await.expect("round");
    let refreshes: Vec<String> = etsy
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token"))
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(refreshes.len(), 2, "{refreshes:?}");
    assert!(
        refreshes[0].contains("refresh_token=rt-0") && refreshes[1].contains("refresh_token=rt-1"),
        "{refreshes:?}"
    );
    assert_eq!(etsy.poll_requests().pop().expect("a poll").header("authorization"), Some("Bearer tok-2"));
    assert_eq!(orders_of(&t.e, &ch).await.len(), 2);
    assert_eq!(available(&t.e, "CAP").await, 9);
    assert_clean(&t.e).await;
}

async fn a_restart_resumes_from_the_checkpoint_and_neither_loses_nor_doubles_an_order(t: T) {
    let ebay = StandIn::start(kind("ebay")).await.expect("up");
    let ch = connect(&t.e, &ebay, "live").await;
    ebay.page_size(2);
    for i in 0..5 {
        ebay.add_order(ebay_order(&format!("R-{i}"), &iso(50 - i), "NONE_REQUESTED", "CAP", 1, "5.00"));
    }
    // The token and the first page are answered; the second page fails: the
    // run stops half-way, two orders applied, the checkpoint not moved.
    ebay.script([Scripted::Normal, Scripted::Normal, Scripted::status(502)]);
    worker(&t.e).poll().await.expect("poll");
    assert_eq!(orders_of(&t.e, &ch).await.len(), 2);
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint.as_deref(), state.failures), (None, 1), "{state:?}");

    // The process stops. A new engine and worker on the same database.
    let url = t.url.clone();
    drop(t.e);
    let clock = Arc::new(ManualClock::new(NOW + 5_000));
    let e = Arc::new(Engine::open(&url, Config::default(), clock.clone(), IdGen::seeded(8)).await.expect("reopen"));
    worker(&e).round().await.expect("round");
    let orders = orders_of(&e, &ch).await;
    assert_eq!(orders.len(), 5, "the run started over: nothing lost, nothing doubled");
    assert_eq!(available(&e, "CAP").await, 5);
    let state = e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint.clone(), state.failures), (Some(iso(46)), 0));

    // Two more orders, one of them changed in the same second as the
    // checkpoint; another restart; the poll asks from the checkpoint.
    ebay.add_order(ebay_order("R-5", &iso(46), "NONE_REQUESTED", "CAP", 1, "5.00"));
    ebay.add_order(ebay_order("R-6", &iso(30), "NONE_REQUESTED", "CAP", 1, "5.00"));
    drop(e);
    let e = Arc::new(
        Engine::open(&url, Config::default(), Arc::new(ManualClock::new(NOW + 70_000)), IdGen::seeded(9))
            .await
            .expect("reopen"),
    );
    ebay.clear_requests();
    worker(&e).round().await.expect("round");
    let polls = ebay.poll_requests();
    assert!(!polls.is_empty() && polls.iter().all(|r| r.poll_since(kind("ebay")) == Some(iso(46))), "{polls:?}");
    let ids: Vec<_> = orders_of(&e, &ch).await.into_iter().map(|o| o.external_id).collect();
    assert_eq!(ids, ["R-0", "R-1", "R-2", "R-3", "R-4", "R-5", "R-6"]);
    assert_eq!(available(&e, "CAP").await, 3);
    assert_eq!(ebay.levels().get("CAP"), Some(&3), "live: the level went out");
    assert_clean(&e).await;
}

async fn a_429_and_a_500_back_off_without_moving_the_checkpoint_and_then_succeed(t: T) {
    let ebay = StandIn::start(kind("ebay")).await.expect("up");
    let ch = connect(&t.e, &ebay, "import_only").await;
    ebay.add_order(ebay_order("B-1", &iso(50), "NONE_REQUESTED", "MUG", 1, "8.00"));
    let mut w = worker(&t.e);
    w.round().await.expect("round");
    let first = t.e.channel_poll_state(&ch).await.expect("state").checkpoint;
    assert_eq!(first, Some(iso(50)));

    ebay.add_order(ebay_order("B-2", &iso(20), "NONE_REQUESTED", "MUG", 1, "8.00"));
    t.clock.advance_ms(60_000);
    ebay.script([Scripted::throttled(Some(30))]);
    let r = w.poll().await.expect("poll");
    assert_eq!(r.throttled, 1, "{r:?}");
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint.clone(), state.failures), (first.clone(), 0), "a throttle is not a failure");
    assert_eq!(state.next_poll_at, NOW + 60_000 + 30_000, "Retry-After honoured");
    let before = ebay.requests().len();
    t.clock.advance_ms(20_000);
    w.round().await.expect("round");
    assert_eq!(ebay.requests().len(), before, "nothing asked before Retry-After");

    t.clock.advance_ms(11_000);
    ebay.script([Scripted::status(500)]);
    w.round().await.expect("round");
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint.clone(), state.failures), (first.clone(), 1));
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("500")), "{state:?}");
    let wait = state.next_poll_at - t.e.now_ms();
    assert!((500..=1_000).contains(&wait), "first backoff within [500, 1000] ms: {wait}");
    assert_eq!(orders_of(&t.e, &ch).await.len(), 1);

    t.clock.advance_ms(1_000);
    w.round().await.expect("round");
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint, state.failures, state.last_error), (Some(iso(20)), 0, None));
    assert_eq!(orders_of(&t.e, &ch).await.len(), 2);
    let status = t.e.channel_sync_status(&ch).await.expect("status");
    let failures: Vec<_> =
        status.recent_failures.iter().map(|a| (a.purpose.as_str(), a.outcome.as_str(), a.http_status)).collect();
    assert!(failures.contains(&("poll", "throttled", Some(429))), "{failures:?}");
    assert!(failures.contains(&("poll", "transient", Some(500))), "{failures:?}");
}

async fn a_refused_payload_is_logged_and_skipped_and_the_run_goes_on(t: T) {
    let ebay = StandIn::start(kind("ebay")).await.expect("up");
    let ch = connect(&t.e, &ebay, "import_only").await;
    let mut broken = ebay_order("X-1", &iso(50), "NONE_REQUESTED", "TEE", 1, "12.00");
    broken["lineItems"][0]["lineItemCost"]["value"] = json!("twelve");
    ebay.add_order(broken);
    ebay.add_order(ebay_order("X-2", &iso(45), "NONE_REQUESTED", "NOPE", 1, "12.00"));
    ebay.add_order(ebay_order("X-3", &iso(40), "NONE_REQUESTED", "TEE", 2, "24.00"));
    let r = worker(&t.e).poll().await.expect("poll");
    assert_eq!((r.rejected, r.created, r.runs), (1, 2, 1), "{r:?}");
    let orders = orders_of(&t.e, &ch).await;
    let ids: Vec<_> = orders.iter().map(|o| o.external_id.as_str()).collect();
    assert_eq!(ids, ["X-2", "X-3"]);
    // An unknown SKU keeps the order, held with an unknown_sku exception.
    let kinds: Vec<_> = orders[0].exceptions.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!((orders[0].status.as_str(), kinds), ("on_hold", vec!["unknown_sku"]));
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint, state.failures), (Some(iso(40)), 0), "the run went on past them");
    let status = t.e.channel_sync_status(&ch).await.expect("status");
    let refused: Vec<_> = status
        .recent_failures
        .iter()
        .filter(|a| a.purpose == "poll" && a.outcome == "rejected")
        .filter_map(|a| a.error.clone())
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused.iter().any(|e| e.contains("lineItems[0].lineItemCost")), "the parser's words: {refused:?}");
}

async fn a_run_stopped_by_the_rate_limit_goes_on_where_it_stopped(t: T) {
    t.e.set_stock(&sku("TEE"), &loc("A"), 100, None, "restock").await.expect("stock");
    let amzn = StandIn::start(kind("amazon")).await.expect("up");
    let ch = connect(&t.e, &amzn, "import_only").await;
    for i in 0..35 {
        amzn.add_order(amazon_order(&format!("114-{i:02}"), &iso(60 - i), "Unshipped", "MFN", &[("TEE", 1, "10.00")]));
    }
    let mut w = worker(&t.e);
    w.round().await.expect("round");
    let items = |s: &StandIn| s.requests().iter().filter(|r| r.path.ends_with("/orderItems")).count();
    assert_eq!(items(&amzn), 30, "getOrderItems allows a burst of 30");
    assert_eq!(orders_of(&t.e, &ch).await.len(), 30);
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!((state.checkpoint.as_deref(), state.failures), (None, 0), "not done yet, not failed: {state:?}");
    // One every two seconds: ten seconds later, five more and the run ends,
    // without asking for the page again.
    t.clock.advance_ms(10_000);
    w.round().await.expect("round");
    assert_eq!((items(&amzn), amzn.poll_requests().len()), (35, 1));
    assert_eq!(orders_of(&t.e, &ch).await.len(), 35);
    assert_eq!(available(&t.e, "TEE").await, 65);
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    assert_eq!(state.checkpoint, Some(iso(26)));
    assert_clean(&t.e).await;
}

async fn an_order_that_changes_while_a_run_pages_is_neither_skipped_nor_its_change_lost(t: T) {
    let etsy = StandIn::start(kind("etsy")).await.expect("up");
    let ch = connect(&t.e, &etsy, "import_only").await;
    etsy.page_size(2);
    let secs = NOW / 1_000;
    for i in 0..5 {
        etsy.add_order(etsy_receipt(4_000 + i, secs - 3_000 + i as i64 * 60, "Paid", "TEE", 1, 1_000));
    }
    // While page 2 is asked for, the buyer cancels 4000 (read on page 1),
    // and a moment later 4003 (not read yet) changes too.
    let mut cancelled = etsy_receipt(4_000, secs - 5, "Canceled", "TEE", 1, 1_000);
    cancelled["created_timestamp"] = json!(secs - 3_060);
    etsy.change_on_poll(2, cancelled);
    let mut touched = etsy_receipt(4_003, secs - 2, "Paid", "TEE", 1, 1_000);
    touched["created_timestamp"] = json!(secs - 3_000 + 3 * 60 - 60);
    etsy.change_on_poll(2, touched);
    let mut w = worker(&t.e);
    w.round().await.expect("round");
    let polls = etsy.poll_requests();
    assert!(polls.iter().all(|r| r.query("sort_on").as_deref() == Some("created")), "sorted by creation");
    // Sorted by change, 4000 would have jumped to the end and 4002 onto page 1's
    // place: skipped, and the checkpoint past it for good.
    let mut ids: Vec<String> = orders_of(&t.e, &ch).await.into_iter().map(|o| o.external_id).collect();
    ids.sort();
    assert_eq!(ids, ["4000", "4001", "4002", "4003", "4004"], "no receipt skipped");
    let state = t.e.channel_poll_state(&ch).await.expect("state");
    // The newest change seen (4003's, secs − 2) is later than 4000's unseen
    // cancellation (secs − 5): the checkpoint stops at the run's start less a
    // minute, or the cancellation would never be read.
    assert_eq!(state.checkpoint, Some((secs - 60).to_string()), "never past the run's start less a minute");

    // The next run reads from there and sees the cancellation.
    t.clock.advance_ms(60_000);
    w.round().await.expect("round");
    let last = etsy.poll_requests().pop().expect("a poll");
    assert_eq!(last.poll_since(kind("etsy")), Some((secs - 60).to_string()));
    let orders = orders_of(&t.e, &ch).await;
    let gone: Vec<_> = orders.iter().filter(|o| o.status == "cancelled").map(|o| o.external_id.as_str()).collect();
    assert_eq!(gone, ["4000"], "the change made mid-run is not lost");
    assert_eq!(available(&t.e, "TEE").await, 6);
    assert_clean(&t.e).await;
}
