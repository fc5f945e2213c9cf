//! `switchyard doctor` as an operator runs it, on both backends: a clean
//! catalogue exits 0; planted problems are printed with their fixes and exit
//! 1, as text and as JSON; a database that does not exist or a bad `--days`
//! exits 2 and creates nothing.

use std::process::{Command, Output};

use switchyard_core::{Sku, SkuDef};
use switchyard_engine::{Config, Engine, IdGen, ManualClock};
use switchyard_store::testing::{warehouse, Backend, TestDb};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env_remove("SWITCHYARD_API_TOKEN")
        .output()
        .expect("run switchyard")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn engine(db: &TestDb) -> Engine {
    let clock = std::sync::Arc::new(ManualClock::new(0));
    Engine::open(&db.url, Config::default(), clock, IdGen::seeded(1)).await.expect("open")
}

fn sku(code: &str, title: &str) -> SkuDef {
    SkuDef::plain(Sku::parse(code).expect("sku"), title)
}

async fn doctor_reports_and_exits_by_what_it_found(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    let e = engine(&db).await;
    e.put_location(&warehouse("WH", 1)).await.expect("location");
    e.put_sku(&sku("TEE-RED-M", "Red tee, medium")).await.expect("sku");
    drop(e);
    let out = switchyard(&["doctor", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("doctor: clean, nothing to fix"), "{}", text(&out));

    let e = engine(&db).await;
    let mut abroad = warehouse("TORONTO", 2);
    (abroad.address.country, abroad.address.postal_code) = ("CA".into(), "M5V 2T6".into());
    e.put_location(&abroad).await.expect("location");
    e.put_sku(&sku("tee.red.m", "Red tee, medium (old)")).await.expect("sku");
    drop(e);
    let out = switchyard(&["doctor", "--db", &db.url]);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("[location_without_coordinates] TORONTO\n  problem: no coordinates"), "{printed}");
    assert!(printed.contains("[duplicate_sku] TEE-RED-M, tee.red.m\n"), "{printed}");
    assert!(printed.contains("  fix: Edit location TORONTO (Locations)"), "{printed}");
    assert!(printed.contains("doctor: 2 finding(s)"), "{printed}");

    let out = switchyard(&["doctor", "--db", &db.url, "--json", "--days", "7"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((json["clean"].as_bool(), json["window_days"].as_i64()), (Some(false), Some(7)), "{json}");
    let kinds: Vec<&str> =
        json["findings"].as_array().expect("findings").iter().filter_map(|f| f["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["duplicate_sku", "location_without_coordinates"], "{json}");
    assert!(json["findings"][0]["fix"].as_str().is_some_and(|f| f.contains("Keep one code")), "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_and_exits_by_what_it_found_sqlite() {
    doctor_reports_and_exits_by_what_it_found(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_and_exits_by_what_it_found_postgres() {
    doctor_reports_and_exits_by_what_it_found(Backend::Postgres).await;
}

#[test]
fn doctor_refuses_what_it_cannot_check() {
    let path = std::env::temp_dir().join(format!("switchyard-doctor-missing-{}.db", std::process::id()));
    let db = path.to_str().expect("path");
    let out = switchyard(&["doctor", "--db", db]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no such database") && out.stdout.is_empty(), "{}", text(&out));
    assert!(!path.exists(), "doctor created {db}");
    let out = switchyard(&["doctor", "--db", db, "--days", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--days must be from 1 to 366"), "{}", text(&out));
    let out = switchyard(&["doctor", "--help"]);
    assert!(out.status.success() && text(&out).contains("--days"), "{}", text(&out));
}
