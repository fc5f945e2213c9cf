//! Issue 9 item 8, return data, over real HTTP on both backends: a
//! scripted history whose every number is worked out by hand, read from
//! `GET /api/v1/returns/stats` for several periods and from the Returns
//! page; bad periods refused.
//!
//! The history (day 0 = 2026-11-30 12:00 UTC):
//! - day 0: order A on `web`, 4 × TEE, and order B on `market`, 2 × MUG and
//!   1 × TEE; both shipped whole. Shipped: TEE 5, MUG 2.
//! - day 1: R1, A, 2 × TEE, defective (approved); R2, B, 1 × MUG,
//!   wrong_size (approved).
//! - day 2: both received; R1 refunded on day 3 (2 days), R2 on day 5
//!   (4 days).
//! - day 35: R3, A, 1 × TEE, changed_mind: past the 30-day window, so it
//!   waits for a person (never authorized: not counted as returned).
//!
//! Over 2026-11-30 .. 2027-01-31: 3 returns of 4 units; TEE returned 2 of 5
//! (0.4), MUG 1 of 2 (0.5); turnaround 2 refunds, mean 3 days = 259,200 s,
//! p50 172,800 s, p90 and max 345,600 s.

mod common;

use common::{order_body, Browser, TestApp, START_MS};
use serde_json::{json, Value};

both!(return_data_matches_the_numbers_worked_out_by_hand, bad_periods_are_refused);

const DAY: i64 = 86_400_000;

async fn order(app: &TestApp, channel: &str, ext: &str, lines: Value, ship: Value) -> String {
    let mut body = order_body(ext, lines);
    body["channel"] = json!(channel);
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    let id = o["id"].as_str().expect("id").to_owned();
    let (s, o) = app.post(&format!("/api/v1/orders/{id}/shipments"), json!({"location": "WH", "lines": ship})).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("shipped")), "{o}");
    id
}

async fn ask(app: &TestApp, order: &str, sku: &str, units: i64, reason: &str) -> (String, String) {
    let body = json!({"order_id": order, "lines": [{"sku": sku, "quantity": units}], "reason": reason});
    let (s, r) = app.post("/api/v1/returns", body).await;
    assert_eq!(s, 201, "{r}");
    (r["id"].as_str().expect("id").to_owned(), r["status"].as_str().expect("status").to_owned())
}

async fn receive_all(app: &TestApp, id: &str, sku: &str, units: i64) {
    let body = json!({"lines": [{"sku": sku, "quantity": units, "grade": "resellable"}]});
    let (s, r) = app.post(&format!("/api/v1/returns/{id}/receive"), body).await;
    assert_eq!(s, 200, "{r}");
}

async fn refund(app: &TestApp, id: &str) {
    let (s, r) = app.post(&format!("/api/v1/returns/{id}/refund"), json!({})).await;
    assert_eq!((s, r["status"].as_str()), (200, Some("refunded")), "{r}");
}

async fn history(app: &TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.sku("MUG", json!(null)).await;
    app.stock("TEE", "WH", 20).await;
    app.stock("MUG", "WH", 20).await;
    let tee = |n: i64| json!({"sku": "TEE", "quantity": n, "unit_price": 2000});
    let mug = |n: i64| json!({"sku": "MUG", "quantity": n, "unit_price": 1000});
    let a = order(app, "web", "A-1", json!([tee(4)]), json!([{"sku": "TEE", "quantity": 4}])).await;
    let b = order(
        app,
        "market",
        "B-1",
        json!([mug(2), tee(1)]),
        json!([{"sku": "MUG", "quantity": 2}, {"sku": "TEE", "quantity": 1}]),
    )
    .await;
    app.clock.set(START_MS + DAY);
    let (r1, s1) = ask(app, &a, "TEE", 2, "defective").await;
    let (r2, s2) = ask(app, &b, "MUG", 1, "wrong_size").await;
    assert_eq!((s1.as_str(), s2.as_str()), ("authorized", "authorized"));
    app.clock.set(START_MS + 2 * DAY);
    receive_all(app, &r1, "TEE", 2).await;
    receive_all(app, &r2, "MUG", 1).await;
    app.clock.set(START_MS + 3 * DAY);
    refund(app, &r1).await;
    app.clock.set(START_MS + 5 * DAY);
    refund(app, &r2).await;
    app.clock.set(START_MS + 35 * DAY);
    let (_, s3) = ask(app, &a, "TEE", 1, "changed_mind").await;
    assert_eq!(s3, "requested", "past the window: a person decides");
}

fn reason(code: &str, label: &str, returns: i64, units: i64) -> Value {
    json!({"reason": code, "label": label, "returns": returns, "units": units})
}

async fn return_data_matches_the_numbers_worked_out_by_hand(app: TestApp) {
    history(&app).await;
    let (s, all) = app.get("/api/v1/returns/stats?from=2026-11-30&to=2027-01-31").await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(
        (all["from"].as_str(), all["to"].as_str()),
        (Some("2026-11-30T00:00:00.000Z"), Some("2027-02-01T00:00:00.000Z"))
    );
    assert_eq!((all["returns"].as_i64(), all["units"].as_i64()), (Some(3), Some(4)));
    let faulty = "It is faulty or doesn't work";
    assert_eq!(
        all["reasons_by_sku"],
        json!([
            {"sku": "MUG", "reasons": [reason("wrong_size", "It doesn't fit (wrong size)", 1, 1)]},
            {"sku": "TEE", "reasons": [reason("defective", faulty, 1, 2),
                                        reason("changed_mind", "I changed my mind", 1, 1)]},
        ])
    );
    assert_eq!(
        all["reasons_by_channel"],
        json!([
            {"channel": "market", "reasons": [reason("wrong_size", "It doesn't fit (wrong size)", 1, 1)]},
            {"channel": "web", "reasons": [reason("changed_mind", "I changed my mind", 1, 1),
                                            reason("defective", faulty, 1, 2)]},
        ])
    );
    assert_eq!(
        all["return_rate_by_sku"],
        json!([
            {"sku": "MUG", "units_shipped": 2, "units_returned": 1, "return_rate": 0.5},
            {"sku": "TEE", "units_shipped": 5, "units_returned": 2, "return_rate": 0.4},
        ])
    );
    assert_eq!(
        all["turnaround"],
        json!({"refunded": 2, "mean_secs": 259200.0, "p50_secs": 172800.0, "p90_secs": 345600.0,
               "max_secs": 345600.0})
    );

    // From day 2 on: no order of the cohort, only R3 requested, both refunds.
    let (_, later) = app.get("/api/v1/returns/stats?from=2026-12-02T00:00:00Z&to=2027-01-31").await;
    assert_eq!((later["returns"].as_i64(), later["units"].as_i64()), (Some(1), Some(1)), "{later}");
    assert_eq!(later["return_rate_by_sku"], json!([]));
    assert_eq!(later["reasons_by_channel"][0]["reasons"], json!([reason("changed_mind", "I changed my mind", 1, 1)]));
    assert_eq!(later["turnaround"]["refunded"], 2);
    // One day: R2's refund only.
    let (_, day5) = app.get("/api/v1/returns/stats?from=2026-12-05&to=2026-12-05").await;
    assert_eq!((day5["returns"].as_i64(), day5["turnaround"]["mean_secs"].as_f64()), (Some(0), Some(345600.0)));
    // An empty day: nothing to average (null, never NaN).
    let (_, quiet) = app.get("/api/v1/returns/stats?from=2026-12-04&to=2026-12-04").await;
    assert_eq!(
        quiet["turnaround"],
        json!({"refunded": 0, "mean_secs": null, "p50_secs": null, "p90_secs": null,
                                           "max_secs": null})
    );
    // The default: the 30 days to the end of today (day 35): R3 only.
    let (_, recent) = app.get("/api/v1/returns/stats").await;
    assert_eq!((recent["returns"].as_i64(), recent["turnaround"]["refunded"].as_i64()), (Some(1), Some(0)), "{recent}");
    assert_eq!(recent["from"], "2026-12-06T00:00:00.000Z");

    // The same numbers on the Returns page.
    let b = Browser::sign_in(&app).await;
    let (s, _, page) = b.get("/returns?from=2026-11-30&to=2027-01-31").await;
    assert_eq!(s, 200);
    assert!(page.contains("3 return(s) of 4 unit(s)"), "{page}");
    for expected in ["50.0%", "40.0%", "72.0 h", "48.0 h", "96.0 h", "I changed my mind"] {
        assert!(page.contains(expected), "the page shows {expected}");
    }
    app.assert_audit_clean().await;
}

async fn bad_periods_are_refused(app: TestApp) {
    for query in ["from=yesterday", "from=2027-01-02&to=2027-01-01", "to=2026-13-01", "channel=web", "from=1960-01-01"]
    {
        let (s, e) = app.get(&format!("/api/v1/returns/stats?{query}")).await;
        assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_query")), "{query}: {e}");
    }
    let b = Browser::sign_in(&app).await;
    let (s, _, page) = b.get("/returns?from=yesterday").await;
    assert_eq!(s, 200, "the list still shows; the data says why not");
    assert!(page.contains("id=\"stats-error\""), "{page}");
    let (s, _) = app.get("/api/v1/returns/stats").await;
    assert_eq!(s, 200);
    let r = app.client.get(app.url("/api/v1/returns/stats")).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401, "the API needs the token");
}
