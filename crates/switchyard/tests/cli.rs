//! The `switchyard` binary as an operator runs it: import, export, audit,
//! bench, on both backends where a database is involved.

use std::process::{Command, Output};

use sqlx::Connection;
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
    let l = switchyard_store::testing::warehouse("WH", 1);
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

/// Regression (issue 7): `audit --db <missing>` created an empty database
/// and reported it clean. Every command but serve and demo refuses.
#[test]
fn commands_refuse_a_database_that_does_not_exist() {
    let path = std::env::temp_dir().join(format!("switchyard-missing-{}.db", std::process::id()));
    let db = path.to_str().expect("path");
    for args in [vec!["audit", "--db", db], vec!["export", "--db", db], vec!["policy", "show", "--db", db]] {
        let out = switchyard(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("no such database"), "{args:?}: {}", text(&out));
        assert!(!path.exists(), "{args:?} created {db}");
    }
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
            .env("SWITCHYARD_API_TOKEN", "kill-test-token-0123456789")
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

/// Kill -9 the server while 32 clients post orders as fast as they can, so
/// the kill lands in the middle of a batch (SQLite: a group commit of many
/// orders; PostgreSQL: a dozen transactions at once). After a restart,
/// every order a client was told about (201) is there, whole, and the audit
/// finds no drift.
async fn killed_server_loses_nothing(backend: Backend) {
    use std::sync::{Arc, Mutex};
    let Some(db) = TestDb::fresh(backend).await else { return };
    let started = std::time::Instant::now();
    with_location(&db).await;
    // 50 SKUs with plenty of stock: every order gets its unit.
    let csv = std::env::temp_dir().join(format!("switchyard-kill-{}-{}.csv", std::process::id(), backend as u8));
    let rows: String = (0..50).map(|i| format!("S{i:02},Item {i},WH,100000\n")).collect();
    std::fs::write(&csv, format!("sku,title,location,on_hand\n{rows}")).expect("write");
    let out = switchyard(&["import", "--db", &db.url, csv.to_str().expect("path")]);
    let _ = std::fs::remove_file(&csv);
    assert!(out.status.success(), "{}", text(&out));

    let (mut server, base) = start_server(&db).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    let auth = "Bearer kill-test-token-0123456789";
    // External ids answered 201, and anything else that was not a 201.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let unexpected = Arc::new(Mutex::new(Vec::<String>::new()));
    let tasks: Vec<_> = (0..32)
        .map(|c| {
            let (client, base, acked, unexpected) = (client.clone(), base.clone(), acked.clone(), unexpected.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let ext = format!("k-{c}-{i}");
                    let body = serde_json::json!({
                        "channel": "web", "external_id": ext, "currency": "USD",
                        "lines": [{"sku": format!("S{:02}", (c + i * 7) % 50), "quantity": 1, "unit_price": 100}],
                        "ship_to": {"name": "Ana", "line1": "1 Oak St", "city": "Portland", "region": "OR",
                                    "postal_code": "97205", "country": "US"}
                    });
                    let sent =
                        client.post(format!("{base}/api/v1/orders")).header("authorization", auth).json(&body).send();
                    match sent.await {
                        // The status line is the acknowledgement: record it before
                        // reading the body, which the kill may cut off.
                        Ok(r) if r.status().as_u16() == 201 => acked.lock().expect("lock").push(ext),
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            unexpected.lock().expect("lock").push(format!("{ext}: {status} {text}"));
                        }
                        Err(_) => return i, // the server is gone
                    }
                }
                unreachable!()
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let _ = server.0.kill(); // SIGKILL
    let _ = server.0.wait();
    let mut cut_off = 0;
    for t in tasks {
        let sent = t.await.expect("client task");
        cut_off += usize::from(sent > 0);
    }
    let unexpected = unexpected.lock().expect("lock").clone();
    assert!(unexpected.is_empty(), "every order before the kill answered 201: {unexpected:#?}");
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 32, "the server was under load when killed: only {} acknowledged", acked.len());
    assert_eq!(cut_off, 32, "every client was still posting when the server died");
    // PostgreSQL may still commit what a dead session had sent (a COMMIT
    // the kill did not stop); what is stored is final once they are gone.
    let ended = db.wait_for_other_sessions_to_end(std::time::Duration::from_secs(30)).await;
    assert!(ended, "the killed server's database sessions ended");
    let out = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (_server, base) = start_server(&db).await;
    let mut orders: Vec<serde_json::Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: serde_json::Value = client
            .get(format!("{base}/api/v1/orders?limit=500{cursor}"))
            .header("authorization", auth)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        orders.extend(page["orders"].as_array().expect("orders").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let stored: std::collections::BTreeSet<&str> =
        orders.iter().map(|o| o["external_id"].as_str().expect("external_id")).collect();
    assert_eq!(stored.len(), orders.len(), "one order per external id");
    let lost: Vec<&String> = acked.iter().filter(|e| !stored.contains(e.as_str())).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged orders lost in the kill: {lost:?}", lost.len(), acked.len());
    let partial: Vec<String> = orders
        .iter()
        .filter(|o| o["lines"][0]["allocations"][0]["quantity"] != 1 || o["status"] != "accepted")
        .map(|o| o.to_string())
        .collect();
    assert!(partial.is_empty(), "every stored order is whole: {partial:?}");
    // Every stored order, acknowledged or not, holds exactly its one unit:
    // per SKU, the units reserved are the stored orders of that SKU.
    let out = switchyard(&["export", "--db", &db.url]);
    assert!(out.status.success(), "{}", text(&out));
    let mut reserved = std::collections::BTreeMap::<String, i64>::new();
    for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let units = cells.get(3).and_then(|r| r.parse::<i64>().ok()).expect("reserved column");
        if units != 0 {
            *reserved.entry(cells[0].to_owned()).or_default() += units;
        }
    }
    let mut ordered = std::collections::BTreeMap::<String, i64>::new();
    for o in &orders {
        *ordered.entry(o["lines"][0]["sku"].as_str().expect("sku").to_owned()).or_default() += 1;
    }
    let audit = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(
        reserved,
        ordered,
        "units reserved per SKU = stored orders per SKU ({} orders listed); the audit said: {}",
        orders.len(),
        text(&audit)
    );
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit));
    println!(
        "{backend:?}: {} acknowledged before the kill, {} stored; {:?}",
        acked.len(),
        orders.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_server_loses_nothing_sqlite() {
    killed_server_loses_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
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
    let tmp = std::env::temp_dir().join(format!("switchyard-demo-orders-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("tmp");
    let (demo, url, output) = start_demo(&tmp);
    let client = reqwest::Client::new();
    let mut orders = serde_json::Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let r = client.get(format!("{url}/api/v1/orders?limit=5")).bearer_auth(DEMO_TOKEN).send().await;
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
        .bearer_auth(DEMO_TOKEN)
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
        .bearer_auth(DEMO_TOKEN)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(locations.as_array().map(Vec::len), Some(4));

    // The seed's test, played at start: an oversell prevented, a partial
    // shipment, an out-of-policy return waiting for a person.
    let get = |path: &str| {
        let request = client.get(format!("{url}{path}")).bearer_auth(DEMO_TOKEN);
        async move { request.send().await.expect("get").json::<serde_json::Value>().await.expect("json") }
    };
    let find = |page: &serde_json::Value, number: &str| {
        page["orders"].as_array().and_then(|os| os.iter().find(|o| o["external_id"] == number).cloned())
    };
    let shopify = get("/api/v1/orders?channel=shopify&limit=500").await;
    let oversold = find(&shopify, "SHOPIFY-DEMO-1").unwrap_or_else(|| panic!("the oversell story: {shopify}"));
    let placed: i64 = oversold["lines"][0]["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .map(|a| a["quantity"].as_i64().unwrap_or(0) - a["released"].as_i64().unwrap_or(0))
        .sum();
    assert!(placed <= 5, "never more posters than the shop has: {oversold}");
    assert!(
        oversold["exceptions"].as_array().is_some_and(|e| !e.is_empty()) || oversold["status"] == "backordered",
        "the units it could not have are held for a person or backordered, visibly: {oversold}"
    );
    let partial = get("/api/v1/orders?status=partially_shipped&limit=500").await;
    assert!(find(&partial, "AMAZON-DEMO-2").is_some(), "the partial shipment: {partial}");
    let waiting = get("/api/v1/exceptions?kind=return_out_of_policy&status=open").await;
    let text = waiting.to_string();
    assert!(text.contains("ETSY-DEMO-3"), "the out-of-policy return waits for a person: {waiting}");
    drop(demo);
    let printed = output.join().expect("output");
    for story in ["Oversell prevented:", "Partial shipment:", "Out-of-policy return:", "/return (try order ETSY-DEMO-3"]
    {
        assert!(printed.contains(story), "the demo says where to look ({story}): {printed}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

const DEMO_TOKEN: &str = "demo-test-token-0123456789";

/// Starts `switchyard demo` with its temporary directory set to `tmp`;
/// returns the process once its dashboard URL is printed, with that URL and
/// a thread reading the rest of its output (the pipe must stay open: the
/// demo prints more).
fn start_demo(tmp: &std::path::Path) -> (Server, String, std::thread::JoinHandle<String>) {
    use std::io::BufRead;
    let mut child = Server(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["demo", "--listen", "127.0.0.1:0", "--orders-per-minute", "1200"])
            .env("SWITCHYARD_API_TOKEN", DEMO_TOKEN)
            .env("SWITCHYARD_LOG", "warn")
            .env("TMPDIR", tmp)
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
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    (child, url, rest)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        }
        out.push(path);
    }
    out
}

/// Regression (issue 7): `demo` left about 5 MB of database files in the
/// temporary directory after it exited. Stopped by Ctrl-C (SIGINT) or by
/// SIGTERM, it leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_leaves_no_files_in_the_temporary_directory() {
    for signal in ["INT", "TERM"] {
        let tmp = std::env::temp_dir().join(format!("switchyard-demo-test-{}-{signal}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).expect("tmp");
        let (mut demo, url, output) = start_demo(&tmp);
        // Wait for orders, so the database and its WAL have been written.
        let client = reqwest::Client::new();
        for _ in 0..100 {
            let r = client.get(format!("{url}/api/v1/orders?limit=3")).bearer_auth(DEMO_TOKEN).send().await;
            let v: serde_json::Value = match r {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(_) => serde_json::Value::Null,
            };
            if v["orders"].as_array().is_some_and(|o| o.len() >= 3) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(!files_under(&tmp).is_empty(), "the demo keeps its database under TMPDIR");
        let pid = demo.0.id().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("kill");
        assert!(sent.success());
        let mut status = None;
        for _ in 0..100 {
            if let Some(s) = demo.0.try_wait().expect("wait") {
                status = Some(s);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let status = status.unwrap_or_else(|| panic!("the demo did not stop on SIG{signal}"));
        let output = output.join().expect("output");
        assert!(status.success(), "SIG{signal}: {status}\n{output}");
        let left = files_under(&tmp);
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
        assert!(output.contains("its database was removed"), "SIG{signal}: {output}");
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

/// A stand-in server for bench: setup requests (PUT, GET) succeed; of the
/// orders posted, the first of every two gets its connection dropped, the
/// second a 401.
async fn refusing_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let posted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let posted = posted.clone();
            tokio::spawn(async move {
                // Read the whole request (head and body): closing a socket
                // with unread data resets it before the client reads.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let complete = |r: &[u8]| {
                    let Some(end) = r.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
                    let head = String::from_utf8_lossy(&r[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    r.len() >= end + 4 + length
                };
                while !complete(&request) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let reply: &[u8] = if request.starts_with(b"POST /api/v1/orders") {
                    if posted.fetch_add(1, std::sync::atomic::Ordering::SeqCst).is_multiple_of(2) {
                        return; // dropped: no answer
                    }
                    b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                      connection: close\r\n\r\n{}"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                      connection: close\r\n\r\n{}"
                };
                let _ = socket.write_all(reply).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// Regression (issue 7): `switchyard bench` counted connection errors as
/// orders (2,431 orders/s beside 11,432 errors). Only acknowledged orders
/// count; errors are reported apart, by kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_counts_only_acknowledged_orders_and_reports_errors_apart() {
    let url = refusing_server().await;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["bench", "--url", &url, "--token", "t", "--clients", "4", "--orders", "40"])
            .output()
            .expect("run bench")
    })
    .await
    .expect("join");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "errors fail the run: {t}");
    assert!(t.contains("40 orders sent") && t.contains(", 0 acknowledged"), "{t}");
    assert!(t.contains("orders/s: 0.0\n"), "{t}");
    assert!(t.contains("errors: 40 (20 connection errors, 20 refused with 3xx/4xx, 0 server errors)"), "{t}");
}
