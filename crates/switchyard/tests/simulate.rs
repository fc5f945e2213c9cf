//! `switchyard simulate` as an owner runs it: a small history whose figures
//! are worked out by hand under two policies, byte-identical reruns, a
//! database that is only read, the same decisions as live traffic under
//! each policy, and refusals that name the line.
//!
//! The shop: F, a store near the customers (same postal prefix: 25 km by the
//! default estimates), and W, a warehouse across the country (1,000 km).
//! Stock: F has 2 TEE and 5 CAP; W has 5 TEE and 5 MUG.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use switchyard_core::{Location, LocationCode, LocationKind, NewOrder, OrderDraft, ShipTo, Sku, SkuDef, SkuDraft};
use switchyard_engine::{Engine, ManualClock};
use switchyard_store::testing::{Backend, TestDb};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env_remove("SWITCHYARD_DB")
        .output()
        .expect("run switchyard")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Keeps one TEE at the flagship for the shop's own till (`pos`), never
/// splits, and cancels what it cannot place after a day.
const PROTECT: &str = r#"
[[protection]]
locations = ["F"]
sku = "TEE"
keep_units = 1
[protection.release_to]
channels = ["pos"]

[split]
strategy = "never"

[fallback]
chain = ["hold", "auto_cancel"]
auto_cancel_after_hours = 24
"#;

/// Splits whenever no one location fills the order (the default).
const SPLIT: &str = "[split]\nstrategy = \"always\"\n";

/// Four orders (order 2's rows come after order 3's: the replay goes by
/// time) and one naming a SKU the shop does not sell.
const HISTORY: &str = "\
created_at,channel,external_id,sku,quantity,unit_price,currency,postal_code,country,service_level
2026-03-02T09:00:00Z,web,1,TEE,1,10.00,USD,97209,US,standard
2026-03-02T09:00:00Z,web,1,MUG,1,10.00,USD,97209,US,standard
2026-03-02T11:00:00Z,pos,3,TEE,2,10.00,USD,97209,US,standard
2026-03-02T10:00:00Z,web,2,TEE,2,10,USD,97209,US,
2026-03-02T12:00:00Z,web,4,CAP,1,10.00,USD,97209,US,standard
2026-03-02T12:00:00Z,web,4,MUG,1,10.00,USD,97209,US,standard
2026-03-02T12:30:00Z,web,5,GHOST,1,10.00,USD,97209,US,standard
";

const START_STOCK: &str = "sku,title,location,on_hand\nTEE,Tee,F,2\nCAP,Cap,F,5\nTEE,Tee,W,5\nMUG,Mug,W,5\n";

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp_millis()
}

fn code(c: &str) -> LocationCode {
    LocationCode::parse(c).expect("code")
}

fn location(c: &str, kind: LocationKind, priority: i32, postal_code: &str, region: &str) -> Location {
    let mut l = switchyard_store::testing::warehouse(c, priority);
    l.kind = kind;
    l.can_pickup = kind == LocationKind::Store;
    l.address.postal_code = postal_code.into();
    l.address.region = region.into();
    l
}

/// A temporary directory of this test's files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("switchyard-simulate-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Dir(dir)
    }
    fn file(&self, name: &str, body: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, body).expect("write");
        path.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The shop on a fresh database, with the starting stock.
async fn shop(db: &TestDb, clock: std::sync::Arc<ManualClock>) -> Engine {
    let engine =
        Engine::open(&db.url, switchyard_engine::Config::default(), clock, switchyard_engine::IdGen::seeded(7))
            .await
            .expect("open");
    engine.put_location(&location("F", LocationKind::Store, 1, "97205", "OR")).await.expect("F");
    engine.put_location(&location("W", LocationKind::Warehouse, 2, "10001", "NY")).await.expect("W");
    for (sku, tags) in [("TEE", vec!["bestseller".to_string()]), ("MUG", vec![]), ("CAP", vec![])] {
        let draft = SkuDraft { sku: sku.into(), title: sku.into(), tags, allow_backorder: true, ..Default::default() };
        let def = SkuDef::parse(draft).expect("sku");
        engine.put_sku(&def).await.expect("put sku");
    }
    for (sku, at, units) in [("TEE", "F", 2), ("CAP", "F", 5), ("TEE", "W", 5), ("MUG", "W", 5)] {
        let sku = Sku::parse(sku).expect("sku");
        engine.set_stock(&sku, &code(at), units, None, "count").await.expect("stock");
    }
    engine
}

/// Waits until every connection of the closed engine is gone (the last one
/// checkpoints the WAL into the file and removes it), so nothing but the
/// simulator could touch the file afterwards.
fn settle(path: &str) {
    let wal = format!("{path}-wal");
    for _ in 0..100 {
        if !Path::new(&wal).exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn policy_entry(doc: &Value, i: usize) -> &Value {
    &doc["policies"][i]
}

#[tokio::test]
async fn hand_checked_figures_same_bytes_twice_and_the_database_untouched() {
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else { return };
    let engine = shop(&db, std::sync::Arc::new(ManualClock::new(0))).await;
    drop(engine);
    settle(&db.url);
    let dir = Dir::new("figures");
    let protect = dir.file("protect.toml", PROTECT);
    let split = dir.file("split.toml", SPLIT);
    let history = dir.file("history.csv", HISTORY);
    let before = std::fs::read(&db.url).expect("read db");

    let args = ["simulate", "--db", &db.url, "--history", &history, "--policy", &protect, "--policy", &split, "--json"];
    let first = switchyard(&args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let second = switchyard(&args);
    assert_eq!(first.stdout, second.stdout, "the same inputs print the same bytes");
    let doc: Value = serde_json::from_slice(&first.stdout).expect("json");

    assert_eq!(doc["input"]["history_rows"], json!(7));
    assert_eq!(doc["input"]["orders"], json!(4));
    assert_eq!(doc["input"]["skipped_orders"], json!(1));
    assert_eq!(doc["input"]["unknown_skus"], json!([{"sku": "GHOST", "rows": 1}]));
    assert_eq!(doc["input"]["first_order_at"], json!("2026-03-02T09:00:00Z"));

    // Protecting one TEE at F (the baseline):
    // 1 (web): F has no MUG; W fills it (1000 km).
    // 2 (web): F may use only 1 of its 2 TEE; W fills both (1000 km).
    // 3 (pos): the till may use the kept unit: F fills 2 TEE (25 km), 1 of them protected.
    // 4 (web): no split: F (first ranked of two that fill one unit) reserves the CAP,
    //   the MUG is held, the order cancelled a day later. MUG is its stockout.
    let p = policy_entry(&doc, 0);
    assert_eq!(p["policy"], json!(protect));
    assert_eq!(p["orders"], json!(4));
    assert_eq!(p["fill_rate"], json!(0.75));
    assert_eq!(p["split_rate"], json!(0.0));
    assert_eq!(p["backordered"], json!(0));
    assert_eq!(p["cancelled"], json!(1));
    assert_eq!(p["cancelled_units"], json!(2));
    assert_eq!(p["protected_units_used"], json!(1));
    assert_eq!(p["distance_km"], json!(2025.0));
    assert_eq!(p["shipments"], json!(3));
    assert_eq!(p["stockouts"], json!([{"sku": "MUG", "lines": 1, "units": 1}]));
    assert_eq!(p["vs_baseline"], Value::Null);
    assert_eq!(p["stock_errors"], json!(0));

    // Splitting (the default):
    // 1: W (1000 km). 2: F fills 2 TEE (25 km). 3: F has none left; W (1000 km).
    // 4: F ships the CAP, W the MUG: one split (25 + 1000 km).
    let s = policy_entry(&doc, 1);
    assert_eq!(s["orders"], json!(4));
    assert_eq!(s["fill_rate"], json!(1.0));
    assert_eq!(s["split_rate"], json!(0.25));
    assert_eq!(s["backordered"], json!(0));
    assert_eq!(s["cancelled"], json!(0));
    assert_eq!(s["protected_units_used"], json!(0));
    assert_eq!(s["distance_km"], json!(3050.0));
    assert_eq!(s["distance_km_estimated"], json!(3050.0));
    assert_eq!(s["shipments"], json!(5));
    assert_eq!(s["stockouts"], json!([]));
    // Against the baseline: 1 failed order of 4 prevented (25% → 0%); every
    // order is $20, so $20 of revenue and 20 minutes (0.33 h) of team time.
    let vs = &s["vs_baseline"];
    assert_eq!(vs["baseline"], json!(protect));
    assert_eq!(vs["failed_orders_prevented"], json!(1));
    assert_eq!(vs["extra_distance_km"], json!(1025.0));
    assert_eq!(
        vs["roi"],
        json!({
            "currency": "USD", "orders": 4, "aov": 2000, "cancel_rate_before": 25, "cancel_rate_after": 0,
            "failed_before": 1, "failed_after": 0, "prevented": 1, "protected_revenue": 2000,
            "minutes_saved": 20, "hours_saved": 0.33
        })
    );

    // The table says the same.
    let table = switchyard(&args[..args.len() - 1]);
    assert_eq!(table.status.code(), Some(0), "{}", text(&table));
    let t = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(t.contains("Replayed 4 order(s) (7 history rows, 1 skipped)"), "{t}");
    assert!(t.contains("75.0%") && t.contains("100.0%") && t.contains("25.0%"), "{t}");
    assert!(t.contains("1 failed order(s) prevented, +1025.0 km"), "{t}");
    assert!(t.contains("MUG 1 unit(s) in 1 line(s)"), "{t}");
    assert!(t.contains("Unknown SKUs, left out: GHOST (1 row(s))"), "{t}");

    assert!(before == std::fs::read(&db.url).expect("read db"), "the database file was not changed");
}

/// What the live engine allocated, per order in order, as `LOC:units` joined
/// by spaces (the `--decisions` file's spelling).
fn live_allocations(view: &switchyard_store::OrderView) -> String {
    let mut per_location: std::collections::BTreeMap<String, i64> = Default::default();
    for line in &view.lines {
        for a in &line.allocations {
            *per_location.entry(a.location.clone()).or_default() += a.quantity;
        }
    }
    per_location.iter().map(|(l, n)| format!("{l}:{n}")).collect::<Vec<_>>().join(" ")
}

/// (created_at, channel, external_id, lines as (sku, quantity)).
type LiveOrder = (&'static str, &'static str, &'static str, &'static [(&'static str, i64)]);

/// Takes the history's four orders through the live engine under `policy`.
async fn live_run(policy: &str) -> Vec<String> {
    let db = TestDb::fresh(Backend::Sqlite).await.expect("sqlite");
    let clock = std::sync::Arc::new(ManualClock::new(0));
    let engine = shop(&db, clock.clone()).await;
    let saved = engine.save_policy(policy, "test", "test").await.expect("save");
    engine.activate_policy(saved.version, "test").await.expect("activate");
    let orders: [LiveOrder; 4] = [
        ("2026-03-02T09:00:00Z", "web", "1", &[("TEE", 1), ("MUG", 1)]),
        ("2026-03-02T10:00:00Z", "web", "2", &[("TEE", 2)]),
        ("2026-03-02T11:00:00Z", "pos", "3", &[("TEE", 2)]),
        ("2026-03-02T12:00:00Z", "web", "4", &[("CAP", 1), ("MUG", 1)]),
    ];
    let mut placed = Vec::new();
    for (at, channel, id, lines) in orders {
        clock.set(ms(at));
        let draft = OrderDraft {
            channel: channel.into(),
            external_id: id.into(),
            currency: "USD".into(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| switchyard_core::LineDraft {
                    sku: (*sku).into(),
                    quantity: *quantity,
                    unit_price: 1000,
                    currency: None,
                })
                .collect(),
            ship_to: ShipTo {
                name: "A Customer".into(),
                line1: "1 Oak St".into(),
                city: "Portland".into(),
                region: String::new(),
                postal_code: "97209".into(),
                country: "US".into(),
                lat: None,
                lon: None,
            },
            ..Default::default()
        };
        let (view, _) = engine.create_order(&NewOrder::parse(draft).expect("order")).await.expect("create");
        placed.push(live_allocations(&view));
    }
    placed
}

/// The simulator's allocations under each policy, from `--decisions`.
fn simulated_allocations(decisions: &str, policy: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(decisions).expect("decisions");
    reader.records().map(|r| r.expect("row")).filter(|r| &r[0] == policy).map(|r| r[5].to_string()).collect()
}

#[tokio::test]
async fn simulated_and_live_decisions_agree_under_each_policy() {
    let live_protect = live_run(PROTECT).await;
    let live_split = live_run(SPLIT).await;
    // The policy change moves the live decisions: orders 2, 3 and 4 go elsewhere.
    assert_eq!(live_protect, vec!["W:2", "W:2", "F:2", "F:1"]);
    assert_eq!(live_split, vec!["W:2", "F:2", "W:2", "F:1 W:1"]);

    let Some(db) = TestDb::fresh(Backend::Sqlite).await else { return };
    drop(shop(&db, std::sync::Arc::new(ManualClock::new(0))).await);
    settle(&db.url);
    let dir = Dir::new("live");
    let (protect, split) = (dir.file("protect.toml", PROTECT), dir.file("split.toml", SPLIT));
    let history = dir.file("history.csv", HISTORY);
    let stock = dir.file("stock.csv", START_STOCK);
    let decisions = dir.0.join("decisions.csv").display().to_string();
    let out = switchyard(&[
        "simulate",
        "--db",
        &db.url,
        "--history",
        &history,
        "--stock",
        &stock,
        "--policy",
        &protect,
        "--policy",
        &split,
        "--decisions",
        &decisions,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(simulated_allocations(&decisions, &protect), live_protect);
    assert_eq!(simulated_allocations(&decisions, &split), live_split);
}

#[tokio::test]
async fn stock_and_receipts_files_set_the_starting_point_and_arrive_in_time() {
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else { return };
    drop(shop(&db, std::sync::Arc::new(ManualClock::new(0))).await);
    settle(&db.url);
    let dir = Dir::new("receipts");
    let split = dir.file("split.toml", SPLIT);
    // No stock at all at the start; 1 CAP arrives at W at 10:00 and 1 at 11:00.
    let stock = dir.file("stock.csv", "sku,location,on_hand\n");
    let receipts = dir.file(
        "receipts.csv",
        "received_at,sku,location,quantity\n2026-03-02T11:00:00Z,CAP,W,1\n2026-03-02T10:00:00Z,CAP,W,1\n\
         2026-03-02T10:00:00Z,CAP,NOWHERE,4\n",
    );
    let history = dir.file(
        "history.csv",
        "created_at,channel,external_id,sku,quantity,unit_price,currency,postal_code,country,service_level\n\
         2026-03-02T09:00:00Z,web,1,CAP,1,5.00,USD,97209,US,standard\n\
         2026-03-02T10:00:00Z,web,2,CAP,1,5.00,USD,97209,US,standard\n\
         2026-03-02T10:30:00Z,web,3,CAP,1,5.00,USD,97209,US,standard\n\
         2026-03-02T11:00:00Z,web,4,CAP,1,5.00,USD,97209,US,standard\n",
    );
    let out = switchyard(&[
        "simulate",
        "--db",
        &db.url,
        "--history",
        &history,
        "--stock",
        &stock,
        "--receipts",
        &receipts,
        "--policy",
        &split,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    // 1: nothing yet (backordered). 2: the 10:00 receipt comes first. 3: none left. 4: the 11:00 receipt.
    let p = policy_entry(&doc, 0);
    assert_eq!((p["fill_rate"].clone(), p["backordered"].clone()), (json!(0.5), json!(2)));
    assert_eq!(p["stockouts"], json!([{"sku": "CAP", "lines": 2, "units": 2}]));
    assert_eq!(doc["input"]["receipts"], json!(2));
    assert_eq!(doc["input"]["unknown_locations"], json!([{"location": "NOWHERE", "rows": 1}]));
}

#[tokio::test]
async fn bad_input_is_refused_by_line_and_nothing_is_printed() {
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else { return };
    drop(shop(&db, std::sync::Arc::new(ManualClock::new(0))).await);
    settle(&db.url);
    let dir = Dir::new("refusals");
    let split = dir.file("split.toml", SPLIT);
    let header = "created_at,channel,external_id,sku,quantity,unit_price,currency,postal_code,country,service_level\n";
    let good = "2026-03-02T09:00:00Z,web,1,TEE,1,10.00,USD,97209,US,standard\n";
    let cases = [
        (
            format!("{header}{good}2026-03-02T09:00:00Z,web,2,TEE,x,10.00,USD,97209,US,\n"),
            "line 3: quantity \"x\" is not a number",
        ),
        (
            format!("{header}{good}{good}yesterday,web,2,TEE,1,10.00,USD,97209,US,\n"),
            "line 4: created_at \"yesterday\"",
        ),
        (format!("{header}2026-03-02T09:00:00Z,web,1,TEE,1,10.001,USD,97209,US,\n"), "line 2: unit_price"),
        (
            format!("{header}{good}2026-03-02T09:00:00Z,web,1,MUG,1,10.00,EUR,97209,US,\n"),
            "line 3: currency differs from line 2",
        ),
        (format!("{header}2026-03-02T09:00:00Z,web,1,TEE,1,10.00,USD,97209,US,overnight\n"), "line 2: service_level"),
        ("created_at,channel,sku\n".to_string(), "line 1: the header must name the columns"),
    ];
    for (body, expected) in cases {
        let history = dir.file("history.csv", &body);
        let out = switchyard(&["simulate", "--db", &db.url, "--history", &history, "--policy", &split]);
        assert_eq!(out.status.code(), Some(1), "{body}: {}", text(&out));
        assert!(out.stdout.is_empty(), "nothing printed on stdout: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&history) && err.contains(expected), "{body}\nexpected {expected:?} in: {err}");
    }
    let history = dir.file("history.csv", &format!("{header}{good}"));

    // A policy naming a location the shop does not have: the policy parser's line.
    let bad =
        dir.file("bad.toml", "[split]\nstrategy = \"always\"\n\n[eligibility]\ndaily_capacity = { NOWHERE = 3 }\n");
    let out = switchyard(&["simulate", "--db", &db.url, "--history", &history, "--policy", &bad]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("line 5") && err.contains("NOWHERE"), "{err}");

    // A receipt row that cannot be read; a bundle-free stock file with a bad count.
    let receipts = dir.file("receipts.csv", "received_at,sku,location,quantity\n2026-03-02,TEE,W,-1\n");
    let out =
        switchyard(&["simulate", "--db", &db.url, "--history", &history, "--receipts", &receipts, "--policy", &split]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: quantity \"-1\""), "{}", text(&out));
    let stock = dir.file("stock.csv", "sku,location,on_hand\nTEE,W,5\nMUG,W,many\n");
    let out = switchyard(&["simulate", "--db", &db.url, "--history", &history, "--stock", &stock, "--policy", &split]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"), "{}", text(&out));

    // No such database: refused, and not created.
    let missing = dir.0.join("missing.db").display().to_string();
    let out = switchyard(&["simulate", "--db", &missing, "--history", &history, "--policy", &split]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!Path::new(&missing).exists(), "the simulator never creates a database");

    // Usage: no policy at all.
    let out = switchyard(&["simulate", "--db", &db.url, "--history", &history]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn reads_a_postgres_shop_too() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else { return };
    drop(shop(&db, std::sync::Arc::new(ManualClock::new(0))).await);
    let dir = Dir::new("postgres");
    let (protect, split) = (dir.file("protect.toml", PROTECT), dir.file("split.toml", SPLIT));
    let history = dir.file("history.csv", HISTORY);
    let out = switchyard(&[
        "simulate",
        "--db",
        &db.url,
        "--history",
        &history,
        "--policy",
        &protect,
        "--policy",
        &split,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(policy_entry(&doc, 0)["fill_rate"], json!(0.75));
    assert_eq!(policy_entry(&doc, 1)["distance_km"], json!(3050.0));
}
