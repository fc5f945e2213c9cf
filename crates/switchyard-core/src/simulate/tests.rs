//! The replay on small hand-checked histories: every figure below is worked
//! out in the comments from the policy's rules and the stock, not read off
//! a run.

use std::collections::BTreeMap;

use super::*;
use crate::catalog::Component;
use crate::ids::Quantity;
use crate::location::{Address, LocationKind};
use crate::money::Currency;
use crate::routing::{route, Policy, RoutingInput, RoutingLine};
use crate::stock::Position;

const HOUR: i64 = 3_600_000;

fn location(code: &str, kind: LocationKind, priority: i32, postal_code: &str, region: &str) -> Location {
    Location {
        code: LocationCode::parse(code).expect("code"),
        name: code.into(),
        kind,
        address: Address {
            line1: "1 Main St".into(),
            city: "Somewhere".into(),
            region: region.into(),
            postal_code: postal_code.into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup: kind == LocationKind::Store,
        priority,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    }
}

fn sku(code: &str, tags: &[&str]) -> SkuDef {
    SkuDef {
        sku: Sku::parse(code).expect("sku"),
        title: code.into(),
        components: Vec::new(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        allow_backorder: true,
    }
}

/// F: the flagship store near the customers (same postal prefix: 25 km by
/// the default estimates). W: a warehouse across the country (1,000 km).
fn shop() -> Catalogue {
    let mut kit = sku("KIT", &[]);
    kit.components = vec![
        Component { sku: Sku::parse("TEE").expect("sku"), quantity: Quantity::new(1).expect("q") },
        Component { sku: Sku::parse("MUG").expect("sku"), quantity: Quantity::new(2).expect("q") },
    ];
    Catalogue::new(
        &[
            location("F", LocationKind::Store, 1, "97205", "OR"),
            location("W", LocationKind::Warehouse, 2, "10001", "NY"),
        ],
        &[sku("TEE", &["bestseller"]), sku("MUG", &[]), sku("CAP", &[]), kit],
    )
}

fn stock(rows: &[(&str, &str, i64)]) -> BTreeMap<(Sku, LocationCode), Position> {
    rows.iter()
        .map(|(s, l, on_hand)| {
            let key = (Sku::parse(s).expect("sku"), LocationCode::parse(l).expect("location"));
            (key, Position { on_hand: *on_hand, reserved: 0, safety_stock: 0 })
        })
        .collect()
}

fn order(catalogue: &Catalogue, at_ms: i64, channel: &str, id: &str, lines: &[(&str, i64)]) -> Order {
    Order {
        at_ms,
        channel: ChannelName::parse(channel).expect("channel"),
        external_id: ExternalOrderId::parse(id).expect("id"),
        service_level: ServiceLevel::Standard,
        ship_to: Destination { postal_code: "97209".into(), country: "US".into(), ..Default::default() },
        pickup_location: None,
        value: Money::new(1000 * lines.iter().map(|(_, q)| q).sum::<i64>(), usd()),
        lines: lines
            .iter()
            .map(|(s, quantity)| Line {
                sku: catalogue.sku_index(&Sku::parse(s).expect("sku")).expect("known sku"),
                quantity: *quantity,
            })
            .collect(),
    }
}

fn usd() -> Currency {
    Currency::parse("USD").expect("usd")
}

fn policy(text: &str) -> Policy {
    Policy::from_toml(text).unwrap_or_else(|e| panic!("{e}"))
}

fn run(
    catalogue: &Catalogue,
    history: &History,
    start: BTreeMap<(Sku, LocationCode), Position>,
    p: &Policy,
) -> PolicyResult {
    simulate(catalogue, history, start, p, &mut UtcDays, true, &mut |_| {})
}

/// Keeps one TEE at the flagship for the shop's own till, never splits, and
/// cancels what it cannot place after a day.
const PROTECT: &str = r#"
[[protection]]
locations = ["F"]
sku = "TEE"
keep_units = 1
[protection.release_to]
channels = ["pos"]

[split]
strategy = "never"

[fallback]
chain = ["hold", "auto_cancel"]
auto_cancel_after_hours = 24
"#;

fn four_orders(c: &Catalogue) -> History {
    History::new(
        vec![
            order(c, HOUR, "web", "1", &[("TEE", 1), ("MUG", 1)]),
            order(c, 2 * HOUR, "web", "2", &[("TEE", 2)]),
            order(c, 3 * HOUR, "pos", "3", &[("TEE", 2)]),
            order(c, 4 * HOUR, "web", "4", &[("CAP", 1), ("MUG", 1)]),
        ],
        vec![],
    )
}

fn four_orders_stock() -> BTreeMap<(Sku, LocationCode), Position> {
    stock(&[("TEE", "F", 2), ("CAP", "F", 5), ("TEE", "W", 5), ("MUG", "W", 5)])
}

#[test]
fn splitting_and_protecting_differ_as_worked_out_by_hand() {
    let c = shop();
    let history = four_orders(&c);
    // The default policy: priority first, split whenever no one location fills.
    // 1: F has no MUG, W fills the whole order (1000 km).
    // 2: F fills 2 TEE (25 km), leaving F without TEE.
    // 3: W fills 2 TEE (1000 km).
    // 4: F has the CAP, W the MUG: split (25 + 1000 km).
    let split = run(&c, &history, four_orders_stock(), &Policy::default());
    assert_eq!((split.orders, split.filled, split.split), (4, 4, 1));
    assert_eq!((split.backordered, split.cancelled, split.protected_units_used), (0, 0, 0));
    assert_eq!(split.shipments, 5);
    assert_eq!(split.distance_km, 3050.0);
    assert_eq!(split.distance_km_estimated, 3050.0);
    assert_eq!(split.fill_rate(), 1.0);
    assert_eq!(split.split_rate(), 0.25);
    assert!(split.stockouts.is_empty());

    // Protecting one TEE at F:
    // 1: as before, W.
    // 2: F may use only 1 TEE, so W fills both (1000 km).
    // 3: the till's order may use the kept unit: F fills 2 (25 km), one protected.
    // 4: no split allowed: F (first ranked of the two that fill one unit)
    //    reserves the CAP, the MUG is held and the order auto-cancelled.
    let protect = run(&c, &history, four_orders_stock(), &policy(PROTECT));
    assert_eq!((protect.orders, protect.filled, protect.split), (4, 3, 0));
    assert_eq!((protect.backordered, protect.cancelled, protect.cancelled_units), (0, 1, 2));
    assert_eq!(protect.protected_units_used, 1);
    assert_eq!(protect.shipments, 3);
    assert_eq!(protect.distance_km, 2025.0);
    assert_eq!(protect.fill_rate(), 0.75);
    let mug = Sku::parse("MUG").expect("sku");
    assert_eq!(protect.stockouts.get(&mug), Some(&Stockout { lines: 1, units: 1 }));
    assert_eq!(protect.stock_errors, 0);

    let fates = protect.fates.as_ref().expect("fates kept");
    let f = LocationCode::parse("F").expect("code");
    let w = LocationCode::parse("W").expect("code");
    assert_eq!(fates[1].allocations, vec![(w.clone(), 2)]);
    assert_eq!(fates[2].allocations, vec![(f.clone(), 2)]);
    assert_eq!((fates[3].fate, fates[3].unfilled_units), (Fate::Cancelled, 1));
    let split_fates = split.fates.as_ref().expect("fates kept");
    assert_eq!(split_fates[3].allocations, vec![(f, 1), (w, 1)]);
}

#[test]
fn the_baseline_comparison_uses_the_roi_arithmetic() {
    let c = shop();
    let history = four_orders(&c);
    let protect = run(&c, &history, four_orders_stock(), &policy(PROTECT));
    let split = run(&c, &history, four_orders_stock(), &Policy::default());
    // Values: 2, 2, 2 and 2 units at $10 = $80; the average order is $20.
    assert_eq!(split.value.get(&usd()), Some(&8000));
    let vs = versus(&protect, &split);
    assert_eq!(vs.failed_orders_prevented, 1);
    assert_eq!(vs.extra_distance_km, 1025.0);
    let (input, roi) = vs.roi.expect("fewer failures, one currency");
    assert_eq!(input.aov, Money::new(2000, usd()));
    // 25% failed before, 0% after, of 4 orders: 1 prevented, × $20.
    assert_eq!((roi.failed_before, roi.failed_after, roi.prevented), (1, 0, 1));
    assert_eq!(roi.protected_revenue, Money::new(2000, usd()));
    assert_eq!(roi.minutes_saved, 20);
    // The other way round fails more: no ROI, a negative difference.
    let back = versus(&split, &protect);
    assert_eq!(back.failed_orders_prevented, -1);
    assert!(back.roi.is_none());
}

#[test]
fn an_auto_cancelled_order_holds_its_units_until_the_cancellation() {
    let c = shop();
    // F has 1 CAP. Order 1 wants a CAP and a MUG (none anywhere): F reserves
    // the CAP, the MUG is held, and the order is cancelled 24 h later.
    // Order 2 (1 h later) finds no CAP; order 3 (after the cancellation) gets it.
    let history = History::new(
        vec![
            order(&c, 0, "web", "1", &[("CAP", 1), ("MUG", 1)]),
            order(&c, HOUR, "web", "2", &[("CAP", 1)]),
            order(&c, 25 * HOUR, "web", "3", &[("CAP", 1)]),
        ],
        vec![],
    );
    let result = run(&c, &history, stock(&[("CAP", "F", 1)]), &policy(PROTECT));
    let fates: Vec<Fate> = result.fates.as_ref().expect("fates").iter().map(|f| f.fate).collect();
    assert_eq!(fates, vec![Fate::Cancelled, Fate::Cancelled, Fate::Filled]);
    assert_eq!(result.stock_errors, 0);
}

#[test]
fn receipts_arrive_at_their_time_and_before_an_order_at_the_same_time() {
    let c = shop();
    let cap_at_w = |at_ms| Receipt {
        at_ms,
        sku: Sku::parse("CAP").expect("sku"),
        location: LocationCode::parse("W").expect("code"),
        quantity: 1,
    };
    let history = History::new(
        vec![
            order(&c, HOUR, "web", "1", &[("CAP", 1)]),
            order(&c, 2 * HOUR, "web", "2", &[("CAP", 1)]),
            order(&c, 3 * HOUR, "web", "3", &[("CAP", 1)]),
        ],
        // Given out of order: the history sorts them.
        vec![cap_at_w(3 * HOUR), cap_at_w(2 * HOUR)],
    );
    let result = run(&c, &history, BTreeMap::new(), &Policy::default());
    let fates: Vec<Fate> = result.fates.as_ref().expect("fates").iter().map(|f| f.fate).collect();
    // Nothing before the first receipt: the default policy backorders.
    assert_eq!(fates, vec![Fate::Backordered, Fate::Filled, Fate::Filled]);
    assert_eq!((result.backordered, result.backordered_units), (1, 1));
}

#[test]
fn daily_capacity_counts_orders_per_local_day() {
    let c = shop();
    let capped = policy("[eligibility]\ndaily_capacity = { F = 1 }\n");
    let day = 24 * HOUR;
    // F takes one order a day; the second of the day goes to W; the next day F again.
    let history = History::new(
        vec![
            order(&c, HOUR, "web", "1", &[("TEE", 1)]),
            order(&c, 2 * HOUR, "web", "2", &[("TEE", 1)]),
            order(&c, day + HOUR, "web", "3", &[("TEE", 1)]),
        ],
        vec![],
    );
    let result = run(&c, &history, stock(&[("TEE", "F", 10), ("TEE", "W", 10)]), &capped);
    let places: Vec<String> = result
        .fates
        .as_ref()
        .expect("fates")
        .iter()
        .map(|f| f.allocations.iter().map(|(code, _)| code.to_string()).collect())
        .collect();
    assert_eq!(places, vec!["F", "W", "F"]);
}

#[test]
fn bundles_draw_on_their_components() {
    let c = shop();
    // A KIT is 1 TEE + 2 MUG; W has enough for one kit.
    let history = History::new(
        vec![order(&c, HOUR, "web", "1", &[("KIT", 1)]), order(&c, 2 * HOUR, "web", "2", &[("KIT", 1)])],
        vec![],
    );
    let result = run(&c, &history, stock(&[("TEE", "W", 5), ("MUG", "W", 3)]), &Policy::default());
    assert_eq!((result.filled, result.backordered), (1, 1));
    // The second kit is short because MUG ran out: the stockout names the component.
    let mug = Sku::parse("MUG").expect("sku");
    assert_eq!(result.stockouts.get(&mug), Some(&Stockout { lines: 1, units: 1 }));
}

/// The replay's input for an order is the one the engine would build: the
/// same decision comes out of `route` called directly.
#[test]
fn the_replay_decides_as_route_does() {
    let c = shop();
    let p = policy(PROTECT);
    let start = stock(&[("TEE", "F", 2), ("TEE", "W", 5)]);
    let o = order(&c, HOUR, "web", "1", &[("TEE", 2)]);
    let input = RoutingInput {
        lines: vec![RoutingLine {
            sku: Sku::parse("TEE").expect("sku"),
            quantity: 2,
            units: vec![(Sku::parse("TEE").expect("sku"), 1)],
            tags: vec!["bestseller".into()],
            may_backorder: true,
        }],
        order_value: o.value,
        channel: o.channel.clone(),
        service_level: o.service_level,
        ship_to: o.ship_to.clone(),
        pickup_location: None,
        locations: c.locations().to_vec(),
        component_tags: BTreeMap::new(),
        stock: start.clone(),
        avoid: Vec::new(),
    };
    let direct = route(&input, &p, HOUR);
    let replayed = run(&c, &History::new(vec![o], vec![]), start, &p);
    let fate = &replayed.fates.as_ref().expect("fates")[0];
    let planned: Vec<(LocationCode, i64)> = direct.plan.lines[0].allocations.clone();
    assert_eq!(fate.allocations, planned);
    assert_eq!(planned, vec![(LocationCode::parse("W").expect("code"), 2)]);
}

#[test]
fn the_same_inputs_give_the_same_result() {
    let c = shop();
    let history = four_orders(&c);
    let p = policy(PROTECT);
    let first = run(&c, &history, four_orders_stock(), &p);
    let second = run(&c, &history, four_orders_stock(), &p);
    assert_eq!(first, second);
}

#[test]
fn progress_is_reported_to_the_end() {
    let c = shop();
    let history = four_orders(&c);
    let mut seen = Vec::new();
    simulate(&c, &history, four_orders_stock(), &Policy::default(), &mut UtcDays, false, &mut |n| seen.push(n));
    assert_eq!(seen.last(), Some(&4));
}
