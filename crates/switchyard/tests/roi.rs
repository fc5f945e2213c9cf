//! `switchyard roi` as an owner runs it: the seed's cases, exactly, as JSON
//! and as sentences, and bad flags refused with a message naming the flag.

use std::process::{Command, Output};

use serde_json::{json, Value};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard")).arg("roi").args(args).output().expect("run switchyard")
}

fn json_of(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = switchyard(&all);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Seed: 800 orders a month, cancellations 3% → 1.5%, $45 an order → 12 a
/// month prevented, $540 a month, $6,480 a year.
#[test]
fn roi_json_reproduces_the_seeds_800_orders_a_month() {
    let v = json_of(&[
        "--orders",
        "800",
        "--per",
        "month",
        "--aov",
        "45",
        "--cancel-rate-before",
        "3",
        "--cancel-rate-after",
        "1.5",
    ]);
    assert_eq!(v["period"], "month");
    assert_eq!(v["currency"], "USD");
    assert_eq!((&v["failed_before"], &v["failed_after"], &v["prevented"]), (&json!(24), &json!(12), &json!(12)));
    assert_eq!(v["protected_revenue"], 54_000, "$540.00 in cents");
    assert_eq!(v["protected_revenue_per_year"], 648_000, "$6,480.00 in cents");
    assert_eq!((&v["cancel_rate_before"], &v["cancel_rate_after"]), (&json!(3), &json!(1.5)), "rates as given");
    assert_eq!(v["hours_saved"], 48, "144 a year × the default 20 minutes");
    for absent in ["labour_saved_low", "labour_saved_high", "payback_months_low", "payback_months_high"] {
        assert_eq!(v[absent], Value::Null, "{absent}");
    }
}

/// Seed: 9,000 orders a year at $55, 2.8% → 1.2%: 252 → 108, 144 prevented,
/// $7,920; 20 minutes each → 48 hours; at $20–$30 an hour → $960–$1,440;
/// a $250–$500 monthly subscription pays back in 3.85–8.11 months (a year of
/// it ÷ the monthly value, $9,360 ÷ 12 and $8,880 ÷ 12).
#[test]
fn roi_json_reproduces_the_seeds_500000_dollar_retailer() {
    let v = json_of(&[
        "--orders",
        "9000",
        "--per",
        "year",
        "--aov",
        "55.00",
        "--cancel-rate-before",
        "2.8",
        "--cancel-rate-after",
        "1.2",
        "--minutes-per-cancellation",
        "20",
        "--labour-cost-per-hour",
        "20-30",
        "--subscription-per-month",
        "250-500",
        "--currency",
        "USD",
    ]);
    let got = |k: &str| v[k].clone();
    assert_eq!((got("failed_before"), got("failed_after"), got("prevented")), (json!(252), json!(108), json!(144)));
    assert_eq!((got("protected_revenue"), got("protected_revenue_per_year")), (json!(792_000), json!(792_000)));
    assert_eq!(got("hours_saved"), json!(48));
    assert_eq!((got("labour_saved_low"), got("labour_saved_high")), (json!(96_000), json!(144_000)));
    assert_eq!((got("value_per_year_low"), got("value_per_year_high")), (json!(888_000), json!(936_000)));
    assert_eq!((got("payback_months_low"), got("payback_months_high")), (json!(3.85), json!(8.11)));
    assert_eq!((got("cancel_rate_before"), got("cancel_rate_after")), (json!(2.8), json!(1.2)));
}

/// Seed: a top seller moving $8,000 a week; one prevented out-of-stock week
/// preserves $8,000. And the cost of protecting flagship stock is its own
/// line, subtracted from the value.
#[test]
fn roi_json_reports_a_seasonal_top_seller_and_the_cost_of_protection() {
    let v = json_of(&[
        "--orders",
        "800",
        "--per",
        "month",
        "--aov",
        "45",
        "--cancel-rate-before",
        "3",
        "--cancel-rate-after",
        "1.5",
        "--top-seller-weekly-sales",
        "8000",
        "--rerouted-orders",
        "10",
        "--extra-cost-per-rerouted-order",
        "2.50",
    ]);
    assert_eq!(v["seasonal_preserved"], 800_000);
    assert_eq!((&v["protection_cost"], &v["protection_cost_per_year"]), (&json!(2_500), &json!(30_000)));
    assert_eq!(v["value_per_year_low"], 648_000 + 800_000 - 30_000);
}

#[test]
fn roi_prints_a_readable_report() {
    let out = switchyard(&[
        "--orders",
        "9000",
        "--per",
        "year",
        "--aov",
        "55",
        "--cancel-rate-before",
        "2.8",
        "--cancel-rate-after",
        "1.2",
        "--labour-cost-per-hour",
        "20-30",
        "--subscription-per-month",
        "250-500",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Failed orders: 252 per year before, 108 after",
        "Prevented cancellations: 144 per year",
        "Protected revenue: 7920.00 USD per year",
        "Team time saved: 48 hours per year (20 minutes per cancellation)",
        "Labour saved: 960.00 USD to 1440.00 USD per year (at 20.00 USD to 30.00 USD per hour)",
        "Value: 8880.00 USD to 9360.00 USD per year",
        "Payback: 3.85 to 8.11 months",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    let out = switchyard(&["--orders", "800", "--per", "month", "--aov", "45", "--cancel-rate-before", "3"]);
    assert_eq!(out.status.code(), Some(2), "a required flag missing is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cancel-rate-after"));
    let monthly = switchyard(&[
        "--orders",
        "800",
        "--per",
        "month",
        "--aov",
        "45",
        "--cancel-rate-before",
        "3",
        "--cancel-rate-after",
        "1.5",
    ]);
    let text = String::from_utf8_lossy(&monthly.stdout);
    assert!(text.contains("Prevented cancellations: 12 per month (144 per year)"), "{text}");
    assert!(text.contains("Protected revenue: 540.00 USD per month (6480.00 USD per year)"), "{text}");
}

#[test]
fn roi_refuses_bad_flags_naming_them() {
    let base = ["--orders", "800", "--per", "month", "--aov", "45", "--cancel-rate-before", "3", "--cancel-rate-after"];
    let cases: [(&[&str], &str); 7] = [
        (&["--per", "week"], "--per: must be month or year (got \"week\")"),
        (&["--orders", "-800"], "--orders: must not be negative (got \"-800\")"),
        (&["--orders", "eight"], "--orders: must be a whole number"),
        (&["--cancel-rate-before", "3,5"], "--cancel-rate-before: must be a percentage like 3"),
        (&["--aov", "45.001"], "--aov: has more than 2 decimal places"),
        (&["--labour-cost-per-hour", "30-20"], "--labour-cost-per-hour: the low end 30.00 USD is above"),
        (&["--currency", "ABC"], "--currency:"),
    ];
    for (change, message) in cases {
        // clap refuses a repeated flag, so a changed flag replaces the base one in place.
        let mut args: Vec<&str> = base.to_vec();
        args.push("1.5");
        match args.iter().position(|a| *a == change[0]) {
            Some(i) => args[i + 1] = change[1],
            None => args.extend_from_slice(change),
        }
        args.push("--json");
        let out = switchyard(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err:?} should contain {message:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    // A rate after above the rate before is refused, not reported as a loss.
    let mut args: Vec<&str> = base.to_vec();
    args.push("4");
    let out = switchyard(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cancel-rate-after: 4% is above the rate before (3%)"));
    assert!(out.stdout.is_empty());
}

#[test]
fn roi_has_help_naming_every_flag() {
    let out = switchyard(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--orders", "--per", "--aov", "--cancel-rate-before", "--labour-cost-per-hour", "--json"] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

// ------------------------------------------------------------------ --db

async fn shop_with_orders(db: &switchyard_store::testing::TestDb, orders: usize, cancelled: usize) {
    use switchyard_core::{
        ChannelName, Currency, ExternalOrderId, NewLine, NewOrder, PaymentState, Quantity, ServiceLevel, ShipTo, Sku,
        SkuDef,
    };
    let clock = std::sync::Arc::new(switchyard_engine::ManualClock::new(NOW));
    let e = switchyard_engine::Engine::open(&db.url, Default::default(), clock, switchyard_engine::IdGen::seeded(3))
        .await
        .expect("open");
    e.put_location(&switchyard_store::testing::warehouse("WH", 1)).await.expect("location");
    let tee = Sku::parse("TEE").expect("sku");
    e.put_sku(&SkuDef::plain(tee.clone(), "Tee")).await.expect("sku");
    let wh = switchyard_core::LocationCode::parse("WH").expect("loc");
    e.set_stock(&tee, &wh, 100, None, "count").await.expect("stock");
    for i in 0..orders {
        let o = NewOrder {
            channel: ChannelName::parse("web").expect("channel"),
            external_id: ExternalOrderId::parse(&format!("r-{i}")).expect("ext"),
            currency: Currency::parse("USD").expect("usd"),
            lines: vec![NewLine { sku: tee.clone(), quantity: Quantity::new(1).expect("q"), unit_price: 4500 }],
            ship_to: ShipTo {
                name: "N".into(),
                line1: "1 Oak St".into(),
                city: "Portland".into(),
                region: "OR".into(),
                postal_code: "97205".into(),
                country: "US".into(),
                ..Default::default()
            },
            service_level: ServiceLevel::Standard,
            pickup_location: None,
            payment: PaymentState::Paid,
            total_minor: 4500,
            email: None,
        };
        let (view, _) = e.create_order(&o).await.expect("order");
        if i < cancelled {
            e.cancel_order(&view.id, "customer asked").await.expect("cancel");
        }
    }
}

/// 2026-12-01T00:00:00Z: the orders' time; the report is made a day later.
const NOW: i64 = 1_796_083_200_000;
const AS_OF: &str = "2026-12-02T00:00:00Z";

/// With `--db`, the order count and the "after" rate are the shop's own:
/// 8 orders in the last 30 days, 1 cancelled → 12.5%.
async fn roi_measures_the_after_side_from_the_shop(backend: switchyard_store::testing::Backend) {
    let Some(db) = switchyard_store::testing::TestDb::fresh(backend).await else { return };
    shop_with_orders(&db, 8, 1).await;
    let base = ["--db", &db.url, "--as-of", AS_OF, "--per", "month", "--aov", "45", "--cancel-rate-before", "30"];
    let v = json_of(&base);
    assert_eq!((&v["orders"], &v["cancel_rate_after"]), (&json!(8), &json!(12.5)), "{v}");
    assert_eq!((&v["measured"]["orders"], &v["measured"]["cancelled"]), (&json!(8), &json!(1)), "{v}");
    assert_eq!(v["measured"]["from"], "2026-11-02T00:00:00.000Z", "30 days before --as-of");
    let out = switchyard(&base);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.starts_with("Measured from the shop's orders"), "{printed}");
    assert!(printed.contains("8 orders, 1 cancelled (12.50%"), "{printed}");
    // Nothing in the period: refused with what to do instead.
    let early = ["--db", &db.url, "--as-of", "2026-01-01T00:00:00Z", "--per", "month", "--aov", "45"];
    let out = switchyard(&[&early[..], &["--cancel-rate-before", "3"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no orders in the 30 days before"), "{out:?}");
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roi_measures_the_after_side_from_the_shop_sqlite() {
    roi_measures_the_after_side_from_the_shop(switchyard_store::testing::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roi_measures_the_after_side_from_the_shop_postgres() {
    roi_measures_the_after_side_from_the_shop(switchyard_store::testing::Backend::Postgres).await;
}

/// `--db` replaces the measured flags (giving both is refused) and needs a
/// database that exists (none is created).
#[test]
fn roi_db_refuses_what_it_cannot_measure() {
    let path = std::env::temp_dir().join(format!("switchyard-roi-missing-{}.db", std::process::id()));
    let db = path.to_str().expect("path");
    let common = ["--per", "month", "--aov", "45", "--cancel-rate-before", "3"];
    let out = switchyard(&[&["--db", db, "--orders", "800"][..], &common[..]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"), "{out:?}");
    let out = switchyard(&[&["--db", db][..], &common[..]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such database"), "{out:?}");
    assert!(!path.exists(), "roi created {db}");
    let out = switchyard(&[&["--db", db, "--as-of", "yesterday"][..], &common[..]].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--as-of"), "{out:?}");
    let out = switchyard(&common);
    assert_eq!(out.status.code(), Some(2), "without --db, --orders is required");
}
