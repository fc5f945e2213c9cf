//! `switchyard channel …` as a person runs it: `parse` while debugging a
//! mapping; `connect`, `list`, `map` and `test` against a database and a
//! local stand-in of the platform.

use std::process::{Command, Output};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().expect("run switchyard")
}

fn fixture(path: &str) -> String {
    format!("{}/../switchyard-channels/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str, body: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("switchyard-channel-{}-{name}", std::process::id()));
    std::fs::write(&p, body).expect("write");
    p
}

#[test]
fn channel_parse_prints_the_canonical_order() {
    let out = switchyard(&["channel", "parse", "shopify", &fixture("shopify/orders_create_discounted.json")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["channel"], "shopify");
    assert_eq!(v["external_id"], "820982911946154508");
    assert_eq!(v["currency"], "USD");
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["fulfilled_by"], "merchant");
    assert_eq!(
        v["lines"][0],
        serde_json::json!({"sku": "TEE-RED-M", "quantity": 2, "unit_price": 2499, "discount": 500})
    );
    assert_eq!(v["ship_to"]["country"], "CA");
    // A CSV of two purchase orders prints both.
    let out = switchyard(&["channel", "parse", "wholesale", &fixture("wholesale/po.csv")]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
}

#[test]
fn channel_parse_pairs_an_amazon_order_with_its_items() {
    // The file holds {"order": <getOrder response>, "items": <getOrderItems response>}.
    let out = switchyard(&["channel", "parse", "amazon", &fixture("amazon/afn_shipped_de.json")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["channel"], "amazon");
    assert_eq!(v["external_id"], "302-1122334-5566778");
    assert_eq!(v["status"], "shipped");
    assert_eq!(v["fulfilled_by"], "marketplace", "Fulfilled by Amazon: recorded, never routed");
    assert_eq!(v["lines"][0], serde_json::json!({"sku": "MUG-BLU", "quantity": 2, "unit_price": 1999}));
    let out = switchyard(&["channel", "parse", "amazon", &fixture("amazon/mfn_unshipped_promotion.json")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!((v["status"].as_str(), v["fulfilled_by"].as_str()), (Some("accepted"), Some("merchant")));
    // A getOrder response alone is refused: it does not carry the items.
    let alone = scratch("amazon-alone.json", r#"{"payload": {"AmazonOrderId": "113-1", "OrderStatus": "Unshipped"}}"#);
    let out = switchyard(&["channel", "parse", "amazon", alone.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("amazon: the payload: is an Amazon response on its own"), "{err}");
    let _ = std::fs::remove_file(alone);
}

#[test]
fn channel_parse_says_exactly_why_a_payload_is_refused() {
    let bad = scratch(
        "neg.json",
        r#"{"id": 9, "currency": "USD", "line_items": [{"sku": "A", "quantity": -1, "price": "1.00"}]}"#,
    );
    let out = switchyard(&["channel", "parse", "shopify", bad.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("shopify: line_items[0].quantity: must be at least 1 (got -1)"), "{err}");
    assert!(out.stdout.is_empty());
    // The core's intake rules apply too: a SKU with a space is refused.
    let spaced = scratch(
        "space.json",
        r#"{"id": 9, "currency": "USD", "line_items": [{"sku": "A B", "quantity": 1, "price": "1.00"}],
            "shipping_address": {"name": "A", "address1": "1 St", "city": "X", "zip": "97205", "country_code": "US"}}"#,
    );
    let out = switchyard(&["channel", "parse", "shopify", spaced.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("order 9") && err.contains("sku"), "{err}");
    let out = switchyard(&["channel", "parse", "myspace", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one of shopify, woocommerce"));
    let _ = std::fs::remove_file(bad);
    let _ = std::fs::remove_file(spaced);
}

/// Runs the binary off the runtime's threads (a stand-in answers meanwhile).
async fn switchyard_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(&args)
            .env_remove("SWITCHYARD_API_TOKEN")
            .output()
            .expect("run switchyard")
    })
    .await
    .expect("join")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_made_listed_mapped_and_tested_from_the_command_line() {
    use switchyard_store::testing::{Backend, TestDb};
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else { return };
    {
        let clock = std::sync::Arc::new(switchyard_engine::ManualClock::new(0));
        let e =
            switchyard_engine::Engine::open(&db.url, Default::default(), clock, switchyard_engine::IdGen::seeded(1))
                .await
                .expect("open");
        let tee = switchyard_core::Sku::parse("TEE").expect("sku");
        e.put_sku(&switchyard_core::SkuDef::plain(tee, "Tee")).await.expect("sku");
    }
    let shop = switchyard_standin::StandIn::start(switchyard_core::ChannelKind::Shopify).await.expect("stand-in");
    let body = format!(
        r#"{{"kind": "shopify", "base_url": "{}", "settings": {{"shop": "x", "location_id": "1"}},
            "credentials": {{"access_token": "shpat_cli_secret"}}, "webhook_secret": "whsec"}}"#,
        shop.url()
    );
    let file = scratch("connect.json", &body);
    let db_url = db.url.clone();
    let run = |args: &[&str]| {
        let mut all = args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        all.extend(["--db".to_owned(), db_url.clone()]);
        switchyard_async(all)
    };
    let out = run(&["channel", "connect", "shop", file.to_str().expect("path")]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("shpat_cli_secret") && !text(&out).contains("whsec"), "never printed");
    assert!(text(&out).contains("channel shop: shopify (import_only)"), "{}", text(&out));
    let out = run(&["channel", "list"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "shop\tshopify\timport_only\n");
    let out = run(&["channel", "map", "shop", "Tee Red M", "TEE", "--listing", "4711"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(&["channel", "test", "shop"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).starts_with("ok: shopify accepted"), "{}", text(&out));
    let sent = shop.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].headers.iter().any(|(k, v)| k == "x-shopify-access-token" && v == "shpat_cli_secret"));
    assert!(!text(&out).contains("shpat_cli_secret"), "never printed");

    // Refusals: a bad body (nothing changed), an unknown SKU, an unknown channel.
    let bad = scratch("bad.json", r#"{"kind": "shopify", "mode": "sometimes"}"#);
    let out = run(&["channel", "connect", "shop", bad.to_str().expect("path")]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("mode"), "{}", text(&out));
    let out = run(&["channel", "list"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "shop\tshopify\timport_only\n", "unchanged");
    let out = run(&["channel", "map", "shop", "X", "NOPE"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = run(&["channel", "test", "nope"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    shop.script([switchyard_standin::Scripted::status(401)]);
    let out = run(&["channel", "test", "shop"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("failed at the request step (HTTP 401)"), "{}", text(&out));
}
