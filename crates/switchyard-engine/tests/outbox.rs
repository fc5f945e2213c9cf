//! The outbox as a work queue, on both backends: coalescing, claim, lease,
//! acknowledge, retry with back-off, dead letter, retention — and on
//! PostgreSQL, two engines with their own connection pools (as two
//! processes have) claiming at once never take the same message.

use std::collections::BTreeSet;
use std::sync::Arc;

use switchyard_core::outbox::Message;
use switchyard_core::{Channel, ChannelKind, ChannelName, LocationCode, Sku, SkuDef, SyncMode};
use switchyard_engine::{Config, Engine, IdGen, ManualClock, RetryPolicy};
use switchyard_store::testing::{Backend, TestDb};

const NOW: i64 = 1_796_040_000_000;
const DAY_MS: i64 = 24 * 3_600_000;

async fn engine(db: &TestDb, clock: Arc<ManualClock>, seed: u64) -> Arc<Engine> {
    Arc::new(Engine::open(&db.url, Config::default(), clock, IdGen::seeded(seed)).await.expect("open"))
}

async fn shop(e: &Engine, skus: &[&str]) {
    live_channel(e).await;
    let l = switchyard_store::testing::warehouse("WH", 1);
    e.put_location(&l).await.expect("location");
    for s in skus {
        e.put_sku(&SkuDef::plain(Sku::parse(s).expect("sku"), *s)).await.expect("sku");
    }
}

async fn count(e: &Engine, sku: &str, n: i64) {
    let (s, l) = (Sku::parse(sku).expect("sku"), LocationCode::parse("WH").expect("loc"));
    e.set_stock(&s, &l, n, None, "count").await.expect("count");
}

/// A live connection: stock-level messages are written only while some
/// connection is told stock levels.
async fn live_channel(e: &Engine) {
    let mut c = Channel::new(ChannelName::parse("shop").expect("channel"));
    (c.kind, c.mode) = (ChannelKind::Shopify, SyncMode::Live);
    e.put_channel(&c).await.expect("channel");
}

fn sku_of(m: &Message) -> &str {
    match m {
        Message::AtpChanged { sku } => sku,
        other => panic!("unexpected {other:?}"),
    }
}

async fn claim_ack_retry_dead_letter(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    let clock = Arc::new(ManualClock::new(NOW));
    let e = engine(&db, clock.clone(), 1).await;
    shop(&e, &["X", "Y"]).await;
    for n in [5, 6, 7] {
        count(&e, "X", n).await;
    }
    count(&e, "Y", 1).await;

    // Three stock levels of X are queued; only the newest is sent.
    let first = e.claim_outbox("atp_changed", "c1", 10, 1_000).await.expect("claim");
    let skus: Vec<&str> = first.iter().map(|c| sku_of(&c.message)).collect();
    assert_eq!(skus, vec!["X", "Y"], "older unsent levels of X are superseded");
    assert!(first.iter().all(|c| c.attempts == 1));
    assert!(e.claim_outbox("atp_changed", "c2", 10, 1_000).await.expect("claim").is_empty(), "leased rows are held");
    assert!(e.claim_outbox("notification", "c2", 10, 1_000).await.expect("claim").is_empty(), "topics are apart");

    let (x, y) = (&first[0], &first[1]);
    assert!(!e.ack_outbox(x.id, "c2").await.expect("ack"), "only the claimant acknowledges");
    assert!(e.ack_outbox(x.id, "c1").await.expect("ack"));
    assert!(!e.ack_outbox(x.id, "c1").await.expect("ack"), "an acknowledged row stays acknowledged");

    let policy = RetryPolicy { first_retry_ms: 100, max_retry_ms: 1_000, max_attempts: 2 };
    assert_eq!(e.fail_outbox(y, "c1", "channel answered 503", &policy).await.expect("fail"), Some(NOW + 100));
    assert!(e.claim_outbox("atp_changed", "c2", 10, 1_000).await.expect("claim").is_empty(), "not due yet");
    clock.advance_ms(100);
    let again = e.claim_outbox("atp_changed", "c2", 10, 1_000).await.expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (y.id, 2));
    assert_eq!(e.fail_outbox(&again[0], "c2", "still 503", &policy).await.expect("fail"), None, "dead after 2");
    clock.advance_ms(10_000);
    assert!(e.claim_outbox("atp_changed", "c2", 10, 1_000).await.expect("claim").is_empty(), "the dead stay dead");

    // A consumer that dies loses its lease; another takes the row over.
    count(&e, "Y", 2).await;
    let taken = e.claim_outbox("atp_changed", "c1", 10, 1_000).await.expect("claim");
    assert_eq!(taken.len(), 1);
    clock.advance_ms(1_001);
    let retaken = e.claim_outbox("atp_changed", "c2", 10, 1_000).await.expect("claim");
    assert_eq!(retaken.iter().map(|c| c.id).collect::<Vec<_>>(), vec![taken[0].id]);
    assert!(!e.ack_outbox(taken[0].id, "c1").await.expect("ack"), "a lost lease cannot acknowledge");
    assert!(e.ack_outbox(taken[0].id, "c2").await.expect("ack"));

    let backlog = e.outbox_backlog().await.expect("backlog");
    assert_eq!((backlog.pending, backlog.dead), (0, 1), "{backlog:?}");
    assert!(backlog.delivered >= 4, "two acknowledged and the superseded: {backlog:?}");

    // Retention deletes delivered rows after a week, never pending or dead ones.
    clock.advance_ms(8 * DAY_MS);
    let purged = e.sweep().await.expect("sweep").outbox_purged;
    assert_eq!(purged, u64::try_from(backlog.delivered).expect("count"));
    let after = e.outbox_backlog().await.expect("backlog");
    assert_eq!((after.pending, after.delivered, after.dead), (0, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claim_ack_retry_dead_letter_sqlite() {
    claim_ack_retry_dead_letter(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claim_ack_retry_dead_letter_postgres() {
    claim_ack_retry_dead_letter(Backend::Postgres).await;
}

/// Two engines, each with its own pool (as two processes would have),
/// drain one queue at once: every message is delivered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_consumers_never_claim_the_same_message_postgres() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else { return };
    let clock = Arc::new(ManualClock::new(NOW));
    let a = engine(&db, clock.clone(), 1).await;
    let b = engine(&db, clock.clone(), 2).await;
    let skus: Vec<String> = (0..120).map(|i| format!("S{i:03}")).collect();
    let names: Vec<&str> = skus.iter().map(String::as_str).collect();
    shop(&a, &names).await;
    for s in &names {
        count(&a, s, 3).await;
    }
    let drain = |e: Arc<Engine>, me: &'static str| async move {
        let mut got = Vec::new();
        loop {
            let batch = e.claim_outbox("atp_changed", me, 7, 60_000).await.expect("claim");
            if batch.is_empty() {
                return got;
            }
            for c in batch {
                assert!(e.ack_outbox(c.id, me).await.expect("ack"));
                got.push((c.id, sku_of(&c.message).to_owned()));
            }
        }
    };
    let (ga, gb) = tokio::join!(tokio::spawn(drain(a.clone(), "a")), tokio::spawn(drain(b.clone(), "b")));
    let (ga, gb) = (ga.expect("a"), gb.expect("b"));
    let ids: BTreeSet<i64> = ga.iter().chain(&gb).map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), ga.len() + gb.len(), "no message was delivered twice");
    let delivered: BTreeSet<&str> = ga.iter().chain(&gb).map(|(_, s)| s.as_str()).collect();
    assert_eq!(delivered.len(), 120, "every SKU's level was delivered");
    assert_eq!(a.outbox_backlog().await.expect("backlog").pending, 0);
}

/// Nothing reads a stock-level message unless a connection is told stock
/// levels: without one, none is written (an order costs one outbox row
/// less); once a connection goes live — through another engine, as another
/// process would — the next change writes one.
async fn stock_messages_only_while_a_connection_listens(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    let clock = Arc::new(ManualClock::new(NOW));
    let (a, b) = (engine(&db, clock.clone(), 1).await, engine(&db, clock.clone(), 2).await);
    a.put_location(&switchyard_store::testing::warehouse("WH", 1)).await.expect("location");
    a.put_sku(&SkuDef::plain(Sku::parse("X").expect("sku"), "X")).await.expect("sku");
    count(&a, "X", 5).await;
    assert!(a.claim_outbox("atp_changed", "t", 10, 1_000).await.expect("claim").is_empty(), "no listener, no message");
    live_channel(&b).await;
    count(&a, "X", 6).await;
    let got = a.claim_outbox("atp_changed", "t", 10, 1_000).await.expect("claim");
    assert_eq!(got.iter().map(|c| sku_of(&c.message)).collect::<Vec<_>>(), ["X"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stock_messages_only_while_a_connection_listens_sqlite() {
    stock_messages_only_while_a_connection_listens(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stock_messages_only_while_a_connection_listens_postgres() {
    stock_messages_only_while_a_connection_listens(Backend::Postgres).await;
}
