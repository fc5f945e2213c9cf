//! The dashboard in a real headless Chromium (Debian's chromium and
//! chromedriver): an order placed through the API shows up on the pages.
//!
//! Without a browser the test says loudly that it was skipped, unless
//! `SWITCHYARD_REQUIRE_BROWSER` is set (as `.ci/run` does), when it fails.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use switchyard_core::ChannelKind;
use switchyard_standin::StandIn;

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .chain(names.iter().map(|n| PathBuf::from("/usr/bin").join(n)))
        .find(|p| p.is_file())
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The text of `locator` once it contains `needle`. Retries through page
/// loads (a form post replaces the page, so an element found a moment ago
/// may be stale) for up to ten seconds; returns the last text seen.
async fn wait_text(c: &fantoccini::Client, locator: Locator<'_>, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(locator).await {
            if let Ok(text) = el.text().await {
                if text.contains(needle) {
                    return text;
                }
                last = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Clicks `locator` and waits until the page it was on is replaced (a link
/// followed, a form posted), so what the test finds next is on the new page:
/// found on the old one a moment before the new one arrives, an element goes
/// stale under the test's hands. A click that loads nothing waits ten seconds
/// and goes on.
async fn click_and_load(c: &fantoccini::Client, locator: Locator<'_>) -> Result<(), fantoccini::error::CmdError> {
    let old = c.find(Locator::Css("html")).await?;
    c.find(locator).await?.click().await?;
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_an_order_placed_through_the_api() {
    let (Some(driver), Some(chrome)) =
        (which(&["chromedriver"]), which(&["chromium", "chromium-browser", "google-chrome"]))
    else {
        if std::env::var_os("SWITCHYARD_REQUIRE_BROWSER").is_some() {
            panic!("SWITCHYARD_REQUIRE_BROWSER is set but chromium/chromedriver were not found");
        }
        // Straight to stderr: libtest would swallow eprintln! output.
        let _ = writeln!(
            std::io::stderr(),
            "*** SKIPPED (browser): chromium and chromedriver are not installed; the dashboard was NOT tested \
             in a browser. .ci/run installs them. ***"
        );
        return;
    };
    // The sync worker inside `serve` runs often, so the Channels step sees
    // its stock levels acknowledged quickly.
    let app = common::spawn_app(common::Backend::Sqlite, |c| c.sync_tick_ms = 50).await.expect("app");
    app.location("WH", 1).await;
    app.sku("GADGET", json!(null)).await;
    app.stock("GADGET", "WH", 7).await;
    let (s, order) = app
        .post(
            "/api/v1/orders",
            common::order_body("WEB-1001", json!([{"sku": "GADGET", "quantity": 2, "unit_price": 4500}])),
        )
        .await;
    assert_eq!(s, 201);
    let order_id = order["id"].as_str().expect("id").to_owned();

    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let _driver = Driver(child);
    let webdriver = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if probe.get(format!("{webdriver}/status")).send().await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "chromedriver did not start");

    let profile = std::env::temp_dir().join(format!("switchyard-chrome-{}", uuid_like()));
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display()), "--window-size=390,844"
            ]
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&webdriver)
        .await
        .expect("browser session");

    let result = async {
        // Pages need a session: the browser lands on the login page.
        c.goto(&app.url("/")).await?;
        assert!(c.current_url().await?.path().ends_with("/login"));
        c.find(Locator::Id("token")).await?.send_keys(common::TOKEN).await?;
        click_and_load(&c, Locator::Id("sign-in")).await?;
        let text = wait_text(&c, Locator::Id("orders"), "WEB-1001").await;
        assert!(text.contains("WEB-1001"), "orders list shows the order: {text}");
        assert!(text.contains("accepted"));

        // The order page: allocation and timeline.
        click_and_load(&c, Locator::LinkText("WEB-1001")).await?;
        let timeline = wait_text(&c, Locator::Id("timeline"), "received").await;
        assert!(timeline.contains("received"), "timeline: {timeline}");
        assert!(timeline.contains("2 × GADGET at WH"), "timeline: {timeline}");
        let routing = c.find(Locator::Id("routing")).await?.text().await?;
        assert!(routing.contains("built-in default policy"), "routing: {routing}");
        let lines = c.find(Locator::Id("lines")).await?.text().await?;
        assert!(lines.contains("WH"), "allocations: {lines}");

        // Cancel through the CSRF-protected form.
        click_and_load(&c, Locator::Id("cancel")).await?;
        let timeline = wait_text(&c, Locator::Id("timeline"), "Cancelled").await;
        assert!(timeline.contains("Cancelled"), "timeline after cancel: {timeline}");

        // The inventory grid shows the stock back.
        c.goto(&app.url("/inventory")).await?;
        let grid = wait_text(&c, Locator::Id("inventory"), "7 / 0 / 7").await;
        assert!(grid.contains("GADGET"), "grid: {grid}");
        assert!(grid.contains("7 / 0 / 7"), "grid: {grid}");

        // Filtering the list by status.
        c.goto(&app.url("/?status=cancelled")).await?;
        let text = wait_text(&c, Locator::Id("orders"), "WEB-1001").await;
        assert!(text.contains("WEB-1001"));
        c.goto(&app.url("/?status=accepted")).await?;
        let text = c.wait().for_element(Locator::Id("orders")).await?.text().await?;
        assert!(!text.contains("WEB-1001"));

        // A bad address becomes an exception, counted in the navigation,
        // and fixed from its page.
        let mut body = common::order_body("WEB-1002", json!([{"sku": "GADGET", "quantity": 1, "unit_price": 4500}]));
        body["ship_to"]["postal_code"] = json!("9720");
        let (s, bad) = app.post("/api/v1/orders", body).await;
        assert_eq!(s, 201);
        assert_eq!(bad["status"], "on_hold");
        c.goto(&app.url("/")).await?;
        let nav = c.find(Locator::Id("nav-exceptions")).await?.text().await?;
        assert!(nav.contains('1'), "nav count: {nav}");
        click_and_load(&c, Locator::Id("nav-exceptions")).await?;
        let queue = wait_text(&c, Locator::Id("exceptions"), "WEB-1002").await;
        assert!(queue.contains("address_invalid") && queue.contains("WEB-1002"), "queue: {queue}");
        click_and_load(&c, Locator::LinkText("Fix address")).await?;
        let postal = c.wait().for_element(Locator::Id("postal_code")).await?;
        postal.clear().await?;
        postal.send_keys("97205").await?;
        click_and_load(&c, Locator::Id("save-address")).await?;
        let log = wait_text(&c, Locator::Id("exception-log"), "edit_address").await;
        assert!(log.contains("edit_address"), "log: {log}");
        let (_, fixed) = app.get(&format!("/api/v1/orders/{}", bad["id"].as_str().unwrap_or_default())).await;
        assert_eq!(fixed["status"], "accepted");
        assert_eq!(fixed["ship_to"]["postal_code"], "97205");

        // One-click actions on the queue: dismiss a backorder with a reason.
        let (s, short) = app
            .post(
                "/api/v1/orders",
                common::order_body("WEB-1003", json!([{"sku": "GADGET", "quantity": 100, "unit_price": 4500}])),
            )
            .await;
        assert_eq!(s, 201);
        assert_eq!(short["status"], "backordered");
        c.goto(&app.url("/exceptions")).await?;
        let queue = wait_text(&c, Locator::Id("exceptions"), "WEB-1003").await;
        assert!(queue.contains("backordered"), "queue: {queue}");
        c.find(Locator::Css("input[name=reason]")).await?.send_keys("customer will wait").await?;
        click_and_load(&c, Locator::Css("button.dismiss")).await?;
        let queue = wait_text(&c, Locator::Id("exceptions"), "Nothing needs you").await;
        assert!(queue.contains("Nothing needs you"), "queue after dismiss: {queue}");
        let (_, dismissed) = app.get("/api/v1/exceptions?status=dismissed").await;
        assert_eq!(dismissed["exceptions"][0]["note"], "customer will wait", "{dismissed}");

        // The Rules page: everyday settings saved as a draft, previewed,
        // shadowed and activated; the advanced text view validates.
        c.goto(&app.url("/rules")).await?;
        let in_force = wait_text(&c, Locator::Id("in-force"), "built-in default").await;
        assert!(in_force.contains("built-in default"), "{in_force}");
        c.find(Locator::Css("select[name=split_strategy]")).await?.select_by_value("above_value").await?;
        let threshold = c.find(Locator::Id("split_threshold")).await?;
        threshold.clear().await?;
        threshold.send_keys("75.00").await?;
        c.find(Locator::Css("select[name=protect_location_0]")).await?.select_by_value("WH").await?;
        c.find(Locator::Css("input[name=protect_keep_0]")).await?.send_keys("1").await?;
        click_and_load(&c, Locator::Id("save-settings")).await?;
        let message = wait_text(&c, Locator::Id("message"), "Saved as draft v1").await;
        assert!(message.contains("Saved as draft v1"), "{message}");
        let (_, saved) = app.get("/api/v1/routing/policies/1").await;
        assert_eq!(saved["policy"]["split"]["min_order_value"]["minor"], 7500, "{saved}");
        assert_eq!(saved["policy"]["protection"][0]["keep_units"], 1, "{saved}");
        click_and_load(&c, Locator::LinkText("Preview on last 50 orders")).await?;
        let summary = wait_text(&c, Locator::Id("report-summary"), "orders compared").await;
        assert!(summary.contains("orders compared"), "{summary}");
        click_and_load(&c, Locator::Css("button.shadow-start")).await?;
        let message = wait_text(&c, Locator::Id("message"), "shadow").await;
        assert!(message.contains("runs in shadow"), "{message}");
        click_and_load(&c, Locator::Css("button.activate")).await?;
        let message = wait_text(&c, Locator::Id("message"), "active").await;
        assert!(message.contains("v1 is now active"), "{message}");
        let (_, policy) = app.get("/api/v1/routing/policy").await;
        assert_eq!(policy["version"], 1);
        let text = c.find(Locator::Id("policy-text")).await?;
        text.clear().await?;
        text.send_keys("[split]\nmax_shipments = 0\n").await?;
        click_and_load(&c, Locator::Id("validate")).await?;
        let error = wait_text(&c, Locator::Id("error"), "line").await;
        assert!(error.contains("line 2") && error.contains("max_shipments"), "{error}");

        setting_up(&c, &app).await?;
        channels(&c, &app).await?;
        insights(&c, &app).await?;
        store_page(&c, &app).await?;
        returns_pages(&c, &app).await?;
        // Signs out the owner and in as a store staff member.
        staff_pages(&c, &app).await?;
        // Last: it signs the browser out (a customer has no session).
        status_page(&c, &app, &order_id).await?;
        // No session either.
        vendor_page(&c, &app).await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    let _ = std::fs::remove_dir_all(&profile);
    result.expect("browser steps");
    let (_, o) = app.get(&format!("/api/v1/orders/{order_id}")).await;
    assert_eq!(o["status"], "cancelled");
    app.assert_audit_clean().await;
}

/// Issue 9 item 0, the Store page on a phone (the window is 390 px wide):
/// the location chosen, then picked, packed and shipped (the carrier form)
/// with one tap each, the page never scrolling sideways.
async fn store_page(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
    app.sku("PICKME", json!(null)).await;
    app.stock("PICKME", "WH", 3).await;
    let (s, o) = app
        .post(
            "/api/v1/orders",
            common::order_body("STORE-3001", json!([{"sku": "PICKME", "quantity": 2, "unit_price": 900}])),
        )
        .await;
    assert_eq!(s, 201, "{o}");
    click_and_load(c, Locator::Id("nav-store")).await?;
    c.wait().for_element(Locator::Id("location")).await?.select_by_value("WH").await?;
    click_and_load(c, Locator::Id("show-picks")).await?;
    let card = wait_text(c, Locator::Id("pick-STORE-3001"), "to_pick").await;
    assert!(card.contains("2 ×") && card.contains("PICKME"), "card: {card}");
    let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await?;
    assert_eq!(fits, json!(true), "the Store page fits a phone's width");
    click_and_load(c, Locator::Css("#pick-STORE-3001 button.step-picked")).await?;
    let message = wait_text(c, Locator::Id("message"), "Marked picked").await;
    assert!(message.contains("Marked picked"), "{message}");
    click_and_load(c, Locator::Css("#pick-STORE-3001 button.step-packed")).await?;
    let message = wait_text(c, Locator::Id("message"), "Marked packed").await;
    assert!(message.contains("Marked packed"), "{message}");
    c.find(Locator::Css("#pick-STORE-3001 input.carrier")).await?.send_keys("UPS").await?;
    c.find(Locator::Css("#pick-STORE-3001 input.tracking")).await?.send_keys("1Z3001").await?;
    click_and_load(c, Locator::Css("#pick-STORE-3001 button.step-ship")).await?;
    let message = wait_text(c, Locator::Id("message"), "Shipped").await;
    assert!(message.contains("Shipped"), "{message}");
    let (_, shipped) = app.get(&format!("/api/v1/orders/{}", o["id"].as_str().unwrap_or_default())).await;
    assert_eq!(shipped["status"], "shipped", "{shipped}");
    assert_eq!(
        (&shipped["shipments"][0]["carrier"], &shipped["shipments"][0]["tracking"]),
        (&json!("UPS"), &json!("1Z3001"))
    );
    Ok(())
}

/// Staff: the owner adds a store staff member at WH and a store token on
/// the Staff page (its secret shown once), signs out; she signs in with her
/// e-mail and password, sees WH's picks with no links to owner/ops pages,
/// and her step is logged with her name; the rules page answers 403.
async fn staff_pages(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
    app.sku("TILLME", json!(null)).await;
    app.stock("TILLME", "WH", 2).await;
    let body = common::order_body("STAFF-4001", json!([{"sku": "TILLME", "quantity": 1, "unit_price": 900}]));
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    click_and_load(c, Locator::Id("nav-staff")).await?;
    c.wait().for_element(Locator::Id("name")).await?.send_keys("Ana Ruiz").await?;
    c.find(Locator::Id("email")).await?.send_keys("ana@shop.example").await?;
    c.find(Locator::Id("role")).await?.select_by_value("store").await?;
    c.find(Locator::Id("location")).await?.select_by_value("WH").await?;
    c.find(Locator::Id("password")).await?.send_keys("correct horse battery").await?;
    click_and_load(c, Locator::Id("add-staff-button")).await?;
    let message = wait_text(c, Locator::Id("message"), "Added").await;
    assert!(message.contains("Added"), "{message}");
    c.find(Locator::Id("token-name")).await?.send_keys("Till 2").await?;
    c.find(Locator::Id("token-location")).await?.select_by_value("WH").await?;
    click_and_load(c, Locator::Id("create-token-button")).await?;
    let secret = wait_text(c, Locator::Id("token-secret"), "sy_").await;
    assert!(secret.starts_with("sy_") && secret.len() == 67, "{secret}");
    click_and_load(c, Locator::Css("form.logout button")).await?;
    c.wait().for_element(Locator::Id("email")).await?.send_keys("ana@shop.example").await?;
    c.find(Locator::Id("password")).await?.send_keys("correct horse battery").await?;
    click_and_load(c, Locator::Id("sign-in-staff")).await?;
    let card = wait_text(c, Locator::Id("pick-STAFF-4001"), "to_pick").await;
    assert!(card.contains("TILLME"), "card: {card}");
    let who = c.find(Locator::Id("signed-in-as")).await?.text().await?;
    assert_eq!(who, "Ana Ruiz (store staff, WH)");
    assert!(c.find(Locator::Id("nav-rules")).await.is_err(), "no link to the rules");
    assert!(c.find(Locator::Id("nav-staff")).await.is_err(), "no link to staff");
    click_and_load(c, Locator::Css("#pick-STAFF-4001 button.step-picked")).await?;
    let message = wait_text(c, Locator::Id("message"), "Marked picked").await;
    assert!(message.contains("Marked picked"), "{message}");
    let (_, picked) = app.get(&format!("/api/v1/orders/{}", o["id"].as_str().unwrap_or_default())).await;
    assert!(picked.to_string().contains("by Ana Ruiz (store staff, WH)"), "{picked}");
    c.goto(&app.url("/rules")).await?;
    let body = c.find(Locator::Css("body")).await?.text().await?;
    assert!(body.contains("may not"), "{body}");
    Ok(())
}

/// Issue 9 item 7, the customer's status page: opened from a link with no
/// session (the cookies are gone), in plain words, and readable on a phone
/// (the window is 390 px wide: nothing scrolls sideways).
async fn status_page(
    c: &fantoccini::Client,
    app: &common::TestApp,
    order_id: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.delete_all_cookies().await?;
    let token = app.engine.mint_status_link(order_id, None).await.expect("link");
    c.goto(&app.url(&format!("/status/{token}"))).await?;
    let status = wait_text(c, Locator::Id("order-status"), "Cancelled").await;
    assert_eq!(status, "Cancelled");
    let heading = c.find(Locator::Css("h1")).await?.text().await?;
    assert_eq!(heading, "Order WEB-1001");
    let timeline = c.find(Locator::Id("timeline")).await?.text().await?;
    assert!(timeline.contains("Order received") && timeline.contains("Cancelled"), "timeline: {timeline}");
    assert!(!timeline.contains("GADGET at WH"), "no internal timeline: {timeline}");
    assert!(c.find(Locator::Id("nav-exceptions")).await.is_err(), "no dashboard navigation");
    let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await?;
    assert_eq!(fits, json!(true), "the page fits a phone's width");
    let styled = c.execute("return getComputedStyle(document.querySelector('.box')).borderRadius", vec![]).await?;
    assert_eq!(styled, json!("10px"), "the page's stylesheet loaded (CSP allows it)");
    c.goto(&app.url(&format!("/status/{}", "0".repeat(64)))).await?;
    let body = c.find(Locator::Css("body")).await?.text().await?;
    assert!(body.contains("does not open any order"), "{body}");
    Ok(())
}

/// Issue 9 items 3 and 5: a customer starts a return alone on the public
/// page (order number and postal code, a line, a reason in plain words, a
/// hostile note), gets the decision and the label link at once; staff scan
/// the RMA on the Returns page (the search box has the focus), grade the
/// unit, and the unit is back on sale; a second scan shows it was
/// received, an unknown RMA says so.
async fn returns_pages(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
    app.sku("SCARF", json!(null)).await;
    app.stock("SCARF", "WH", 5).await;
    let mut body = common::order_body("WEB-5001", json!([{"sku": "SCARF", "quantity": 2, "unit_price": 3000}]));
    body["email"] = json!("ana@example.com");
    let (s, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{o}");
    let id = o["id"].as_str().unwrap_or_default().to_owned();
    let ship = json!({"location": "WH", "lines": [{"sku": "SCARF", "quantity": 2}]});
    assert_eq!(app.post(&format!("/api/v1/orders/{id}/shipments"), ship).await.0, 200);

    c.goto(&app.url("/return")).await?;
    c.wait().for_element(Locator::Id("order-number")).await?.send_keys("WEB-5001").await?;
    c.find(Locator::Id("contact")).await?.send_keys("97205").await?;
    click_and_load(c, Locator::Id("find-order")).await?;
    let lines = wait_text(c, Locator::Id("return-lines"), "SCARF").await;
    assert!(lines.contains("SCARF"), "{lines}");
    let units = c.find(Locator::Id("q1")).await?;
    units.clear().await?;
    units.send_keys("1").await?;
    c.find(Locator::Id("reason")).await?.select_by_value("defective").await?;
    c.find(Locator::Id("note")).await?.send_keys("<script>alert('x')</script>").await?;
    click_and_load(c, Locator::Id("send-request")).await?;
    let outcome = wait_text(c, Locator::Id("outcome"), "approved").await;
    assert_eq!(outcome, "Your return is approved");
    let explanation = c.find(Locator::Id("explanation")).await?.text().await?;
    assert!(explanation.starts_with("Approved:"), "{explanation}");
    let rma = c.find(Locator::Id("rma")).await?.text().await?;
    assert!(rma.starts_with("RMA-"), "{rma}");
    let label = c.find(Locator::Id("label-link")).await?.attr("href").await?.unwrap_or_default();
    assert!(label.starts_with("/status/") && label.ends_with("/label.pdf"), "{label}");
    let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await?;
    assert_eq!(fits, json!(true), "the customer's page fits a phone");

    // Staff: the scanner types the RMA into the focused search box and Enter.
    c.goto(&app.url("/returns")).await?;
    c.wait().for_element(Locator::Id("scan")).await?;
    let focused = c.execute("return document.activeElement.id", vec![]).await?;
    assert_eq!(focused, json!("scan"), "the scan box has the focus");
    c.find(Locator::Id("scan")).await?.send_keys(&format!("{rma}\u{E007}")).await?;
    let title = wait_text(c, Locator::Id("return-title"), &rma).await;
    assert!(title.contains(&rma) && title.contains("label_issued"), "{title}");
    let timeline = c.find(Locator::Id("return-timeline")).await?.text().await?;
    assert!(timeline.contains("<script>alert('x')</script>"), "the note shown as text: {timeline}");
    c.find(Locator::Css("select.grade")).await?.select_by_value("resellable").await?;
    click_and_load(c, Locator::Id("receive")).await?;
    let message = wait_text(c, Locator::Id("message"), "Received").await;
    assert!(message.contains("Received"), "{message}");
    let receipts = c.find(Locator::Id("receipts")).await?.text().await?;
    assert!(receipts.contains("resellable") && receipts.contains("restocked at WH"), "{receipts}");
    assert_eq!(app.position("SCARF", "WH").await, (4, 0, 4), "5 − 2 shipped + 1 back on sale");

    // The same label scanned again: already received, nothing to do.
    click_and_load(c, Locator::Id("nav-returns")).await?;
    c.wait().for_element(Locator::Id("scan")).await?.send_keys(&format!("{rma}\u{E007}")).await?;
    let note = wait_text(c, Locator::Id("already-received"), "Already received").await;
    assert!(note.contains("Already received"), "{note}");
    click_and_load(c, Locator::Id("nav-returns")).await?;
    c.wait().for_element(Locator::Id("scan")).await?.send_keys("RMA-000000-0000\u{E007}").await?;
    let error = wait_text(c, Locator::Id("error"), "No return").await;
    assert!(error.contains("No return has the number"), "{error}");
    assert_eq!(app.position("SCARF", "WH").await, (4, 0, 4), "nothing changed");
    Ok(())
}

/// Issue 9 item 0, the dropship vendor's page: opened from its link with no
/// session, on a phone's width; the vendor confirms, then sends carrier and
/// tracking, which ships the order's dropshipped line.
async fn vendor_page(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
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
    app.sku("VASE", json!(null)).await;
    app.stock("VASE", "VEND", 4).await;
    let toml = "[fallback]\nchain = [\"dropship\", \"backorder\"]\n";
    let (s, saved) = app.post("/api/v1/routing/policies", json!({"toml": toml, "by": "test"})).await;
    assert_eq!(s, 201, "{saved}");
    let version = saved["version"].as_i64().expect("version");
    let (s, v) = app.post(&format!("/api/v1/routing/policies/{version}/activate"), json!({"by": "test"})).await;
    assert_eq!(s, 200, "{v}");
    let body = common::order_body("WEB-2002", json!([{"sku": "VASE", "quantity": 1, "unit_price": 1500}]));
    let (s, order) = app.post("/api/v1/orders", body).await;
    assert_eq!(s, 201, "{order}");
    let (_, list) = app.get(&format!("/api/v1/purchase-orders?order_id={}", order["id"].as_str().expect("id"))).await;
    let po = list["purchase_orders"][0]["id"].as_str().expect("a purchase order").to_owned();
    let token = app.engine.mint_vendor_link(&po).await.expect("link");
    c.goto(&app.url(&format!("/vendor/po/{token}"))).await?;
    let status = wait_text(c, Locator::Id("po-status"), "Waiting").await;
    assert_eq!(status, "Waiting for your confirmation");
    let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await?;
    assert_eq!(fits, json!(true), "the page fits a phone's width");
    click_and_load(c, Locator::Css("#confirm button")).await?;
    wait_text(c, Locator::Id("po-status"), "Confirmed").await;
    assert!(c.find(Locator::Id("confirm")).await.is_err(), "confirmed once");
    c.find(Locator::Css("#ship input[name=carrier]")).await?.send_keys("UPS").await?;
    c.find(Locator::Css("#ship input[name=tracking]")).await?.send_keys("1Z999AA10123456784").await?;
    click_and_load(c, Locator::Css("#ship button")).await?;
    let status = wait_text(c, Locator::Id("po-status"), "Shipped").await;
    assert_eq!(status, "Shipped: thank you");
    let (_, o) = app.get(&format!("/api/v1/orders/{}", order["id"].as_str().expect("id"))).await;
    assert_eq!(o["status"], "shipped", "{o}");
    c.goto(&app.url(&format!("/vendor/po/{}", "0".repeat(64)))).await?;
    let body = c.find(Locator::Css("body")).await?.text().await?;
    assert!(body.contains("does not open any purchase order"), "{body}");
    Ok(())
}

/// Issue 8 item 5, setting up without curl: a location added through its
/// form, a CSV import refused with its line number (nothing changed) and
/// then applied, the inventory searched by title and by a scanned SKU,
/// units received and counted, and the API reference.
async fn setting_up(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
    click_and_load(c, Locator::Id("nav-locations")).await?;
    c.wait().for_element(Locator::Id("add-location")).await?.click().await?;
    for (id, value) in [
        ("code", "EAST"),
        ("name", "East side store"),
        ("line1", "12 Main St"),
        ("city", "Portland"),
        ("postal_code", "97214"),
        ("country", "US"),
        ("lat", "45.5152"),
        ("lon", "-122.6544"),
    ] {
        c.wait().for_element(Locator::Id(id)).await?.send_keys(value).await?;
    }
    click_and_load(c, Locator::Id("save-location")).await?;
    let message = wait_text(c, Locator::Id("message"), "Location added").await;
    assert!(message.contains("Location added"), "{message}");
    let list = c.find(Locator::Id("locations")).await?.text().await?;
    assert!(list.contains("East side store") && list.contains("45.5152"), "{list}");

    // A CSV with a bad third line: refused, with the line, and nothing imported.
    click_and_load(c, Locator::Id("nav-import")).await?;
    let csv = c.wait().for_element(Locator::Id("csv")).await?;
    csv.send_keys("sku,title,location,on_hand\nTEE-BLUE,Blue tee,EAST,2\nMUG,Mug,EAST,lots\n").await?;
    click_and_load(c, Locator::Id("import")).await?;
    let error = wait_text(c, Locator::Id("error"), "line 3").await;
    assert!(error.contains("line 3") && error.contains("Nothing was imported"), "{error}");
    assert_eq!(app.get("/api/v1/inventory/TEE-BLUE").await.0, 404, "nothing was imported");
    let csv = c.find(Locator::Id("csv")).await?;
    csv.clear().await?;
    csv.send_keys("sku,title,location,on_hand\nTEE-BLUE,Blue tee,EAST,2\nMUG,Mug,EAST,9\n").await?;
    click_and_load(c, Locator::Id("import")).await?;
    let message = wait_text(c, Locator::Id("message"), "Imported").await;
    assert!(message.contains("Imported 2 row(s): 2 new SKU(s)"), "{message}");

    // Search by title; then a scanner types a SKU and Enter.
    click_and_load(c, Locator::Id("nav-inventory")).await?;
    c.wait().for_element(Locator::Id("search")).await?.send_keys("blue\u{E007}").await?;
    let grid = wait_text(c, Locator::Id("inventory"), "TEE-BLUE").await;
    assert!(grid.contains("TEE-BLUE") && !grid.contains("GADGET") && !grid.contains("MUG"), "{grid}");
    let search = c.find(Locator::Id("search")).await?;
    search.clear().await?;
    search.send_keys("MUG\u{E007}").await?;
    let sku = wait_text(c, Locator::Id("item-sku"), "MUG").await;
    assert_eq!(sku, "MUG");
    assert!(c.current_url().await?.path().ends_with("/inventory/item"));

    // Receive 5 at EAST, then count it: 9 + 5 = 14, then 11 on the shelf.
    c.find(Locator::Css("#at-EAST input.receive-units")).await?.send_keys("5").await?;
    click_and_load(c, Locator::Css("#at-EAST button.receive")).await?;
    let message = wait_text(c, Locator::Id("message"), "received").await;
    assert!(message.contains("Units received"), "{message}");
    let on_hand = c.find(Locator::Css("#at-EAST td.on-hand")).await?.text().await?;
    assert_eq!(on_hand, "14");
    assert_eq!(app.position("MUG", "EAST").await, (14, 0, 14));
    c.find(Locator::Css("#at-EAST input.count-units")).await?.send_keys("11").await?;
    click_and_load(c, Locator::Css("#at-EAST button.count")).await?;
    let message = wait_text(c, Locator::Id("message"), "Count saved").await;
    assert!(message.contains("Count saved"), "{message}");
    assert_eq!(app.position("MUG", "EAST").await, (11, 0, 11));

    // The API reference, browsable without anything from elsewhere.
    click_and_load(c, Locator::Id("nav-reference")).await?;
    let intro = wait_text(c, Locator::Id("api-intro"), "Switchyard API").await;
    assert!(intro.contains("Switchyard API"), "{intro}");
    c.find(Locator::Css("a[href='#schema-LocationBody']")).await?.click().await?;
    let schema = c.find(Locator::Id("schema-LocationBody")).await?.text().await?;
    assert!(schema.contains("kind") && schema.contains("required"), "{schema}");
    Ok(())
}

/// Issue 8 items 5–6: a live Amazon-kind channel connected through the
/// form, pointing at a local stand-in of the Selling Partner API; an order
/// changes the stock, and the channel's page shows the level the stand-in
/// acknowledged, and the lag.
async fn channels(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
    let stand_in = StandIn::start(ChannelKind::Amazon).await.expect("stand-in");
    app.sku("WIDGET", json!(null)).await;
    app.stock("WIDGET", "WH", 10).await;

    click_and_load(c, Locator::Id("nav-channels")).await?;
    c.wait().for_element(Locator::Id("connect-channel")).await?.click().await?;
    for (id, value) in [
        ("name", "amazon-us"),
        ("display_name", "Amazon US"),
        ("sku_scope", "WIDGET"),
        ("settings", "seller_id=A1SELLER\nmarketplace_id=ATVPDKIKX0DER"),
        ("base_url", &stand_in.url()),
        ("credential-client_id", "amzn1.application-oa2-client.test"),
        ("credential-client_secret", "browser-client-secret"),
        ("credential-refresh_token", "Atzr|browser-refresh"),
    ] {
        c.wait().for_element(Locator::Id(id)).await?.send_keys(value).await?;
    }
    c.find(Locator::Css("select[name=kind]")).await?.select_by_value("amazon").await?;
    c.find(Locator::Css("select[name=mode]")).await?.select_by_value("live").await?;
    click_and_load(c, Locator::Id("save-channel")).await?;
    let message = wait_text(c, Locator::Id("message"), "Channel connected").await;
    assert!(message.contains("Channel connected"), "{message}");
    let names = c.find(Locator::Id("credential-names")).await?.text().await?;
    assert!(names.contains("client_secret") && !names.contains("browser-client-secret"), "{names}");

    // An order takes 3 of the 10: the channel is told 7.
    let body = common::order_body("WEB-2001", json!([{"sku": "WIDGET", "quantity": 3, "unit_price": 1200}]));
    assert_eq!(app.post("/api/v1/orders", body).await.0, 201);
    let mut levels = String::new();
    for _ in 0..100 {
        c.refresh().await?;
        levels = c.wait().for_element(Locator::Id("levels")).await?.text().await?;
        if levels.contains("WIDGET") && levels.contains("settled") && levels.contains(" 7 7 ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(levels.contains("settled") && levels.contains(" 7 7 "), "levels: {levels}");
    assert_eq!(stand_in.levels().get("WIDGET"), Some(&7), "the stand-in shows 7");
    let sync = c.find(Locator::Id("sync")).await?.text().await?;
    assert!(sync.contains("p50") && !sync.contains("p50 —") && !sync.contains("Last acknowledgement never"), "{sync}");
    let requests = c.find(Locator::Id("requests")).await?.text().await?;
    assert!(requests.contains("stock") && requests.contains("accepted"), "{requests}");

    // The list: the connection's card with its figures and the resync button.
    click_and_load(c, Locator::Id("nav-channels")).await?;
    let card = wait_text(c, Locator::Id("channel-amazon-us"), "Amazon US").await;
    assert!(card.contains("live") && card.contains("Resync all stock"), "{card}");
    click_and_load(c, Locator::Css("#channel-amazon-us button.resync")).await?;
    let message = wait_text(c, Locator::Id("message"), "Resync started").await;
    assert!(message.contains("1 level(s)"), "{message}");
    Ok(())
}

/// Issue 10 items 3, 4 and 6: the Overview (KPIs, SVG charts that fit the
/// phone-sized window, the Catalogue health panel), the ROI page prefilled
/// from the shop's orders and computed, bad input named on the page, and a
/// saved version simulated on the last 30 days from the Rules page.
async fn insights(c: &fantoccini::Client, app: &common::TestApp) -> Result<(), fantoccini::error::CmdError> {
    // A SKU that sells with nothing on hand: the health panel names it.
    app.sku("VASE", json!(null)).await;
    let body = common::order_body("WEB-3001", json!([{"sku": "VASE", "quantity": 1, "unit_price": 2000}]));
    assert_eq!(app.post("/api/v1/orders", body).await.0, 201);

    click_and_load(c, Locator::Id("nav-overview")).await?;
    let kpis = wait_text(c, Locator::Id("kpis"), "Fill rate").await;
    assert!(kpis.contains("Orders") && kpis.contains("before:"), "{kpis}");
    // The window is phone-narrow (Chromium keeps it at its minimum width):
    // each chart scales to the page, never wider than what is visible.
    let visible = c.execute("return document.documentElement.clientWidth", vec![]).await?;
    let visible = visible.as_f64().expect("client width");
    for chart in ["#chart-orders svg", "#chart-rates svg", "#chart-ages svg"] {
        let (x, _, width, height) = c.find(Locator::Css(chart)).await?.rectangle().await?;
        assert!(width > 200.0 && x + width <= visible && height > 50.0, "{chart}: {x} + {width} of {visible}");
    }
    let health = c.find(Locator::Id("health")).await?.text().await?;
    assert!(health.contains("no_stock_still_sells") && health.contains("VASE"), "{health}");

    // ROI: the order count and cancellation rate come from the shop's orders.
    click_and_load(c, Locator::Id("nav-roi")).await?;
    let measured = wait_text(c, Locator::Id("measured"), "order(s)").await;
    assert!(measured.contains("5 order(s), 20% cancelled"), "{measured}");
    c.find(Locator::Id("aov")).await?.send_keys("45").await?;
    c.find(Locator::Id("cancel_rate_before")).await?.send_keys("30").await?;
    click_and_load(c, Locator::Id("calculate")).await?;
    let results = wait_text(c, Locator::Id("roi-results"), "Prevented").await;
    // 5 a month: 2 failed before (1.5 rounds up), 1 after; 1 prevented × 45.00.
    assert!(results.contains("2 per month before, 1 after") && results.contains("45.00 USD per month"), "{results}");
    let aov = c.find(Locator::Id("aov")).await?;
    aov.clear().await?;
    aov.send_keys("4.5.0").await?;
    click_and_load(c, Locator::Id("calculate")).await?;
    let error = wait_text(c, Locator::Id("error"), "aov").await;
    assert!(error.contains("aov: must be a decimal amount"), "{error}");

    // Simulate a saved version (here the active v1) against the policy in force.
    click_and_load(c, Locator::Id("nav-rules")).await?;
    c.wait().for_element(Locator::Id("simulate")).await?;
    c.find(Locator::Css("select[name=version]")).await?.select_by_value("1").await?;
    click_and_load(c, Locator::Id("run-simulation")).await?;
    let table = wait_text(c, Locator::Id("simulation"), "active v1").await;
    // Five orders under each; v1 is the policy in force, so nothing changes against it.
    assert!(table.contains("active v1 5 ") && table.contains("\nv1 5 ") && table.contains("+0 +0.0 points"), "{table}");
    let summary = c.find(Locator::Id("sim-summary")).await?.text().await?;
    assert!(summary.contains("5 order(s) of the last 30 days"), "{summary}");
    Ok(())
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    )
}
