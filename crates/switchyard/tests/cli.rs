//! The `switchyard` binary as an operator runs it: import, export, audit,
//! bench, on both backends where a database is involved.

use std::process::{Command, Output};

use sqlx::Connection;
use switchyard_core::{Address, Location, LocationCode, LocationKind};
use switchyard_store::testing::{Backend, TestDb};

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

async fn with_location(db: &TestDb) {
    let store = switchyard_store::open(&db.url).await.expect("open");
    let l = Location {
        code: LocationCode::parse("WH").expect("code"),
        name: "Warehouse".into(),
        kind: LocationKind::Warehouse,
        address: Address {
            line1: "1".into(),
            city: "Reno".into(),
            region: "NV".into(),
            postal_code: "89501".into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup: false,
        priority: 1,
        active: true,
    };
    store.put_location(&l, 0).await.expect("location");
}

async fn tamper(db: &TestDb, backend: Backend) {
    let sql = "UPDATE stock SET on_hand = on_hand + 1 WHERE sku = 'A1'";
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.url)).await.expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("tamper");
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("tamper");
        }
    }
}

async fn import_export_audit(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    with_location(&db).await;
    let dir = std::env::temp_dir();
    let bad = dir.join(format!("switchyard-bad-{}.csv", std::process::id() as u64 * 2 + backend as u64));
    std::fs::write(&bad, "sku,title,location,on_hand,safety_stock\nA1,Apple,WH,5,1\nB2,Banana,WH,many,\n")
        .expect("write");
    let out = switchyard(&["import", "--db", &db.url, bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("line 3"), "{}", text(&out));
    // A row naming an unknown location fails in the store, still by line.
    std::fs::write(&bad, "sku,title,location,on_hand\nA1,Apple,WH,5\nB2,Banana,NOWHERE,2\n").expect("write");
    let out = switchyard(&["import", "--db", &db.url, bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("line 3") && text(&out).contains("NOWHERE"), "{}", text(&out));
    let out = switchyard(&["export", "--db", &db.url]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("A1"), "nothing was half-applied");

    let good = dir.join(format!("switchyard-good-{}.csv", std::process::id() as u64 * 2 + backend as u64));
    std::fs::write(&good, "sku,title,location,on_hand,safety_stock\nA1,Apple,WH,5,1\nB2,Banana,WH,3,\n")
        .expect("write");
    let out = switchyard(&["import", "--db", &db.url, good.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    let out = switchyard(&["export", "--db", &db.url]);
    let csv = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(csv.starts_with("sku,location,on_hand,reserved,safety_stock,available"), "{csv}");
    assert!(csv.contains("A1,WH,5,0,1,4"), "{csv}");
    assert!(csv.contains("B2,WH,3,0,0,3"), "{csv}");

    let out = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("clean"));
    tamper(&db, backend).await;
    let out = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("A1@WH"), "{}", text(&out));
    let _ = std::fs::remove_file(bad);
    let _ = std::fs::remove_file(good);
}

#[tokio::test]
async fn import_export_audit_sqlite() {
    import_export_audit(Backend::Sqlite).await;
}

#[tokio::test]
async fn import_export_audit_postgres() {
    import_export_audit(Backend::Postgres).await;
}

async fn bench_reports_no_oversell(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    let out =
        switchyard(&["bench", "--db", &db.url, "--clients", "16", "--orders", "120", "--hot-sku", "--hot-stock", "10"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("orders/s:"), "{t}");
    assert!(t.contains("accepted with stock: 10, backordered: 110"), "{t}");
    assert!(t.contains("errors: 0"), "{t}");
    assert!(t.contains("oversold units: 0"), "{t}");
    let out = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test]
async fn bench_reports_no_oversell_sqlite() {
    bench_reports_no_oversell(Backend::Sqlite).await;
}

#[tokio::test]
async fn bench_reports_no_oversell_postgres() {
    bench_reports_no_oversell(Backend::Postgres).await;
}

#[test]
fn every_command_has_help() {
    for cmd in ["serve", "demo", "audit", "import", "export", "bench"] {
        let out = switchyard(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{cmd}");
    }
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let path = std::env::temp_dir().join(format!("switchyard-config-{}.toml", std::process::id()));
    std::fs::write(&path, "reservation_ttl_secs = \"soon\"\n").expect("write");
    let out = switchyard(&["--config", path.to_str().expect("path"), "audit"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("reservation_ttl_secs"), "{}", text(&out));
    let _ = std::fs::remove_file(path);
}
