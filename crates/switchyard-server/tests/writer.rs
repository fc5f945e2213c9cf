//! The writer's queue under overload, over real HTTP: when more writes
//! arrive than may wait for the writer, the rest are refused at once — 503
//! `overloaded` with `Retry-After` — and nothing of a refused write stays.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{order_body, Backend};
use serde_json::{json, Value};
use switchyard_store::WriterConnection;

/// One answer: the external id posted, the status, `Retry-After`, the body.
type Answer = (String, u16, Option<String>, Value);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_write_queue_answers_503_with_retry_after() {
    const CLIENTS: usize = 64;
    let config = switchyard_engine::Config { write_queue: 1, max_batch: 1, ..Default::default() };
    // No sweep and no channel sync round during the test: their writes would
    // compete for the one queue slot (a sync round took it once, in CI).
    let no_sweeps = |c: &mut switchyard_server::ServerConfig| {
        c.sweep_interval_ms = 3_600_000;
        c.sync_tick_ms = 3_600_000;
    };
    let app = common::spawn_app_with(Backend::Sqlite, no_sweeps, config).await.expect("sqlite always runs");
    app.location("WH", 1).await;
    app.sku("X", json!(null)).await;
    app.stock("X", "WH", 1000).await;

    // Another connection holds the file's write lock (as a backup or a
    // `switchyard import` would), so the writer is stuck on its first
    // command for as long as the test likes: whether the queue overflows
    // does not depend on how fast this machine commits.
    let lock = WriterConnection::open(app.db_url()).expect("open the file");
    lock.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");

    let app = Arc::new(app);
    let waiting_at_most = config.write_queue + config.max_batch;
    let run = async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Answer>();
        for i in 0..CLIENTS {
            let (app, tx) = (app.clone(), tx.clone());
            tokio::spawn(async move {
                let ext = format!("q-{i}");
                let body = order_body(&ext, json!([{"sku": "X", "quantity": 1, "unit_price": 100}]));
                let res = app
                    .client
                    .post(app.url("/api/v1/orders"))
                    .bearer_auth(common::TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16();
                let retry = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body: Value = res.json().await.unwrap_or(Value::Null);
                let _ = tx.send((ext, status, retry, body));
            });
        }
        drop(tx);
        // While the writer is stuck, one command is in its hands and one
        // waits in the queue (write_queue 1, max_batch 1): every other
        // request must be answered now, without waiting for the lock.
        let mut answers = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
        while answers.len() < CLIENTS - waiting_at_most {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(a)) => answers.push(a),
                Ok(None) | Err(_) => break,
            }
        }
        let while_locked = answers.len();
        lock.execute_batch("ROLLBACK").expect("release the write lock");
        while let Some(a) = rx.recv().await {
            answers.push(a);
        }
        (while_locked, answers)
    };
    let (while_locked, answers) =
        tokio::time::timeout(Duration::from_secs(30), run).await.expect("all answered in 30 s");

    assert_eq!(answers.len(), CLIENTS);
    let odd: Vec<&Answer> = answers.iter().filter(|a| a.1 != 201 && a.1 != 503).collect();
    assert!(odd.is_empty(), "every answer is 201 or 503: {odd:?}");
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.1 == 503).collect();
    assert!(!refused.is_empty(), "a full queue refuses writes");
    assert!(
        while_locked >= CLIENTS - waiting_at_most,
        "with the writer stuck, only write_queue + max_batch = {waiting_at_most} may wait; {} did",
        CLIENTS - while_locked
    );
    assert!(answers[..while_locked].iter().all(|a| a.1 == 503), "nothing commits while the file is locked");
    for (ext, _, retry, body) in &refused {
        assert_eq!(body["error"]["code"], "overloaded", "{ext}: {body}");
        let secs = retry.as_deref().and_then(|r| r.parse::<u64>().ok());
        assert!(secs.is_some_and(|s| s >= 1), "{ext}: Retry-After is a number of seconds: {retry:?}");
    }
    let created: BTreeSet<&str> = answers.iter().filter(|a| a.1 == 201).map(|a| a.0.as_str()).collect();
    assert!(!created.is_empty(), "the commands that waited ran once the lock was gone");

    // Only the accepted orders exist; the refused ones left nothing.
    let (s, page) = app.get("/api/v1/orders?limit=500").await;
    assert_eq!(s, 200, "{page}");
    let stored: BTreeSet<&str> = page["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["external_id"].as_str().expect("external_id"))
        .collect();
    assert_eq!(stored, created, "exactly the orders answered 201 are stored");
    assert_eq!(app.position("X", "WH").await.1, created.len() as i64);
    app.assert_audit_clean().await;

    // The writer is not left broken: the next order goes through.
    let (s, o) =
        app.post("/api/v1/orders", order_body("after", json!([{"sku": "X", "quantity": 1, "unit_price": 100}]))).await;
    assert_eq!(s, 201, "{o}");
    println!("{} refused, {} created; {while_locked} answered while locked", refused.len(), created.len());
}
