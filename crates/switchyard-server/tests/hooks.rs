//! `POST /hooks/{name}`: signed webhook deliveries from Shopify and
//! WooCommerce become orders with reservations; bad signatures store
//! nothing; repeats are idempotent; a cancellation releases the stock.

mod common;

use common::TestApp;
use serde_json::{json, Value};
use switchyard_channels::webhook::sign;

both!(
    a_signed_shopify_webhook_takes_the_order_and_a_cancellation_releases_it,
    a_channel_sku_map_translates_lines_before_intake,
);

const SECRET: &str = "shpss_0123456789abcdef";

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../switchyard-channels/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Posts a delivery; (status, body).
async fn deliver(app: &TestApp, name: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
    let mut req = app.client.post(app.url(&format!("/hooks/{name}"))).body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await.expect("send");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn order_count(app: &TestApp) -> usize {
    let (_, page) = app.get("/api/v1/orders?limit=500").await;
    page["orders"].as_array().map_or(0, Vec::len)
}

async fn a_signed_shopify_webhook_takes_the_order_and_a_cancellation_releases_it(app: TestApp) {
    app.location("WH", 1).await;
    for sku in ["TEE-RED-M", "TOTE-NAT"] {
        app.sku(sku, json!(null)).await;
        app.stock(sku, "WH", 10).await;
    }
    let (s, v) = app
        .put("/api/v1/channels/MyShop", json!({"kind": "shopify", "webhook_secret": SECRET, "display_name": "Web"}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["name"].as_str(), v["kind"].as_str()), (Some("myshop"), Some("shopify")));
    let (_, list) = app.get("/api/v1/channels").await;
    assert!(!list.to_string().contains(SECRET) && !v.to_string().contains(SECRET), "the secret is never returned");

    let body = fixture("shopify/orders_create_discounted.json");
    let signed = |body: &[u8], id: &str| {
        vec![("x-shopify-hmac-sha256", sign(SECRET, body)), ("x-shopify-webhook-id", id.to_owned())]
    };
    // Unsigned, tampered, or signed with another secret: 401, nothing stored.
    let (s, v) = deliver(&app, "myshop", &[], &body).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{v}");
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'2').expect("a digit");
    tampered[at] = b'9';
    assert_eq!(deliver(&app, "myshop", &signed(&body, "t1"), &tampered).await.0, 401);
    let forged = vec![("x-shopify-hmac-sha256", sign("guess", &body))];
    assert_eq!(deliver(&app, "myshop", &forged, &body).await.0, 401);
    assert_eq!(deliver(&app, "nobody", &signed(&body, "t2"), &body).await.0, 401, "no such connection");
    assert_eq!(order_count(&app).await, 0);
    assert_eq!(app.position("TEE-RED-M", "WH").await, (10, 0, 10));

    let (s, v) = deliver(&app, "myshop", &signed(&body, "d1"), &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["orders"][0]["outcome"], "created", "{v}");
    let id = v["orders"][0]["order_id"].as_str().expect("order id").to_owned();
    let (_, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((o["channel"].as_str(), o["external_id"].as_str()), (Some("myshop"), Some("820982911946154508")));
    assert_eq!(o["status"], "accepted");
    assert_eq!(app.position("TEE-RED-M", "WH").await, (10, 2, 8), "reserved the moment it landed");
    assert_eq!(app.position("TOTE-NAT", "WH").await, (10, 1, 9));

    // The same delivery again, and the same order in a new delivery: one order.
    let (s, v) = deliver(&app, "myshop", &signed(&body, "d1"), &body).await;
    assert_eq!((s, v["duplicate_delivery"].as_str()), (200, Some("d1")), "{v}");
    let (s, v) = deliver(&app, "myshop", &signed(&body, "d2"), &body).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("unchanged")), "{v}");
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(app.position("TEE-RED-M", "WH").await, (10, 2, 8));

    // orders/cancelled: the same order with cancelled_at set.
    let mut cancelled: Value = serde_json::from_slice(&body).expect("json");
    cancelled["cancelled_at"] = json!("2026-11-20T13:00:00-05:00");
    let cancelled = serde_json::to_vec(&cancelled).expect("bytes");
    let (s, v) = deliver(&app, "myshop", &signed(&cancelled, "d3"), &cancelled).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("cancelled")), "{v}");
    let (_, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(app.position("TEE-RED-M", "WH").await, (10, 0, 10), "the cancellation released the stock");
    let (s, v) = deliver(&app, "myshop", &signed(&cancelled, "d4"), &cancelled).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("unchanged")), "{v}");

    // A signed payload that is not an order: 422 with where and why, nothing stored.
    let junk = br#"{"id": 5, "currency": "USD", "line_items": []}"#;
    let (s, v) = deliver(&app, "myshop", &signed(junk, "d5"), junk).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("line_items")), "{v}");
    assert_eq!(order_count(&app).await, 1);
    app.assert_audit_clean().await;
}

/// WooCommerce signs with `X-WC-Webhook-Signature`; its ping on webhook
/// creation is answered; an unpaid order holds its stock as pending.
#[tokio::test]
async fn a_signed_woocommerce_webhook_takes_the_order() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    app.location("WH", 1).await;
    for sku in ["WOO-SINGLE", "product:23"] {
        app.sku(sku, json!(null)).await;
        app.stock(sku, "WH", 5).await;
    }
    let (s, _) = app.put("/api/v1/channels/woo", json!({"kind": "woocommerce", "webhook_secret": SECRET})).await;
    assert_eq!(s, 200);
    let ping = b"webhook_id=17";
    let header = |b: &[u8]| vec![("x-wc-webhook-signature", sign(SECRET, b))];
    assert_eq!(deliver(&app, "woo", &header(ping), ping).await.0, 200);
    assert_eq!(deliver(&app, "woo", &[], ping).await.0, 401, "even a ping must be signed");
    let body = fixture("woocommerce/order_created_processing.json");
    let (s, v) = deliver(&app, "woo", &header(&body), &body).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("created")), "{v}");
    assert_eq!(app.position("WOO-SINGLE", "WH").await, (5, 2, 3));
    assert_eq!(app.position("product:23", "WH").await, (5, 1, 4));
    // A Shopify signature header on a WooCommerce connection is not its signature.
    let wrong = vec![("x-shopify-hmac-sha256", sign(SECRET, &body))];
    assert_eq!(deliver(&app, "woo", &wrong, &body).await.0, 401);
    app.assert_audit_clean().await;
}

/// The connection's SKU map turns the channel's SKUs (a variant id, a SKU
/// with a space) into ours before the order is taken.
async fn a_channel_sku_map_translates_lines_before_intake(app: TestApp) {
    app.location("WH", 1).await;
    for sku in ["MUG-BLU", "TEE-M"] {
        app.sku(sku, json!(null)).await;
        app.stock(sku, "WH", 4).await;
    }
    let (s, _) = app.put("/api/v1/channels/shop", json!({"kind": "shopify", "webhook_secret": SECRET})).await;
    assert_eq!(s, 200);
    let body = json!({"id": 42, "currency": "USD", "financial_status": "paid",
        "line_items": [{"sku": "", "variant_id": 777, "quantity": 2, "price": "9.00"},
                       {"sku": "Tee M", "variant_id": 778, "quantity": 1, "price": "20.00"}],
        "shipping_address": {"name": "Ana", "address1": "1 Oak St", "city": "Portland", "province_code": "OR",
                             "zip": "97205", "country_code": "US"}});
    let body = serde_json::to_vec(&body).expect("bytes");
    let headers =
        |id: &str| vec![("x-shopify-hmac-sha256", sign(SECRET, &body)), ("x-shopify-webhook-id", id.to_owned())];
    // Unmapped (a variant id, a SKU with a space ours could never be): the
    // order is kept on hold, nothing reserved, until the map names ours.
    let (s, v) = deliver(&app, "shop", &headers("m1"), &body).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("created")), "{v}");
    let id = v["orders"][0]["order_id"].as_str().expect("order id").to_owned();
    let (_, order) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["status"], "on_hold", "{order}");
    assert!(order["exceptions"].to_string().contains("\\\"Tee M\\\""), "named as sent: {order}");
    assert_eq!(app.position("TEE-M", "WH").await, (4, 0, 4));

    let (s, v) = app.put("/api/v1/channels/shop/skus/variant:777", json!({"sku": "MUG-BLU"})).await;
    assert_eq!((s, v["sku"].as_str()), (200, Some("MUG-BLU")), "{v}");
    let (s, v) = app.put("/api/v1/channels/shop/skus/Tee%20M", json!({"sku": "TEE-M"})).await;
    assert_eq!((s, v["channel_sku"].as_str()), (200, Some("Tee M")), "{v}");
    let (s, v) = app.put("/api/v1/channels/shop/skus/x", json!({"sku": "NOPE"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("unknown_sku")), "{v}");
    let (s, v) = app.put("/api/v1/channels/nobody/skus/x", json!({"sku": "TEE-M"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let (_, map) = app.get("/api/v1/channels/shop/skus").await;
    assert_eq!(map.as_array().map(Vec::len), Some(2), "{map}");

    // Mapping both resumed it; a later delivery of it changes nothing.
    let (_, order) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["status"], "accepted", "{order}");
    let (s, v) = deliver(&app, "shop", &headers("m2"), &body).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("unchanged")), "{v}");
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(app.position("MUG-BLU", "WH").await, (4, 2, 2));
    assert_eq!(app.position("TEE-M", "WH").await, (4, 1, 3));

    let r =
        app.client.delete(app.url("/api/v1/channels/shop/skus/variant:777")).bearer_auth(common::TOKEN).send().await;
    assert_eq!(r.expect("send").status().as_u16(), 204);
    let (_, map) = app.get("/api/v1/channels/shop/skus").await;
    assert_eq!(map.as_array().map(Vec::len), Some(1), "{map}");
    app.assert_audit_clean().await;
}

/// Bad deliveries, even correctly signed, get a clear error and store
/// nothing: truncated JSON, not JSON at all, a body over the limit.
#[tokio::test]
async fn bad_signed_deliveries_are_refused_and_store_nothing() {
    let app = common::spawn_app(common::Backend::Sqlite, |c| c.body_limit_bytes = 64 * 1024).await.expect("app");
    app.location("WH", 1).await;
    app.sku("TEE-RED-M", json!(null)).await;
    app.stock("TEE-RED-M", "WH", 5).await;
    let (s, _) = app.put("/api/v1/channels/shop", json!({"kind": "shopify", "webhook_secret": SECRET})).await;
    assert_eq!(s, 200);
    let signed = |b: &[u8]| vec![("x-shopify-hmac-sha256", sign(SECRET, b))];
    let full = fixture("shopify/orders_create_discounted.json");
    let truncated = &full[..full.len() / 2];
    let (s, v) = deliver(&app, "shop", &signed(truncated), truncated).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("not valid JSON")), "{v}");
    let text = b"<xml>order</xml>";
    let (s, v) = deliver(&app, "shop", &signed(text), text).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{v}");
    let huge = vec![b' '; 100 * 1024];
    let (s, v) = deliver(&app, "shop", &signed(&huge), &huge).await;
    assert_eq!((s, v["error"]["code"].as_str()), (413, Some("payload_too_large")), "{v}");
    let negative =
        br#"{"id": 1, "currency": "USD", "line_items": [{"sku": "TEE-RED-M", "quantity": -3, "price": "1.00"}]}"#;
    let (s, v) = deliver(&app, "shop", &signed(negative), negative).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{v}");
    assert_eq!(order_count(&app).await, 0);
    assert_eq!(app.position("TEE-RED-M", "WH").await, (5, 0, 5));
    app.assert_audit_clean().await;
}
