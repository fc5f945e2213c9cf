//! Dropship purchase orders over real HTTP on both backends (issue 9, item
//! 0): an order routed to a dropship vendor makes a purchase order whose
//! e-mail reaches a real SMTP server on a loopback port (the stand-in's)
//! with the CSV and PDF attached, and whose webhook is verified against its
//! signature by a local receiver; the vendor confirms and ships through the
//! link in the e-mail and through the API (the order ships, the audit is
//! clean); a vendor late to confirm opens `dropship_unconfirmed` when the
//! `ManualClock` passes its due time, and its confirmation closes it; a
//! cancelled or re-routed order cancels its purchase order and tells the
//! vendor; an unpaid order's purchase order waits for its payment (one
//! that lapses unpaid never reaches the vendor); bad, unknown and expired
//! links are 404s.

mod common;

use common::{answer, no_redirect, order_body, TestApp, START_MS};
use serde_json::{json, Value};
use switchyard_engine::{Notifier, NotifyConfig, RetryPolicy, SmtpConfig, SmtpSecurity};
use switchyard_standin::smtp::{Mail, SmtpStandIn};
use switchyard_standin::webhook::{verified, WebhookReceiver};

both!(
    a_vendor_gets_its_purchase_order_by_email_and_webhook_and_ships_through_the_link,
    the_api_confirms_and_ships_and_a_late_vendor_opens_an_exception,
    a_cancelled_or_rerouted_order_cancels_its_purchase_order_and_tells_the_vendor,
    vendor_settings_are_checked_and_the_secret_is_never_returned,
    an_unpaid_order_tells_the_vendor_only_once_it_is_paid,
);

const SECRET: &str = "vendor-secret-0123456789";
const VENDOR_EMAIL: &str = "po@vendor.example.com";
const DAY_MS: i64 = 86_400_000;

/// A warehouse with TEE, a dropship vendor (lead time 3 days) with MUG,
/// and a routing policy that falls back to dropship vendors.
async fn shop(app: &TestApp) {
    app.location("WH", 1).await;
    let (s, v) = app
        .put(
            "/api/v1/locations/VEND",
            json!({"name": "Acme Mugs", "kind": "dropship",
                   "address": {"line1": "9 Kiln Rd", "city": "Newark", "region": "NJ", "postal_code": "07102",
                               "country": "US"},
                   "lat": 40.7, "lon": -74.2, "can_ship": true, "can_pickup": false, "priority": 5,
                   "active": true, "lead_time_days": 3}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.put("/api/v1/skus/MUG", json!({"title": "Stoneware mug"})).await;
    assert_eq!(s, 200, "{v}");
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
    app.stock("MUG", "VEND", 5).await;
    let toml = "[fallback]\nchain = [\"dropship\", \"backorder\"]\n";
    let (s, saved) = app.post("/api/v1/routing/policies", json!({"toml": toml, "by": "test"})).await;
    assert_eq!(s, 201, "{saved}");
    let version = saved["version"].as_i64().expect("version");
    let (s, v) = app.post(&format!("/api/v1/routing/policies/{version}/activate"), json!({"by": "test"})).await;
    assert_eq!(s, 200, "{v}");
}

async fn vendor(app: &TestApp, hook: Option<&str>) {
    let mut body = json!({"email": VENDOR_EMAIL});
    if let Some(url) = hook {
        body["webhook_url"] = json!(url);
        body["webhook_secret"] = json!(SECRET);
    }
    let (s, v) = app.put("/api/v1/locations/VEND/vendor", body).await;
    assert_eq!(s, 200, "{v}");
}

fn config(app: &TestApp, smtp: &SmtpStandIn) -> NotifyConfig {
    let mut c = NotifyConfig::new(app.base.clone());
    c.shop_name = "Test Shop".into();
    c.smtp = Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port(),
        security: SmtpSecurity::Plain,
        username: None,
        password: None,
        from: "Test Shop <orders@shop.example.com>".into(),
        timeout_secs: 5,
    });
    c.retry = RetryPolicy { first_retry_ms: 1_000, max_retry_ms: 1_000, max_attempts: 3 };
    c
}

/// An order; its id.
async fn order(app: &TestApp, ext: &str, lines: Value) -> String {
    let (s, o) = app.post("/api/v1/orders", order_body(ext, lines)).await;
    assert_eq!(s, 201, "{o}");
    o["id"].as_str().expect("id").to_owned()
}

async fn purchase_orders(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/purchase-orders{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["purchase_orders"].as_array().cloned().expect("purchase_orders")
}

fn to_vendor(mails: &[Mail]) -> Vec<Mail> {
    mails.iter().filter(|m| m.to == vec![VENDOR_EMAIL.to_owned()]).cloned().collect()
}

/// The vendor link in a text.
fn vendor_link(app: &TestApp, text: &str) -> String {
    let start = text.find(&format!("{}/vendor/po/", app.base)).unwrap_or_else(|| panic!("no vendor link in {text}"));
    text[start..].split_whitespace().next().expect("link").to_owned()
}

async fn open(url: &str) -> (u16, String) {
    let res = reqwest::get(url).await.expect("get");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    answer(no_redirect().post(url).form(form).send().await.expect("post")).await
}

async fn order_json(app: &TestApp, id: &str) -> Value {
    let (s, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(s, 200, "{o}");
    o
}

fn exceptions_of(order: &Value, kind: &str) -> Vec<Value> {
    let all = order["exceptions"].as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|e| e["kind"] == kind).collect()
}

async fn a_vendor_gets_its_purchase_order_by_email_and_webhook_and_ships_through_the_link(app: TestApp) {
    shop(&app).await;
    let (hooks, url) = WebhookReceiver::start("/po").await.expect("receiver");
    vendor(&app, Some(&url)).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, &smtp)).expect("notifier");

    let id = order(
        &app,
        "W-1",
        json!([{"sku": "MUG", "quantity": 2, "unit_price": 1500}, {"sku": "TEE", "quantity": 1, "unit_price": 4500}]),
    )
    .await;
    // One purchase order, for the dropshipped line only, made with the order.
    let pos = purchase_orders(&app, "?status=sent").await;
    assert_eq!(pos.len(), 1, "{pos:?}");
    let po = &pos[0];
    let (po_id, number) = (po["id"].as_str().expect("id"), po["number"].as_str().expect("number"));
    assert!(number.starts_with("PO-"), "{number}");
    assert_eq!((po["order_id"].as_str(), po["order_number"].as_str()), (Some(id.as_str()), Some("W-1")));
    assert_eq!(po["location"], "VEND");
    assert_eq!(po["lines"], json!([{"line_no": 1, "sku": "MUG", "title": "Stoneware mug", "quantity": 2}]));
    assert_eq!(po["ship_to"]["name"], "Ana");
    assert_eq!(po["due_at"].as_str(), Some(switchyard_store::rfc3339(START_MS + 3 * DAY_MS).as_str()));
    assert_eq!(app.position("MUG", "VEND").await, (5, 2, 3));

    let r = notifier.round().await.expect("round");
    assert_eq!((r.sent, r.failed), (2, 0), "the vendor's e-mail and webhook: {r:?}");
    let mails = to_vendor(&smtp.mails());
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.subject(), Some(format!("Purchase order {number} from Test Shop")));
    let csv = mail.part("text/csv").expect("a CSV attachment");
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[0].starts_with("po_number,order_number,line,sku,title,quantity,ship_to_name"), "{csv}");
    let due = switchyard_store::rfc3339(START_MS + 3 * DAY_MS);
    assert_eq!(rows[1], format!("{number},W-1,1,MUG,Stoneware mug,2,Ana,1 Oak St,Portland,OR,97205,US,{due}"));
    assert!(mail.part("application/pdf").is_some_and(|p| p.starts_with("%PDF-1.4")), "a PDF attachment");
    let text = mail.text().expect("text");
    assert!(text.contains("2 x MUG (Stoneware mug)") && !text.contains("TEE"), "{text}");

    // The webhook: signed with the vendor's secret, the purchase order in it.
    let calls = hooks.calls();
    assert_eq!(calls.len(), 1);
    let (headers, body) = &calls[0];
    assert!(verified(headers, body, SECRET), "the signature verifies");
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert!(!verified(headers, &tampered, SECRET), "a changed body does not");
    let v: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(
        (v["event"].as_str(), v["purchase_order"]["number"].as_str()),
        (Some("purchase_order_issued"), Some(number))
    );
    assert_eq!(headers.get("x-switchyard-event").and_then(|h| h.to_str().ok()), Some("purchase_order_issued"));
    assert!(v["csv"].as_str().is_some_and(|c| c.contains(",MUG,Stoneware mug,2,")));
    let hook_link = v["vendor_url"].as_str().expect("vendor_url").to_owned();

    // The link in the e-mail opens the purchase order, without signing in.
    let link = vendor_link(&app, &text);
    assert_ne!(link, hook_link, "every message has its own link");
    let (s, page) = open(&link).await;
    assert_eq!(s, 200, "{page}");
    for want in [number, "W-1", "Stoneware mug", "Waiting for your confirmation", "Portland", "id=\"confirm\""] {
        assert!(page.contains(want), "{want:?} missing from the vendor page: {page}");
    }
    for never in ["TEE", "4500", "15.00", id.as_str(), SECRET] {
        assert!(!page.contains(never), "{never:?} leaked onto the vendor page");
    }
    let (s, _, _) = post_form(&format!("{link}/confirm"), &[]).await;
    assert_eq!(s, 303);
    let (_, po) = app.get(&format!("/api/v1/purchase-orders/{po_id}")).await;
    assert_eq!(po["status"], "confirmed", "{po}");
    // Confirming twice is refused on the page, changing nothing.
    let (s, _, page) = post_form(&format!("{hook_link}/confirm"), &[]).await;
    assert_eq!(s, 409, "{page}");
    assert!(page.contains("id=\"error\"") && page.contains("cannot become confirmed"), "{page}");
    // A blank tracking number is refused; then the shipment goes through.
    let (s, _, page) = post_form(&format!("{link}/shipments"), &[("carrier", "UPS"), ("tracking", " ")]).await;
    assert_eq!(s, 422, "{page}");
    let (s, _, _) =
        post_form(&format!("{link}/shipments"), &[("carrier", "UPS <b>"), ("tracking", "1Z999AA10123456784")]).await;
    assert_eq!(s, 303);
    let (s, page) = open(&link).await;
    assert_eq!(s, 200);
    assert!(page.contains("Shipped: thank you") && !page.contains("id=\"ship\""), "{page}");
    assert!(page.contains("UPS &#60;b&#62;") && !page.contains("UPS <b>"), "escaped: {page}");

    // The order's MUG line shipped through the order's shipments.
    let o = order_json(&app, &id).await;
    assert_eq!(o["status"], "partially_shipped", "{o}");
    let shipments = o["shipments"].as_array().expect("shipments");
    assert_eq!(shipments.len(), 1);
    assert_eq!(
        (shipments[0]["location"].as_str(), shipments[0]["tracking"].as_str()),
        (Some("VEND"), Some("1Z999AA10123456784"))
    );
    assert_eq!(app.position("MUG", "VEND").await, (3, 0, 3));
    let (_, po) = app.get(&format!("/api/v1/purchase-orders/{po_id}")).await;
    assert_eq!((po["status"].as_str(), po["carrier"].as_str()), (Some("shipped"), Some("UPS <b>")));
    app.assert_audit_clean().await;

    // Links: forged, malformed, unknown → 404; every link expires.
    assert_eq!(open(&format!("{}/vendor/po/{}", app.base, "ab".repeat(32))).await.0, 404);
    assert_eq!(open(&format!("{}/vendor/po/not-a-token", app.base)).await.0, 404);
    assert_eq!(post_form(&format!("{}/vendor/po/{}/confirm", app.base, "cd".repeat(32)), &[]).await.0, 404);
    app.clock.advance_ms(switchyard_engine::VENDOR_LINK_TTL_MS);
    let (s, page) = open(&link).await;
    assert_eq!(s, 404, "an expired link opens nothing");
    assert!(!page.contains(number));
    assert_eq!(post_form(&format!("{hook_link}/shipments"), &[("carrier", "x"), ("tracking", "y")]).await.0, 404);
}

async fn the_api_confirms_and_ships_and_a_late_vendor_opens_an_exception(app: TestApp) {
    shop(&app).await;
    let id = order(&app, "A-1", json!([{"sku": "MUG", "quantity": 1, "unit_price": 1500}])).await;
    let other = order(&app, "A-2", json!([{"sku": "MUG", "quantity": 1, "unit_price": 1500}])).await;
    let all = purchase_orders(&app, "").await;
    assert_eq!(all.len(), 2);
    let po_of = |order: &str| {
        all.iter().find(|p| p["order_id"] == order).and_then(|p| p["id"].as_str()).expect("po").to_owned()
    };
    let (po, other_po) = (po_of(&id), po_of(&other));
    assert_eq!(purchase_orders(&app, &format!("?order_id={id}")).await.len(), 1);

    // Within the lead time: nothing. Past it: one exception per late PO.
    app.clock.advance_ms(3 * DAY_MS - 1);
    assert!(app.engine.sweep().await.expect("sweep").dropship_unconfirmed.is_empty());
    app.clock.advance_ms(1);
    let flagged = app.engine.sweep().await.expect("sweep").dropship_unconfirmed;
    assert_eq!(flagged.len(), 2, "{flagged:?}");
    assert!(app.engine.sweep().await.expect("sweep").dropship_unconfirmed.is_empty(), "flagged once");
    let late = exceptions_of(&order_json(&app, &id).await, "dropship_unconfirmed");
    assert_eq!((late.len(), late[0]["status"].as_str()), (1, Some("open")), "{late:?}");
    let (_, p) = app.get(&format!("/api/v1/purchase-orders/{po}")).await;
    assert_eq!(p["exception_id"], late[0]["id"]);

    // The vendor confirms through the API: the exception closes.
    let (s, p) = app.post(&format!("/api/v1/purchase-orders/{po}/confirm"), json!({"by": "acme"})).await;
    assert_eq!((s, p["status"].as_str()), (200, Some("confirmed")), "{p}");
    let late = exceptions_of(&order_json(&app, &id).await, "dropship_unconfirmed");
    assert_eq!(late[0]["status"], "resolved", "{late:?}");
    let open_other = exceptions_of(&order_json(&app, &other).await, "dropship_unconfirmed");
    assert_eq!(open_other[0]["status"], "open", "the other order's exception is its own");
    let (s, e) = app.post(&format!("/api/v1/purchase-orders/{po}/confirm"), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("illegal_transition")), "{e}");

    // Bad input changes nothing.
    let (s, e) = app.get("/api/v1/purchase-orders?status=lost").await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_query")));
    let (s, e) = app.post("/api/v1/purchase-orders/nope/confirm", json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, e) = app.post(&format!("/api/v1/purchase-orders/{po}/confirm"), json!({"by": "x", "extra": 1})).await;
    assert_eq!(s, 422, "{e}");
    let bad = json!({"carrier": "UPS", "tracking": "1Z\u{0}9"});
    let (s, e) = app.post(&format!("/api/v1/purchase-orders/{other_po}/shipments"), bad).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid_body")), "{e}");
    let (_, p) = app.get(&format!("/api/v1/purchase-orders/{other_po}")).await;
    assert_eq!(p["status"], "sent", "a refused shipment changes nothing");
    assert_eq!(order_json(&app, &other).await["status"], "accepted");

    // Shipping through the API ships the order (an unconfirmed PO too, which
    // closes its exception).
    let ship = json!({"carrier": "FedEx", "tracking": "7700"});
    let (s, p) = app.post(&format!("/api/v1/purchase-orders/{po}/shipments"), ship.clone()).await;
    assert_eq!((s, p["status"].as_str(), p["tracking"].as_str()), (200, Some("shipped"), Some("7700")), "{p}");
    assert_eq!(order_json(&app, &id).await["status"], "shipped");
    let (s, p) = app.post(&format!("/api/v1/purchase-orders/{other_po}/shipments"), ship.clone()).await;
    assert_eq!((s, p["status"].as_str()), (200, Some("shipped")), "{p}");
    let o = order_json(&app, &other).await;
    assert_eq!(o["status"], "shipped");
    assert_eq!(exceptions_of(&o, "dropship_unconfirmed")[0]["status"], "resolved");
    let (s, e) = app.post(&format!("/api/v1/purchase-orders/{po}/shipments"), ship).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("illegal_transition")), "shipped once");
    assert_eq!(app.position("MUG", "VEND").await, (3, 0, 3));
    assert_eq!(purchase_orders(&app, "?status=shipped").await.len(), 2);
    app.assert_audit_clean().await;
}

async fn a_cancelled_or_rerouted_order_cancels_its_purchase_order_and_tells_the_vendor(app: TestApp) {
    shop(&app).await;
    vendor(&app, None).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, &smtp)).expect("notifier");
    // An order with nothing at the vendor makes no purchase order.
    order(&app, "N-1", json!([{"sku": "TEE", "quantity": 1, "unit_price": 4500}])).await;
    assert!(purchase_orders(&app, "").await.is_empty());

    let id = order(&app, "C-1", json!([{"sku": "MUG", "quantity": 2, "unit_price": 1500}])).await;
    notifier.round().await.expect("round");
    assert_eq!(to_vendor(&smtp.mails()).len(), 1);
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/cancel"), json!({"reason": "customer asked"})).await;
    assert_eq!(s, 200, "{o}");
    let pos = purchase_orders(&app, &format!("?order_id={id}")).await;
    assert_eq!((pos.len(), pos[0]["status"].as_str()), (1, Some("cancelled")), "{pos:?}");
    assert!(pos[0]["cancelled_at"].is_string());
    notifier.round().await.expect("round");
    let mails = to_vendor(&smtp.mails());
    assert_eq!(mails.len(), 2);
    let number = pos[0]["number"].as_str().expect("number");
    assert_eq!(mails[1].subject(), Some(format!("CANCELLED: purchase order {number} from Test Shop")));
    assert!(mails[1].text().is_some_and(|t| t.contains("please do not ship it")));
    assert_eq!(app.position("MUG", "VEND").await, (5, 0, 5));

    // A re-route releases the units and routes them again (to the vendor,
    // the only place with MUG): the first PO is cancelled, a new one made.
    let id = order(&app, "R-1", json!([{"sku": "MUG", "quantity": 1, "unit_price": 1500}])).await;
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/reroute"), json!({"reason": "test", "by": "ana"})).await;
    assert_eq!(s, 200, "{o}");
    let pos = purchase_orders(&app, &format!("?order_id={id}")).await;
    let statuses: Vec<&str> = pos.iter().filter_map(|p| p["status"].as_str()).collect();
    assert_eq!(statuses, vec!["sent", "cancelled"], "newest first: {pos:?}");
    assert_eq!(app.position("MUG", "VEND").await, (5, 1, 4));
    notifier.round().await.expect("round");
    let subjects: Vec<String> = to_vendor(&smtp.mails()).iter().filter_map(Mail::subject).collect();
    assert_eq!(subjects.len(), 5, "{subjects:?}");
    assert!(subjects[2..].iter().filter(|s| s.starts_with("CANCELLED")).count() == 1, "{subjects:?}");
    // Cancelling from the late exception cancels the purchase order too.
    app.clock.advance_ms(3 * DAY_MS);
    app.engine.sweep().await.expect("sweep");
    let late = exceptions_of(&order_json(&app, &id).await, "dropship_unconfirmed");
    let eid = late[0]["id"].as_str().expect("exception");
    let (s, e) = app
        .post(&format!("/api/v1/exceptions/{eid}/resolve"), json!({"action": "cancel", "by": "ana", "reason": "late"}))
        .await;
    assert_eq!(s, 200, "{e}");
    let pos = purchase_orders(&app, &format!("?order_id={id}&status=sent")).await;
    assert!(pos.is_empty(), "{pos:?}");
    assert_eq!(app.position("MUG", "VEND").await, (5, 0, 5));
    app.assert_audit_clean().await;
}

async fn vendor_settings_are_checked_and_the_secret_is_never_returned(app: TestApp) {
    shop(&app).await;
    let (s, v) = app
        .put(
            "/api/v1/locations/VEND/vendor",
            json!({"email": VENDOR_EMAIL, "webhook_url": "https://vendor.example.com/po", "webhook_secret": SECRET}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"location": "VEND", "email": VENDOR_EMAIL, "webhook_url": "https://vendor.example.com/po",
               "has_webhook_secret": true})
    );
    let refused = [
        (json!({"email": "not an address"}), 422, "invalid_body"),
        (json!({"webhook_url": "ftp://vendor.example.com", "webhook_secret": SECRET}), 422, "invalid_body"),
        (json!({"webhook_url": "https://vendor.example.com/po", "webhook_secret": "short"}), 422, "invalid_body"),
        (json!({"email": VENDOR_EMAIL, "unknown": 1}), 422, "invalid_body"),
    ];
    for (body, status, code) in refused {
        let (s, e) = app.put("/api/v1/locations/VEND/vendor", body.clone()).await;
        assert_eq!((s, e["error"]["code"].as_str()), (status, Some(code)), "{body}: {e}");
    }
    let (s, e) = app.put("/api/v1/locations/WH/vendor", json!({"email": VENDOR_EMAIL})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_request")), "a warehouse has no vendor");
    let (s, e) = app.put("/api/v1/locations/NOPE/vendor", json!({"email": VENDOR_EMAIL})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("unknown_location")), "{e}");
    // Nothing changed; a later edit without the secret keeps it.
    let (s, v) = app.get("/api/v1/locations/VEND/vendor").await;
    assert_eq!((s, v["has_webhook_secret"].as_bool(), v["email"].as_str()), (200, Some(true), Some(VENDOR_EMAIL)));
    let (s, v) =
        app.put("/api/v1/locations/VEND/vendor", json!({"email": null, "webhook_url": "http://127.0.0.1:9/po"})).await;
    assert_eq!((s, v["has_webhook_secret"].as_bool(), &v["email"]), (200, Some(true), &Value::Null), "{v}");
    assert!(!v.to_string().contains(SECRET));
    // The API reference lists the new endpoints.
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    for path in [
        "/purchase-orders",
        "/purchase-orders/{id}/confirm",
        "/purchase-orders/{id}/shipments",
        "/locations/{code}/vendor",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
}

async fn an_unpaid_order_tells_the_vendor_only_once_it_is_paid(app: TestApp) {
    shop(&app).await;
    vendor(&app, None).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, &smtp)).expect("notifier");
    let unpaid = |ext: &str| {
        let mut body = order_body(ext, json!([{"sku": "MUG", "quantity": 2, "unit_price": 1500}]));
        body["payment"] = json!("pending");
        body
    };
    let (s, o) = app.post("/api/v1/orders", unpaid("U-1")).await;
    assert_eq!((s, o["status"].as_str()), (201, Some("pending_payment")), "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let (s, o) = app.post("/api/v1/orders", unpaid("U-2")).await;
    assert_eq!(s, 201, "{o}");
    let lapses = o["id"].as_str().expect("id").to_owned();
    // Reserved at the vendor, but no purchase order and nothing sent.
    assert_eq!(app.position("MUG", "VEND").await, (5, 4, 1));
    assert!(purchase_orders(&app, "").await.is_empty());
    notifier.round().await.expect("round");
    assert!(to_vendor(&smtp.mails()).is_empty(), "nothing reaches the vendor before payment");

    // Paid: the purchase order is made for what is held there, and sent.
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/payment"), json!({})).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("accepted")), "{o}");
    let pos = purchase_orders(&app, "").await;
    assert_eq!(pos.len(), 1, "{pos:?}");
    assert_eq!((pos[0]["order_id"].as_str(), pos[0]["status"].as_str()), (Some(id.as_str()), Some("sent")));
    assert_eq!(pos[0]["lines"], json!([{"line_no": 1, "sku": "MUG", "title": "Stoneware mug", "quantity": 2}]));
    let r = notifier.round().await.expect("round");
    assert_eq!(r.failed, 0, "{r:?}");
    assert_eq!(to_vendor(&smtp.mails()).len(), 1);
    // The order's timeline logs when and how the vendor was told.
    let number = pos[0]["number"].as_str().expect("number");
    let events = order_json(&app, &id).await["events"].clone();
    let told = format!("Purchase order {number} to the vendor by e-mail: sent");
    assert!(events.as_array().is_some_and(|es| es.iter().any(|e| e["message"] == told.as_str())), "{events}");
    let (s, e) = app.post(&format!("/api/v1/orders/{id}/payment"), json!({})).await;
    assert_eq!(s, 409, "paid once: {e}");
    assert_eq!(purchase_orders(&app, "").await.len(), 1, "a refused payment makes no second purchase order");

    // The other hold lapses unpaid (cancelled, by default): released, and the vendor never heard of it.
    app.clock.advance_ms(app.engine.config().reservation_ttl_ms + 1);
    app.engine.sweep().await.expect("sweep");
    assert_eq!(order_json(&app, &lapses).await["status"], "cancelled");
    assert_eq!(app.position("MUG", "VEND").await, (5, 2, 3));
    assert!(purchase_orders(&app, &format!("?order_id={lapses}")).await.is_empty());
    notifier.round().await.expect("round");
    assert_eq!(to_vendor(&smtp.mails()).len(), 1);
    app.assert_audit_clean().await;
}
