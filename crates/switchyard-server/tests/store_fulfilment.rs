//! Fulfilment by store staff over HTTP (issue 9, item 0), on both backends:
//! the pick list and the steps through the API (their refusals as JSON
//! errors that change nothing, the tracking URL in the order's shipments,
//! delivered), and the Store page's forms (session, CSRF, escaping, every
//! step with one post, a short pick re-routed).

mod common;

use serde_json::{json, Value};

both!(the_pick_list_and_each_step_through_the_api, the_store_page_does_every_step_with_one_post);

/// STORE (tried first) and WH, both able to ship and hand over; MUG at
/// both, titled with markup that must come out escaped.
async fn shop(app: &common::TestApp) {
    app.location("STORE", 1).await;
    app.location("WH", 2).await;
    let (s, v) = app.put("/api/v1/skus/MUG", json!({"title": "<script>alert(1)</script> Mug"})).await;
    assert_eq!(s, 200, "{v}");
    app.stock("MUG", "STORE", 5).await;
    app.stock("MUG", "WH", 5).await;
}

async fn order(app: &common::TestApp, ext: &str, level: &str) -> String {
    let mut body = common::order_body(ext, json!([{"sku": "MUG", "quantity": 1, "unit_price": 900}]));
    body["service_level"] = json!(level);
    if level == "pickup" {
        body["pickup_location"] = json!("STORE");
    }
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    o["id"].as_str().expect("id").to_owned()
}

/// The Store page's form fields for `action` on `order` at STORE.
fn step(order: &str, action: &str) -> Vec<(String, String)> {
    vec![("location".into(), "STORE".into()), ("order".into(), order.into()), ("action".into(), action.into())]
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Posts a step with the session's CSRF token.
async fn post(b: &common::Browser, fields: Vec<(String, String)>) -> (u16, String, String) {
    b.post("/store/step", &refs(&fields)).await
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

async fn the_pick_list_and_each_step_through_the_api(app: common::TestApp) {
    shop(&app).await;
    let standard = order(&app, "A-1", "standard").await;
    app.clock.set(common::START_MS + 1);
    let pickup = order(&app, "A-2", "pickup").await;

    let (s, list) = app.get("/api/v1/locations/STORE/picks").await;
    assert_eq!(s, 200, "{list}");
    let ids: Vec<&str> = list["orders"].as_array().expect("orders").iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids, vec![pickup.as_str(), standard.as_str()], "the pickup first, though newer");
    assert_eq!(list["orders"][1]["step"], "to_pick");
    assert_eq!(
        list["orders"][1]["lines"][0],
        json!({"line_no": 1, "sku": "MUG",
        "title": "<script>alert(1)</script> Mug", "quantity": 1})
    );
    let (s, v) = app.get("/api/v1/locations/NOWHERE/picks").await;
    assert_eq!((s, error_code(&v)), (404, "not_found"));
    let (s, v) = app.get("/api/v1/locations/NO%20WHERE/picks").await;
    assert_eq!((s, error_code(&v)), (422, "invalid_identifier"));

    // Refusals: JSON errors, nothing written.
    let (_, before) = app.get(&format!("/api/v1/orders/{standard}")).await;
    let packed = format!("/api/v1/orders/{standard}/packed");
    let picked = format!("/api/v1/orders/{standard}/picked");
    for (path, body, status, code) in [
        (&packed, json!({"location": "STORE"}), 409, "step_out_of_order"),
        (&picked, json!({"location": "WH"}), 409, "nothing_to_pick"),
        (&picked, json!({"location": "NOWHERE"}), 422, "unknown_location"),
        (&picked, json!({"location": "STORE", "colour": 1}), 422, "invalid_body"),
        (&picked, json!({}), 422, "invalid_body"),
    ] {
        let (s, v) = app.post(path, body.clone()).await;
        assert_eq!((s, error_code(&v)), (status, code), "{path} {body}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    let (s, v) = app.post("/api/v1/orders/nope/picked", json!({"location": "STORE"})).await;
    assert_eq!((s, error_code(&v)), (404, "not_found"));
    let (_, after) = app.get(&format!("/api/v1/orders/{standard}")).await;
    assert_eq!(before["events"], after["events"], "a refused step writes nothing");

    let (s, v) = app.post(&picked, json!({"location": "STORE", "by": "ann"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["events"].as_array().and_then(|e| e.last()).expect("event")["message"], "Picked at STORE by ann");
    let (s, v) = app.post(&picked, json!({"location": "STORE"})).await;
    assert_eq!((s, error_code(&v)), (409, "step_out_of_order"));
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("already picked"), "{v}");
    let (s, _) = app.post(&packed, json!({"location": "STORE"})).await;
    assert_eq!(s, 200);

    // Shipped with a tracking URL (a script URL is refused first).
    let ship = format!("/api/v1/orders/{standard}/shipments");
    let mut body = json!({"location": "STORE", "lines": [{"sku": "MUG", "quantity": 1}], "carrier": "UPS",
                          "tracking": "1Z9", "tracking_url": "javascript:alert(1)"});
    let (s, v) = app.post(&ship, body.clone()).await;
    assert_eq!((s, error_code(&v)), (422, "invalid_body"));
    body["tracking_url"] = json!("https://track.example/1Z9");
    let (s, v) = app.post(&ship, body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "shipped");
    let shipment = &v["shipments"][0];
    assert_eq!((&shipment["carrier"], &shipment["tracking"]), (&json!("UPS"), &json!("1Z9")));
    assert_eq!(shipment["tracking_url"], "https://track.example/1Z9");

    // Delivered: shipped → completed, once; an open order is refused.
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup}/delivered"), json!({})).await;
    assert_eq!((s, error_code(&v)), (409, "illegal_transition"));
    let (s, v) = app.post(&format!("/api/v1/orders/{standard}/delivered"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");
    let (s, v) = app.post(&format!("/api/v1/orders/{standard}/delivered"), json!({})).await;
    assert_eq!((s, error_code(&v)), (409, "illegal_transition"));

    // The pickup: picked, not packed, ready, picked up.
    let (s, _) = app.post(&format!("/api/v1/orders/{pickup}/picked"), json!({"location": "STORE"})).await;
    assert_eq!(s, 200);
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup}/packed"), json!({"location": "STORE"})).await;
    assert_eq!((s, error_code(&v)), (409, "step_out_of_order"));
    let (s, _) = app.post(&format!("/api/v1/orders/{pickup}/ready-for-pickup"), json!({"location": "STORE"})).await;
    assert_eq!(s, 200);
    let (_, list) = app.get("/api/v1/locations/STORE/picks").await;
    assert_eq!(
        (&list["orders"][0]["step"], &list["orders"][0]["actions"]),
        (&json!("ready_for_pickup"), &json!(["picked_up"]))
    );
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup}/picked-up"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")));
    let (_, list) = app.get("/api/v1/locations/STORE/picks").await;
    assert_eq!(list["orders"], json!([]));

    let (_, doc) = app.get("/api/v1/openapi.json").await;
    for path in ["/locations/{code}/picks", "/orders/{id}/picked", "/orders/{id}/packed", "/orders/{id}/delivered"] {
        assert!(doc["paths"][path].is_object(), "{path} in the OpenAPI document");
    }
    assert!(doc["components"]["schemas"]["PickList"].is_object());
    app.assert_audit_clean().await;
}

async fn the_store_page_does_every_step_with_one_post(app: common::TestApp) {
    shop(&app).await;
    let standard = order(&app, "B-1", "standard").await;
    let pickup = order(&app, "B-2", "pickup").await;
    let missing = order(&app, "B-3", "expedited").await;
    let b = common::Browser::sign_in(&app).await;

    let (s, _, html) = b.get("/store").await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"nav-store\"") && html.contains("Choose your location"), "{html}");
    let (s, _, html) = b.get("/store?location=STORE").await;
    assert_eq!(s, 200);
    assert!(html.contains("B-1") && html.contains("B-2") && html.contains("B-3"), "{html}");
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Mug"), "the title is escaped: {html}");
    assert!(!html.contains("<script>alert(1)"), "no markup from a title");
    assert!(html.find("B-2").expect("pickup") < html.find("B-1").expect("standard"), "pickup first");

    // A wrong CSRF token changes nothing.
    let mut forged = vec![("csrf".to_owned(), "forged".to_owned())];
    forged.extend(step(&standard, "picked"));
    let (s, _, html) = b.post_raw("/store/step", &refs(&forged)).await;
    assert_eq!(s, 403);
    assert!(common::is_styled_error_page(&html));
    let (_, o) = app.get(&format!("/api/v1/orders/{standard}")).await;
    assert!(o["events"].as_array().expect("events").iter().all(|e| e["kind"] != "picked"), "nothing recorded");

    // Out of order: the styled error page with the reason.
    let (s, _, html) = post(&b, step(&standard, "packed")).await;
    assert_eq!(s, 409);
    assert!(common::is_styled_error_page(&html) && html.contains("mark it picked first"), "{html}");

    // Standard: picked, packed, shipped with carrier and tracking.
    let (s, to, _) = post(&b, step(&standard, "picked")).await;
    assert_eq!((s, to.as_str()), (303, "/store?location=STORE&done=picked"));
    let (_, _, html) = b.get(&to).await;
    assert!(html.contains("Marked picked."), "{html}");
    let (s, _, _) = post(&b, step(&standard, "packed")).await;
    assert_eq!(s, 303);
    let mut ship = step(&standard, "ship");
    ship.extend([
        ("carrier".to_owned(), "USPS".to_owned()),
        ("tracking".to_owned(), "9400".to_owned()),
        ("tracking_url".to_owned(), "https://tools.usps.example/9400".to_owned()),
    ]);
    let (s, to, _) = post(&b, ship).await;
    assert_eq!((s, to.as_str()), (303, "/store?location=STORE&done=shipped"));
    let (_, o) = app.get(&format!("/api/v1/orders/{standard}")).await;
    assert_eq!(o["status"], "shipped");
    assert_eq!(o["shipments"][0]["tracking_url"], "https://tools.usps.example/9400");
    assert_eq!(o["shipments"][0]["carrier"], "USPS");

    // Pickup: picked, ready (the customer is told), picked up.
    for action in ["picked", "ready_for_pickup", "picked_up"] {
        let (s, to, _) = post(&b, step(&pickup, action)).await;
        assert_eq!((s, to), (303, format!("/store?location=STORE&done={action}")), "{action}");
    }
    let (_, o) = app.get(&format!("/api/v1/orders/{pickup}")).await;
    assert_eq!(o["status"], "completed");

    // Can't find it: the line is re-routed to WH, the store's count corrected.
    let mut short = step(&missing, "short_pick");
    short.push(("line".to_owned(), "1".to_owned()));
    let (s, to, _) = post(&b, short).await;
    assert_eq!((s, to.as_str()), (303, "/store?location=STORE&done=short_pick"));
    let (_, o) = app.get(&format!("/api/v1/orders/{missing}")).await;
    let at: Vec<&str> = o["lines"][0]["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .filter(|a| a["released"] == 0)
        .filter_map(|a| a["location"].as_str())
        .collect();
    assert_eq!(at, vec!["WH"], "{o}");
    assert!(o["events"]
        .as_array()
        .expect("events")
        .iter()
        .any(|e| e["message"].as_str().unwrap_or("").contains("short_pick")));
    let (_, _, html) = b.get("/store?location=STORE").await;
    assert!(html.contains("Nothing to pick at STORE"), "{html}");
    let (_, _, html) = b.get("/store?location=WH").await;
    assert!(html.contains("B-3"), "{html}");

    // Bad input: an unknown step, a bad line.
    let (s, _, _) = post(&b, step(&missing, "teleport")).await;
    assert_eq!(s, 400);
    let mut bad = step(&missing, "short_pick");
    bad.push(("line".to_owned(), "one".to_owned()));
    let (s, _, _) = post(&b, bad).await;
    assert_eq!(s, 422);
    app.assert_audit_clean().await;
}
