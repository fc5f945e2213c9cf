//! `switchyard bench --webhooks` and `switchyard bench --sync-burst N`: the
//! channel benchmarks. Like the order bench, the load comes from this
//! process and the server is a child process (or `--url`).
//!
//! - `--webhooks`: every client posts signed Shopify `orders/create`
//!   webhook deliveries (one new order each) to `/hooks/bench-shop`;
//!   reported like the order bench: deliveries/s acknowledged, latency
//!   percentiles, errors, oversold units.
//! - `--sync-burst N`: a live Shopify connection points at a stand-in
//!   running in this process; N SKUs are mapped and settled first, then all
//!   N levels change at once (one inventory count each, from `--clients`
//!   clients) and the report gives, per SKU, the time from our API's
//!   answer to the count until the stand-in received that SKU's new level:
//!   p50, p95, max, and the requests it took.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use switchyard_core::ChannelKind;
use switchyard_standin::StandIn;

use crate::bench::{percentile, put, BenchArgs};

const SECRET: &str = "bench-webhook-secret";

/// A Shopify REST Admin order as the orders/create webhook sends it.
fn shopify_order(id: u64, sku: &str) -> Value {
    json!({
        "id": id, "name": format!("#{id}"), "currency": "USD", "financial_status": "paid",
        "fulfillment_status": null, "cancelled_at": null, "total_price": "10.00",
        "line_items": [{"id": id, "sku": sku, "quantity": 1, "price": "10.00", "total_discount": "0.00",
                        "discount_allocations": [], "requires_shipping": true, "gift_card": false}],
        "shipping_lines": [],
        "shipping_address": {"first_name": "Bench", "last_name": "Client", "address1": "1 Main St",
                             "city": "Portland", "province_code": "OR", "zip": "97201", "country_code": "US"}
    })
}

/// Webhook intake: deliveries/s to a committed reservation.
pub async fn webhooks(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    skus: &[String],
    args: &BenchArgs,
) -> anyhow::Result<(Vec<(Duration, u16)>, Duration)> {
    put(
        client,
        format!("{base}/api/v1/channels/bench-shop"),
        token,
        json!({"kind": "shopify", "webhook_secret": SECRET}),
    )
    .await?;
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = args.duration_secs.map(|s| started + Duration::from_secs(s));
    let limit = if deadline.is_some() { u64::MAX } else { args.orders };
    let run = u64::from(rand::random::<u32>()) << 24;
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (client, base, skus, issued) = (client.clone(), base.to_owned(), skus.to_vec(), issued.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let body = shopify_order(run + i, &skus[(i as usize) % skus.len()]).to_string();
                let signature = switchyard_channels::webhook::sign(SECRET, body.as_bytes());
                let t = Instant::now();
                let res = client
                    .post(format!("{base}/hooks/bench-shop"))
                    .header("content-type", "application/json")
                    .header("x-shopify-hmac-sha256", signature)
                    .header("x-shopify-topic", "orders/create")
                    .header("x-shopify-webhook-id", format!("bench-{}", run + i))
                    .body(body)
                    .send()
                    .await;
                let status = match res {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                out.push((t.elapsed(), status));
            }
            out
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await?);
    }
    Ok((outcomes, started.elapsed()))
}

/// Prints the webhook bench's report; false when anything failed.
pub fn report_webhooks(outcomes: &[(Duration, u16)], elapsed: Duration, oversold: i64, clients: usize) -> bool {
    let mut lat: Vec<Duration> = outcomes.iter().filter(|(_, s)| (200..300).contains(s)).map(|(d, _)| *d).collect();
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let errors = outcomes.len() - lat.len();
    println!(
        "webhooks: {clients} clients, {} signed Shopify orders/create deliveries in {:.2}s, {} acknowledged",
        outcomes.len(),
        elapsed.as_secs_f64(),
        lat.len()
    );
    println!(
        "deliveries/s (each a committed order with its reservation): {:.1}",
        lat.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default())
    );
    println!("errors: {errors}; oversold units: {oversold}");
    errors == 0 && oversold == 0
}

/// Sync lag under a burst of `n` stock changes; false when a level never
/// arrived.
pub async fn sync_burst(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
    clients: usize,
) -> anyhow::Result<bool> {
    let standin = StandIn::start(ChannelKind::Shopify).await.context("starting the Shopify stand-in")?;
    let run = format!("{:x}", rand::random::<u32>());
    put(
        client,
        format!("{base}/api/v1/channels/bench-sync"),
        token,
        json!({"kind": "shopify", "mode": "live", "base_url": standin.url(), "sku_scope": [format!("SYNC-{run}-*")],
               "settings": {"location_id": "1"}, "credentials": {"access_token": "shpat_bench"}}),
    )
    .await?;
    let skus: Vec<String> = (0..n).map(|i| format!("SYNC-{run}-{i}")).collect();
    println!("sync-burst: setting up {n} SKUs, each mapped to a Shopify inventory item");
    for (i, sku) in skus.iter().enumerate() {
        put(client, format!("{base}/api/v1/skus/{sku}"), token, json!({"title": "Sync bench item"})).await?;
        put(client, format!("{base}/api/v1/inventory/{sku}/BENCH-WH"), token, json!({"on_hand": 100})).await?;
        put(
            client,
            format!("{base}/api/v1/channels/bench-sync/skus/{sku}"),
            token,
            json!({"sku": sku, "listing": (i + 1).to_string()}),
        )
        .await?;
    }
    let key = |i: usize| format!("gid://shopify/InventoryItem/{}", i + 1);
    let settled =
        wait_for(&standin, n, |levels| (0..n).all(|i| levels.get(&key(i)) == Some(&100)), Duration::from_secs(120))
            .await;
    if let Err(e) = settled {
        let status: Value = client
            .get(format!("{base}/api/v1/channels/bench-sync/sync"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let have = standin.levels().len();
        anyhow::bail!("{e}; the stand-in has {have} levels; the connection's sync status: {status}");
    }
    standin.clear_requests();

    // The burst: every SKU counted down to 40, as fast as the clients go.
    let answered: Arc<tokio::sync::Mutex<BTreeMap<usize, Instant>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, base, token, skus, next, answered) =
            (client.clone(), base.to_owned(), token.to_owned(), skus.clone(), next.clone(), answered.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(sku) = skus.get(i) else { break };
                let url = format!("{base}/api/v1/inventory/{sku}/BENCH-WH");
                let r = client.put(&url).bearer_auth(&token).json(&json!({"on_hand": 40})).send().await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    answered.lock().await.insert(i, Instant::now());
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let burst = started.elapsed();
    let arrived =
        wait_for(&standin, n, |levels| (0..n).all(|i| levels.get(&key(i)) == Some(&40)), Duration::from_secs(300))
            .await
            .is_ok();
    let calls = standin.stock_requests();
    // When each SKU's level of 40 first reached the stand-in.
    let mut received: BTreeMap<String, Instant> = BTreeMap::new();
    for r in &calls {
        for q in r.json()["variables"]["input"]["quantities"].as_array().into_iter().flatten() {
            if let (Some(item), Some(40)) = (q["inventoryItemId"].as_str(), q["quantity"].as_i64()) {
                received.entry(item.to_owned()).or_insert(r.received);
            }
        }
    }
    let answered = answered.lock().await;
    let mut lags: Vec<Duration> =
        (0..n).filter_map(|i| Some(received.get(&key(i))?.saturating_duration_since(*answered.get(&i)?))).collect();
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("sync-burst: {n} stock changes answered in {:.2}s by {clients} clients", burst.as_secs_f64());
    println!(
        "sync lag (our answer to the count → the stand-in receives the new level), {} of {n} SKUs: \
         p50 {:.1} ms  p95 {:.1} ms  max {:.1} ms",
        lags.len(),
        ms(percentile(&lags, 0.50)),
        ms(percentile(&lags, 0.95)),
        ms(lags.last().copied().unwrap_or_default())
    );
    println!("stock requests to Shopify: {} (up to 250 levels each)", calls.len());
    Ok(arrived && lags.len() == n)
}

async fn wait_for(
    standin: &StandIn,
    n: usize,
    done: impl Fn(&BTreeMap<String, i64>) -> bool,
    limit: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while !done(&standin.levels()) {
        anyhow::ensure!(started.elapsed() < limit, "the stand-in did not receive all {n} levels within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
