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
    let clock = std::sync::Arc::new(switchyard_engine::ManualClock::new(0));
    let config = switchyard_engine::Config::default();
    let engine = switchyard_engine::Engine::open(&db.url, config, clock, switchyard_engine::IdGen::seeded(1))
        .await
        .expect("open");
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
        lead_time_days: 0,
        timezone: "UTC".into(),
    };
    engine.put_location(&l).await.expect("location");
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
    for cmd in ["serve", "demo", "audit", "import", "export", "bench", "policy"] {
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

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_server(db: &TestDb) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--db", &db.url, "--listen", &format!("127.0.0.1:{port}")])
            .env("SWITCHYARD_API_TOKEN", "kill-test-token")
            .env("SWITCHYARD_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return (server, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("serve did not come up");
}

/// Kill -9 the server in the middle of a stream of orders: after a restart,
/// every acknowledged order is there and the audit finds no drift.
async fn killed_server_loses_nothing(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    with_location(&db).await;
    let (mut server, base) = start_server(&db).await;
    let client = reqwest::Client::new();
    let auth = "Bearer kill-test-token";
    let r = client
        .put(format!("{base}/api/v1/skus/K1"))
        .header("authorization", auth)
        .json(&serde_json::json!({"title": "K"}))
        .send()
        .await
        .expect("sku");
    assert!(r.status().is_success());
    let r = client
        .put(format!("{base}/api/v1/inventory/K1/WH"))
        .header("authorization", auth)
        .json(&serde_json::json!({"on_hand": 150}))
        .send()
        .await
        .expect("stock");
    assert!(r.status().is_success());
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let tasks: Vec<_> = (0..16)
        .map(|c| {
            let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0..500 {
                    let body = serde_json::json!({
                        "channel": "web", "external_id": format!("k-{c}-{i}"), "currency": "USD",
                        "lines": [{"sku": "K1", "quantity": 1, "unit_price": 100}],
                        "ship_to": {"name": "N", "line1": "L", "city": "C", "postal_code": "1", "country": "US"}
                    });
                    match client
                        .post(format!("{base}/api/v1/orders"))
                        .header("authorization", auth)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().as_u16() == 201 => {
                            let v: serde_json::Value = r.json().await.unwrap_or_default();
                            if let Some(id) = v["id"].as_str() {
                                acked.lock().expect("lock").push(id.to_owned());
                            }
                        }
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let _ = server.0.kill();
    let _ = server.0.wait();
    for t in tasks {
        t.await.expect("client task");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(!acked.is_empty(), "some orders were acknowledged before the kill");
    let out = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (_server, base) = start_server(&db).await;
    for id in &acked {
        let r =
            client.get(format!("{base}/api/v1/orders/{id}")).header("authorization", auth).send().await.expect("get");
        assert_eq!(r.status().as_u16(), 200, "acknowledged order {id} survived the kill");
    }
    let inv: serde_json::Value = client
        .get(format!("{base}/api/v1/inventory/K1"))
        .header("authorization", auth)
        .send()
        .await
        .expect("inv")
        .json()
        .await
        .expect("json");
    let reserved = inv["locations"][0]["reserved"].as_i64().expect("reserved");
    assert!(
        reserved >= acked.len().min(150) as i64 && reserved <= 150,
        "reserved {reserved} for {} acknowledged",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_loses_nothing_sqlite() {
    killed_server_loses_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_loses_nothing_postgres() {
    killed_server_loses_nothing(Backend::Postgres).await;
}

async fn policy_commands(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    with_location(&db).await;
    let dir = std::env::temp_dir();
    let tag = format!("{}-{}", std::process::id(), backend as u8);
    let bad = dir.join(format!("switchyard-policy-bad-{tag}.toml"));
    std::fs::write(&bad, "[split]\nstrategy = \"never\"\nmax_shipments = 0\n").expect("write");
    let out = switchyard(&["policy", "validate", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("line 3") && text(&out).contains("max_shipments"), "{}", text(&out));
    let unknown = dir.join(format!("switchyard-policy-unknown-{tag}.toml"));
    std::fs::write(&unknown, "[eligibility]\ndaily_capacity = { NOWHERE = 3 }\n").expect("write");
    let out = switchyard(&["policy", "validate", unknown.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(0), "structure alone is fine: {}", text(&out));
    let out = switchyard(&["policy", "activate", unknown.to_str().expect("path"), "--db", &db.url]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("NOWHERE"), "{}", text(&out));
    let good = dir.join(format!("switchyard-policy-good-{tag}.toml"));
    std::fs::write(&good, "[eligibility]\ndaily_capacity = { WH = 30 }\n").expect("write");
    let out = switchyard(&["policy", "activate", good.to_str().expect("path"), "--db", &db.url, "--note", "cap WH"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = switchyard(&["policy", "show", "--db", &db.url]);
    assert!(text(&out).contains("active policy version 1") && text(&out).contains("WH = 30"), "{}", text(&out));
    let out = switchyard(&["policy", "rollback", "--db", &db.url]);
    assert!(out.status.success(), "{}", text(&out));
    let out = switchyard(&["policy", "show", "--db", &db.url]);
    assert!(text(&out).contains("built-in default"), "{}", text(&out));
    for f in [bad, unknown, good] {
        let _ = std::fs::remove_file(f);
    }
}

#[tokio::test]
async fn policy_commands_sqlite() {
    policy_commands(Backend::Sqlite).await;
}

#[tokio::test]
async fn policy_commands_postgres() {
    policy_commands(Backend::Postgres).await;
}

/// The main job: `switchyard demo` opens a seeded shop whose orders arrive,
/// get routed by the demo policy and explain themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shop_takes_orders() {
    use std::io::BufRead;
    let mut child = Server(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["demo", "--listen", "127.0.0.1:0", "--orders-per-minute", "1200"])
            .env("SWITCHYARD_API_TOKEN", "demo-test-token")
            .env("SWITCHYARD_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start demo"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .take(10)
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("Dashboard:").map(|u| u.trim().trim_end_matches('/').to_owned()))
        .expect("the demo prints its dashboard URL");
    let client = reqwest::Client::new();
    let mut orders = serde_json::Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = client.get(format!("{url}/api/v1/orders?limit=5")).bearer_auth("demo-test-token").send().await;
        if let Ok(r) = r {
            orders = r.json().await.unwrap_or_default();
            if orders["orders"].as_array().is_some_and(|o| o.len() >= 3) {
                break;
            }
        }
    }
    let list = orders["orders"].as_array().expect("orders arrive");
    assert!(list.len() >= 3, "{orders}");
    let id = list[0]["id"].as_str().expect("id");
    let order: serde_json::Value = client
        .get(format!("{url}/api/v1/orders/{id}"))
        .bearer_auth("demo-test-token")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(order["routing"][0]["policy_version"], 1, "routed by the demo policy: {order}");
    assert!(order["routing"][0]["explanation"].as_str().is_some_and(|e| !e.is_empty()));
    let locations: serde_json::Value = client
        .get(format!("{url}/api/v1/locations"))
        .bearer_auth("demo-test-token")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(locations.as_array().map(Vec::len), Some(4));
}
