//! The API over real HTTP on a random port, on both backends.

mod common;

use common::{allocated, order_body, TestApp};
use serde_json::{json, Value};

both!(
    zero_oversell_under_64_concurrent_clients,
    bundles_and_components_compete_without_oversell,
    duplicate_deliveries_make_one_order,
    order_lifecycle,
    bad_input_is_refused_and_changes_nothing,
    list_filters_and_cursor,
    exception_queue_over_http,
);

async fn zero_oversell_under_64_concurrent_clients(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("HOT", json!(null)).await;
    app.stock("HOT", "WH", 10).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post(
                    "/api/v1/orders",
                    order_body(&format!("hot-{i}"), json!([{"sku": "HOT", "quantity": 1, "unit_price": 1500}])),
                )
                .await
            })
        })
        .collect();
    let (mut held, mut backordered) = (0, 0);
    for t in tasks {
        let (status, order) = t.await.expect("join");
        assert_eq!(status, 201, "every request succeeds: {order}");
        match allocated(&order) {
            1 => {
                held += 1;
                assert_eq!(order["status"], "accepted");
            }
            0 => {
                backordered += 1;
                assert_eq!(order["status"], "backordered");
                assert_eq!(order["lines"][0]["backordered"], 1);
            }
            n => panic!("allocated {n}"),
        }
    }
    assert_eq!((held, backordered), (10, 54));
    assert_eq!(app.position("HOT", "WH").await, (10, 10, 0));
    let (_, inv) = app.get("/api/v1/inventory/HOT").await;
    assert_eq!(inv["available"], 0);
    app.assert_audit_clean().await;
}

async fn bundles_and_components_compete_without_oversell(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("MUG", json!(null)).await;
    app.sku("CANDLE", json!(null)).await;
    app.sku("GIFT", json!([{"sku": "MUG", "quantity": 1}, {"sku": "CANDLE", "quantity": 1}])).await;
    app.stock("MUG", "WH", 10).await;
    app.stock("CANDLE", "WH", 100).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let app = app.clone();
            let sku = if i % 2 == 0 { "GIFT" } else { "MUG" };
            tokio::spawn(async move {
                let r = app
                    .post(
                        "/api/v1/orders",
                        order_body(&format!("b-{i}"), json!([{"sku": sku, "quantity": 1, "unit_price": 3000}])),
                    )
                    .await;
                (sku, r)
            })
        })
        .collect();
    let (mut gifts, mut mugs) = (0, 0);
    for t in tasks {
        let (sku, (status, order)) = t.await.expect("join");
        assert_eq!(status, 201, "{order}");
        let n = allocated(&order);
        if sku == "GIFT" {
            gifts += n;
        } else {
            mugs += n;
        }
    }
    assert_eq!(gifts + mugs, 10, "every mug promised once: {gifts} gift sets + {mugs} mugs");
    assert_eq!(app.position("MUG", "WH").await, (10, 10, 0));
    assert_eq!(app.position("CANDLE", "WH").await, (100, gifts, 100 - gifts));
    app.assert_audit_clean().await;
}

async fn duplicate_deliveries_make_one_order(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 5).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post(
                    "/api/v1/orders",
                    order_body("same-1", json!([{"sku": "X", "quantity": 1, "unit_price": 100}])),
                )
                .await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    let mut statuses = Vec::new();
    for t in tasks {
        let (status, order) = t.await.expect("join");
        statuses.push(status);
        ids.insert(order["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 19);
    assert_eq!(app.position("X", "WH").await, (5, 1, 4));
    app.assert_audit_clean().await;
}

async fn order_lifecycle(app: TestApp) {
    let (s, v) = app.client.get(app.url("/healthz")).send().await.map(|r| (r.status().as_u16(), r)).expect("healthz");
    assert_eq!(s, 200);
    assert_eq!(v.json::<Value>().await.expect("json"), json!({"status": "ok"}));
    let (s, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/orders",
        "/orders/{id}",
        "/orders/{id}/shipments",
        "/inventory/{sku}/{location}",
        "/skus/{sku}",
        "/locations/{code}",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }

    app.location("WH", 1).await;
    app.location("STORE", 2).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 2).await;
    app.stock("X", "STORE", 2).await;
    let (s, v) = app.post("/api/v1/inventory/X/WH/adjust", json!({"delta": 1, "reason": "found one"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.position("X", "WH").await, (3, 0, 3));

    // Pending payment, split across two locations.
    let mut body = order_body("life-1", json!([{"sku": "X", "quantity": 4, "unit_price": 2500}]));
    body["payment"] = json!("pending");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(o["status"], "pending_payment");
    assert_eq!(o["total"], 10000);
    assert!(o["reservation_expires_at"].is_string());
    let id = o["id"].as_str().expect("id").to_owned();
    assert_eq!(allocated(&o), 4);
    assert!(o["events"].as_array().is_some_and(|e| !e.is_empty()));

    let (s, o) = app.post(&format!("/api/v1/orders/{id}/payment"), json!({})).await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["status"], "accepted");
    let (s, again) = app.post(&format!("/api/v1/orders/{id}/payment"), json!({})).await;
    assert_eq!(s, 409, "{again}");

    let store_units = o["lines"][0]["allocations"]
        .as_array()
        .expect("allocs")
        .iter()
        .find(|a| a["location"] == "STORE")
        .map(|a| a["quantity"].as_i64().unwrap_or(0))
        .unwrap_or(0);
    assert!(store_units > 0);
    let (s, o) = app
        .post(
            &format!("/api/v1/orders/{id}/shipments"),
            json!({
                "location": "STORE",
                "lines": [{"sku": "X", "quantity": store_units}],
                "carrier": "USPS",
                "tracking": "9400"
            }),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["status"], "partially_shipped");
    let (s, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(s, 200);
    assert!(o["events"].as_array().expect("events").iter().any(|e| e["kind"] == "shipped"));

    // A second order, cancelled: its stock comes back where it was reserved.
    let (_, o2) = app
        .post("/api/v1/orders", order_body("life-2", json!([{"sku": "X", "quantity": 1, "unit_price": 2500}])))
        .await;
    assert_eq!(allocated(&o2), 1, "{o2}");
    let at = o2["lines"][0]["allocations"][0]["location"].as_str().expect("allocated somewhere").to_owned();
    let before = app.position("X", &at).await;
    let (s, c) = app
        .send(reqwest::Method::POST, &format!("/api/v1/orders/{}/cancel", o2["id"].as_str().expect("id")), None)
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "cancelled");
    // Regression (issue 7): this asserted `after < before || x >= 0`, which
    // cannot fail, so "cancel gives the stock back" was not tested.
    let after = app.position("X", &at).await;
    assert_eq!(after, (before.0, before.1 - 1, before.2 + 1), "cancel gives the unit back at {at}");
    app.assert_audit_clean().await;
}

async fn list_filters_and_cursor(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 2).await;
    for i in 0..4 {
        let mut body = order_body(&format!("list-{i}"), json!([{"sku": "X", "quantity": 1, "unit_price": 100}]));
        body["channel"] = json!(if i % 2 == 0 { "amazon" } else { "etsy" });
        assert_eq!(app.post("/api/v1/orders", body).await.0, 201);
    }
    let (s, page) = app.get("/api/v1/orders?limit=3").await;
    assert_eq!(s, 200);
    assert_eq!(page["orders"].as_array().expect("orders").len(), 3);
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, page2) = app.get(&format!("/api/v1/orders?limit=3&cursor={cursor}")).await;
    assert_eq!(page2["orders"].as_array().expect("orders").len(), 1);
    assert!(page2["next_cursor"].is_null());
    let (_, amazon) = app.get("/api/v1/orders?channel=amazon").await;
    assert!(amazon["orders"].as_array().expect("orders").iter().all(|o| o["channel"] == "amazon"));
    assert_eq!(amazon["orders"].as_array().expect("orders").len(), 2);
    let (_, back) = app.get("/api/v1/orders?status=backordered").await;
    assert_eq!(back["orders"].as_array().expect("orders").len(), 2);
    let (s, ch) =
        app.put("/api/v1/channels/amazon", json!({"display_name": "Amazon US", "settings": {"atp_buffer": "2"}})).await;
    assert_eq!(s, 200, "{ch}");
    let (_, chans) = app.get("/api/v1/channels").await;
    let names: Vec<&str> = chans.as_array().expect("channels").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, vec!["amazon", "etsy"], "orders register their channel");
    assert_eq!(chans[0]["settings"]["atp_buffer"], "2");
    // One code, one status: every bad query parameter is 400 `invalid_query`.
    let (s, bad) = app.get("/api/v1/orders?status=lost").await;
    assert_error(s, &bad, 400, "invalid_query");
    let (s, bad) = app.get("/api/v1/orders?limit=0").await;
    assert_error(s, &bad, 400, "invalid_query");
    let (s, bad) = app.get("/api/v1/orders?limit=abc").await;
    assert_eq!(s, 400, "{bad}");
}

/// Sends raw bytes with a content type; returns (status, body).
async fn raw(app: &TestApp, method: reqwest::Method, path: &str, body: Vec<u8>) -> (u16, Value) {
    let res = app
        .client
        .request(method, app.url(path))
        .bearer_auth(common::TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

async fn bad_input_is_refused_and_changes_nothing(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 5).await;
    let (_, good) =
        app.post("/api/v1/orders", order_body("good", json!([{"sku": "X", "quantity": 2, "unit_price": 100}]))).await;
    let good_id = good["id"].as_str().expect("id").to_owned();
    let ledger = app.ledger_entries().await;
    let line = |sku: &str, q: Value| json!([{"sku": sku, "quantity": q, "unit_price": 100}]);

    // Auth.
    let r = app.client.get(app.url("/api/v1/orders")).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthorized");
    let r = app.client.get(app.url("/api/v1/orders")).bearer_auth("wrong").send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);

    // Unknown references.
    let (s, b) = app.post("/api/v1/orders", order_body("u1", line("NOPE", json!(1)))).await;
    assert_error(s, &b, 422, "unknown_sku");
    let (s, b) = app.put("/api/v1/inventory/X/NOWHERE", json!({"on_hand": 1})).await;
    assert_error(s, &b, 422, "unknown_location");
    let (s, b) = app.put("/api/v1/inventory/NOPE/WH", json!({"on_hand": 1})).await;
    assert_error(s, &b, 422, "unknown_sku");
    let (s, b) = app.get("/api/v1/orders/not-an-order").await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app.get("/api/v1/inventory/NOPE").await;
    assert_error(s, &b, 404, "not_found");
    let mut pickup = order_body("u2", line("X", json!(1)));
    pickup["service_level"] = json!("pickup");
    pickup["pickup_location"] = json!("NOWHERE");
    let (s, b) = app.post("/api/v1/orders", pickup).await;
    assert_error(s, &b, 422, "unknown_location");

    // Quantities.
    let (s, b) = app.post("/api/v1/orders", order_body("q0", line("X", json!(0)))).await;
    assert_error(s, &b, 422, "invalid_quantity");
    let (s, b) = app.post("/api/v1/orders", order_body("q1", line("X", json!(-1)))).await;
    assert_error(s, &b, 422, "invalid_quantity");
    let (s, b) = app.post("/api/v1/orders", order_body("q2", line("X", json!(2_000_000)))).await;
    assert_error(s, &b, 422, "invalid_quantity");
    let (s, b) = app.post("/api/v1/orders", order_body("q3", line("X", json!(1e30)))).await;
    assert_error(s, &b, 422, "invalid_body");
    let (s, b) = app.post("/api/v1/inventory/X/WH/adjust", json!({"delta": 0, "reason": "x"})).await;
    assert_error(s, &b, 422, "invalid_quantity");
    // Regression (issue 7): these accepted either 409 or 422.
    let (s, b) = app.post("/api/v1/inventory/X/WH/adjust", json!({"delta": -100, "reason": "x"})).await;
    assert_error(s, &b, 422, "invalid_quantity");
    let (s, b) = app.post("/api/v1/inventory/X/WH/adjust", json!({"delta": -4, "reason": "x"})).await;
    assert_error(s, &b, 409, "below_reserved");
    let (s, b) = app.put("/api/v1/inventory/X/WH", json!({"on_hand": -1})).await;
    assert_error(s, &b, 422, "invalid_quantity");
    let (s, b) = app.put("/api/v1/inventory/X/WH", json!({"on_hand": 9_223_372_036_854_775_807i64})).await;
    assert_error(s, &b, 422, "invalid_quantity");

    // Money.
    let mut mixed = order_body("m1", json!([{"sku": "X", "quantity": 1, "unit_price": 100, "currency": "EUR"}]));
    let (s, b) = app.post("/api/v1/orders", mixed.clone()).await;
    assert_error(s, &b, 422, "currency_mismatch");
    mixed["currency"] = json!("usd");
    let (s, b) = app.post("/api/v1/orders", mixed).await;
    assert_error(s, &b, 422, "invalid_currency");
    let (s, b) = app
        .post("/api/v1/orders", order_body("m2", json!([{"sku": "X", "quantity": 2, "unit_price": i64::MAX}])))
        .await;
    assert_error(s, &b, 422, "amount_overflow");
    let (s, b) =
        app.post("/api/v1/orders", order_body("m3", json!([{"sku": "X", "quantity": 1, "unit_price": -5}]))).await;
    assert_error(s, &b, 422, "invalid_amount");
    let (s, b) =
        app.post("/api/v1/orders", order_body("m4", json!([{"sku": "X", "quantity": 1, "unit_price": 1.5}]))).await;
    assert_error(s, &b, 422, "invalid_body");

    // Malformed, wrong types, unknown fields, oversized.
    let (s, b) = raw(&app, reqwest::Method::POST, "/api/v1/orders", b"{\"channel\": ".to_vec()).await;
    assert_error(s, &b, 400, "invalid_json");
    let (s, b) = app.post("/api/v1/orders", order_body("t1", line("X", json!("one")))).await;
    assert_error(s, &b, 422, "invalid_body");
    let mut extra = order_body("t2", line("X", json!(1)));
    extra["colour"] = json!("red");
    let (s, b) = app.post("/api/v1/orders", extra).await;
    assert_error(s, &b, 422, "invalid_body");
    let (s, b) = app.post("/api/v1/orders", order_body("t3", json!([]))).await;
    assert_error(s, &b, 422, "invalid_body");
    let (s, b) = app.post("/api/v1/orders", order_body("bad id", line("X", json!(1)))).await;
    assert_error(s, &b, 422, "invalid_identifier");
    let mut big = order_body("big", line("X", json!(1)));
    big["ship_to"]["name"] = json!("x".repeat(1024 * 1024 + 1024));
    let big = serde_json::to_vec(&big).expect("json");
    // The server answers before reading the whole body and closes the
    // connection; the client may see that as a reset before it reads the
    // answer, so a transport error is retried.
    let mut answered = None;
    for _ in 0..10 {
        let res = app
            .client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(common::TOKEN)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await;
        if let Ok(res) = res {
            answered = Some((res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null)));
            break;
        }
    }
    let (s, b) = answered.expect("the server answered an oversized body at least once in 10 tries");
    assert_error(s, &b, 413, "payload_too_large");
    let res =
        app.client.post(app.url("/api/v1/orders")).bearer_auth(common::TOKEN).body("{}").send().await.expect("send");
    assert_eq!(res.status().as_u16(), 415);

    // Illegal transitions and over-shipping.
    let ship = |q: i64| json!({"location": "WH", "lines": [{"sku": "X", "quantity": q}]});
    let (s, b) = app.post(&format!("/api/v1/orders/{good_id}/shipments"), ship(3)).await;
    assert_error(s, &b, 409, "exceeds_allocation");
    let (s, b) = app
        .post(
            &format!("/api/v1/orders/{good_id}/shipments"),
            json!({"location": "NOWHERE", "lines": [{"sku": "X", "quantity": 1}]}),
        )
        .await;
    assert_error(s, &b, 422, "unknown_location");
    let (s, b) = app.post(&format!("/api/v1/orders/{good_id}/shipments"), ship(0)).await;
    assert_error(s, &b, 422, "invalid_quantity");
    let ledger_before_cancel = app.ledger_entries().await;
    assert_eq!(ledger_before_cancel, ledger, "no refused request wrote to the ledger");
    let (s, _) = app.post(&format!("/api/v1/orders/{good_id}/cancel"), json!({"reason": "test"})).await;
    assert_eq!(s, 200);
    let (s, b) = app.post(&format!("/api/v1/orders/{good_id}/shipments"), ship(1)).await;
    assert_error(s, &b, 409, "illegal_transition");
    let (s, b) = app.post(&format!("/api/v1/orders/{good_id}/cancel"), json!({})).await;
    assert_error(s, &b, 409, "illegal_transition");

    // Nothing refused changed anything: only the cancel's release was written.
    assert_eq!(app.ledger_entries().await, ledger + 1);
    assert_eq!(app.position("X", "WH").await, (5, 0, 5));
    let (_, page) = app.get("/api/v1/orders").await;
    assert_eq!(page["orders"].as_array().expect("orders").len(), 1, "no refused order was stored");
    app.assert_audit_clean().await;
}

/// An unpaid order's hold lapses and the sweeper releases it: the test moves
/// the app's clock past the hold instead of sleeping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_reservations_expire_through_the_sweeper() {
    let engine = switchyard_engine::Config { reservation_ttl_ms: 60_000, ..Default::default() };
    let app = common::spawn_app_with(common::Backend::Sqlite, |_| {}, engine).await.expect("app");
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 3).await;
    let mut body = order_body("ttl-1", json!([{"sku": "X", "quantity": 2, "unit_price": 100}]));
    body["payment"] = json!("pending");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201);
    assert_eq!(app.position("X", "WH").await, (3, 2, 1));
    let id = o["id"].as_str().expect("id").to_owned();
    app.clock.advance_ms(59_999);
    assert!(app.engine.sweep().await.expect("sweep").expired.is_empty(), "the hold has not lapsed yet");
    assert_eq!(app.position("X", "WH").await, (3, 2, 1));
    app.clock.advance_ms(1);
    assert_eq!(app.engine.sweep().await.expect("sweep").expired, vec![id.clone()]);
    let (_, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(app.position("X", "WH").await, (3, 0, 3));
    app.assert_audit_clean().await;
}

/// Dashboard forms refuse a missing or wrong CSRF token, and pages need a session.
#[tokio::test]
async fn dashboard_needs_a_session_and_csrf() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 3).await;
    let (_, o) =
        app.post("/api/v1/orders", order_body("csrf-1", json!([{"sku": "X", "quantity": 1, "unit_price": 100}]))).await;
    let id = o["id"].as_str().expect("id");
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = no_redirect.get(app.url("/")).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = no_redirect.post(app.url("/login")).form(&[("token", "wrong")]).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let r = no_redirect.post(app.url("/login")).form(&[("token", common::TOKEN)]).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    assert!(r.headers()["set-cookie"].to_str().expect("cookie").contains("HttpOnly"));
    let page = no_redirect.get(app.url("/")).header("cookie", &cookie).send().await.expect("send");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("text").contains("csrf-1"));
    let r = no_redirect
        .post(app.url(&format!("/orders/{id}/cancel")))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 403);
    let (_, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(o["status"], "accepted", "a forged form changed nothing");
}

async fn exception_queue_over_http(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 5).await;
    let mut body = order_body("exq-1", json!([{"sku": "X", "quantity": 1, "unit_price": 100}]));
    body["ship_to"]["postal_code"] = json!("OOPS");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "a bad address does not refuse the order: {o}");
    assert_eq!(o["status"], "on_hold");
    assert_eq!(o["exceptions"][0]["kind"], "address_invalid");
    let (s, list) = app.get("/api/v1/exceptions").await;
    assert_eq!(s, 200);
    let items = list["exceptions"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert!(items[0]["age_secs"].as_i64().is_some_and(|a| a >= 0));
    assert_eq!(items[0]["owner_role"], "ops");
    assert_eq!(items[0]["sla_secs"], 4 * 3600);
    let id = items[0]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/exceptions/{id}/resolve");

    let (s, b) = app.post(&path, json!({"action": "fly", "by": "ana"})).await;
    assert_error(s, &b, 422, "invalid_body");
    let (s, b) = app.post(&path, json!({"action": "dismiss", "by": ""})).await;
    assert_error(s, &b, 422, "invalid_body");
    let mut fixed = o["ship_to"].clone();
    fixed["postal_code"] = json!("ABC");
    let (s, b) = app.post(&path, json!({"action": "edit_address", "by": "ana", "address": fixed.clone()})).await;
    assert_error(s, &b, 422, "address_invalid");
    fixed["postal_code"] = json!("97205");
    let (s, b) =
        app.post(&path, json!({"action": "edit_address", "by": "ana", "reason": "called", "address": fixed})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "resolved");
    assert_eq!(b["resolved_by"], "ana");
    let (s, b) = app.post(&path, json!({"action": "dismiss", "by": "ana", "reason": "again"})).await;
    assert_error(s, &b, 409, "invalid_request");
    let (_, order) = app.get(&format!("/api/v1/orders/{}", o["id"].as_str().expect("id"))).await;
    assert_eq!(order["status"], "accepted");
    assert!(order["exceptions"][0]["status"] == "resolved");
    let (_, open) = app.get("/api/v1/exceptions").await;
    assert!(open["exceptions"].as_array().expect("items").is_empty());
    let (_, all) = app.get("/api/v1/exceptions?status=all").await;
    assert_eq!(all["exceptions"].as_array().expect("items").len(), 1);
    let (s, b) = app.get("/api/v1/exceptions?status=bogus").await;
    assert_error(s, &b, 400, "invalid_query");
    let (s, b) = app.get(&format!("/api/v1/exceptions/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(b["log"].as_array().expect("log").len(), 2);
    let (s, b) = app.get("/api/v1/exceptions/nope").await;
    assert_error(s, &b, 404, "not_found");
    app.assert_audit_clean().await;
}

/// Regression (issue 7): a location with priority -5 was accepted.
#[tokio::test]
async fn a_negative_location_priority_is_refused() {
    let app = common::spawn_app(common::Backend::Sqlite, |_| {}).await.expect("app");
    let body = json!({"name": "Back room", "kind": "store",
        "address": {"line1": "1 Main", "city": "Reno", "region": "NV", "postal_code": "89501", "country": "US"},
        "can_ship": true, "priority": -5});
    let (s, b) = app.put("/api/v1/locations/BACK", body).await;
    assert_error(s, &b, 422, "invalid_body");
    let (_, list) = app.get("/api/v1/locations").await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "nothing was stored: {list}");
}
