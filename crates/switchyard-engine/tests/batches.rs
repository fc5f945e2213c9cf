//! Group commit on both backends: commands that share a batch (SQLite: one
//! transaction, a savepoint each; PostgreSQL: concurrent runners) succeed
//! or fail alone — a failing command takes nothing of its own with it into
//! the commit, and nothing of anybody else's out of it.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use switchyard_core::{NewOrder, PaymentState, Sku, SkuDef};
use switchyard_engine::{Config, Engine, Error, IdGen, ManualClock};
use switchyard_store::testing::{Backend, TestDb};
use switchyard_store::{OrderFilter, OrderView, WriterConnection};

use common::web_order;

const NOW: i64 = 1_796_040_000_000;
const ORDERS: usize = 300;

async fn engine(db: &TestDb) -> Arc<Engine> {
    let clock = Arc::new(ManualClock::new(NOW));
    let config = Config { max_batch: 256, ..Default::default() };
    Arc::new(Engine::open(&db.url, config, clock, IdGen::seeded(3)).await.expect("open"))
}

async fn shop(e: &Engine) {
    let l = switchyard_store::testing::warehouse("WH", 1);
    e.put_location(&l).await.expect("location");
    e.put_sku(&SkuDef::plain(Sku::parse("X").expect("sku"), "X")).await.expect("sku");
    e.set_stock(&Sku::parse("X").expect("sku"), &l.code, 1000, None, "count").await.expect("count");
}

/// Every third order has a second line naming a SKU nobody created.
fn is_bad(i: usize) -> bool {
    i.is_multiple_of(3)
}

fn order(i: usize) -> NewOrder {
    let lines: &[(&str, i64)] = if is_bad(i) { &[("X", 1), ("NOPE", 1)] } else { &[("X", 1)] };
    web_order(&format!("b-{i}"), lines, 500, 500 * lines.len() as i64, PaymentState::Paid)
}

/// The 300 orders at once, each from its own task; results by index. On
/// SQLite, `file`'s write lock is held by another connection while they
/// are queued, so the writer, once free, takes them in full batches
/// (up to `max_batch`), good and bad mixed — whatever the machine's speed.
async fn fire(e: &Arc<Engine>, file: Option<&str>) -> Vec<Result<(OrderView, bool), Error>> {
    let lock = file.map(|f| {
        let c = WriterConnection::open(f).expect("open the file");
        c.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
        c
    });
    let tasks: Vec<_> = (0..ORDERS)
        .map(|i| {
            let e = e.clone();
            tokio::spawn(async move { e.create_order(&order(i)).await })
        })
        .collect();
    if let Some(c) = lock {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        c.execute_batch("ROLLBACK").expect("release the write lock");
    }
    let mut out = Vec::with_capacity(ORDERS);
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

async fn stored(e: &Engine) -> Vec<OrderView> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = e.list_orders(&OrderFilter { limit: 500, cursor, ..Default::default() }).await.expect("list");
        all.extend(page.orders);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return all,
        }
    }
}

async fn reserved_x(e: &Engine) -> (i64, i64) {
    let positions = e.sku_positions(&Sku::parse("X").expect("sku")).await.expect("positions");
    let (_, p) = positions.iter().find(|(c, _)| c.as_str() == "WH").expect("WH position");
    (p.on_hand, p.reserved)
}

async fn a_failing_command_fails_only_its_own_request(backend: Backend) {
    let Some(db) = TestDb::fresh(backend).await else { return };
    let started = std::time::Instant::now();
    let e = engine(&db).await;
    shop(&e).await;

    let file = (backend == Backend::Sqlite).then_some(db.url.as_str());
    let first = fire(&e, file).await;
    let mut ids = Vec::with_capacity(ORDERS);
    for (i, r) in first.iter().enumerate() {
        match (is_bad(i), r) {
            (true, Err(Error::UnknownSku(s))) => {
                assert_eq!(s, "NOPE", "b-{i}");
                ids.push(None);
            }
            (false, Ok((o, created))) => {
                assert!(*created, "b-{i} is new");
                assert_eq!(o.external_id, format!("b-{i}"));
                assert_eq!(o.allocated_units(), 1, "b-{i}: {o:?}");
                ids.push(Some(o.id.clone()));
            }
            (bad, other) => panic!("b-{i} (unknown sku: {bad}) got {:?}", other.as_ref().map(|(o, c)| (&o.id, c))),
        }
    }
    let good: BTreeSet<String> = (0..ORDERS).filter(|i| !is_bad(*i)).map(|i| format!("b-{i}")).collect();
    let orders = stored(&e).await;
    let exts: BTreeSet<String> = orders.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(orders.len(), exts.len(), "one order per external id");
    assert_eq!(exts, good, "exactly the good orders exist; no unknown-sku order left anything");
    assert_eq!(reserved_x(&e).await, (1000, good.len() as i64), "X reserved once per good order");
    let report = e.audit().await.expect("audit");
    assert!(report.is_clean(), "audit drift: {:?}", report.drift);
    let ledger = report.ledger_entries;

    // The same 300 again: the good ones are found, not made; the bad ones fail again.
    let second = fire(&e, file).await;
    for (i, r) in second.iter().enumerate() {
        match (is_bad(i), r) {
            (true, Err(Error::UnknownSku(s))) => assert_eq!(s, "NOPE", "b-{i}"),
            (false, Ok((o, created))) => {
                assert!(!*created, "b-{i} was seen before");
                assert_eq!(Some(&o.id), ids[i].as_ref(), "b-{i} is the same order");
            }
            (bad, other) => {
                panic!("again b-{i} (unknown sku: {bad}) got {:?}", other.as_ref().map(|(o, c)| (&o.id, c)))
            }
        }
    }
    assert_eq!(stored(&e).await.len(), good.len(), "nothing new");
    assert_eq!(reserved_x(&e).await, (1000, good.len() as i64));
    let report = e.audit().await.expect("audit");
    assert!(report.is_clean(), "audit drift: {:?}", report.drift);
    assert_eq!(report.ledger_entries, ledger, "no stock moved the second time");
    println!("{backend:?}: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_command_fails_only_its_own_request_sqlite() {
    a_failing_command_fails_only_its_own_request(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_command_fails_only_its_own_request_postgres() {
    a_failing_command_fails_only_its_own_request(Backend::Postgres).await;
}
