//! Channel connections: what each channel is told it may sell
//! (`GET /api/v1/channels/{name}/atp/{sku}`), on both backends.

mod common;

use common::{order_body, TestApp};
use serde_json::json;

both!(
    a_channel_is_told_what_is_available_less_its_buffer,
    connection_fields_are_checked_and_credentials_are_never_shown,
);

async fn atp(app: &TestApp, channel: &str, sku: &str) -> (u16, serde_json::Value) {
    app.get(&format!("/api/v1/channels/{channel}/atp/{sku}")).await
}

async fn a_channel_is_told_what_is_available_less_its_buffer(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.sku("KIT", json!([{"sku": "X", "quantity": 2}])).await;
    app.stock("X", "WH", 10).await;
    let (s, v) = app.put("/api/v1/channels/amazon", json!({"kind": "amazon", "buffer_units": 3})).await;
    assert_eq!((s, v["buffer_units"].as_i64(), v["kind"].as_str()), (200, Some(3), Some("amazon")), "{v}");
    let (s, v) =
        app.put("/api/v1/channels/etsy", json!({"kind": "etsy", "buffer_percent": 10, "max_share_percent": 50})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = atp(&app, "amazon", "X").await;
    assert_eq!((s, v), (200, json!({"channel": "amazon", "sku": "X", "available": 7})));
    assert_eq!(atp(&app, "etsy", "X").await.1["available"], 5, "10 less 1 (10% rounded up), capped at half");
    assert_eq!(atp(&app, "amazon", "KIT").await.1["available"], 2, "5 kits less 3");

    let (s, o) =
        app.post("/api/v1/orders", order_body("w-1", json!([{"sku": "X", "quantity": 6, "unit_price": 100}]))).await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(atp(&app, "amazon", "X").await.1["available"], 1, "4 available, 3 held back");
    assert_eq!(atp(&app, "etsy", "X").await.1["available"], 2);
    app.stock("X", "WH", 8).await;
    assert_eq!(atp(&app, "amazon", "X").await.1["available"], 0, "2 available: all held back, never negative");

    let (s, v) = atp(&app, "nobody", "X").await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let (s, v) = atp(&app, "amazon", "NOPE").await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    for bad in [json!({"buffer_percent": 150}), json!({"buffer_units": -1}), json!({"max_share_percent": 101})] {
        let (s, v) = app.put("/api/v1/channels/amazon", bad.clone()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{bad}: {v}");
    }
    assert_eq!(atp(&app, "amazon", "X").await.1["available"], 0, "a refused change changed nothing");
    let (_, list) = app.get("/api/v1/channels").await;
    let amazon = list.as_array().and_then(|l| l.iter().find(|c| c["name"] == "amazon")).cloned().expect("listed");
    assert_eq!(amazon["buffer_units"], 3);
}

async fn connection_fields_are_checked_and_credentials_are_never_shown(app: TestApp) {
    let body = json!({"kind": "amazon", "mode": "live", "sku_scope": ["TEE-*"], "base_url": "http://127.0.0.1:9/",
        "settings": {"seller_id": "A1"}, "credentials": {"client_id": "id-1", "client_secret": "very-secret-value"}});
    let (s, v) = app.put("/api/v1/channels/amazon", body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["mode"].as_str(), v["base_url"].as_str()), (Some("live"), Some("http://127.0.0.1:9")), "{v}");
    let (_, list) = app.get("/api/v1/channels").await;
    let (_, sync) = app.get("/api/v1/channels/amazon/sync").await;
    for shown in [&v, &list, &sync] {
        assert!(!shown.to_string().contains("very-secret-value"), "a credential value was shown: {shown}");
    }
    assert_eq!(sync["credentials"], json!(["client_id", "client_secret"]), "names only: {sync}");
    assert_eq!(sync["mode"], "live");

    for (bad, field) in [
        (json!({"kind": "amazon", "mode": "sometimes"}), "mode"),
        (json!({"kind": "amazon", "base_url": "ftp://x"}), "base_url"),
        (json!({"kind": "amazon", "sku_scope": ["A*B*"]}), "sku_scope"),
        (json!({"kind": "amazon", "credentials": {"client_secret": "bad\u{0}value"}}), "credential"),
    ] {
        let (s, v) = app.put("/api/v1/channels/amazon", bad).await;
        assert_eq!(s, 422, "{field}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains(field)), "{field}: {v}");
    }
    let (_, after) = app.get("/api/v1/channels/amazon/sync").await;
    assert_eq!((after["mode"].as_str(), &after["credentials"]), (Some("live"), &sync["credentials"]), "unchanged");
}
