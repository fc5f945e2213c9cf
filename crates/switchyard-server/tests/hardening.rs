//! Regressions of issue 7 ("Hardening") over real HTTP, on both backends,
//! each named after its defect.

mod common;

use common::{order_body, TestApp};
use serde_json::{json, Value};

both!(
    a_repeat_with_different_content_answers_409_idempotency_conflict,
    a_bundles_inventory_is_the_kits_its_components_make,
    explanations_and_timelines_never_contradict_the_order,
);

fn x_line(quantity: i64, unit_price: i64) -> Value {
    json!([{"sku": "X", "quantity": quantity, "unit_price": unit_price}])
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
}

/// Issue 7, defect 2: the same `(channel, external_id)` posted again with
/// different lines, currency or payment answered 200 with the original
/// order and no sign of the mismatch.
async fn a_repeat_with_different_content_answers_409_idempotency_conflict(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.sku("Y", json!(null)).await;
    app.stock("X", "WH", 10).await;
    let first = order_body("dup-1", x_line(1, 100));
    let (s, original) = app.post("/api/v1/orders", first.clone()).await;
    assert_eq!(s, 201, "{original}");
    let id = original["id"].as_str().expect("id").to_owned();
    let ledger = app.ledger_entries().await;

    let mut more = first.clone();
    more["lines"] = x_line(2, 100);
    let mut other_sku = first.clone();
    other_sku["lines"] = json!([{"sku": "Y", "quantity": 1, "unit_price": 100}]);
    let mut euros = first.clone();
    euros["currency"] = json!("EUR");
    let mut unpaid = first.clone();
    unpaid["payment"] = json!("pending");
    for (what, body) in [("lines", more), ("lines", other_sku), ("currency", euros), ("payment", unpaid)] {
        let (s, b) = app.post("/api/v1/orders", body).await;
        assert_error(s, &b, 409, "idempotency_conflict");
        let message = b["error"]["message"].as_str().expect("message");
        assert!(message.contains(&format!("{what} ")), "names what differs ({what}): {message}");
    }
    // Nothing changed but the original order's timeline, which records each.
    assert_eq!(app.ledger_entries().await, ledger);
    assert_eq!(app.position("X", "WH").await, (10, 1, 9));
    let (_, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    let conflicts = o["events"].as_array().expect("events").iter().filter(|e| e["kind"] == "idempotency_conflict");
    assert_eq!(conflicts.count(), 4, "{o}");
    assert_eq!(o["lines"], original["lines"]);
    // An identical repeat is still the same order, 200.
    let (s, again) = app.post("/api/v1/orders", first).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], id.as_str());
    app.assert_audit_clean().await;
}

/// Issue 7, defect 6: `GET /inventory/{bundle}` answered `available: 0,
/// locations: []` while its components covered 5 kits.
async fn a_bundles_inventory_is_the_kits_its_components_make(app: TestApp) {
    app.location("FLAG", 1).await;
    app.location("WH", 2).await;
    app.sku("MUG", json!(null)).await;
    app.sku("CANDLE", json!(null)).await;
    app.sku("GIFT", json!([{"sku": "MUG", "quantity": 1}, {"sku": "CANDLE", "quantity": 2}])).await;
    app.stock("MUG", "FLAG", 4).await;
    app.stock("CANDLE", "FLAG", 8).await;
    app.stock("MUG", "WH", 3).await;
    app.stock("CANDLE", "WH", 2).await;
    let (s, inv) = app.get("/api/v1/inventory/GIFT").await;
    assert_eq!(s, 200, "{inv}");
    assert_eq!(
        inv,
        json!({"sku": "GIFT", "available": 5,
               "locations": [{"location": "FLAG", "available": 4}, {"location": "WH", "available": 1}],
               "components": [{"sku": "CANDLE", "quantity": 2}, {"sku": "MUG", "quantity": 1}]})
    );
    // A kit ordered takes its components; the bundle's availability follows.
    let (s, o) = app
        .post("/api/v1/orders", order_body("kit-1", json!([{"sku": "GIFT", "quantity": 1, "unit_price": 3000}])))
        .await;
    assert_eq!(s, 201, "{o}");
    let (_, inv) = app.get("/api/v1/inventory/GIFT").await;
    assert_eq!(inv["available"], 4, "{inv}");
    // A plain SKU keeps its counts.
    let (_, mug) = app.get("/api/v1/inventory/MUG").await;
    assert_eq!(
        mug["locations"][0],
        json!({"location": "FLAG", "on_hand": 4, "reserved": 1, "safety_stock": 0,
                                           "available": 3})
    );
    assert!(mug.get("components").is_none(), "{mug}");
}

/// Issue 7, defect 5, end to end: an order's explanation says where it
/// ships from (nothing has shipped when it is placed), and a pickup order
/// short of a gift set is never called backordered on its timeline (its
/// explanation says a backorder is not possible).
async fn explanations_and_timelines_never_contradict_the_order(app: TestApp) {
    app.location("STORE", 1).await;
    app.sku("MUG", json!(null)).await;
    app.sku("CANDLE", json!(null)).await;
    app.sku("GIFT", json!([{"sku": "MUG", "quantity": 1}, {"sku": "CANDLE", "quantity": 1}])).await;
    app.stock("MUG", "STORE", 5).await;
    app.stock("CANDLE", "STORE", 5).await;
    let (s, shipped) =
        app.post("/api/v1/orders", order_body("e-1", json!([{"sku": "MUG", "quantity": 1, "unit_price": 900}]))).await;
    assert_eq!(s, 201, "{shipped}");
    let (_, o) = app.get(&format!("/api/v1/orders/{}", shipped["id"].as_str().expect("id"))).await;
    let explanation = o["routing"][0]["explanation"].as_str().expect("explanation");
    assert!(explanation.starts_with("Ships from STORE"), "{explanation}");
    assert!(!explanation.contains("Shipped"), "{explanation}");

    app.stock("CANDLE", "STORE", 1).await;
    let mut pickup = order_body("e-2", json!([{"sku": "GIFT", "quantity": 2, "unit_price": 3000}]));
    pickup["service_level"] = json!("pickup");
    pickup["pickup_location"] = json!("STORE");
    let (s, p) = app.post("/api/v1/orders", pickup).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["status"], "on_hold", "{p}");
    let (_, p) = app.get(&format!("/api/v1/orders/{}", p["id"].as_str().expect("id"))).await;
    let events: Vec<&str> =
        p["events"].as_array().expect("events").iter().filter_map(|e| e["message"].as_str()).collect();
    assert!(events.iter().all(|m| !m.contains("GIFT backordered")), "{events:?}");
    assert!(events.contains(&"1 × GIFT at STORE; 1 × GIFT not allocated (held for a person)"), "{events:?}");
    let explanation = p["routing"][0]["explanation"].as_str().expect("explanation");
    assert!(explanation.contains("not possible for pickup orders"), "{explanation}");
    let kinds: Vec<&str> =
        p["exceptions"].as_array().expect("exceptions").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["pickup_unavailable"]);
    app.assert_audit_clean().await;
}
