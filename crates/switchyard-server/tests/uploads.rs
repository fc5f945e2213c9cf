//! `POST /api/v1/channels/{name}/orders`: orders in a connection's own
//! payload shape — a point-of-sale JSON, a wholesale purchase-order CSV —
//! become canonical orders with their reservations; a bad upload changes
//! nothing.

mod common;

use serde_json::{json, Value};

both!(
    a_counter_sale_takes_the_units_off_the_shelf_and_a_pickup_reserves_them,
    a_wholesale_csv_becomes_one_order_per_purchase_order_and_a_bad_line_changes_nothing,
);

async fn upload(app: &common::TestApp, name: &str, content_type: &str, body: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/channels/{name}/orders")))
        .bearer_auth(common::TOKEN)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn a_counter_sale_takes_the_units_off_the_shelf_and_a_pickup_reserves_them(app: common::TestApp) {
    app.location("STORE", 1).await;
    app.sku("TEE-M", json!(null)).await;
    app.stock("TEE-M", "STORE", 5).await;
    let (s, v) = app.put("/api/v1/channels/till", json!({"kind": "pos"})).await;
    assert_eq!(s, 200, "{v}");
    let sale = json!({"location": "STORE", "receipt_id": "R-1", "currency": "USD", "mode": "sale", "paid": true,
        "lines": [{"sku": "TEE-M", "quantity": 2, "unit_price": 2800}]});
    let (s, v) = upload(&app, "till", "application/json", &sale.to_string()).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("created")), "{v}");
    assert_eq!(app.position("TEE-M", "STORE").await, (3, 0, 3), "a counter sale leaves with the customer");
    let id = v["orders"][0]["order_id"].as_str().expect("order id").to_owned();
    let (_, order) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["status"], "completed", "the customer has it: {order}");
    assert_eq!(order["shipments"][0]["carrier"], "counter", "{order}");
    assert_eq!(order["shipments"][0]["lines"], json!([{"sku": "TEE-M", "quantity": 2}]), "{order}");

    let pickup = json!({"location": "STORE", "receipt_id": "R-2", "currency": "USD", "mode": "pickup", "paid": true,
        "lines": [{"sku": "TEE-M", "quantity": 1, "unit_price": 2800}]});
    let (s, v) = upload(&app, "till", "application/json", &pickup.to_string()).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("created")), "{v}");
    assert_eq!(app.position("TEE-M", "STORE").await, (3, 1, 2), "a pickup is reserved at the store");
    let (s, v) = upload(&app, "till", "application/json", &pickup.to_string()).await;
    assert_eq!((s, v["orders"][0]["outcome"].as_str()), (200, Some("unchanged")), "a repeat: {v}");

    let (s, v) = upload(&app, "till", "application/json", r#"{"location": "STORE", "lines": "#).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{v}");
    let (s, v) = upload(&app, "nobody", "application/json", &sale.to_string()).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let (s, _) = app.put("/api/v1/channels/web", json!({"kind": "api"})).await;
    assert_eq!(s, 200);
    let (s, v) = upload(&app, "web", "application/json", &sale.to_string()).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("invalid_request")), "{v}");
    assert_eq!(app.position("TEE-M", "STORE").await, (3, 1, 2), "refusals change nothing");
    app.assert_audit_clean().await;

    // The pickup: set aside and marked ready by staff, then collected.
    let (_, list) = app.get("/api/v1/orders?channel=till").await;
    let pickup_id = list["orders"]
        .as_array()
        .and_then(|os| os.iter().find(|o| o["external_id"] == "R-2"))
        .and_then(|o| o["id"].as_str())
        .expect("the pickup order")
        .to_owned();
    let ready = |loc: &str| json!({"location": loc});
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup_id}/picked-up"), json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("illegal_transition")), "not ready yet: {v}");
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup_id}/ready-for-pickup"), ready("NOWHERE")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("unknown_location")), "{v}");
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup_id}/ready-for-pickup"), ready("STORE")).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ready_for_pickup")), "{v}");
    assert_eq!(app.position("TEE-M", "STORE").await, (3, 1, 2), "still set aside, not yet gone");
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup_id}/ready-for-pickup"), ready("STORE")).await;
    assert_eq!(s, 409, "ready once: {v}");
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup_id}/picked-up"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");
    assert_eq!(v["shipments"][0]["carrier"], "pickup", "{v}");
    assert_eq!(v["shipments"][0]["location"], "STORE", "{v}");
    assert_eq!(app.position("TEE-M", "STORE").await, (2, 0, 2), "handed over: on hand and reserved both down");
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup_id}/picked-up"), json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("illegal_transition")), "once: {v}");
    let (s, _) = app.post("/api/v1/orders/nope/picked-up", json!({})).await;
    assert_eq!(s, 404);
    app.assert_audit_clean().await;
}

async fn a_wholesale_csv_becomes_one_order_per_purchase_order_and_a_bad_line_changes_nothing(app: common::TestApp) {
    app.location("WH", 1).await;
    for sku in ["TEE-RED-M", "TOTE-NAT", "MUG-BLU"] {
        app.sku(sku, json!(null)).await;
        app.stock(sku, "WH", 100).await;
    }
    let (s, _) = app.put("/api/v1/channels/trade", json!({"kind": "wholesale"})).await;
    assert_eq!(s, 200);
    let header = "po_number,buyer,sku,quantity,unit_price,currency,ship_name,ship_line1,ship_city,ship_region,\
                  ship_postal_code,ship_country";
    let bad = format!(
        "{header}\nPO-1,Corner Shop,TEE-RED-M,24,12.50,USD,Corner Shop,5 Main St,Bend,OR,97701,US\n\
         PO-2,Harbor Gifts,MUG-BLU,-3,6.25,USD,Harbor Gifts,1 Pier Rd,Astoria,OR,97103,US\n"
    );
    let (s, v) = upload(&app, "trade", "text/csv", &bad).await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_body")), "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("line 3")), "{v}");
    assert_eq!(app.position("TEE-RED-M", "WH").await, (100, 0, 100), "nothing taken from a refused upload");

    let good = format!(
        "{header}\nPO-1,Corner Shop,TEE-RED-M,24,12.50,USD,Corner Shop,5 Main St,Bend,OR,97701,US\n\
         PO-1,Corner Shop,TOTE-NAT,12,9,USD,Corner Shop,5 Main St,Bend,OR,97701,US\n\
         PO-2,Harbor Gifts,MUG-BLU,48,6.25,USD,Harbor Gifts,1 Pier Rd,Astoria,OR,97103,US\n"
    );
    let (s, v) = upload(&app, "trade", "text/csv", &good).await;
    assert_eq!((s, v["received"].as_u64()), (200, Some(2)), "{v}");
    assert_eq!(app.position("TEE-RED-M", "WH").await, (100, 24, 76));
    assert_eq!(app.position("TOTE-NAT", "WH").await, (100, 12, 88));
    assert_eq!(app.position("MUG-BLU", "WH").await, (100, 48, 52));
    let id = v["orders"][0]["order_id"].as_str().expect("order id").to_owned();
    let (_, order) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((order["channel"].as_str(), order["total"].as_i64()), (Some("trade"), Some(24 * 1250 + 12 * 900)));
    app.assert_audit_clean().await;
}
