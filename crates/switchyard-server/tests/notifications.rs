//! Customer notifications over real HTTP on both backends (issue 9, item 7):
//! e-mails received by a real SMTP server on a loopback port (the
//! stand-in's, a TCP conversation), the status link in each e-mail opened
//! on the test server, webhooks verified against their signature by a
//! local receiver, retries then a dead letter that opens an exception,
//! template edits (a good one changes the next e-mail, a bad one is refused
//! and changes nothing), and every kind of event.
//!
//! The notifier runs in the test ([`Notifier::round`]) on the app's
//! `ManualClock`, so retries are due when the test moves the clock.

mod common;

use common::{order_body, TestApp};
use serde_json::{json, Value};
use switchyard_core::NotificationEvent;
use switchyard_engine::{Notifier, NotifyConfig, RetryPolicy, Secret, SmtpConfig, SmtpSecurity, WebhookConfig};
use switchyard_standin::smtp::{Mail, SmtpStandIn};
use switchyard_standin::webhook::{verified, WebhookReceiver};

both!(
    a_shipped_order_is_emailed_with_tracking_and_the_link_opens_its_page,
    edited_templates_change_the_next_email_and_invalid_ones_change_nothing,
    webhooks_are_signed_and_the_signature_verifies,
    a_failing_mail_server_is_retried_then_dead_lettered_into_an_exception,
    every_event_reaches_the_customer_and_the_return_has_its_own_page,
    a_tracking_url_is_in_the_shipped_email_and_a_link_on_the_status_page,
    an_escalated_exception_is_sent_to_staff_once_and_never_to_the_customer,
);

const SECRET: &str = "whsec-0123456789abcdef";
const TRACKING: &str = "1Z999AA10123456784";

fn config(app: &TestApp, smtp: Option<&SmtpStandIn>, hook: Option<&str>) -> NotifyConfig {
    let mut c = NotifyConfig::new(app.base.clone());
    c.shop_name = "Test Shop".into();
    c.smtp = smtp.map(|s| SmtpConfig {
        host: "127.0.0.1".into(),
        port: s.port(),
        security: SmtpSecurity::Plain,
        username: None,
        password: None,
        from: "Test Shop <orders@shop.example.com>".into(),
        timeout_secs: 5,
    });
    if let Some(url) = hook {
        c.webhooks.push(WebhookConfig {
            name: "crm".into(),
            url: url.to_owned(),
            secret: Secret::new(SECRET),
            events: vec![],
        });
    }
    c.retry = RetryPolicy { first_retry_ms: 1_000, max_retry_ms: 1_000, max_attempts: 3 };
    c
}

async fn shop(app: &TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
}

/// An order of `units` × TEE at 45.00 for ada@example.com; its id.
async fn order(app: &TestApp, ext: &str, units: i64) -> String {
    let mut body = order_body(ext, json!([{"sku": "TEE", "quantity": units, "unit_price": 4500}]));
    body["email"] = json!("ada@example.com");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    o["id"].as_str().expect("id").to_owned()
}

async fn ship(app: &TestApp, id: &str, units: i64) {
    let body = json!({"location": "WH", "lines": [{"sku": "TEE", "quantity": units}], "carrier": "UPS",
                      "tracking": TRACKING});
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/shipments"), body).await;
    assert_eq!(s, 200, "{o}");
}

/// The status link in a text, made absolute on the test server.
fn status_link(app: &TestApp, text: &str) -> String {
    let start = text.find(&format!("{}/status/", app.base)).unwrap_or_else(|| panic!("no status link in {text}"));
    text[start..].split_whitespace().next().expect("link").to_owned()
}

/// GETs a page without the bearer token: (status, body).
async fn open(url: &str) -> (u16, String) {
    let res = reqwest::get(url).await.expect("get");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/notification-deliveries{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["deliveries"].as_array().cloned().expect("deliveries")
}

fn last_to(mails: &[Mail]) -> &Mail {
    mails.last().expect("a mail arrived")
}

async fn a_shipped_order_is_emailed_with_tracking_and_the_link_opens_its_page(app: TestApp) {
    shop(&app).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, Some(&smtp), None)).expect("notifier");
    let id = order(&app, "W-1", 2).await;
    let other = order(&app, "W-2", 1).await;
    let r = notifier.round().await.expect("round");
    assert_eq!((r.fanned_out, r.sent, r.failed), (2, 2, 0), "{r:?}");
    let accepted = smtp.mails();
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0].subject().as_deref(), Some("We have your order W-1"));
    assert_eq!(accepted[0].to, vec!["ada@example.com".to_owned()]);
    assert_eq!(accepted[0].from, "orders@shop.example.com");

    ship(&app, &id, 2).await;
    let r = notifier.round().await.expect("round");
    assert_eq!((r.fanned_out, r.sent), (1, 1), "{r:?}");
    let mails = smtp.mails();
    let shipped = last_to(&mails);
    assert_eq!(shipped.subject().as_deref(), Some("Your order W-1 has shipped"));
    assert_eq!(shipped.to, vec!["ada@example.com".to_owned()]);
    let text = shipped.text().expect("a text part");
    assert!(text.contains(&format!("Tracking number: {TRACKING}")), "{text}");
    assert!(text.contains("with UPS"), "{text}");
    assert!(shipped.html().is_none(), "the default templates are text only");

    // The link in the e-mail opens this order's page, without signing in.
    let link = status_link(&app, &text);
    let (s, page) = open(&link).await;
    assert_eq!(s, 200, "{page}");
    for want in ["Order W-1", "Shipped", TRACKING, "with UPS", "Order received", "2 × TEE"] {
        assert!(page.contains(want), "{want:?} missing from the status page: {page}");
    }
    // Nothing private: no other order, no prices, no internal timeline or
    // location codes, no ids of ours.
    for never in ["W-2", "45.00", "4500", "Received from web", "WH", id.as_str(), other.as_str(), "ada@example.com"] {
        assert!(!page.contains(never), "{never:?} leaked onto the status page");
    }
    // The first e-mail's link is another token for the same page.
    let first_link = status_link(&app, &accepted[0].text().expect("text"));
    assert_ne!(first_link, link, "every e-mail has its own link");
    assert_eq!(open(&first_link).await.0, 200);
    // A token we never gave out, or a malformed one, opens nothing.
    let forged = format!("{}/status/{}", app.base, "ab".repeat(32));
    let (s, body) = open(&forged).await;
    assert_eq!(s, 404);
    assert!(!body.contains("W-1"));
    assert_eq!(open(&format!("{}/status/not-a-token", app.base)).await.0, 404);

    // Every delivery is logged: event, channel, recipient, status, attempts.
    let log = deliveries(&app, &format!("?order_id={id}")).await;
    let seen: Vec<(&str, &str, &str, &str, i64)> = log
        .iter()
        .map(|d| {
            (
                d["event"].as_str().unwrap_or(""),
                d["channel"].as_str().unwrap_or(""),
                d["recipient"].as_str().unwrap_or(""),
                d["status"].as_str().unwrap_or(""),
                d["attempts"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("order_shipped", "email", "ada@example.com", "sent", 1),
            ("order_accepted", "email", "ada@example.com", "sent", 1)
        ]
    );
    assert!(log[0]["sent_at"].is_string() && log[0]["last_error"].is_null());
    let page1 = deliveries(&app, "?limit=1").await;
    assert_eq!(page1.len(), 1);
    let (s, e) = app.get("/api/v1/notification-deliveries?status=lost").await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_query")));
    // Nothing more to send.
    assert_eq!(notifier.round().await.expect("round"), Default::default());
    app.assert_audit_clean().await;

    // A link opens its page for a year, then nothing; the sweeper deletes it.
    app.clock.advance_ms(switchyard_engine::STATUS_LINK_TTL_MS - 60_000);
    assert_eq!(open(&link).await.0, 200, "within the year");
    assert_eq!(app.engine.sweep().await.expect("sweep").status_links_purged, 0);
    app.clock.advance_ms(60_001);
    let (s, body) = open(&link).await;
    assert_eq!(s, 404, "a year and a minute later: {body}");
    assert!(!body.contains("W-1"));
    let purged = app.engine.sweep().await.expect("sweep").status_links_purged;
    assert_eq!(purged, 3, "the accepted e-mails' two links and the shipped one's");
    assert_eq!(app.engine.sweep().await.expect("sweep").status_links_purged, 0);
}

async fn edited_templates_change_the_next_email_and_invalid_ones_change_nothing(app: TestApp) {
    shop(&app).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, Some(&smtp), None)).expect("notifier");
    let (s, t) = app.get("/api/v1/notification-templates/order_shipped").await;
    assert_eq!((s, t["customized"].as_bool()), (200, Some(false)), "{t}");
    assert!(t["subject"].as_str().is_some_and(|s| s.contains("{{ order.number }}")));
    let (s, all) = app.get("/api/v1/notification-templates").await;
    assert_eq!((s, all["templates"].as_array().map(Vec::len)), (200, Some(9)));

    let edit = json!({"subject": "Shipped! {{ order.number }} via {{ shipment.carrier }}",
                      "text_body": "Track {{ shipment.tracking }} at {{ status_url }}",
                      "html_body": "<p>Hi {{ customer.name }}, <b>{{ shipment.tracking }}</b></p>", "by": "ana"});
    let (s, saved) = app.put("/api/v1/notification-templates/order_shipped", edit).await;
    assert_eq!((s, saved["customized"].as_bool(), saved["updated_by"].as_str()), (200, Some(true), Some("ana")));

    // Refused: does not parse, an unknown variable, an unknown filter, an
    // empty subject. Each is 422 and the edit above stays in force.
    for (subject, text) in [
        ("ok", "{% if %}"),
        ("{{ order.nope }}", "fine"),
        ("ok", "{{ order.number | shout }}"),
        ("  ", "fine"),
        ("ok", "{% for x in order.lines %}"),
    ] {
        let (s, e) = app
            .put("/api/v1/notification-templates/order_shipped", json!({"subject": subject, "text_body": text}))
            .await;
        assert_eq!(s, 422, "{subject:?} {text:?}: {e}");
        assert!(["invalid_template", "invalid_body"].contains(&e["error"]["code"].as_str().unwrap_or("")), "{e}");
    }
    let (s, e) =
        app.put("/api/v1/notification-templates/order_exploded", json!({"subject": "x", "text_body": "y"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (_, now) = app.get("/api/v1/notification-templates/order_shipped").await;
    assert_eq!(now["subject"], saved["subject"], "a refused edit changes nothing");

    let mut body = order_body("T-1", json!([{"sku": "TEE", "quantity": 1, "unit_price": 4500}]));
    body["email"] = json!("bo@example.com");
    body["ship_to"]["name"] = json!("Bo <script>");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    ship(&app, o["id"].as_str().expect("id"), 1).await;
    notifier.round().await.expect("round");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "accepted (default template) and shipped (edited)");
    assert_eq!(mails[0].subject().as_deref(), Some("We have your order T-1"));
    let shipped = &mails[1];
    assert_eq!(shipped.subject().as_deref(), Some("Shipped! T-1 via UPS"));
    let text = shipped.text().expect("text");
    assert!(text.starts_with(&format!("Track {TRACKING} at {}/status/", app.base)), "{text}");
    let html = shipped.html().expect("an html part");
    assert!(html.contains("Hi Bo &lt;script&gt;, <b>1Z999AA10123456784</b>"), "escaped: {html}");

    // A bad address on an order is refused at the door, nothing stored.
    let mut bad = order_body("T-2", json!([{"sku": "TEE", "quantity": 1, "unit_price": 4500}]));
    bad["email"] = json!("bo at example");
    let (s, e) = app.post("/api/v1/orders", bad).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid_body")), "{e}");
    let (_, list) = app.get("/api/v1/orders?limit=10").await;
    assert_eq!(list["orders"].as_array().map(Vec::len), Some(1));
}

async fn webhooks_are_signed_and_the_signature_verifies(app: TestApp) {
    shop(&app).await;
    let (hooks, url) = WebhookReceiver::start("/hook").await.expect("receiver");
    let notifier = Notifier::new(app.engine.clone(), config(&app, None, Some(&url))).expect("notifier");
    let id = order(&app, "H-1", 1).await;
    ship(&app, &id, 1).await;
    let r = notifier.round().await.expect("round");
    assert_eq!((r.fanned_out, r.sent), (2, 2), "no SMTP configured: webhooks only; {r:?}");
    let calls = hooks.calls();
    assert_eq!(calls.len(), 2);
    for (headers, body) in &calls {
        assert!(verified(headers, body, SECRET), "the signature verifies");
        let mut tampered = body.clone();
        tampered.push(b' ');
        assert!(!verified(headers, &tampered, SECRET), "a changed body does not");
        let v: Value = serde_json::from_slice(body).expect("json");
        let stamp = headers.get("x-switchyard-timestamp").and_then(|v| v.to_str().ok()).expect("timestamp");
        assert_eq!(v["sent_at"].as_i64().map(|t| t.to_string()).as_deref(), Some(stamp), "the time is signed too");
        assert_eq!(stamp, (app.engine.now_ms() / 1000).to_string());
        assert_eq!(headers.get("x-switchyard-event").and_then(|v| v.to_str().ok()), v["event"].as_str());
        assert_eq!(v["order"]["number"], "H-1");
    }
    let shipped: Value = serde_json::from_slice(&calls[1].1).expect("json");
    assert_eq!(
        (shipped["event"].as_str(), shipped["shipment"]["tracking"].as_str()),
        (Some("order_shipped"), Some(TRACKING))
    );
    let (s, page) = open(shipped["status_url"].as_str().expect("status_url")).await;
    assert!(s == 200 && page.contains(TRACKING), "{page}");

    // A receiver that answers 500 is retried (the delivery is logged).
    hooks.answer_with(500);
    order(&app, "H-2", 1).await;
    let r = notifier.round().await.expect("round");
    assert_eq!((r.sent, r.failed, r.dead), (0, 1, 0), "{r:?}");
    let log = deliveries(&app, "?status=retrying").await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0]["channel"].as_str(), log[0]["recipient"].as_str()), (Some("webhook"), Some("crm")));
    assert!(log[0]["last_error"].as_str().is_some_and(|e| e.contains("500")), "{}", log[0]);
    hooks.answer_with(204);
    app.clock.advance_ms(1_000);
    let r = notifier.round().await.expect("round");
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    assert_eq!(hooks.calls().len(), 4);
}

async fn a_failing_mail_server_is_retried_then_dead_lettered_into_an_exception(app: TestApp) {
    shop(&app).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, Some(&smtp), None)).expect("notifier");
    smtp.refuse_all("451 4.3.0 mailbox busy, try later");
    let id = order(&app, "F-1", 1).await;
    for attempt in 1..=3 {
        let r = notifier.round().await.expect("round");
        assert_eq!((r.sent, r.failed, r.dead), (0, 1, usize::from(attempt == 3)), "attempt {attempt}");
        // Not due again before the backoff.
        assert_eq!(notifier.round().await.expect("round").failed, 0);
        app.clock.advance_ms(1_000);
    }
    assert!(smtp.mails().is_empty());
    let log = deliveries(&app, &format!("?order_id={id}")).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("dead"), Some(3)), "{}", log[0]);
    assert!(log[0]["last_error"].as_str().is_some_and(|e| e.contains("451")), "{}", log[0]);

    // The dead letter opened one notification_failed exception; the order
    // itself goes on (it is not held).
    let (s, o) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("accepted")));
    let open: Vec<&Value> =
        o["exceptions"].as_array().expect("exceptions").iter().filter(|x| x["status"] == "open").collect();
    assert_eq!(open.len(), 1, "{o}");
    assert_eq!(open[0]["kind"], "notification_failed");
    let exception = open[0]["id"].as_str().expect("id").to_owned();
    app.assert_audit_clean().await;

    // The mail server is fixed; a person retries: it is delivered.
    smtp.accept_all();
    let (s, x) =
        app.post(&format!("/api/v1/exceptions/{exception}/resolve"), json!({"action": "retry", "by": "ops"})).await;
    assert_eq!((s, x["status"].as_str()), (200, Some("resolved")), "{x}");
    let r = notifier.round().await.expect("round");
    assert_eq!((r.sent, r.failed), (1, 0), "{r:?}");
    assert_eq!(last_to(&smtp.mails()).subject().as_deref(), Some("We have your order F-1"));
    let log = deliveries(&app, &format!("?order_id={id}")).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("sent"), Some(4)));

    // An address the server refuses for good is dead at once.
    smtp.refuse_next(1, "550 5.1.1 no such user");
    let id2 = order(&app, "F-2", 1).await;
    let r = notifier.round().await.expect("round");
    assert_eq!((r.failed, r.dead), (1, 1), "{r:?}");
    let (_, o) = app.get(&format!("/api/v1/orders/{id2}")).await;
    assert!(o["exceptions"].as_array().expect("x").iter().any(|x| x["kind"] == "notification_failed"));
    let (s, x) = app
        .post(
            &format!("/api/v1/exceptions/{}/resolve", o["exceptions"][0]["id"].as_str().expect("id")),
            json!({"action": "cancel", "by": "ops"}),
        )
        .await;
    assert_eq!((s, x["error"]["code"].as_str()), (409, Some("invalid_request")), "only retry or dismiss: {x}");
}

async fn every_event_reaches_the_customer_and_the_return_has_its_own_page(app: TestApp) {
    shop(&app).await;
    app.location("STORE", 2).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, Some(&smtp), None)).expect("notifier");
    let subjects =
        |from: usize| -> Vec<String> { smtp.mails()[from..].iter().map(|m| m.subject().unwrap_or_default()).collect() };

    // Backordered at intake: "delayed" instead of "accepted".
    let short = order(&app, "E-1", 50).await;
    // Cancelled.
    let (s, _) = app.post(&format!("/api/v1/orders/{short}/cancel"), json!({"reason": "customer asked"})).await;
    assert_eq!(s, 200);
    notifier.round().await.expect("round");
    assert_eq!(subjects(0), vec!["Your order E-1 is delayed", "Your order E-1 was cancelled"]);

    // Ready for pickup at a store: the store's name and address.
    app.stock("TEE", "STORE", 5).await;
    let mut body = order_body("E-2", json!([{"sku": "TEE", "quantity": 1, "unit_price": 4500}]));
    body["email"] = json!("ada@example.com");
    body["service_level"] = json!("pickup");
    body["pickup_location"] = json!("STORE");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    let pickup = o["id"].as_str().expect("id").to_owned();
    let (s, o) = app.post(&format!("/api/v1/orders/{pickup}/ready-for-pickup"), json!({"location": "STORE"})).await;
    assert_eq!(s, 200, "{o}");
    notifier.round().await.expect("round");
    let mails = smtp.mails();
    assert_eq!(subjects(2), vec!["We have your order E-2", "Your order E-2 is ready for pickup"]);
    let text = mails[3].text().expect("text");
    assert!(text.contains("ready for pickup at STORE (1 Dock, Reno NV 89501)"), "{text}");

    // A return: authorized, received, refunded — each told, and the return's
    // link opens a page about the return.
    let id = order(&app, "E-3", 2).await;
    ship(&app, &id, 2).await;
    let (s, r) = app
        .post(
            "/api/v1/returns",
            json!({"order_id": id, "lines": [{"sku": "TEE", "quantity": 1}], "reason": "defective"}),
        )
        .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("authorized")), "{r}");
    let rma = r["rma"].as_str().expect("rma").to_owned();
    let ret = r["id"].as_str().expect("id").to_owned();
    let receive = json!({"lines": [{"sku": "TEE", "quantity": 1, "grade": "resellable"}], "by": "dock"});
    assert_eq!(app.post(&format!("/api/v1/returns/{ret}/receive"), receive).await.0, 200);
    assert_eq!(app.post(&format!("/api/v1/returns/{ret}/refund"), json!({"by": "ana"})).await.0, 200);
    notifier.round().await.expect("round");
    assert_eq!(
        subjects(4),
        vec![
            "We have your order E-3".to_owned(),
            "Your order E-3 has shipped".to_owned(),
            format!("Your return {rma} is authorized"),
            format!("We received your return {rma}"),
            format!("Your refund for return {rma}"),
        ]
    );
    let refund = smtp.mails()[8].text().expect("text");
    assert!(refund.contains(&format!("a refund of 45.00 USD for your return {rma}")), "{refund}");
    let (s, page) = open(&status_link(&app, &refund)).await;
    assert_eq!(s, 200);
    for want in [
        format!("Return {rma}"),
        "Refunded".into(),
        "45.00 USD".into(),
        "Order E-3".into(),
        "Return authorized".into(),
        "Refund issued".into(),
    ] {
        assert!(page.contains(&want), "{want:?} missing: {page}");
    }
    app.assert_audit_clean().await;
}

async fn a_tracking_url_is_in_the_shipped_email_and_a_link_on_the_status_page(app: TestApp) {
    shop(&app).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let notifier = Notifier::new(app.engine.clone(), config(&app, Some(&smtp), None)).expect("notifier");
    let id = order(&app, "U-1", 3).await;
    let ship = |url: Option<&str>| {
        let mut body = json!({"location": "WH", "lines": [{"sku": "TEE", "quantity": 1}], "carrier": "UPS",
                              "tracking": TRACKING});
        if let Some(u) = url {
            body["tracking_url"] = json!(u);
        }
        let (app, path) = (&app, format!("/api/v1/orders/{id}/shipments"));
        async move { app.post(&path, body).await }
    };
    // Anything but a web address is refused at the door, nothing shipped.
    for bad in ["javascript:alert(1)", "https://x.example/\"><script>", "data:text/html,hi"] {
        let (s, e) = ship(Some(bad)).await;
        assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid_body")), "{bad}: {e}");
    }
    // The default template gives the address in the text.
    let url = "https://track.example/t?n=1Z999&lang=en";
    let (s, o) = ship(Some(url)).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("partially_shipped")), "{o}");
    notifier.round().await.expect("round");
    let mails = smtp.mails();
    let text = last_to(&mails).text().expect("text");
    let line = format!("Follow the parcel: {url}");
    assert!(text.lines().any(|l| l.trim_end() == line), "{text}");
    // The status page links to it, escaped, opening away from the page.
    let (s, page) = open(&status_link(&app, &text)).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("class=\"tracking-link\""), "{page}");
    let escaped = ["n=1Z999&amp;lang=en", "n=1Z999&#38;lang=en"].iter().any(|e| page.contains(e));
    assert!(escaped && !page.contains("1Z999&lang"), "escaped: {page}");
    assert!(page.contains("rel=\"noopener noreferrer\""), "{page}");

    // An HTML template links to it, autoescaped.
    let edit = json!({"subject": "Shipped {{ order.number }}",
                      "text_body": "Sent{% if shipment.tracking_url %} {{ shipment.tracking_url }}{% endif %}. \
                                    {{ status_url }}",
                      "html_body": "<a href=\"{{ shipment.tracking_url }}\">Track</a>", "by": "ana"});
    let (s, saved) = app.put("/api/v1/notification-templates/order_shipped", edit).await;
    assert_eq!(s, 200, "{saved}");
    let (s, _) = ship(Some("https://track.example/t?n=2&lang=en")).await;
    assert_eq!(s, 200);
    notifier.round().await.expect("round");
    let mails = smtp.mails();
    let html = last_to(&mails).html().expect("html");
    assert!(html.starts_with("<a href=\"https:") && html.contains("track.example"), "{html}");
    assert!(html.contains("n=2&amp;lang=en\">Track</a>"), "escaped in HTML: {html}");

    // A shipment without one: nothing said, and no new link on the page.
    let (s, _) = ship(None).await;
    assert_eq!(s, 200);
    notifier.round().await.expect("round");
    let mails = smtp.mails();
    let text = last_to(&mails).text().expect("text");
    assert!(text.starts_with("Sent. "), "no URL, nothing said: {text}");
    let (_, page) = open(&status_link(&app, &text)).await;
    assert_eq!(page.matches("class=\"tracking-link\"").count(), 2, "the two parcels with one: {page}");
    app.assert_audit_clean().await;
}

async fn an_escalated_exception_is_sent_to_staff_once_and_never_to_the_customer(app: TestApp) {
    shop(&app).await;
    let smtp = SmtpStandIn::start().await.expect("smtp");
    let (crm, crm_url) = WebhookReceiver::start("/crm").await.expect("receiver");
    let (ops, ops_url) = WebhookReceiver::start("/ops").await.expect("receiver");
    let mut c = config(&app, Some(&smtp), Some(&crm_url));
    c.staff_email = Some("ops@shop.example.com".into());
    c.webhooks.push(WebhookConfig {
        name: "ops".into(),
        url: ops_url,
        secret: Secret::new(SECRET),
        events: vec![NotificationEvent::ExceptionEscalated],
    });
    let notifier = Notifier::new(app.engine.clone(), c).expect("notifier");
    // 12 wanted, 10 in stock: backordered, with a backordered exception.
    let id = order(&app, "E-1", 12).await;
    let r = notifier.round().await.expect("round");
    assert_eq!(r.sent, 2, "the customer's mail and the crm hook: {r:?}");
    assert_eq!(ops.calls().len(), 0, "a staff-only hook hears no customer news");

    // Past the backordered SLA (a day) the sweeper escalates it once.
    app.clock.advance_ms(25 * 3_600_000);
    let swept = app.engine.sweep().await.expect("sweep");
    assert_eq!(swept.escalated.len(), 1, "{swept:?}");
    let r = notifier.round().await.expect("round");
    assert_eq!((r.fanned_out, r.sent, r.failed), (2, 2, 0), "staff's mail and the ops hook: {r:?}");
    let mails = smtp.mails();
    let staff = last_to(&mails);
    assert_eq!(staff.to, vec!["ops@shop.example.com".to_owned()]);
    let subject = staff.subject().unwrap_or_default();
    assert!(subject.starts_with("Escalated: backordered on order E-1"), "{subject}");
    let text = staff.text().expect("text");
    assert!(text.contains("escalated to level 1") && text.contains(&id), "{text}");
    assert!(!text.contains("/status/"), "no customer's link in staff's mail: {text}");
    assert_eq!(mails.iter().filter(|m| m.to == vec!["ada@example.com".to_owned()]).count(), 1, "customer: once");
    let calls = ops.calls();
    assert_eq!(calls.len(), 1);
    let (headers, body) = &calls[0];
    assert!(verified(headers, body, SECRET), "signed like every webhook");
    let v: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(v["event"], "exception_escalated");
    assert_eq!((v["exception"]["kind"].as_str(), v["exception"]["level"].as_i64()), (Some("backordered"), Some(1)));
    assert_eq!(v["order"]["number"], "E-1");
    assert_eq!(crm.calls().len(), 1, "a hook without an events list gets customer events only");
    let log = deliveries(&app, &format!("?order_id={id}")).await;
    let staff_log: Vec<(&str, &str, &str)> = log
        .iter()
        .filter(|d| d["event"] == "exception_escalated")
        .map(|d| {
            let field = |k: &str| d[k].as_str().unwrap_or("");
            (field("channel"), field("recipient"), field("status"))
        })
        .collect();
    assert_eq!(staff_log.len(), 2, "{log:?}");
    assert!(staff_log.contains(&("email", "ops@shop.example.com", "sent")), "{staff_log:?}");
    assert!(staff_log.contains(&("webhook", "ops", "sent")), "{staff_log:?}");

    // No second notice for the same escalation: sweeping again sends nothing.
    let swept = app.engine.sweep().await.expect("sweep");
    assert!(swept.escalated.is_empty(), "{swept:?}");
    assert_eq!(notifier.round().await.expect("round"), Default::default());
    assert_eq!(smtp.mails().len(), mails.len());
    // The next level is a new notice.
    app.clock.advance_ms(24 * 3_600_000);
    assert_eq!(app.engine.sweep().await.expect("sweep").escalated.len(), 1);
    let r = notifier.round().await.expect("round");
    assert_eq!((r.fanned_out, r.sent), (2, 2), "{r:?}");
    let text = last_to(&smtp.mails()).text().expect("text");
    assert!(text.contains("escalated to level 2"), "{text}");
    // The staff template is listed with the others and may be edited.
    let (s, t) = app.get("/api/v1/notification-templates/exception_escalated").await;
    assert_eq!((s, t["customized"].as_bool()), (200, Some(false)), "{t}");
}
