//! A new order is answered from what its take wrote, without reading it
//! back: that answer must be exactly what reading the order gives (without
//! the routing decisions and shipments, which the answer leaves out), for
//! every shape of order — split, bundle, unpaid, pickup, with coordinates
//! and an e-mail address, backordered (read back: it opened an exception),
//! and a repeat delivery.

mod common;

use std::sync::Arc;

use switchyard_core::{
    Component, EmailAddress, LocationCode, LocationKind, NewOrder, PaymentState, Quantity, ServiceLevel, SkuDef,
};
use switchyard_engine::{Config, Engine, IdGen, ManualClock};
use switchyard_store::testing::{warehouse, Backend, TestDb};
use switchyard_store::OrderView;

use common::{assert_clean, loc, sku, web_order};

const NOW: i64 = 1_796_040_000_123;

async fn open(db: &TestDb) -> Engine {
    let clock = Arc::new(ManualClock::new(NOW));
    Engine::open(&db.url, Config::default(), clock, IdGen::seeded(7)).await.expect("open")
}

/// The order as a read gives it, less what the intake answer leaves out.
async fn read_back(e: &Engine, id: &str) -> OrderView {
    let mut full = e.get_order(id).await.expect("read").expect("stored");
    full.routing = None;
    full.shipments = None;
    full
}

async fn answered(e: &Engine, o: &NewOrder) -> OrderView {
    let (view, _) = e.create_order(o).await.expect("order");
    let stored = read_back(e, &view.id).await;
    assert_eq!(view, stored, "the answer to {} differs from the stored order", o.external_id);
    view
}

async fn the_answer_is_the_stored_order(e: Engine) {
    for (code, priority) in [("WH1", 1), ("WH2", 2)] {
        e.put_location(&warehouse(code, priority)).await.expect("location");
    }
    let mut shop = warehouse("SHOP", 3);
    (shop.kind, shop.can_pickup, shop.lat, shop.lon) = (LocationKind::Store, true, Some(45.52), Some(-122.68));
    e.put_location(&shop).await.expect("store");
    for s in ["A", "B", "C"] {
        e.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
    }
    let mut kit = SkuDef::plain(sku("KIT"), "Kit of two A and one B");
    kit.components = vec![
        Component { sku: sku("A"), quantity: Quantity::new(2).expect("q") },
        Component { sku: sku("B"), quantity: Quantity::new(1).expect("q") },
    ];
    e.put_sku(&kit).await.expect("kit");
    for (s, l, n) in [("A", "WH1", 3), ("A", "WH2", 20), ("B", "WH2", 20), ("B", "SHOP", 5), ("C", "WH1", 2)] {
        e.set_stock(&sku(s), &loc(l), n, None, "count").await.expect("count");
    }

    // One line, paid, filled at the first warehouse.
    let one = answered(&e, &web_order("o-1", &[("A", 1)], 500, 500, PaymentState::Paid)).await;
    assert_eq!(one.lines[0].allocations.len(), 1);
    // Several lines, a bundle, units from two warehouses; unpaid (an expiry).
    let unpaid = web_order("o-2", &[("A", 4), ("KIT", 2), ("B", 1)], 250, 2_750, PaymentState::Pending);
    let many = answered(&e, &unpaid).await;
    assert!(many.reservation_expires_at.is_some(), "an unpaid order's hold lapses");
    assert!(many.lines.iter().map(|l| l.allocations.len()).sum::<usize>() >= 3, "{:?}", many.lines);
    // Coordinates with many decimals, text that needs escaping, an address.
    let mut far = web_order("o-3", &[("C", 1)], 1_999, 1_999, PaymentState::Paid);
    far.ship_to.lat = Some(45.523_064_123_456_7);
    far.ship_to.lon = Some(-122.676_483_000_000_1);
    far.ship_to.name = "Zoë \"Quote\" <O'Brien> & Søn".into();
    far.email = Some(EmailAddress::parse("zoe@example.com").expect("email"));
    answered(&e, &far).await;
    // A pickup at the store.
    let mut pickup = web_order("o-4", &[("B", 2)], 800, 1_600, PaymentState::Paid);
    pickup.service_level = ServiceLevel::Pickup;
    pickup.pickup_location = Some(LocationCode::parse("SHOP").expect("code"));
    let pickup = answered(&e, &pickup).await;
    assert_eq!(pickup.lines[0].allocations[0].location, "SHOP");
    // More than there is: backordered, with an exception (read back).
    let short = answered(&e, &web_order("o-5", &[("C", 5)], 100, 500, PaymentState::Paid)).await;
    assert_eq!(short.lines[0].backordered, 4);
    assert_eq!(short.exceptions.len(), 1, "{:?}", short.exceptions);
    // A repeat delivery answers the stored order, unchanged.
    let (again, created) = e.create_order(&unpaid).await.expect("repeat");
    assert!(!created);
    assert_eq!(again, read_back(&e, &many.id).await);
    assert_clean(&e).await;
}

both!(the_answer_is_the_stored_order);
