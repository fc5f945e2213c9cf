//! Channel connections: what each channel is told it may sell
//! (`GET /api/v1/channels/{name}/atp/{sku}`), on both backends.

mod common;

use common::{order_body, TestApp};
use serde_json::json;

both!(a_channel_is_told_what_is_available_less_its_buffer);

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
