//! Fulfilment by store staff (issue 9, item 0) on SQLite and PostgreSQL
//! (see `both!`): a location's pick list in its order, each step and its
//! refusals, a short pick re-routed with the ledger audit clean, delivered,
//! and the uncollected-pickup exception opened by the sweeper on a
//! `ManualClock` (never a sleep).

mod common;

use std::sync::Arc;

use common::{assert_clean, loc, sku, web_order};

use switchyard_core::fulfilment::DAY_MS;
use switchyard_core::{
    Address, Location, LocationKind, NewOrder, PaymentState, Resolution, ResolutionAction, ServiceLevel, ShipmentDraft,
    SkuDef,
};
use switchyard_engine::{Code, Config, Engine, IdGen, ManualClock};
use switchyard_store::testing::{Backend, TestDb};
use switchyard_store::{ExceptionFilter, OrderView};

both!(
    the_pick_list_puts_same_day_and_pickup_first_then_expedited_then_standard_oldest_first,
    steps_follow_each_other_and_out_of_order_ones_are_refused_with_nothing_changed,
    a_pickup_order_is_picked_made_ready_and_picked_up_never_packed,
    a_short_pick_rejects_the_allocation_and_reroutes_it_with_the_ledger_clean,
    an_uncollected_pickup_opens_an_exception_on_the_sweepers_clock_and_collection_closes_it,
);

const NOW: i64 = 1_790_000_000_000;

use common::Clocked as T;

fn place(code: &str, priority: i32, kind: LocationKind, can_pickup: bool) -> Location {
    Location {
        code: loc(code),
        name: format!("{code} place"),
        kind,
        address: Address {
            line1: "1 Main".into(),
            city: "Portland".into(),
            region: "OR".into(),
            postal_code: "97205".into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup,
        priority,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    }
}

/// A store (tried first, hands orders over) and a warehouse; SKU X at both
/// (10 at the store, 10 at the warehouse), SKU Y only at the warehouse.
async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(23)).await.expect("open engine");
    e.put_location(&place("STORE", 1, LocationKind::Store, true)).await.expect("store");
    e.put_location(&place("WH", 2, LocationKind::Warehouse, false)).await.expect("warehouse");
    e.put_sku(&SkuDef::plain(sku("X"), "Blue mug")).await.expect("sku");
    e.put_sku(&SkuDef::plain(sku("Y"), "Tea towel")).await.expect("sku");
    for (s, l) in [("X", "STORE"), ("X", "WH"), ("Y", "WH")] {
        e.set_stock(&sku(s), &loc(l), 10, None, "count").await.expect("stock");
    }
    T { e: Arc::new(e), clock }
}

fn order(ext: &str, s: &str, units: i64, level: ServiceLevel) -> NewOrder {
    let mut o = web_order(ext, &[(s, units)], 1000, 1000 * units, PaymentState::Paid);
    o.service_level = level;
    if level == ServiceLevel::Pickup {
        o.pickup_location = Some(loc("STORE"));
    }
    o
}

/// Takes an order at `at` (the injected time) and returns its id.
async fn take(t: &T, at: i64, o: &NewOrder) -> String {
    t.clock.set(at);
    t.create_order(o).await.expect("order").0.id
}

async fn get(e: &Engine, id: &str) -> OrderView {
    e.get_order(id).await.expect("get").expect("exists")
}

fn code<T: std::fmt::Debug>(r: Result<T, switchyard_engine::Error>) -> Code {
    r.expect_err("refused").code()
}

fn ship_draft(location: &str) -> ShipmentDraft {
    ShipmentDraft {
        location: location.into(),
        carrier: Some("UPS".into()),
        tracking: Some("1Z999".into()),
        tracking_url: Some("https://track.example/1Z999".into()),
        ..ShipmentDraft::default()
    }
}

async fn picks(e: &Engine, location: &str) -> Vec<(String, String, Vec<String>)> {
    let list = e.pick_list(&loc(location)).await.expect("pick list");
    list.orders.into_iter().map(|o| (o.external_id, o.step, o.actions)).collect()
}

async fn the_pick_list_puts_same_day_and_pickup_first_then_expedited_then_standard_oldest_first(t: T) {
    take(&t, NOW, &order("std-old", "X", 1, ServiceLevel::Standard)).await;
    take(&t, NOW + 1, &order("exp", "X", 2, ServiceLevel::Expedited)).await;
    take(&t, NOW + 2, &order("std-new", "X", 1, ServiceLevel::Standard)).await;
    take(&t, NOW + 3, &order("pickup", "X", 1, ServiceLevel::Pickup)).await;
    take(&t, NOW + 4, &order("same-day", "X", 1, ServiceLevel::SameDay)).await;
    // Not the store's to pick: at the warehouse, unpaid, shipped.
    take(&t, NOW + 5, &order("at-wh", "Y", 1, ServiceLevel::SameDay)).await;
    let mut unpaid = order("unpaid", "X", 1, ServiceLevel::SameDay);
    unpaid.payment = PaymentState::Pending;
    take(&t, NOW + 6, &unpaid).await;
    let gone = take(&t, NOW + 7, &order("gone", "X", 1, ServiceLevel::SameDay)).await;
    t.ship(
        &gone,
        &switchyard_core::NewShipment::parse(ShipmentDraft { lines: vec![("X".into(), 1)], ..ship_draft("STORE") })
            .expect("shipment"),
    )
    .await
    .expect("ship");

    let list = t.pick_list(&loc("STORE")).await.expect("pick list");
    let order: Vec<&str> = list.orders.iter().map(|o| o.external_id.as_str()).collect();
    assert_eq!(order, vec!["pickup", "same-day", "exp", "std-old", "std-new"]);
    assert!(!list.more);
    let exp = &list.orders[2];
    assert_eq!(
        (exp.status.as_str(), exp.service_level.as_str(), exp.step.as_str()),
        ("accepted", "expedited", "to_pick")
    );
    assert_eq!(exp.actions, vec!["picked", "short_pick"]);
    assert_eq!(exp.lines.len(), 1);
    let line = &exp.lines[0];
    assert_eq!((line.line_no, line.sku.as_str(), line.title.as_str(), line.quantity), (1, "X", "Blue mug", 2));
    assert_eq!(
        picks(&t, "WH").await,
        vec![("at-wh".to_owned(), "to_pick".to_owned(), vec!["picked".to_owned(), "short_pick".to_owned()])]
    );
    assert_eq!(code(t.pick_list(&loc("NOWHERE")).await), Code::NotFound);
    assert_clean(&t).await;
}

async fn steps_follow_each_other_and_out_of_order_ones_are_refused_with_nothing_changed(t: T) {
    let id = take(&t, NOW, &order("o1", "X", 2, ServiceLevel::Standard)).await;
    let events = get(&t, &id).await.events.expect("timeline").len();
    assert_eq!(code(t.mark_packed(&id, &loc("STORE"), "ann").await), Code::StepOutOfOrder, "packed before picked");
    assert_eq!(code(t.ship_packed(&id, &ship_draft("STORE")).await), Code::StepOutOfOrder, "shipped before picked");
    assert_eq!(code(t.mark_picked(&id, &loc("WH"), "ann").await), Code::NothingToPick, "nothing of it at WH");
    assert_eq!(code(t.mark_picked(&id, &loc("NOWHERE"), "ann").await), Code::UnknownLocation);
    assert_eq!(code(t.mark_picked("no-such-order", &loc("STORE"), "ann").await), Code::NotFound);
    assert_eq!(get(&t, &id).await.events.expect("timeline").len(), events, "a refused step writes nothing");

    t.clock.set(NOW + 10);
    let o = t.mark_picked(&id, &loc("STORE"), "ann").await.expect("picked");
    let last = o.events.expect("timeline").pop().expect("event");
    assert_eq!((last.kind.as_str(), last.message.as_str()), ("picked", "Picked at STORE by ann"));
    assert_eq!(code(t.mark_picked(&id, &loc("STORE"), "ann").await), Code::StepOutOfOrder, "picked twice");
    assert_eq!(picks(&t, "STORE").await[0].1, "picked");
    assert_eq!(code(t.ship_packed(&id, &ship_draft("STORE")).await), Code::StepOutOfOrder, "shipped before packed");
    t.mark_packed(&id, &loc("STORE"), "bo").await.expect("packed");
    assert_eq!(picks(&t, "STORE").await[0], ("o1".to_owned(), "packed".to_owned(), vec!["ship".to_owned()]));
    assert_eq!(code(t.mark_delivered(&id).await), Code::IllegalTransition, "not shipped yet");

    let mut bad = ship_draft("STORE");
    bad.tracking_url = Some("javascript:alert(1)".into());
    assert_eq!(code(t.ship_packed(&id, &bad).await), Code::InvalidBody);
    let shipped = t.ship_packed(&id, &ship_draft("STORE")).await.expect("shipped");
    assert_eq!(shipped.status, "shipped");
    let s = &shipped.shipments.expect("shipments")[0];
    assert_eq!((s.carrier.as_deref(), s.tracking.as_deref()), (Some("UPS"), Some("1Z999")));
    assert_eq!(s.tracking_url.as_deref(), Some("https://track.example/1Z999"));
    assert_eq!((s.location.as_str(), s.lines[0].quantity), ("STORE", 2));
    assert!(picks(&t, "STORE").await.is_empty(), "nothing left to pick");
    assert_eq!(code(t.mark_packed(&id, &loc("STORE"), "bo").await), Code::NothingToPick);

    let done = t.mark_delivered(&id).await.expect("delivered");
    assert_eq!(done.status, "completed");
    assert_eq!(done.events.expect("timeline").pop().expect("event").kind, "delivered");
    assert_eq!(code(t.mark_delivered(&id).await), Code::IllegalTransition, "delivered twice");
    assert_clean(&t).await;
}

async fn a_pickup_order_is_picked_made_ready_and_picked_up_never_packed(t: T) {
    let id = take(&t, NOW, &order("p1", "X", 1, ServiceLevel::Pickup)).await;
    t.mark_picked(&id, &loc("STORE"), "ann").await.expect("picked");
    assert_eq!(
        picks(&t, "STORE").await[0],
        ("p1".to_owned(), "picked".to_owned(), vec!["ready_for_pickup".to_owned(), "short_pick".to_owned()])
    );
    assert_eq!(code(t.mark_packed(&id, &loc("STORE"), "ann").await), Code::StepOutOfOrder, "a pickup is not packed");
    assert_eq!(code(t.ship_packed(&id, &ship_draft("STORE")).await), Code::StepOutOfOrder, "nor shipped");
    assert_eq!(t.ready_for_pickup(&id, &loc("STORE")).await.expect("ready").status, "ready_for_pickup");
    assert_eq!(
        picks(&t, "STORE").await[0],
        ("p1".to_owned(), "ready_for_pickup".to_owned(), vec!["picked_up".to_owned()])
    );
    assert_eq!(code(t.mark_picked(&id, &loc("STORE"), "ann").await), Code::StepOutOfOrder);
    assert_eq!(t.picked_up(&id).await.expect("picked up").status, "completed");
    assert!(picks(&t, "STORE").await.is_empty());
    assert_clean(&t).await;
}

async fn a_short_pick_rejects_the_allocation_and_reroutes_it_with_the_ledger_clean(t: T) {
    let id = take(&t, NOW, &order("s1", "X", 2, ServiceLevel::Standard)).await;
    t.mark_picked(&id, &loc("STORE"), "ann").await.expect("picked");
    t.clock.set(NOW + 5);
    let o = t.short_pick(&id, 1, &loc("STORE"), "ann").await.expect("short pick");
    assert_eq!(o.status, "accepted");
    let allocations: Vec<(String, i64, i64)> =
        o.lines[0].allocations.iter().map(|a| (a.location.clone(), a.quantity, a.released)).collect();
    assert_eq!(allocations, vec![("STORE".to_owned(), 2, 2), ("WH".to_owned(), 2, 0)]);
    let events = o.events.expect("timeline");
    assert!(events.iter().any(|e| e.kind == "rerouted" && e.message.contains("(short_pick)")), "{events:?}");
    // The store's count was corrected down by what it could not find.
    let store = t.sku_positions(&sku("X")).await.expect("positions");
    let at = |code: &str| store.iter().find(|(l, _)| l.as_str() == code).map(|(_, p)| (p.on_hand, p.reserved));
    assert_eq!((at("STORE"), at("WH")), (Some((8, 0)), Some((10, 2))));
    assert!(picks(&t, "STORE").await.is_empty(), "gone from the store's list");
    assert_eq!(picks(&t, "WH").await[0].1, "to_pick", "picked afresh at the warehouse");
    assert_eq!(code(t.short_pick(&id, 1, &loc("STORE"), "ann").await), Code::InvalidRequest, "nothing left there");
    assert_eq!(code(t.short_pick(&id, 9, &loc("WH"), "ann").await), Code::NotFound);
    assert_clean(&t).await;
}

async fn exceptions_of(e: &Engine, order_id: &str) -> Vec<(String, String, String)> {
    let filter =
        ExceptionFilter { status: None, order_id: Some(order_id.to_owned()), limit: 100, ..Default::default() };
    let list = e.list_exceptions(&filter).await.expect("exceptions");
    list.into_iter().map(|x| (x.kind, x.status, x.owner_role)).collect()
}

async fn ready_pickup(t: &T, ext: &str, at: i64) -> String {
    let id = take(t, at, &order(ext, "X", 1, ServiceLevel::Pickup)).await;
    t.ready_for_pickup(&id, &loc("STORE")).await.expect("ready");
    id
}

async fn an_uncollected_pickup_opens_an_exception_on_the_sweepers_clock_and_collection_closes_it(t: T) {
    // Refused: a policy whose uncollected days are not at least 1.
    let bad = t.save_policy("[service_levels]\npickup_uncollected_days = 0\n", "", "ann").await;
    assert_eq!(code(bad), Code::InvalidPolicy);
    let saved = t.save_policy("[service_levels]\npickup_uncollected_days = 2\n", "", "ann").await.expect("save");
    t.activate_policy(saved.version, "ann").await.expect("activate");

    let collected = ready_pickup(&t, "c1", NOW).await;
    let cancelled = ready_pickup(&t, "c2", NOW).await;
    let called = ready_pickup(&t, "c3", NOW).await;
    let fresh = ready_pickup(&t, "c4", NOW + DAY_MS).await;

    t.clock.set(NOW + 2 * DAY_MS - 1);
    assert!(t.sweep().await.expect("sweep").uncollected.is_empty(), "not yet two days");
    t.clock.set(NOW + 2 * DAY_MS);
    let mut flagged = t.sweep().await.expect("sweep").uncollected;
    flagged.sort();
    let mut want = vec![collected.clone(), cancelled.clone(), called.clone()];
    want.sort();
    assert_eq!(flagged, want);
    let open = ("pickup_uncollected".to_owned(), "open".to_owned(), "store".to_owned());
    assert_eq!(exceptions_of(&t, &collected).await, vec![open.clone()]);
    assert!(exceptions_of(&t, &fresh).await.is_empty(), "ready one day only");
    assert_eq!(get(&t, &collected).await.status, "ready_for_pickup", "it never holds the order");
    assert!(t.sweep().await.expect("sweep").uncollected.is_empty(), "opened once");
    assert_clean(&t).await;

    // Collected: settled by itself. Cancelled: closed with the order. A
    // call made (dismissed): never opened again.
    t.picked_up(&collected).await.expect("picked up");
    assert_eq!(exceptions_of(&t, &collected).await[0].1, "resolved");
    t.cancel_order(&cancelled, "customer never came").await.expect("cancel");
    assert_eq!(exceptions_of(&t, &cancelled).await[0].1, "resolved");
    let open_id = t
        .list_exceptions(&ExceptionFilter { order_id: Some(called.clone()), limit: 10, ..Default::default() })
        .await
        .expect("list")[0]
        .id
        .clone();
    let dismiss = Resolution {
        action: ResolutionAction::Dismiss,
        actor: "ann".into(),
        note: "customer comes Friday".into(),
        address: None,
        location: None,
    };
    t.resolve_exception(&open_id, &dismiss).await.expect("dismiss");
    t.clock.set(NOW + 9 * DAY_MS);
    assert_eq!(t.sweep().await.expect("sweep").uncollected, vec![fresh.clone()], "the dismissed one stays dismissed");
    assert_eq!(exceptions_of(&t, &called).await[0].1, "dismissed");
    assert_clean(&t).await;
}
