//! One conformance suite for the engine's use cases, run against both
//! backends: every test below opens an [`Engine`] over a fresh database
//! (with a [`ManualClock`] the test moves by hand and a seeded [`IdGen`])
//! and runs once on SQLite and once on PostgreSQL (see `both!`).

mod common;

use std::sync::Arc;

use common::{assert_clean, loc, sku, web_order};

use switchyard_core::ResolutionAction;
use switchyard_core::{
    Address, Component, ExpiredAction, ImportRow, Location, LocationKind, NewOrder, NewShipment, PaymentState,
    Quantity, Resolution, ShipTo, SkuDef, StockError,
};
use switchyard_engine::{Config, Engine, Error, IdGen, ManualClock};
use switchyard_store::testing::{Backend, TestDb};
use switchyard_store::{ExceptionFilter, ExceptionView, OrderFilter, OrderView};

both!(
    stock_changes_are_ledgered,
    orders_reserve_ship_and_cancel,
    duplicate_orders_are_one_order,
    bundles_reserve_components,
    unpaid_orders_expire,
    expired_orders_can_be_held_and_paid_later,
    bad_operations_change_nothing,
    import_is_all_or_nothing,
    concurrent_orders_never_oversell,
    list_orders_pages_with_filters,
    bad_addresses_hold_the_order_until_fixed,
    backorders_are_exceptions_that_retry_and_escalate,
    exception_actions_are_checked_and_logged,
    policy_versions_activate_and_roll_back,
    rejected_allocations_reroute_elsewhere,
    counts_below_reserved_reroute_the_newest_orders,
    held_orders_auto_cancel_when_the_policy_says,
    a_person_approves_a_split_the_policy_refused,
    daily_capacity_counts_by_local_day,
);

const NOW: i64 = 1_790_000_000_000;
/// How long an unpaid order holds its stock in these tests.
const TTL_MS: i64 = 1000;

/// One test's engine, the clock it reads, and the database it runs on.
struct T {
    e: Arc<Engine>,
    clock: Arc<ManualClock>,
    url: String,
}

impl T {
    /// Sets the engine's clock: the next calls happen at `ms`.
    fn at(&self, ms: i64) {
        self.clock.set(ms);
    }

    /// Another engine over the same database and clock, treating lapsed
    /// unpaid holds with `action`.
    async fn with_expired_action(&self, action: ExpiredAction) -> Engine {
        let config = Config { reservation_ttl_ms: TTL_MS, expired_action: action, ..Config::default() };
        Engine::open(&self.url, config, self.clock.clone(), IdGen::seeded(8)).await.expect("open engine")
    }
}

impl std::ops::Deref for T {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.e
    }
}

async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let config = Config { reservation_ttl_ms: TTL_MS, expired_action: ExpiredAction::Cancel, ..Config::default() };
    let e = Engine::open(&db.url, config, clock.clone(), IdGen::seeded(7)).await.expect("open engine");
    T { e: Arc::new(e), clock, url: db.url.clone() }
}

async fn location(e: &Engine, code: &str, priority: i32) {
    let l = Location {
        code: loc(code),
        name: code.into(),
        kind: LocationKind::Warehouse,
        address: Address {
            line1: "1 Main".into(),
            city: "Reno".into(),
            region: "NV".into(),
            postal_code: "89501".into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup: true,
        priority,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    };
    e.put_location(&l).await.expect("location");
}

async fn item(e: &Engine, s: &str) {
    e.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
}

/// Two locations (A first), plain SKUs X and Y.
async fn shop(e: &Engine) {
    location(e, "A", 1).await;
    location(e, "B", 2).await;
    item(e, "X").await;
    item(e, "Y").await;
}

fn order(ext: &str, lines: &[(&str, i64)], payment: PaymentState) -> NewOrder {
    web_order(ext, lines, 1000, 1000, payment)
}

async fn position(e: &Engine, s: &str, l: &str) -> (i64, i64, i64) {
    let p = e
        .sku_positions(&sku(s))
        .await
        .expect("positions")
        .into_iter()
        .find(|(c, _)| c.as_str() == l)
        .map(|(_, p)| p)
        .unwrap_or_default();
    (p.on_hand, p.reserved, p.available())
}

async fn stock_changes_are_ledgered(t: T) {
    shop(&t).await;
    let p = t.set_stock(&sku("X"), &loc("A"), 10, Some(2), "count").await.expect("set");
    assert_eq!((p.on_hand, p.reserved, p.safety_stock, p.available()), (10, 0, 2, 8));
    let p = t.adjust_stock(&sku("X"), &loc("A"), -3, "damaged").await.expect("adjust");
    assert_eq!(p.on_hand, 7);
    let p = t.adjust_stock(&sku("X"), &loc("A"), 5, "found").await.expect("adjust");
    assert_eq!(p.on_hand, 12);
    assert_eq!(position(&t, "X", "A").await, (12, 0, 10));
    let report = t.audit().await.expect("audit");
    assert!(report.is_clean(), "{:?}", report.drift);
    assert!(report.ledger_entries >= 4);
}

async fn orders_reserve_ship_and_cancel(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 3, None, "count").await.expect("set");
    t.set_stock(&sku("X"), &loc("B"), 5, None, "count").await.expect("set");
    t.set_stock(&sku("Y"), &loc("B"), 5, None, "count").await.expect("set");

    // B holds everything: one location beats a split.
    let (o, created) = t.create_order(&order("o1", &[("X", 2), ("Y", 1)], PaymentState::Paid)).await.expect("order");
    assert!(created);
    assert_eq!(o.status, "accepted");
    assert_eq!(o.lines[0].allocations[0].location, "B");
    assert_eq!(position(&t, "X", "B").await, (5, 2, 3));
    assert!(o.events.as_ref().is_some_and(|e| e.len() >= 2));

    // Ship part, then the rest.
    let part = NewShipment {
        location: loc("B"),
        lines: vec![(sku("X"), Quantity::new(1).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    t.at(NOW + 1);
    let o2 = t.ship(&o.id, &part).await.expect("ship");
    assert_eq!(o2.status, "partially_shipped");
    assert_eq!(position(&t, "X", "B").await, (4, 1, 3));
    let rest = NewShipment {
        location: loc("B"),
        lines: vec![(sku("X"), Quantity::new(1).expect("q")), (sku("Y"), Quantity::new(1).expect("q"))],
        carrier: Some("UPS".into()),
        tracking: Some("1Z".into()),
        tracking_url: None,
    };
    t.at(NOW + 2);
    let o3 = t.ship(&o.id, &rest).await.expect("ship");
    assert_eq!(o3.status, "shipped");
    assert_eq!(position(&t, "X", "B").await, (3, 0, 3));
    assert_eq!(position(&t, "Y", "B").await, (4, 0, 4));

    // A split order, cancelled: everything goes back.
    t.at(NOW);
    let (c, _) = t.create_order(&order("o2", &[("X", 6)], PaymentState::Paid)).await.expect("order");
    assert_eq!(c.lines[0].allocations.len(), 2);
    assert_eq!(c.lines[0].backordered, 0);
    assert_eq!(position(&t, "X", "A").await, (3, 3, 0));
    t.at(NOW + 3);
    let c = t.cancel_order(&c.id, "test").await.expect("cancel");
    assert_eq!(c.status, "cancelled");
    assert_eq!(position(&t, "X", "A").await, (3, 0, 3));
    assert_eq!(position(&t, "X", "B").await, (3, 0, 3));
    // Cancelling twice is an illegal transition.
    t.at(NOW + 4);
    assert!(matches!(t.cancel_order(&c.id, "again").await, Err(Error::Transition(_))));
    assert_clean(&t).await;
}

async fn duplicate_orders_are_one_order(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 50, None, "count").await.expect("set");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let e = t.e.clone();
            tokio::spawn(async move { e.create_order(&order("dup", &[("X", 1)], PaymentState::Paid)).await })
        })
        .collect();
    let mut ids = Vec::new();
    let mut created = 0;
    for task in tasks {
        let (o, c) = task.await.expect("join").expect("order");
        ids.push(o.id);
        created += usize::from(c);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one order");
    assert_eq!(created, 1, "created once");
    assert_eq!(position(&t, "X", "A").await, (50, 1, 49));
    assert_clean(&t).await;
}

async fn bundles_reserve_components(t: T) {
    shop(&t).await;
    let kit = SkuDef {
        tags: vec![],
        allow_backorder: true,
        sku: sku("KIT"),
        title: "Kit".into(),
        components: vec![
            Component { sku: sku("X"), quantity: Quantity::new(2).expect("q") },
            Component { sku: sku("Y"), quantity: Quantity::new(1).expect("q") },
        ],
    };
    t.put_sku(&kit).await.expect("bundle");
    t.set_stock(&sku("X"), &loc("A"), 5, None, "count").await.expect("set");
    t.set_stock(&sku("Y"), &loc("A"), 5, None, "count").await.expect("set");
    let (o, _) = t.create_order(&order("k1", &[("KIT", 2), ("X", 2)], PaymentState::Paid)).await.expect("order");
    // Two kits hold 4 X and 2 Y; only 1 X is left for the direct line.
    assert_eq!(o.lines[0].allocations[0].quantity, 2);
    assert_eq!(o.lines[1].backordered, 1);
    assert_eq!(o.status, "backordered");
    assert_eq!(position(&t, "X", "A").await, (5, 5, 0));
    assert_eq!(position(&t, "Y", "A").await, (5, 2, 3));
    // A bundle holds no stock of its own, and cannot nest.
    assert!(matches!(t.set_stock(&sku("KIT"), &loc("A"), 1, None, "count").await, Err(Error::Conflict(_))));
    let nested = SkuDef {
        tags: vec![],
        allow_backorder: true,
        sku: sku("BIG"),
        title: "b".into(),
        components: vec![Component { sku: sku("KIT"), quantity: Quantity::new(1).expect("q") }],
    };
    assert!(matches!(t.put_sku(&nested).await, Err(Error::Conflict(_))));
    // Shipping a kit consumes its components.
    let ship = NewShipment {
        location: loc("A"),
        lines: vec![(sku("KIT"), Quantity::new(1).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    t.at(NOW + 1);
    t.ship(&o.id, &ship).await.expect("ship");
    assert_eq!(position(&t, "X", "A").await, (3, 3, 0));
    assert_eq!(position(&t, "Y", "A").await, (4, 1, 3));
    assert_clean(&t).await;
}

async fn unpaid_orders_expire(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 4, None, "count").await.expect("set");
    // The engine's configured hold for unpaid orders is TTL_MS = 1000 ms.
    let (o, _) = t.create_order(&order("p1", &[("X", 3)], PaymentState::Pending)).await.expect("order");
    assert_eq!(o.status, "pending_payment");
    assert!(o.reservation_expires_at.is_some());
    let (paid, _) = t.create_order(&order("p2", &[("X", 1)], PaymentState::Pending)).await.expect("order");
    t.at(NOW + 500);
    t.mark_paid(&paid.id).await.expect("pay");
    // Not yet due.
    t.at(NOW + 999);
    assert!(t.expire_reservations(10).await.expect("sweep").is_empty());
    t.at(NOW + 1000);
    let expired = t.expire_reservations(10).await.expect("sweep");
    assert_eq!(expired, vec![o.id.clone()]);
    let o = t.get_order(&o.id).await.expect("get").expect("exists");
    assert_eq!(o.status, "cancelled");
    assert_eq!(position(&t, "X", "A").await, (4, 1, 3));
    // The paid order keeps its stock; sweeping again finds nothing.
    t.at(NOW + 5000);
    assert!(t.expire_reservations(10).await.expect("sweep").is_empty());
    assert_eq!(t.get_order(&paid.id).await.expect("get").expect("exists").status, "accepted");
    assert_clean(&t).await;
}

async fn expired_orders_can_be_held_and_paid_later(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 2, None, "count").await.expect("set");
    let (o, _) = t.create_order(&order("h1", &[("X", 2)], PaymentState::Pending)).await.expect("order");
    // The expired action is engine configuration: sweep with an engine
    // that holds lapsed orders instead of cancelling them.
    let holding = t.with_expired_action(ExpiredAction::Hold).await;
    t.at(NOW + 2000);
    holding.expire_reservations(10).await.expect("sweep");
    let held = t.get_order(&o.id).await.expect("get").expect("exists");
    assert_eq!(held.status, "on_hold");
    assert_eq!(held.lines[0].backordered, 2);
    assert_eq!(position(&t, "X", "A").await, (2, 0, 2));
    t.at(NOW + 3000);
    let paid = t.mark_paid(&o.id).await.expect("pay");
    assert_eq!(paid.status, "accepted");
    assert_eq!(paid.lines[0].backordered, 0);
    assert_eq!(position(&t, "X", "A").await, (2, 2, 0));
    assert_clean(&t).await;
}

async fn bad_operations_change_nothing(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 5, None, "count").await.expect("set");
    let before = t.audit().await.expect("audit").ledger_entries;

    assert!(matches!(t.set_stock(&sku("NOPE"), &loc("A"), 1, None, "c").await, Err(Error::UnknownSku(_))));
    assert!(matches!(t.set_stock(&sku("X"), &loc("NOPE"), 1, None, "c").await, Err(Error::UnknownLocation(_))));
    assert!(matches!(
        t.set_stock(&sku("X"), &loc("A"), -1, None, "c").await,
        Err(Error::Stock(StockError::NegativeOnHand(-1)))
    ));
    assert!(matches!(t.adjust_stock(&sku("X"), &loc("A"), -6, "c").await, Err(Error::Stock(_))));
    assert!(matches!(
        t.adjust_stock(&sku("X"), &loc("A"), i64::MAX, "c").await,
        Err(Error::Stock(StockError::Overflow(_)))
    ));
    // An order for an unknown SKU is refused whole: no order row remains.
    let r = t.create_order(&order("bad", &[("X", 1), ("NOPE", 1)], PaymentState::Paid)).await;
    assert!(matches!(r, Err(Error::UnknownSku(_))));
    assert!(t.list_orders(&OrderFilter { limit: 10, ..Default::default() }).await.expect("list").orders.is_empty());
    assert_eq!(position(&t, "X", "A").await, (5, 0, 5));

    let (o, _) = t.create_order(&order("ok", &[("X", 2)], PaymentState::Paid)).await.expect("order");
    // Shipping more than allocated, or from elsewhere, is refused.
    let too_many = NewShipment {
        location: loc("A"),
        lines: vec![(sku("X"), Quantity::new(3).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    assert!(matches!(t.ship(&o.id, &too_many).await, Err(Error::ExceedsAllocation(_))));
    let elsewhere = NewShipment {
        location: loc("B"),
        lines: vec![(sku("X"), Quantity::new(1).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    assert!(matches!(t.ship(&o.id, &elsewhere).await, Err(Error::ExceedsAllocation(_))));
    // Shipping a cancelled order is an illegal transition.
    t.cancel_order(&o.id, "").await.expect("cancel");
    let one = NewShipment {
        location: loc("A"),
        lines: vec![(sku("X"), Quantity::new(1).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    assert!(matches!(t.ship(&o.id, &one).await, Err(Error::Transition(_))));
    assert!(matches!(t.mark_paid("no-such-order").await, Err(Error::NotFound { .. })));
    assert_eq!(position(&t, "X", "A").await, (5, 0, 5));
    // Only the good order's reserve + release were added to the ledger.
    assert_eq!(t.audit().await.expect("audit").ledger_entries, before + 2);
    assert_clean(&t).await;
}

async fn import_is_all_or_nothing(t: T) {
    location(&t, "A", 1).await;
    let rows = vec![
        ImportRow { sku: sku("NEW1"), title: "New 1".into(), location: loc("A"), on_hand: 4, safety_stock: Some(1) },
        ImportRow { sku: sku("NEW2"), title: "New 2".into(), location: loc("MISSING"), on_hand: 4, safety_stock: None },
    ];
    match t.import_stock(rows.clone()).await {
        Err(Error::Row { index: 1, source }) => assert!(matches!(*source, Error::UnknownLocation(_))),
        other => panic!("expected a row error, got {other:?}"),
    }
    assert!(t.get_sku(&sku("NEW1")).await.expect("get").is_none(), "nothing half-applied");
    let summary = t.import_stock(rows[..1].to_vec()).await.expect("import");
    assert_eq!((summary.skus_created, summary.positions_set), (1, 1));
    assert_eq!(position(&t, "NEW1", "A").await, (4, 0, 3));
    assert_clean(&t).await;
}

async fn concurrent_orders_never_oversell(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 10, None, "count").await.expect("set");
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let e = t.e.clone();
            tokio::spawn(async move { e.create_order(&order(&format!("c{i}"), &[("X", 1)], PaymentState::Paid)).await })
        })
        .collect();
    let mut filled = 0;
    for task in tasks {
        let (o, _) = task.await.expect("join").expect("order");
        filled += o.allocated_units();
    }
    assert_eq!(filled, 10);
    assert_eq!(position(&t, "X", "A").await, (10, 10, 0));
    assert_clean(&t).await;
}

async fn list_orders_pages_with_filters(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 3, None, "count").await.expect("set");
    for i in 0..5 {
        t.create_order(&order(&format!("l{i}"), &[("X", 1)], PaymentState::Paid)).await.expect("order");
    }
    let first = t.list_orders(&OrderFilter { limit: 2, ..Default::default() }).await.expect("list");
    assert_eq!(first.orders.len(), 2);
    assert_eq!(first.orders[0].external_id, "l4", "newest first");
    let second = t
        .list_orders(&OrderFilter { limit: 2, cursor: first.next_cursor.clone(), ..Default::default() })
        .await
        .expect("list");
    assert_eq!(second.orders[0].external_id, "l2");
    let third = t
        .list_orders(&OrderFilter { limit: 2, cursor: second.next_cursor.clone(), ..Default::default() })
        .await
        .expect("list");
    assert_eq!(third.orders.len(), 1);
    assert!(third.next_cursor.is_none());
    let back = t
        .list_orders(&OrderFilter { limit: 50, status: Some("backordered".into()), ..Default::default() })
        .await
        .expect("list");
    assert_eq!(back.orders.len(), 2);
    let none = t
        .list_orders(&OrderFilter { limit: 50, channel: Some("amazon".into()), ..Default::default() })
        .await
        .expect("list");
    assert!(none.orders.is_empty());
}

fn act(action: ResolutionAction, note: &str) -> Resolution {
    Resolution { action, actor: "tester".into(), note: note.into(), address: None, location: None }
}

async fn open_exceptions(e: &Engine) -> Vec<ExceptionView> {
    e.list_exceptions(&ExceptionFilter { status: Some("open".into()), limit: 100, ..Default::default() })
        .await
        .expect("list")
}

async fn bad_addresses_hold_the_order_until_fixed(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 5, None, "count").await.expect("set");
    let mut o = order("addr-1", &[("X", 1)], PaymentState::Paid);
    o.ship_to.postal_code = "ABCDE".into();
    let (view, _) = t.create_order(&o).await.expect("order is kept");
    assert_eq!(view.status, "on_hold");
    assert_eq!(view.allocated_units(), 1, "stock is held for it");
    let open = open_exceptions(&t).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, "address_invalid");
    assert!(open[0].message.contains("postal code"), "{}", open[0].message);
    assert_eq!(view.exceptions.len(), 1);
    // It cannot ship while on hold.
    let one = NewShipment {
        location: loc("A"),
        lines: vec![(sku("X"), Quantity::new(1).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    assert!(matches!(t.ship(&view.id, &one).await, Err(Error::Transition(_))));
    // A still-bad correction is refused; a good one releases the hold.
    let mut fix = act(ResolutionAction::EditAddress, "called the customer");
    fix.address = Some(ShipTo { postal_code: "1234".into(), ..o.ship_to.clone() });
    t.at(NOW + 1);
    assert!(matches!(t.resolve_exception(&open[0].id, &fix).await, Err(Error::InvalidAddress(_))));
    fix.address = Some(ShipTo { postal_code: "97205".into(), ..o.ship_to.clone() });
    t.at(NOW + 2);
    let done = t.resolve_exception(&open[0].id, &fix).await.expect("resolve");
    assert_eq!(done.status, "resolved");
    assert_eq!(done.resolved_by.as_deref(), Some("tester"));
    assert!(done.log.as_ref().is_some_and(|l| l.len() == 2), "opened + edit_address logged");
    let after = t.get_order(&view.id).await.expect("get").expect("exists");
    assert_eq!(after.status, "accepted");
    assert_eq!(after.ship_to.postal_code, "97205");
    t.at(NOW + 3);
    t.ship(&view.id, &one).await.expect("ships now");
    assert!(open_exceptions(&t).await.is_empty());
    assert_clean(&t).await;
}

async fn backorders_are_exceptions_that_retry_and_escalate(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 1, None, "count").await.expect("set");
    let (view, _) = t.create_order(&order("bo-1", &[("X", 3)], PaymentState::Paid)).await.expect("order");
    assert_eq!(view.status, "backordered");
    let ex = open_exceptions(&t).await;
    assert_eq!(ex.len(), 1);
    assert_eq!((ex[0].kind.as_str(), ex[0].severity.as_str(), ex[0].level), ("backordered", "medium", 0));
    // Retrying without new stock leaves it open (and logged).
    t.at(NOW + 1);
    let still = t.resolve_exception(&ex[0].id, &act(ResolutionAction::Retry, "")).await.expect("retry");
    assert_eq!(still.status, "open");
    // Past the 24 h SLA it escalates once, with a notification; again does nothing.
    let day = 24 * 3_600_000;
    t.at(NOW + day + 1);
    let raised = t.escalate_exceptions().await.expect("escalate");
    assert_eq!(raised, vec![(ex[0].id.clone(), 1)]);
    t.at(NOW + day + 2);
    assert!(t.escalate_exceptions().await.expect("escalate").is_empty());
    let e = t.get_exception(&ex[0].id).await.expect("get").expect("exists");
    assert_eq!((e.level, e.severity.as_str()), (1, "high"));
    assert!(e.log.as_ref().is_some_and(|l| l.iter().any(|x| x.action == "escalated")));
    // Stock arrives at B; override to B fills it and resolves it.
    t.at(NOW);
    t.set_stock(&sku("X"), &loc("B"), 5, None, "count").await.expect("set");
    let mut over = act(ResolutionAction::OverrideLocation, "B has it");
    over.location = Some(loc("B"));
    t.at(NOW + day + 3);
    let done = t.resolve_exception(&ex[0].id, &over).await.expect("override");
    assert_eq!(done.status, "resolved");
    let o = t.get_order(&view.id).await.expect("get").expect("exists");
    assert_eq!(o.status, "accepted");
    assert_eq!(o.lines[0].backordered, 0);
    assert_eq!(position(&t, "X", "B").await, (5, 2, 3));
    assert!(o.events.as_ref().is_some_and(|ev| ev.iter().any(|e| e.kind == "exception_escalated")));
    assert_clean(&t).await;
}

async fn exception_actions_are_checked_and_logged(t: T) {
    shop(&t).await;
    let (view, _) = t.create_order(&order("ex-1", &[("X", 2)], PaymentState::Paid)).await.expect("order");
    let ex = open_exceptions(&t).await;
    let id = ex[0].id.clone();
    // Actions that do not fit the kind, a dismissal without a reason, unknown ids.
    assert!(matches!(t.resolve_exception(&id, &act(ResolutionAction::EditAddress, "")).await, Err(Error::Conflict(_))));
    assert!(matches!(t.resolve_exception(&id, &act(ResolutionAction::Dismiss, " ")).await, Err(Error::Conflict(_))));
    assert!(matches!(
        t.resolve_exception(&id, &act(ResolutionAction::OverrideLocation, "")).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        t.resolve_exception("nope", &act(ResolutionAction::Retry, "")).await,
        Err(Error::NotFound { .. })
    ));
    // Cancel with notification: the order is cancelled and the exception closed.
    t.at(NOW + 1);
    let done = t.resolve_exception(&id, &act(ResolutionAction::Cancel, "customer agreed")).await.expect("cancel");
    assert_eq!((done.status.as_str(), done.resolution.as_deref()), ("resolved", Some("cancel")));
    assert_eq!(t.get_order(&view.id).await.expect("get").expect("exists").status, "cancelled");
    t.at(NOW);
    assert!(matches!(t.resolve_exception(&id, &act(ResolutionAction::Dismiss, "late")).await, Err(Error::Conflict(_))));
    // Dismiss with a reason on another one.
    t.create_order(&order("ex-2", &[("Y", 1)], PaymentState::Paid)).await.expect("order");
    let ex = open_exceptions(&t).await;
    assert_eq!(ex.len(), 1);
    t.at(NOW + 2);
    let done =
        t.resolve_exception(&ex[0].id, &act(ResolutionAction::Dismiss, "customer will wait")).await.expect("dismiss");
    assert_eq!(done.status, "dismissed");
    assert_eq!(t.open_exception_count().await.expect("count"), 0);
    let all = t.list_exceptions(&ExceptionFilter { limit: 10, ..Default::default() }).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_clean(&t).await;
}

async fn policy_versions_activate_and_roll_back(t: T) {
    assert!(t.active_policy().await.expect("active").is_none(), "the built-in default applies at first");
    assert!(matches!(t.rollback_policy("ana").await, Err(Error::Conflict(_))));
    let v1 = t.save_policy("# v1\n", "first", "ana").await.expect("save");
    t.at(NOW + 1);
    let v2 = t.save_policy("# v2\n", "second", "ben").await.expect("save");
    assert!(v2.version > v1.version);
    assert!(!v1.active && !v2.active);
    t.at(NOW + 2);
    t.activate_policy(v1.version, "ana").await.expect("activate");
    t.at(NOW + 3);
    let active = t.activate_policy(v2.version, "ben").await.expect("activate");
    assert!(active.active);
    assert_eq!(t.active_policy().await.expect("active").map(|p| p.version), Some(v2.version));
    assert!(!t.get_policy(v1.version).await.expect("get").expect("exists").active, "only one is active");
    t.at(NOW + 4);
    assert_eq!(t.rollback_policy("ana").await.expect("rollback").map(|p| p.version), Some(v1.version));
    assert_eq!(t.active_policy().await.expect("active").map(|p| p.version), Some(v1.version));
    t.at(NOW);
    assert!(matches!(t.activate_policy(999, "x").await, Err(Error::NotFound { .. })));
    t.at(NOW + 5);
    t.set_shadow_policy(Some(v2.version), "ana").await.expect("shadow");
    assert_eq!(t.shadow_policy().await.expect("shadow").map(|p| p.version), Some(v2.version));
    t.at(NOW + 6);
    t.set_shadow_policy(None, "ana").await.expect("stop");
    assert!(t.shadow_policy().await.expect("shadow").is_none());
    t.at(NOW);
    assert!(matches!(t.set_shadow_policy(Some(999), "x").await, Err(Error::NotFound { .. })));
    let listed = t.list_policies(10).await.expect("list");
    assert_eq!(listed.iter().map(|p| p.version).collect::<Vec<_>>(), vec![v2.version, v1.version]);
    assert_eq!(listed[1].body, "# v1\n");
}

async fn rejected_allocations_reroute_elsewhere(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 3, None, "count").await.expect("set");
    t.set_stock(&sku("X"), &loc("B"), 5, None, "count").await.expect("set");
    let (o, _) = t.create_order(&order("rr-1", &[("X", 2)], PaymentState::Paid)).await.expect("order");
    assert_eq!(o.lines[0].allocations[0].location, "A");
    // A says it cannot find the item: its units go back, its count drops by
    // what is missing, and B fills the line.
    t.at(NOW + 1);
    let o = t.reroute(&o.id, Some((1, &loc("A"))), "store A", "shelf empty").await.expect("reject");
    assert_eq!(o.status, "accepted");
    let open: Vec<_> = o.lines[0].allocations.iter().filter(|a| a.quantity - a.shipped - a.released > 0).collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].location, "B");
    assert_eq!(position(&t, "X", "A").await, (1, 0, 1));
    assert_eq!(position(&t, "X", "B").await, (5, 2, 3));
    assert!(o.events.as_ref().is_some_and(|e| e.iter().any(|x| x.kind == "rerouted")));
    assert_eq!(o.routing.as_ref().map(Vec::len), Some(2), "a decision per routing");
    // Rejecting what the line does not hold there is refused, changing nothing.
    t.at(NOW + 2);
    assert!(matches!(t.reroute(&o.id, Some((1, &loc("A"))), "x", "").await, Err(Error::Conflict(_))));
    // A full re-route with nothing better keeps it where it is.
    t.at(NOW + 3);
    let again = t.reroute(&o.id, None, "ops", "check").await.expect("reroute");
    assert_eq!(again.status, "accepted");
    assert_eq!(position(&t, "X", "B").await, (5, 2, 3));
    // Shipped or cancelled orders are not re-routed.
    t.at(NOW + 4);
    t.cancel_order(&o.id, "").await.expect("cancel");
    t.at(NOW + 5);
    assert!(matches!(t.reroute(&o.id, None, "ops", "").await, Err(Error::Conflict(_))));
    assert_clean(&t).await;
}

async fn counts_below_reserved_reroute_the_newest_orders(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 4, None, "count").await.expect("set");
    t.set_stock(&sku("X"), &loc("B"), 1, None, "count").await.expect("set");
    let (old, _) = t.create_order(&order("cc-1", &[("X", 2)], PaymentState::Paid)).await.expect("order");
    t.at(NOW + 1);
    let (new, _) = t.create_order(&order("cc-2", &[("X", 2)], PaymentState::Paid)).await.expect("order");
    assert_eq!(position(&t, "X", "A").await, (4, 4, 0));
    // Only 2 are found at A: the newest order gives its units back and is
    // re-routed (B has 1; the other is backordered); the older keeps its own.
    t.at(NOW + 2);
    let p = t.set_stock(&sku("X"), &loc("A"), 2, None, "cycle count").await.expect("count");
    assert_eq!((p.on_hand, p.reserved), (2, 2));
    let old = t.get_order(&old.id).await.expect("get").expect("exists");
    assert_eq!(
        (old.status.as_str(), old.allocated_units() - old.lines[0].allocations.iter().map(|a| a.released).sum::<i64>()),
        ("accepted", 2)
    );
    let new = t.get_order(&new.id).await.expect("get").expect("exists");
    assert_eq!(new.status, "backordered");
    assert_eq!(new.lines[0].backordered, 1);
    assert_eq!(position(&t, "X", "B").await, (1, 1, 0));
    assert!(new.events.as_ref().is_some_and(|e| e.iter().any(|x| x.kind == "rerouted")));
    assert_clean(&t).await;
}

async fn held_orders_auto_cancel_when_the_policy_says(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 1, None, "count").await.expect("set");
    let policy = "[fallback]\nchain = [\"hold\", \"auto_cancel\"]\nauto_cancel_after_hours = 1\n";
    let v = t.save_policy(policy, "hold then cancel", "t").await.expect("save");
    t.activate_policy(v.version, "t").await.expect("activate");
    let (o, _) = t.create_order(&order("ac-1", &[("X", 3)], PaymentState::Paid)).await.expect("order");
    assert_eq!(o.status, "on_hold");
    assert_eq!(o.exceptions.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["unroutable"]);
    assert_eq!(position(&t, "X", "A").await, (1, 1, 0), "what could be reserved is held meanwhile");
    t.at(NOW + 30 * 60_000);
    assert!(t.auto_cancel_held(10).await.expect("sweep").is_empty());
    t.at(NOW + 2 * 3_600_000);
    assert_eq!(t.auto_cancel_held(10).await.expect("sweep"), vec![o.id.clone()]);
    let o = t.get_order(&o.id).await.expect("get").expect("exists");
    assert_eq!(o.status, "cancelled");
    assert!(o.exceptions.iter().all(|e| e.status != "open"));
    assert_eq!(position(&t, "X", "A").await, (1, 0, 1));
    t.at(NOW + 3 * 3_600_000);
    assert!(t.auto_cancel_held(10).await.expect("sweep").is_empty());
    assert_clean(&t).await;
}

async fn a_person_approves_a_split_the_policy_refused(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 1, None, "count").await.expect("set");
    t.set_stock(&sku("X"), &loc("B"), 1, None, "count").await.expect("set");
    let v = t.save_policy("[split]\nstrategy = \"never\"\n", "no splits", "t").await.expect("save");
    t.activate_policy(v.version, "t").await.expect("activate");
    let (o, _) = t.create_order(&order("sp-1", &[("X", 2)], PaymentState::Paid)).await.expect("order");
    assert_eq!(o.status, "on_hold");
    assert_eq!(o.allocated_units(), 1, "the best single location still reserves what it has");
    let ex = open_exceptions(&t).await;
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0].kind, "split_over_limit");
    assert!(ex[0].actions.iter().any(|a| a == "approve_split"));
    t.at(NOW + 1);
    let done =
        t.resolve_exception(&ex[0].id, &act(ResolutionAction::ApproveSplit, "ship in two")).await.expect("approve");
    assert_eq!(done.status, "resolved");
    let o = t.get_order(&o.id).await.expect("get").expect("exists");
    assert_eq!(o.status, "accepted");
    assert_eq!(o.allocated_units(), 2);
    assert_eq!((position(&t, "X", "A").await.1, position(&t, "X", "B").await.1), (1, 1));
    assert_clean(&t).await;
}

async fn daily_capacity_counts_by_local_day(t: T) {
    shop(&t).await;
    t.set_stock(&sku("X"), &loc("A"), 10, None, "count").await.expect("set");
    t.set_stock(&sku("X"), &loc("B"), 10, None, "count").await.expect("set");
    let v = t.save_policy("[eligibility]\ndaily_capacity = { A = 1 }\n", "cap A", "t").await.expect("save");
    t.activate_policy(v.version, "t").await.expect("activate");
    let at = |o: &OrderView| o.lines[0].allocations[0].location.clone();
    let (first, _) = t.create_order(&order("cap-1", &[("X", 1)], PaymentState::Paid)).await.expect("order");
    t.at(NOW + 1);
    let (second, _) = t.create_order(&order("cap-2", &[("X", 1)], PaymentState::Paid)).await.expect("order");
    assert_eq!((at(&first), at(&second)), ("A".to_owned(), "B".to_owned()), "A is full for today");
    // The next day (UTC here: the locations' time zone) A takes orders again.
    t.at(NOW + 86_400_000);
    let (third, _) = t.create_order(&order("cap-3", &[("X", 1)], PaymentState::Paid)).await.expect("order");
    assert_eq!(at(&third), "A");
    assert_clean(&t).await;
}
