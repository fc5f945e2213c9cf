//! `switchyard bench`: the project's own load generator.
//!
//! N clients post unique orders over HTTP for a fixed count or duration,
//! optionally all for one hot SKU with little stock; the report gives
//! orders/s and latency percentiles of acknowledged orders (2xx) only,
//! errors apart (no answer, refused with a 4xx, server errors), an oversell
//! check read back
//! from the inventory API at the end and — when bench starts the server
//! itself, as a child process — the server's own CPU time per order.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use crate::settings::{random_token, Settings};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Base URL of a running server (e.g. http://127.0.0.1:8080). Without
    /// it, bench starts its own server on a random loopback port.
    #[arg(long)]
    pub url: Option<String>,
    /// API token for --url.
    #[arg(long, env = "SWITCHYARD_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Database of the built-in server: SQLite path or postgres:// URL
    /// (default: a fresh temporary SQLite file).
    #[arg(long)]
    pub db: Option<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Orders to post in all (ignored with --duration-secs).
    #[arg(long, default_value_t = 2000)]
    pub orders: u64,
    /// Post for this many seconds instead of a fixed count.
    #[arg(long)]
    pub duration_secs: Option<u64>,
    /// Every order asks for the same SKU, which has only --hot-stock units.
    #[arg(long)]
    pub hot_sku: bool,
    #[arg(long, default_value_t = 100)]
    pub hot_stock: i64,
    /// Post signed Shopify orders/create webhook deliveries to /hooks
    /// instead of API orders (intake through the channel's parser).
    #[arg(long)]
    pub webhooks: bool,
    /// Instead of orders: change N SKUs' stock at once and measure how long
    /// each new level takes to reach a live Shopify stand-in.
    #[arg(long, value_name = "N")]
    pub sync_burst: Option<usize>,
}

struct Outcome {
    latency: Duration,
    /// The HTTP status; 0 when no answer came (connection refused or reset,
    /// timeout).
    status: u16,
    allocated: i64,
}

impl Outcome {
    /// The server took the order (201, or 200 for a repeat).
    fn acknowledged(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub async fn run(args: BenchArgs, settings: Settings) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.clients > 0, "--clients must be at least 1");
    let (base, token, _server, _tmp) = match &args.url {
        Some(url) => {
            let token = args.token.clone().context("--url needs --token or SWITCHYARD_API_TOKEN")?;
            (url.trim_end_matches('/').to_owned(), token, None, None)
        }
        None => {
            let tmp = std::env::temp_dir().join(format!("switchyard-bench-{}.db", std::process::id()));
            let db = args.db.clone().unwrap_or_else(|| tmp.display().to_string());
            let token = random_token();
            let server = Server::spawn(&db, &token, &settings).await?;
            println!("bench: server process {} on {} (database {db})", server.pid(), server.base);
            (server.base.clone(), token, Some(server), args.db.is_none().then_some(TempFile(tmp)))
        }
    };
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(args.clients).timeout(Duration::from_secs(60)).build()?;
    let run_id = format!("{:x}", rand::random::<u32>());
    let skus = setup(&client, &base, &token, &run_id, &args).await?;
    if let Some(n) = args.sync_burst {
        let ok = crate::bench_channels::sync_burst(&client, &base, &token, n.max(1), args.clients).await?;
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    if args.webhooks {
        let cpu_before = _server.as_ref().and_then(Server::cpu_secs);
        let (outcomes, elapsed) = crate::bench_channels::webhooks(&client, &base, &token, &skus, &args).await?;
        let cpu_after = _server.as_ref().and_then(Server::cpu_secs);
        let oversold = check_oversell(&client, &base, &token, &skus, &args, &[]).await?;
        let ok = crate::bench_channels::report_webhooks(&outcomes, elapsed, oversold, args.clients);
        if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
            let acknowledged = outcomes.iter().filter(|(_, s)| (200..300).contains(s)).count();
            println!(
                "server CPU: {:.0} us per acknowledged delivery",
                1e6 * (after - before) / (acknowledged.max(1) as f64)
            );
        }
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }

    let issued = Arc::new(AtomicU64::new(0));
    let cpu_before = _server.as_ref().and_then(Server::cpu_secs);
    let started = Instant::now();
    let deadline = args.duration_secs.map(|s| started + Duration::from_secs(s));
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (client, base, token, run_id, skus, issued) =
            (client.clone(), base.clone(), token.clone(), run_id.clone(), skus.clone(), issued.clone());
        let limit = if deadline.is_some() { u64::MAX } else { args.orders };
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let sku = &skus[(i as usize) % skus.len()];
                let body = json!({
                    "channel": "bench", "external_id": format!("{run_id}-{i}"), "currency": "USD",
                    "lines": [{"sku": sku, "quantity": 1, "unit_price": 1000}],
                    "ship_to": {"name": "Bench", "line1": "1 Main St", "city": "Portland", "region": "OR",
                                "postal_code": "97201", "country": "US"}
                });
                let t = Instant::now();
                let res = client.post(format!("{base}/api/v1/orders")).bearer_auth(&token).json(&body).send().await;
                let (status, allocated) = match res {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        let allocated = v["lines"]
                            .as_array()
                            .map(|ls| {
                                ls.iter()
                                    .flat_map(|l| l["allocations"].as_array().cloned().unwrap_or_default())
                                    .map(|a| a["quantity"].as_i64().unwrap_or(0))
                                    .sum()
                            })
                            .unwrap_or(0);
                        (status, allocated)
                    }
                    Err(_) => (0, 0),
                };
                outcomes.push(Outcome { latency: t.elapsed(), status, allocated });
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await?);
    }
    let elapsed = started.elapsed();
    let cpu_after = _server.as_ref().and_then(Server::cpu_secs);
    let oversold = check_oversell(&client, &base, &token, &skus, &args, &outcomes).await?;
    let code = report(&outcomes, elapsed, oversold, &args);
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let cpu = after - before;
        let acknowledged = outcomes.iter().filter(|o| o.acknowledged()).count();
        println!(
            "server CPU: {cpu:.2} s ({:.0}% of one core), {:.0} us per acknowledged order \
             (the load ran in this process)",
            100.0 * cpu / elapsed.as_secs_f64().max(1e-9),
            1e6 * cpu / (acknowledged.max(1) as f64)
        );
    }
    Ok(code)
}

/// `switchyard serve` as a child process: the load comes from this
/// process, so the server's CPU time is its own (read from /proc).
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    async fn spawn(db: &str, token: &str, settings: &Settings) -> anyhow::Result<Server> {
        use std::io::BufRead;
        let exe = std::env::current_exe().context("locating the switchyard binary")?;
        let mut child = std::process::Command::new(exe)
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .env("SWITCHYARD_API_TOKEN", token)
            .env("SWITCHYARD_LOG", "warn")
            .env("SWITCHYARD_WRITE_QUEUE", settings.write_queue.to_string())
            .env("SWITCHYARD_MAX_BATCH", settings.max_batch.to_string())
            .env("SWITCHYARD_PG_WRITERS", settings.pg_writers.to_string())
            .env("SWITCHYARD_SYNC_TICK_MS", settings.sync_tick_ms.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting switchyard serve")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut server = Server { child, base: String::new() };
        // The first line names the address: "Switchyard serving http://ADDR/ (...)".
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await??;
        let addr = line.split_whitespace().find(|w| w.starts_with("http://")).context("server did not start")?;
        server.base = addr.trim_end_matches('/').to_owned();
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds the server process has used (user + system), on Linux.
    fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // Fields after the parenthesised command name; utime and stime are
        // the 14th and 15th fields of the whole line, in clock ticks (100/s).
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        Some(ticks / 100.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

pub(crate) async fn put(client: &reqwest::Client, url: String, token: &str, body: Value) -> anyhow::Result<()> {
    let r = client.put(&url).bearer_auth(token).json(&body).send().await?;
    anyhow::ensure!(
        r.status().is_success(),
        "setup {url} failed: {} {}",
        r.status(),
        r.text().await.unwrap_or_default()
    );
    Ok(())
}

/// Creates the bench location and SKUs; returns the SKUs orders will use.
async fn setup(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    run_id: &str,
    args: &BenchArgs,
) -> anyhow::Result<Vec<String>> {
    put(
        client,
        format!("{base}/api/v1/locations/BENCH-WH"),
        token,
        json!({
            "name": "Bench warehouse", "kind": "warehouse",
            "address": {"line1": "1 Dock Rd", "city": "Reno", "region": "NV", "postal_code": "89501", "country": "US"},
            "can_ship": true, "priority": 1, "active": true
        }),
    )
    .await?;
    let (skus, stock): (Vec<String>, i64) = if args.hot_sku {
        (vec![format!("BENCH-HOT-{run_id}")], args.hot_stock)
    } else {
        ((0..16).map(|k| format!("BENCH-{run_id}-{k}")).collect(), 1_000_000)
    };
    for sku in &skus {
        put(client, format!("{base}/api/v1/skus/{sku}"), token, json!({"title": "Bench item"})).await?;
        put(client, format!("{base}/api/v1/inventory/{sku}/BENCH-WH"), token, json!({"on_hand": stock})).await?;
    }
    Ok(skus)
}

/// Units promised beyond stock: read back from the inventory API.
async fn check_oversell(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    skus: &[String],
    args: &BenchArgs,
    outcomes: &[Outcome],
) -> anyhow::Result<i64> {
    let mut oversold = 0;
    for sku in skus {
        let v: Value =
            client.get(format!("{base}/api/v1/inventory/{sku}")).bearer_auth(token).send().await?.json().await?;
        for l in v["locations"].as_array().cloned().unwrap_or_default() {
            let (on_hand, reserved) = (l["on_hand"].as_i64().unwrap_or(0), l["reserved"].as_i64().unwrap_or(0));
            oversold += (reserved - on_hand).max(0) + (-reserved).max(0);
        }
    }
    if args.hot_sku {
        let allocated: i64 = outcomes.iter().map(|o| o.allocated).sum();
        oversold += (allocated - args.hot_stock).max(0);
    }
    Ok(oversold)
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Prints the report. Only acknowledged orders count as orders (orders/s,
/// latency); a request that got no answer or an error status is an error,
/// counted apart by kind.
fn report(outcomes: &[Outcome], elapsed: Duration, oversold: i64, args: &BenchArgs) -> ExitCode {
    let acknowledged: Vec<&Outcome> = outcomes.iter().filter(|o| o.acknowledged()).collect();
    let mut lat: Vec<Duration> = acknowledged.iter().map(|o| o.latency).collect();
    lat.sort();
    let ok = acknowledged.len();
    let unanswered = outcomes.iter().filter(|o| o.status == 0).count();
    let refused = outcomes.iter().filter(|o| (300..500).contains(&o.status)).count();
    let server_errors = outcomes.iter().filter(|o| o.status >= 500).count();
    let errors = outcomes.len() - ok;
    let filled = acknowledged.iter().filter(|o| o.allocated > 0).count();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench: {} clients, {} orders sent in {:.2}s, {ok} acknowledged{}",
        args.clients,
        outcomes.len(),
        elapsed.as_secs_f64(),
        if args.hot_sku { format!(" (hot SKU, {} units)", args.hot_stock) } else { String::new() }
    );
    println!("orders/s: {:.1}", ok as f64 / elapsed.as_secs_f64().max(1e-9));
    println!(
        "latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default())
    );
    println!("accepted with stock: {filled}, backordered: {}", ok - filled.min(ok));
    println!(
        "errors: {errors} ({unanswered} connection errors, {refused} refused with 3xx/4xx, \
         {server_errors} server errors)"
    );
    println!("oversold units: {oversold}");
    if oversold > 0 || errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
