//! Issue 10 items 3–6 in the dashboard, over HTTP on both backends: the
//! Overview page (KPIs with their trend, SVG charts, the Catalogue health
//! panel), the ROI page (prefilled from the shop's orders, the report, bad
//! input named on the page) and "simulate the last N days" from the Rules
//! page.

mod common;

use common::{inline_error, is_styled_error_page, order_body, Browser, TestApp, START_MS};
use serde_json::json;

both!(
    the_overview_shows_trends_charts_and_catalogue_health,
    a_clean_shop_has_nothing_to_fix_on_the_overview,
    the_roi_page_prefills_calculates_and_names_bad_input,
    the_rules_page_simulates_a_draft_on_the_last_days,
);

const DAY_MS: i64 = 86_400_000;

async fn order(app: &TestApp, channel: &str, ext: &str, sku: &str, quantity: i64) -> serde_json::Value {
    let mut body = order_body(ext, json!([{"sku": sku, "quantity": quantity, "unit_price": 4500}]));
    body["channel"] = json!(channel);
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    o
}

/// The text of the element with `id` (up to its first closing tag).
fn element<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in {html}"));
    &html[at..]
}

async fn the_overview_shows_trends_charts_and_catalogue_health(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.sku("MUG", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
    // The week before: one web order, filled.
    app.clock.set(START_MS - 10 * DAY_MS);
    order(&app, "web", "OLD", "TEE", 1).await;
    // This week: two web orders and a pos order for a MUG nobody has.
    app.clock.set(START_MS - DAY_MS);
    order(&app, "web", "A", "TEE", 1).await;
    order(&app, "web", "B", "TEE", 1).await;
    let short = order(&app, "pos", "C", "MUG", 1).await;
    assert_eq!(short["status"], "backordered");
    app.clock.set(START_MS);

    let b = Browser::sign_in(&app).await;
    let (status, _, html) = b.get("/overview").await;
    assert_eq!(status, 200, "{html}");
    let orders = element(&html, "kpi-orders");
    assert!(orders.contains(">3 <span class=\"kpi-arrow\">↑</span>") && orders.contains("before: 1"), "{orders}");
    assert!(element(&html, "kpi-fill").contains("66.7%"), "2 of 3 filled");
    assert!(html.contains("class=\"kpi verdict-worse\" id=\"kpi-fill\""), "100% → 66.7% is worse: {html}");
    for chart in ["chart-orders", "chart-rates", "chart-ages"] {
        let svg = element(&html, chart);
        assert!(svg.contains("<svg class=\"chart\"") && svg.contains("viewBox"), "{chart}: {svg}");
    }
    // The channels stack on their day, each named in the legend and the tooltips.
    let orders_chart = element(&html, "chart-orders");
    assert!(orders_chart.contains(": web 2</title>") && orders_chart.contains(": pos 1</title>"), "{orders_chart}");
    // The backordered MUG's exception is a day old: one in "1–3 days", none elsewhere.
    let ages = element(&html, "chart-ages");
    let value = |band: &str| {
        let after = ages.split(&format!("{band}</text>")).nth(1).unwrap_or_default();
        after.split("</text>").next().and_then(|t| t.rsplit('>').next()).unwrap_or_default().to_owned()
    };
    assert_eq!((value("1–3 days"), value("under 1 h"), value("over 3 days")), ("1".into(), "0".into(), "0".into()));
    // Catalogue health: the MUG sells with no stock anywhere.
    let health = element(&html, "health");
    assert!(health.contains("no_stock_still_sells") && health.contains("MUG"), "{health}");
    assert!(health.contains("Receive or count stock of MUG"), "{health}");

    let (status, _, html) = b.get("/overview?days=30").await;
    assert_eq!(status, 200);
    assert!(element(&html, "kpi-orders").contains(">4 "), "all four orders in 30 days: {html}");
    let (status, _, html) = b.get("/overview?days=8").await;
    assert_eq!(status, 400);
    assert!(is_styled_error_page(&html) && html.contains("days must be 7, 30 or 90"), "{html}");
    let (status, _, html) = b.get("/overview?nope=1").await;
    assert_eq!(status, 400, "{html}");
}

async fn a_clean_shop_has_nothing_to_fix_on_the_overview(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
    order(&app, "web", "A", "TEE", 1).await;
    let b = Browser::sign_in(&app).await;
    let (status, _, html) = b.get("/overview").await;
    assert_eq!(status, 200);
    assert!(element(&html, "health").contains("Nothing to fix: 1 SKU(s), 1 location(s)"), "{html}");
    assert!(element(&html, "kpi-orders").contains("before: 0"));
    assert!(html.contains("class=\"kpi verdict-new\" id=\"kpi-orders\""), "nothing before: no trend");
}

async fn the_roi_page_prefills_calculates_and_names_bad_input(app: TestApp) {
    app.location("WH", 1).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 10).await;
    let mut last = json!(null);
    for ext in ["A", "B", "C", "D"] {
        last = order(&app, "web", ext, "TEE", 1).await;
    }
    let id = last["id"].as_str().expect("id");
    let (s, _) = app.post(&format!("/api/v1/orders/{id}/cancel"), json!({"reason": "customer_request"})).await;
    assert_eq!(s, 200);
    let b = Browser::sign_in(&app).await;

    // Four orders in the last 30 days, one cancelled: 25%, the rate after.
    let (status, _, html) = b.get("/roi").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"orders\" inputmode=\"numeric\" value=\"4\""), "{html}");
    assert!(html.contains("id=\"cancel_rate_after\" inputmode=\"decimal\" value=\"25\""), "{html}");
    assert!(element(&html, "measured").contains("4 order(s), 25% cancelled"), "{html}");
    assert!(!html.contains("id=\"roi-results\""), "nothing computed yet");

    // The seed's retailer, worked by hand: 800 a month at 45.00, 3% → 1.5%.
    let query = "/roi?orders=800&per=month&aov=45&currency=USD&cancel_rate_before=3&cancel_rate_after=1.5\
                 &minutes_per_cancellation=20&labour_cost_per_hour=20-30&subscription_per_month=250-500";
    let (status, _, html) = b.get(query).await;
    assert_eq!(status, 200, "{html}");
    for (id, want) in [
        ("roi-failed", "24 per month before, 12 after"),
        ("roi-prevented", "12 per month (144 per year)"),
        ("roi-revenue", "540.00 USD per month (6480.00 USD per year)"),
        ("roi-hours", "48 hours per year (20 minutes per cancellation)"),
        ("roi-labour", "960.00 USD to 1440.00 USD per year"),
        ("roi-value", "7440.00 USD to 7920.00 USD per year"),
        // 144 × 250.00 ÷ 7920.00 = 4.545…, 144 × 500.00 ÷ 7440.00 = 9.677…
        ("roi-payback", "4.55 to 9.68 months"),
    ] {
        assert!(element(&html, id).starts_with(&format!("id=\"{id}\">{want}<")), "{id}: {}", element(&html, id));
    }

    // Bad input: named on the page, the form as sent, nothing computed.
    let base = [
        ("orders", "800"),
        ("per", "month"),
        ("aov", "45"),
        ("cancel_rate_before", "3"),
        ("cancel_rate_after", "1.5"),
        ("currency", "USD"),
    ];
    for (change, want) in [
        (("aov", "abc"), "aov: must be a decimal amount like 45 or 45.00"),
        (("cancel_rate_after", "4"), "cancel rate after: 4% is above the rate before (3%)"),
        (("orders", ""), "orders: is required"),
        (("per", "week"), "per: must be month or year"),
        (("currency", "XXY"), "currency:"),
    ] {
        let (field, value) = change;
        let query: Vec<String> =
            base.iter().map(|(k, v)| format!("{k}={}", if *k == field { value } else { v })).collect();
        let path = format!("/roi?{}", query.join("&"));
        let (status, _, html) = b.get(&path).await;
        assert_eq!(status, 422, "{change:?}: {html}");
        let error = inline_error(&html).replace("&quot;", "\"").replace("&#34;", "\"");
        assert!(error.contains(want), "{change:?}: {error}");
        assert!(!html.contains("id=\"roi-results\""), "{change:?}");
        assert!(html.contains(&format!("value=\"{value}\"")) || field == "per", "kept: {change:?}");
    }
    let (status, _, html) = b.get("/roi?orders=1&bogus=2").await;
    assert_eq!(status, 400, "{html}");
}

async fn the_rules_page_simulates_a_draft_on_the_last_days(app: TestApp) {
    app.location("WH", 1).await;
    app.location("STORE", 2).await;
    app.sku("TEE", json!(null)).await;
    app.stock("TEE", "WH", 4).await;
    app.clock.set(START_MS - 2 * DAY_MS);
    for ext in ["A", "B", "C"] {
        order(&app, "web", ext, "TEE", 2).await;
    }
    app.clock.set(START_MS);
    let draft = "[[eligibility.channels]]\nchannel = \"web\"\nonly_locations = [\"STORE\"]\n";
    let (s, v) = app.post("/api/v1/routing/policies", json!({"toml": draft, "note": "store only", "by": "ana"})).await;
    assert_eq!(s, 201, "{v}");
    let b = Browser::sign_in(&app).await;
    let (_, _, rules) = b.get("/rules").await;
    assert!(rules.contains("id=\"simulate\"") && rules.contains("<option value=\"1\">v1</option>"), "{rules}");

    let (status, _, html) = b.get("/rules/simulate?version=1&days=30").await;
    assert_eq!(status, 200, "{html}");
    assert!(element(&html, "sim-summary").starts_with("id=\"sim-summary\">3 order(s) of the last 30 days"), "{html}");
    let table = element(&html, "simulation");
    let rows: Vec<&str> = table.split("<tr><th scope=\"row\">").skip(1).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(
        rows[0].starts_with("built-in default</th><td class=\"num\">3</td><td class=\"num\">66.7%</td>"),
        "{}",
        rows[0]
    );
    assert!(rows[1].starts_with("v1</th><td class=\"num\">3</td><td class=\"num\">0.0%</td>"), "{}", rows[1]);
    assert!(rows[1].contains("<td>-2</td>"), "two more failed orders under v1: {}", rows[1]);
    // Nothing was written: the orders keep their stock.
    assert_eq!(app.position("TEE", "WH").await, (4, 4, 0));

    for (path, status) in [
        ("/rules/simulate?version=9&days=30", 404),
        ("/rules/simulate?version=1&days=0", 422),
        ("/rules/simulate?version=1&days=91", 422),
        ("/rules/simulate?version=x&days=30", 422),
        ("/rules/simulate?version=1", 400),
    ] {
        let (s, _, html) = b.get(path).await;
        assert_eq!(s, status, "{path}: {html}");
        assert!(is_styled_error_page(&html), "{path}");
    }
}
