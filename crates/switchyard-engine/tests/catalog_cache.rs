//! Order intake reuses the locations and the policies in force it read last
//! while the catalogue version stands (one tiny row read per order instead
//! of every location and policy row). Two engines share one database here —
//! two processes on one PostgreSQL database, or two writers on one SQLite
//! file — so a change made through one must reach the other's next order:
//! the version moves with every such change, in the change's transaction.
//! The SKU facts intake reads (tags, bundle, backorder) are reused the same
//! way.

mod common;

use std::sync::Arc;

use switchyard_core::{PaymentState, SkuDef};
use switchyard_engine::{Config, Engine, IdGen, ManualClock};
use switchyard_store::testing::{warehouse, Backend, TestDb};

use common::{assert_clean, loc, sku, web_order};

const NOW: i64 = 1_796_040_000_000;

struct Pair {
    a: Engine,
    b: Engine,
}

async fn open(db: &TestDb) -> Pair {
    let engine = |seed| async move {
        let clock = Arc::new(ManualClock::new(NOW));
        Engine::open(&db.url, Config::default(), clock, IdGen::seeded(seed)).await.expect("open")
    };
    Pair { a: engine(1).await, b: engine(2).await }
}

/// Where the order's only line was allocated.
fn placed(o: &switchyard_store::OrderView) -> Vec<String> {
    o.lines.iter().flat_map(|l| l.allocations.iter().map(|a| a.location.clone())).collect()
}

async fn changes_made_elsewhere_reach_the_next_order(p: Pair) {
    for (code, priority) in [("WH1", 1), ("WH2", 2)] {
        p.a.put_location(&warehouse(code, priority)).await.expect("location");
    }
    p.a.put_sku(&SkuDef::plain(sku("X"), "X")).await.expect("sku");
    for code in ["WH1", "WH2"] {
        p.a.set_stock(&sku("X"), &loc(code), 10, None, "count").await.expect("count");
    }
    let order = |ext: &str| web_order(ext, &[("X", 1)], 500, 500, PaymentState::Paid);
    let (first, _) = p.a.create_order(&order("c-1")).await.expect("first order");
    assert_eq!(placed(&first), ["WH1"], "the first priority location fills it");

    // The other engine switches WH1 off: A's next order must not go there.
    let mut off = warehouse("WH1", 1);
    off.active = false;
    p.b.put_location(&off).await.expect("deactivate");
    let (second, _) = p.a.create_order(&order("c-2")).await.expect("second order");
    assert_eq!(placed(&second), ["WH2"], "a location switched off elsewhere is not used");

    // The other engine activates a policy: A's next decision is made by it.
    let v = p.b.save_policy("# from b\n", "b's policy", "b").await.expect("save");
    p.b.activate_policy(v.version, "b").await.expect("activate");
    let (third, _) = p.a.create_order(&order("c-3")).await.expect("third order");
    let full = p.a.get_order(&third.id).await.expect("read").expect("stored");
    let decided_by: Vec<Option<i64>> = full.routing.iter().flatten().map(|d| d.policy_version).collect();
    assert_eq!(decided_by, [Some(v.version)], "the policy activated elsewhere decides");

    // And back on: WH1 is used again.
    p.b.put_location(&warehouse("WH1", 1)).await.expect("reactivate");
    let (fourth, _) = p.a.create_order(&order("c-4")).await.expect("fourth order");
    assert_eq!(placed(&fourth), ["WH1"]);

    // SKU facts too: A read Y's (backorderable) with its first order; B makes
    // Y never backordered, and A's next order for it must know.
    let mut y = SkuDef::plain(sku("Y"), "Y");
    y.allow_backorder = true;
    p.a.put_sku(&y).await.expect("sku");
    let wants_y = |ext: &str| web_order(ext, &[("Y", 1)], 500, 500, PaymentState::Paid);
    let (fifth, _) = p.a.create_order(&wants_y("c-5")).await.expect("fifth order");
    assert_eq!(fifth.status, "backordered", "no Y anywhere, and Y may be backordered");
    y.allow_backorder = false;
    p.b.put_sku(&y).await.expect("no more backorders");
    let (sixth, _) = p.a.create_order(&wants_y("c-6")).await.expect("sixth order");
    assert_ne!(sixth.status, "backordered", "a SKU changed elsewhere is read again: {sixth:?}");
    // A new SKU made by a stock import elsewhere is known at once.
    let row = switchyard_core::ImportRow::parse("Z", None, "WH2", 4, None).expect("row");
    p.b.import_stock(vec![row]).await.expect("import");
    let (seventh, _) = p.a.create_order(&web_order("c-7", &[("Z", 1)], 500, 500, PaymentState::Paid)).await.expect("z");
    assert_eq!(placed(&seventh), ["WH2"]);
    assert_clean(&p.a).await;
}

both!(changes_made_elsewhere_reach_the_next_order);
