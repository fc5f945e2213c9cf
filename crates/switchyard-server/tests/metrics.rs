//! Metrics over HTTP (issue 10), on both backends: `GET /api/v1/metrics`
//! with the numbers of a scripted two-day history worked out by hand, its
//! filters, the CSV export, bad queries, complaints, and the Prometheus
//! text at `/metrics` (it parses, counts requests under their route
//! template, needs the token unless `metrics_public`).

mod common;

use common::{order_body, TestApp, START_MS, TOKEN};
use serde_json::{json, Value};

both!(
    the_metrics_api_gives_the_numbers_worked_out_by_hand,
    the_csv_export_has_a_row_per_day,
    bad_metric_queries_are_400_invalid_query,
    complaints_are_recorded_against_orders,
    a_pickup_is_handled_until_handed_over_and_a_counter_sale_not_at_all,
    prometheus_text_parses_and_counts_requests_by_route_template,
);

const HOUR: i64 = 3_600_000;
/// 2026-11-30T00:00:00Z, the day the test app starts on.
const DAY1: i64 = START_MS - 12 * HOUR;
const DAY2: i64 = DAY1 + 24 * HOUR;

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

async fn order(app: &TestApp, channel: &str, ext: &str, lines: &[(&str, i64)]) -> String {
    let lines: Vec<Value> = lines.iter().map(|(s, q)| json!({"sku": s, "quantity": q, "unit_price": 1000})).collect();
    let mut body = order_body(ext, json!(lines));
    body["channel"] = json!(channel);
    let (s, v) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

/// The same two days as the engine's test (tests/metrics.rs there):
/// day 1 `web` A 2 × TEE shipped after exactly 2 h; `web` B 1 × MUG
/// cancelled ("customer_request"); `web` C 1 × TEE + 1 × HAT (none in stock:
/// half allocated, a stockout, backordered); day 2 `pos` D 2 × SOCK split
/// over WH and STORE; `web` E 1 × TEE cancelled ("address_wrong"); a
/// complaint about A. The clock ends at day 2, 18:00.
async fn history(app: &TestApp) {
    app.location("WH", 1).await;
    app.location("STORE", 2).await;
    for s in ["TEE", "MUG", "SOCK", "HAT"] {
        app.sku(s, json!(null)).await;
    }
    for (s, l, n) in [("TEE", "WH", 10), ("MUG", "WH", 10), ("SOCK", "WH", 1), ("SOCK", "STORE", 1)] {
        app.stock(s, l, n).await;
    }
    app.clock.set(DAY1 + 10 * HOUR);
    let a = order(app, "web", "A", &[("TEE", 2)]).await;
    app.clock.set(DAY1 + 11 * HOUR);
    let b = order(app, "web", "B", &[("MUG", 1)]).await;
    app.clock.set(DAY1 + 12 * HOUR);
    let (s, v) = app
        .post(
            &format!("/api/v1/orders/{a}/shipments"),
            json!({"location": "WH", "lines": [{"sku": "TEE", "quantity": 2}]}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("shipped")), "{v}");
    order(app, "web", "C", &[("TEE", 1), ("HAT", 1)]).await;
    app.clock.set(DAY1 + 13 * HOUR);
    let (s, v) = app.post(&format!("/api/v1/orders/{b}/cancel"), json!({"reason": "customer_request"})).await;
    assert_eq!(s, 200, "{v}");
    app.clock.set(DAY2 + 9 * HOUR);
    order(app, "pos", "D", &[("SOCK", 2)]).await;
    app.clock.set(DAY2 + 10 * HOUR);
    let e = order(app, "web", "E", &[("TEE", 1)]).await;
    app.clock.set(DAY2 + 11 * HOUR);
    let (s, v) = app.post(&format!("/api/v1/orders/{e}/cancel"), json!({"reason": "address_wrong"})).await;
    assert_eq!(s, 200, "{v}");
    app.clock.set(DAY2 + 12 * HOUR);
    let (s, v) = app.post(&format!("/api/v1/orders/{a}/complaints"), json!({"note": "late", "by": "ops"})).await;
    assert_eq!(s, 201, "{v}");
    app.clock.set(DAY2 + 18 * HOUR);
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} is not a number in {v}"))
}

async fn the_metrics_api_gives_the_numbers_worked_out_by_hand(app: TestApp) {
    history(&app).await;
    let (s, m) = app.get("/api/v1/metrics?from=2026-11-30&to=2026-12-01").await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["from"].as_str(), m["to"].as_str()),
        (Some("2026-11-30T00:00:00.000Z"), Some("2026-12-02T00:00:00.000Z"))
    );
    assert_eq!((m["orders"].as_i64(), m["orders_measured"].as_i64()), (Some(5), Some(5)));
    assert_eq!(f(&m, "fill_rate"), 4.0 / 5.0);
    assert_eq!(f(&m, "fill_rate_units"), 7.0 / 8.0);
    assert_eq!(f(&m, "stockout_rate"), 1.0 / 6.0);
    assert_eq!(f(&m, "cancellation_rate"), 2.0 / 5.0);
    assert_eq!(m["cancellations_by_reason"], json!({"address_wrong": 1, "customer_request": 1}));
    assert_eq!(m["oversell_cancellations"], 0);
    assert_eq!(f(&m, "split_shipment_rate"), 1.0 / 5.0);
    assert_eq!((f(&m, "avg_handling_secs"), f(&m, "p90_handling_secs")), (7200.0, 7200.0));
    assert_eq!(m["complaints"], 1);
    assert_eq!((m["exceptions_opened"].as_i64(), m["exceptions_open"].as_i64()), (Some(1), Some(1)));
    assert_eq!(f(&m, "exceptions_open_max_age_secs"), 30.0 * 3600.0);
    // The contract's fields, all present; what is not measured yet says so.
    for k in [
        "orders",
        "fill_rate",
        "stockout_rate",
        "cancellation_rate",
        "oversell_cancellations",
        "split_shipment_rate",
        "avg_handling_secs",
        "return_rate",
        "return_turnaround_secs",
        "complaints",
    ] {
        assert!(m.get(k).is_some(), "{k} missing from {m}");
    }
    assert_eq!((f(&m, "return_rate"), &m["return_turnaround_secs"]), (0.0, &Value::Null));
    // No pickup was made ready in this history: no on-time rate over nothing.
    assert_eq!((&m["pickup_on_time_rate"], &m["sync_lag_p50_secs"]), (&Value::Null, &Value::Null));
    assert_eq!(m["pickups_ready"], 0);

    // Day 2 by RFC 3339 times, one channel, one location.
    let (_, m) = app.get("/api/v1/metrics?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z").await;
    assert_eq!((m["orders"].as_i64(), f(&m, "fill_rate"), m["cancelled"].as_i64()), (Some(2), 1.0, Some(1)));
    let (_, m) = app.get("/api/v1/metrics?from=2026-11-30&to=2026-12-01&channel=POS").await;
    assert_eq!(
        (m["channel"].as_str(), m["orders"].as_i64(), f(&m, "split_shipment_rate")),
        (Some("pos"), Some(1), 1.0)
    );
    let (_, m) = app.get("/api/v1/metrics?from=2026-11-30&to=2026-12-01&channel=web").await;
    assert_eq!((m["orders"].as_i64(), f(&m, "fill_rate"), f(&m, "cancellation_rate")), (Some(4), 0.75, 0.5));
    let (_, m) = app.get("/api/v1/metrics?from=2026-11-30&to=2026-12-01&location=STORE").await;
    assert_eq!(
        (m["location"].as_str(), m["orders"].as_i64(), m["split_shipments"].as_i64()),
        (Some("STORE"), Some(1), Some(1))
    );
    // The default period: the 30 days to the end of today, which hold it all.
    let (_, m) = app.get("/api/v1/metrics").await;
    assert_eq!((m["orders"].as_i64(), m["to"].as_str()), (Some(5), Some("2026-12-02T00:00:00.000Z")));
    // A period with no orders: rates 0, durations null, never NaN.
    let (s, m) = app.get("/api/v1/metrics?from=2025-01-01&to=2025-01-31").await;
    assert_eq!(s, 200, "{m}");
    assert_eq!((m["orders"].as_i64(), f(&m, "fill_rate"), &m["avg_handling_secs"]), (Some(0), 0.0, &Value::Null));
}

async fn the_csv_export_has_a_row_per_day(app: TestApp) {
    history(&app).await;
    let res = app
        .client
        .get(app.url("/api/v1/metrics.csv?from=2026-11-30&to=2026-12-02"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.expect("body");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rows.headers().expect("header").iter().map(str::to_owned).collect();
    assert_eq!(header[..4], ["date", "orders", "orders_measured", "fill_rate"]);
    // Every scalar of the JSON is a column, and nothing else is.
    let (_, json) = app.get("/api/v1/metrics?from=2026-11-30&to=2026-12-02").await;
    let mut want: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .filter(|k| !["from", "to", "channel", "location", "cancellations_by_reason"].contains(k))
        .collect();
    want.sort_unstable();
    let mut got: Vec<&str> = header[1..].iter().map(String::as_str).collect();
    got.sort_unstable();
    assert_eq!(got, want);

    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    let dates: Vec<&str> = records.iter().map(|r| &r[0]).collect();
    assert_eq!(dates, ["2026-11-30", "2026-12-01", "2026-12-02"]);
    let (one, two, three) = (&records[0], &records[1], &records[2]);
    assert_eq!((&one[col("orders")], &one[col("cancelled")], &one[col("avg_handling_secs")]), ("3", "1", "7200"));
    assert_eq!(one[col("fill_rate")].parse::<f64>().ok(), Some(2.0 / 3.0));
    assert_eq!((&two[col("orders")], &two[col("split_shipment_rate")], &two[col("complaints")]), ("2", "0.5", "1"));
    assert_eq!((&three[col("orders")], &three[col("fill_rate")], &three[col("avg_handling_secs")]), ("0", "0", ""));
    assert_eq!(&one[col("return_turnaround_secs")], "");
    // The rows add up to the JSON's whole.
    let sum: i64 = records.iter().map(|r| r[col("orders")].parse::<i64>().expect("count")).sum();
    assert_eq!(Some(sum), json["orders"].as_i64());
}

async fn bad_metric_queries_are_400_invalid_query(app: TestApp) {
    for q in [
        "from=yesterday",
        "to=2026-02-30",
        "from=2026-12-02&to=2026-12-01",
        "from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        "from=1969-12-01",
        "channel=no%20spaces",
        "location=bad%20code",
        "colour=blue",
    ] {
        let (s, v) = app.get(&format!("/api/v1/metrics?{q}")).await;
        assert_error(s, &v, 400, "invalid_query");
        let (s, v) = app.get(&format!("/api/v1/metrics.csv?{q}")).await;
        assert_error(s, &v, 400, "invalid_query");
    }
    // A CSV row per day: at most 1,000 of them.
    let (s, v) = app.get("/api/v1/metrics.csv?from=2020-01-01&to=2026-12-01").await;
    assert_error(s, &v, 400, "invalid_query");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("1000")), "{v}");
    let (s, _) = app.get("/api/v1/metrics?from=2020-01-01&to=2026-12-01").await;
    assert_eq!(s, 200, "the JSON has no row per day to bound");
    // Like all of /api/v1: the token first.
    let res = app.client.get(app.url("/api/v1/metrics")).send().await.expect("send");
    assert_eq!(res.status().as_u16(), 401);
}

async fn complaints_are_recorded_against_orders(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 5).await;
    let a = order(&app, "web", "A", &[("TEE", 1)]).await;
    let (s, c) = app.post(&format!("/api/v1/orders/{a}/complaints"), json!({"note": "  wrong colour  "})).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        (c["order_id"].as_str(), c["note"].as_str(), c["created_by"].as_str()),
        (Some(a.as_str()), Some("wrong colour"), Some("api"))
    );
    assert_eq!(c["created_at"], "2026-11-30T12:00:00.000Z");
    let (_, o) = app.get(&format!("/api/v1/orders/{a}")).await;
    assert!(o["events"].as_array().expect("events").iter().any(|e| e["kind"] == "complaint"), "{o}");

    let (s, v) = app.post("/api/v1/orders/01JUNKNOWN/complaints", json!({"note": "late"})).await;
    assert_error(s, &v, 404, "not_found");
    let (s, v) = app.post(&format!("/api/v1/orders/{a}/complaints"), json!({"note": "   "})).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = app.post(&format!("/api/v1/orders/{a}/complaints"), json!({"note": "x", "mood": "angry"})).await;
    assert_error(s, &v, 422, "invalid_body");
    let (_, m) = app.get("/api/v1/metrics").await;
    assert_eq!(m["complaints"], 1, "refused complaints are not counted: {m}");
}

async fn pos(app: &TestApp, receipt: &str, mode: &str) -> String {
    let body = json!({"location": "STORE", "receipt_id": receipt, "currency": "USD", "mode": mode, "paid": true,
        "lines": [{"sku": "TEE", "quantity": 1, "unit_price": 2800}]});
    let res = app
        .client
        .post(app.url("/api/v1/channels/till/orders"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("send");
    let v: Value = res.json().await.expect("json");
    v["orders"][0]["order_id"].as_str().unwrap_or_else(|| panic!("an order: {v}")).to_owned()
}

async fn a_pickup_is_handled_until_handed_over_and_a_counter_sale_not_at_all(app: TestApp) {
    app.location("STORE", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "STORE", 5).await;
    let (s, v) = app.put("/api/v1/channels/till", json!({"kind": "pos"})).await;
    assert_eq!(s, 200, "{v}");
    app.clock.set(DAY1 + 9 * HOUR);
    let sale = pos(&app, "R-1", "sale").await;
    let (_, o) = app.get(&format!("/api/v1/orders/{sale}")).await;
    assert_eq!((o["status"].as_str(), o["shipments"][0]["carrier"].as_str()), (Some("completed"), Some("counter")));
    let pickup = pos(&app, "R-2", "pickup").await;
    app.clock.set(DAY1 + 9 * HOUR + 20 * 60_000);
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup}/ready-for-pickup"), json!({"location": "STORE"})).await;
    assert_eq!(s, 200, "{v}");
    app.clock.set(DAY1 + 10 * HOUR + 30 * 60_000);
    let (s, v) = app.post(&format!("/api/v1/orders/{pickup}/picked-up"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");

    let (_, m) = app.get("/api/v1/metrics?from=2026-11-30&to=2026-11-30").await;
    assert_eq!((m["orders"].as_i64(), f(&m, "fill_rate")), (Some(2), 1.0));
    // The pickup: taken at 09:00, handed over at 10:30; the sale had none.
    assert_eq!((m["shipped_orders"].as_i64(), f(&m, "avg_handling_secs")), (Some(1), 5400.0), "{m}");
    // Made ready 20 minutes after it was taken: within the 2-hour promise.
    assert_eq!((m["pickups_ready"].as_i64(), f(&m, "pickup_on_time_rate")), (Some(1), 1.0), "{m}");
    // The next day: nothing made ready, so no rate (null, not 0).
    let (_, m) = app.get("/api/v1/metrics?from=2026-12-01&to=2026-12-01").await;
    assert_eq!((m["pickups_ready"].as_i64(), &m["pickup_on_time_rate"]), (Some(0), &Value::Null), "{m}");
}

/// One sample of a scrape: its name, labels and value.
type Sample = (String, Vec<(String, String)>, f64);

/// One line of the text format: `name{labels} value` or `name value`.
fn sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.strip_suffix('}')?),
        None => (series, ""),
    };
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if !valid_name {
        return None;
    }
    let mut pairs = Vec::new();
    let mut rest = labels;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let end = after.find('"')?;
        pairs.push((key.to_owned(), after[..end].to_owned()));
        rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
    }
    Some((name.to_owned(), pairs, value))
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let res = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.expect("send");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = res.text().await.expect("body");
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        samples.push(sample(line).unwrap_or_else(|| panic!("not a comment nor a sample: {line:?}")));
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, ls, _)| {
            n == name
                && ls.len() == labels.len()
                && labels.iter().all(|(k, v)| ls.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|(_, _, v)| *v)
}

async fn prometheus_text_parses_and_counts_requests_by_route_template(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 5).await;
    let id = order(&app, "web", "A", &[("TEE", 2)]).await;
    let random = "01K0RANDOMORDERID0000000000";
    let (s, _) = app.get(&format!("/api/v1/orders/{random}")).await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(s, 200);
    let (s, _) = app.get("/api/v1/no-such-route/7").await;
    assert_eq!(s, 404);
    let res = app.client.get(app.url("/nowhere/at/all")).send().await.expect("send");
    assert_eq!(res.status().as_u16(), 404);

    let samples = scrape(&app).await;
    let count = |method: &str, route: &str, status: &str| {
        value(&samples, "switchyard_http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(count("GET", "/api/v1/orders/{id}", "404"), Some(1.0));
    assert_eq!(count("GET", "/api/v1/orders/{id}", "200"), Some(1.0));
    assert_eq!(count("POST", "/api/v1/orders", "201"), Some(1.0));
    assert_eq!(count("PUT", "/api/v1/inventory/{sku}/{location}", "200"), Some(1.0));
    assert_eq!(count("GET", "unmatched", "404"), Some(2.0), "both unknown paths: {samples:?}");
    let h = "switchyard_http_request_duration_seconds";
    let route = [("route", "/api/v1/orders/{id}")];
    assert_eq!(value(&samples, &format!("{h}_count"), &route), Some(2.0));
    assert_eq!(value(&samples, &format!("{h}_bucket"), &[route[0], ("le", "+Inf")]), Some(2.0));
    assert!(value(&samples, &format!("{h}_sum"), &route).is_some_and(|s| s >= 0.0));
    // Bounded labels: no raw path, no id, ever.
    for (_, labels, _) in &samples {
        for (k, v) in labels {
            assert!(!v.contains(random) && !v.contains(&id) && !v.contains("nowhere"), "{k}={v}");
        }
    }
    // What the database says at scrape time.
    assert_eq!(value(&samples, "switchyard_reservations_units", &[]), Some(2.0));
    assert_eq!(value(&samples, "switchyard_orders_total", &[("status", "accepted")]), Some(1.0));
    assert_eq!(value(&samples, "switchyard_orders_total", &[("status", "cancelled")]), Some(0.0));
    assert_eq!(value(&samples, "switchyard_exceptions_open", &[("kind", "backordered")]), Some(0.0));
    assert!(value(&samples, "switchyard_outbox_backlog", &[("state", "pending")]).is_some_and(|n| n >= 1.0));
    assert!(value(&samples, "switchyard_sweeper_runs_total", &[]).is_some());
    // The scrape itself shows in the next one.
    let again = scrape(&app).await;
    assert_eq!(
        value(&again, "switchyard_http_requests_total", &[("method", "GET"), ("route", "/metrics"), ("status", "200")]),
        Some(1.0)
    );
    // The token is needed.
    let res = app.client.get(app.url("/metrics")).send().await.expect("send");
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_public_serves_the_scrape_without_the_token() {
    let app = common::spawn_app(common::Backend::Sqlite, |c| c.metrics_public = true).await.expect("app");
    let res = app.client.get(app.url("/metrics")).send().await.expect("send");
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.expect("body");
    assert!(text.contains("switchyard_reservations_units 0"), "{text}");
    // The API still needs it.
    let res = app.client.get(app.url("/api/v1/metrics")).send().await.expect("send");
    assert_eq!(res.status().as_u16(), 401);
}
