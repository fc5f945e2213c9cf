//! Several `switchyard serve` processes over one PostgreSQL database, as a
//! deployment behind a load balancer runs them: each process has its own
//! writer and pool, and only the database keeps them apart.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_store::testing::{Backend, TestDb};

const TOKEN: &str = "processes-test-token-0123456789";

/// The `serve` children; killed (and reaped) when dropped, also on panic.
struct Servers {
    children: Vec<Child>,
    logs: Vec<std::path::PathBuf>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for l in &self.logs {
            let _ = std::fs::remove_file(l);
        }
    }
}

impl Servers {
    /// Warnings and errors the servers logged (stderr), for the report.
    fn complaints(&self) -> Vec<String> {
        self.logs
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                let text = std::fs::read_to_string(l).unwrap_or_default();
                text.lines()
                    .filter(|line| line.contains("WARN") || line.contains("ERROR"))
                    .map(|line| format!("server {i}: {line}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Starts `switchyard serve` on a random port and returns its base URL, as
/// it prints it ("Switchyard serving http://ADDR/").
fn start(servers: &mut Servers, db: &str) -> String {
    let log = std::env::temp_dir().join(format!("switchyard-serve-{}-{}.log", std::process::id(), servers.logs.len()));
    let stderr = std::fs::File::create(&log).expect("log file");
    servers.logs.push(log.clone());
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .env("SWITCHYARD_API_TOKEN", TOKEN)
        .env("SWITCHYARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start serve");
    let stdout = child.stdout.take().expect("stdout");
    servers.children.push(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the address, then keeps draining stdout so the child never blocks on it.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Switchyard serving http://") {
                let addr = rest.split('/').next().unwrap_or_default().to_owned();
                let _ = tx.send(addr);
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => {
            panic!("serve did not print its address ({e}): {}", std::fs::read_to_string(&log).unwrap_or_default())
        }
    }
}

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

async fn send(client: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = client.request(method, &url).bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_else(|e| panic!("{url}: body: {e}"));
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn put(client: &reqwest::Client, url: String, body: Value) {
    let (s, v) = send(client, reqwest::Method::PUT, url.clone(), Some(body)).await;
    assert_eq!(s, 200, "PUT {url}: {v}");
}

fn location(kind: &str, priority: i32) -> Value {
    json!({"name": kind, "kind": kind,
           "address": {"line1": "1 Dock", "city": "Reno", "region": "NV", "postal_code": "89501", "country": "US"},
           "lat": 39.5, "lon": -119.8, "can_ship": true, "can_pickup": false, "priority": priority, "active": true})
}

fn order_body(external_id: &str) -> Value {
    json!({
        "channel": "web", "external_id": external_id, "currency": "USD",
        "lines": [{"sku": "HOT", "quantity": 1, "unit_price": 1500}],
        "ship_to": {"name": "Ana", "line1": "1 Oak St", "city": "Portland", "region": "OR", "postal_code": "97205",
                    "country": "US"}
    })
}

fn allocated(order: &Value) -> i64 {
    order["lines"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .flat_map(|l| l["allocations"].as_array().cloned().unwrap_or_default())
                .map(|a| a["quantity"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// Every order of the channel, following the cursor.
async fn all_orders(client: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/orders?channel=web&limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = send(client, reqwest::Method::GET, url, None).await;
        assert_eq!(s, 200, "{page}");
        out.extend(page["orders"].as_array().expect("orders").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// One POST: which external id, to which server, and what came back.
struct Answer {
    external_id: String,
    server: usize,
    status: u16,
    body: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_serve_processes_share_one_postgres_database() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else { return };
    let started = Instant::now();
    let mut servers = Servers { children: vec![], logs: vec![] };
    let bases: Vec<String> = (0..3).map(|_| start(&mut servers, &db.url)).collect();
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");

    put(&client, format!("{}/api/v1/locations/ST", bases[0]), location("store", 1)).await;
    put(&client, format!("{}/api/v1/locations/WH", bases[0]), location("warehouse", 2)).await;
    put(&client, format!("{}/api/v1/skus/HOT", bases[0]), json!({"title": "Hot item"})).await;
    put(&client, format!("{}/api/v1/inventory/HOT/ST", bases[0]), json!({"on_hand": 30})).await;
    put(&client, format!("{}/api/v1/inventory/HOT/WH", bases[0]), json!({"on_hand": 20})).await;

    // 48 clients; client c talks to server c % 3. Clients 3g, 3g+1, 3g+2
    // form group g, and every duplicated id j is posted by the three
    // clients of group j % 16 — one to each server — released together by
    // a barrier. Each client also posts every 48th distinct id.
    const CLIENTS: usize = 48;
    const DISTINCT: usize = 150;
    const DUPLICATED: usize = 20;
    let barriers: Vec<Arc<tokio::sync::Barrier>> =
        (0..DUPLICATED).map(|_| Arc::new(tokio::sync::Barrier::new(3))).collect();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let group = c / 3;
            let mut dups: Vec<(String, Option<Arc<tokio::sync::Barrier>>)> = (0..DUPLICATED)
                .filter(|j| j % (CLIENTS / 3) == group)
                .map(|j| (format!("dup-{j}"), Some(barriers[j].clone())))
                .collect();
            let mut jobs: Vec<(String, Option<Arc<tokio::sync::Barrier>>)> =
                (0..DISTINCT).filter(|i| i % CLIENTS == c).map(|i| (format!("one-{i}"), None)).collect();
            // A duplicated id first, the next one after a distinct order.
            if !dups.is_empty() {
                jobs.insert(0, dups.remove(0));
            }
            for (k, d) in dups.into_iter().enumerate() {
                jobs.insert((2 + k).min(jobs.len()), d);
            }
            let (client, server) = (client.clone(), c % 3);
            let base = bases[server].clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for (external_id, barrier) in jobs {
                    if let Some(b) = barrier {
                        b.wait().await;
                    }
                    let url = format!("{base}/api/v1/orders");
                    let (status, body) =
                        send(&client, reqwest::Method::POST, url, Some(order_body(&external_id))).await;
                    answers.push(Answer { external_id, server, status, body });
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.expect("client task"));
    }
    let posting = started.elapsed();
    assert_eq!(answers.len(), DISTINCT + 3 * DUPLICATED);

    let bad: Vec<String> = answers
        .iter()
        .filter(|a| a.status != 201 && a.status != 200)
        .map(|a| format!("{} via server {}: {} {}", a.external_id, a.server, a.status, a.body))
        .collect();
    assert!(bad.is_empty(), "every POST answers 201 or 200; {} did not: {bad:#?}", bad.len());

    // Each id: one order; the duplicated ones once created, twice found.
    let mut by_id: BTreeMap<&str, Vec<&Answer>> = BTreeMap::new();
    for a in &answers {
        by_id.entry(a.external_id.as_str()).or_default().push(a);
    }
    for (ext, got) in &by_id {
        let ids: BTreeSet<&str> = got.iter().map(|a| a.body["id"].as_str().expect("order id")).collect();
        assert_eq!(ids.len(), 1, "{ext}: one order from every server: {ids:?}");
        let created = got.iter().filter(|a| a.status == 201).count();
        assert_eq!(created, 1, "{ext}: created exactly once of {} posts", got.len());
        if ext.starts_with("dup-") {
            let servers: BTreeSet<usize> = got.iter().map(|a| a.server).collect();
            assert_eq!(servers.len(), 3, "{ext} went to all three servers");
        }
    }

    let orders = all_orders(&client, &bases[1]).await;
    let mut per_ext: BTreeMap<String, usize> = BTreeMap::new();
    for o in &orders {
        *per_ext.entry(o["external_id"].as_str().expect("external_id").to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = per_ext.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "an external id made more than one order: {twice:?}");
    assert_eq!(orders.len(), DISTINCT + DUPLICATED, "one order per external id");
    let units: i64 = orders.iter().map(allocated).sum();
    assert_eq!(units, 50, "all 50 units promised, none twice");
    let held = orders.iter().filter(|o| allocated(o) == 1).count();
    assert_eq!(held, 50);

    let (s, inv) = send(&client, reqwest::Method::GET, format!("{}/api/v1/inventory/HOT", bases[2]), None).await;
    assert_eq!(s, 200, "{inv}");
    for (code, on_hand) in [("ST", 30), ("WH", 20)] {
        let p = inv["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .find(|l| l["location"] == code)
            .unwrap_or_else(|| panic!("no position at {code}: {inv}"));
        assert_eq!((p["on_hand"].as_i64(), p["reserved"].as_i64()), (Some(on_hand), Some(on_hand)), "{code}: {inv}");
    }

    let out = switchyard(&["audit", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for line in servers.complaints() {
        println!("{line}");
    }
    println!("posted {} orders through 3 processes in {posting:?}; whole test {:?}", answers.len(), started.elapsed());
}
