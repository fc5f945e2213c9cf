//! One routing decision: 20 locations, a 5-line order (one a bundle), a
//! policy that uses every stage (eligibility, protection, weighted ranking
//! with shipping rates, value-based split, fallback chain). Target: p50
//! ≤ 20 µs on the 2-core CI machine. Run: `cargo bench -p switchyard-core`.

use std::collections::BTreeMap;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use switchyard_core::routing::{route, Destination, Policy, RoutingInput, RoutingLine, RoutingLocation};
use switchyard_core::{ChannelName, Currency, LocationCode, LocationKind, Money, Position, ServiceLevel, Sku};

const POLICY: &str = r#"
[eligibility]
daily_capacity = { L00 = 40, L01 = 25 }
[eligibility.max_distance_km]
standard = 4000

[[eligibility.channels]]
channel = "amazon"
only_locations = ["L10", "L11"]

[[protection]]
locations = ["L00", "L01"]
tag = "bestseller"
keep_units = 2
[protection.release_to]
min_order_value = { minor = 7500, currency = "USD" }
service_levels = ["same_day", "pickup"]

[ranking]
mode = "weighted"
criteria = [
  { kind = "distance", weight = 3 },
  { kind = "shipping_cost", weight = 2 },
  { kind = "priority", weight = 1 },
  { kind = "stock_depth", weight = 1 },
]

[[shipping_rates]]
location = "L10"
service_level = "standard"
currency = "USD"
bands = [{ up_to_km = 300, cost_minor = 650 }, { up_to_km = 6000, cost_minor = 1400 }]

[split]
strategy = "above_value"
min_order_value = { minor = 7500, currency = "USD" }
max_shipments = 3
prefer_single_within_km = 300

[fallback]
chain = ["dropship", "backorder", "hold"]
backorder_restock_days = 7
"#;

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}

fn input() -> RoutingInput {
    let mut locations = Vec::new();
    let mut stock = BTreeMap::new();
    let skus = ["A", "B", "C", "D", "E", "F"];
    for i in 0..20u32 {
        let code = LocationCode::parse(&format!("L{i:02}")).expect("code");
        let kind = match i {
            0..=9 => LocationKind::Store,
            10..=18 => LocationKind::Warehouse,
            _ => LocationKind::Dropship,
        };
        locations.push(RoutingLocation {
            code: code.clone(),
            name: format!("Location {i}"),
            kind,
            lat: Some(30.0 + f64::from(i) * 0.9),
            lon: Some(-120.0 + f64::from(i) * 2.1),
            postal_code: format!("{}", 10_000 + i * 371),
            region: "XX".into(),
            country: "US".into(),
            can_ship: true,
            can_pickup: kind == LocationKind::Store,
            active: i != 7,
            priority: i as i32,
            lead_time_days: if kind == LocationKind::Dropship { 5 } else { 0 },
            orders_today: i * 2,
        });
        for (j, s) in skus.iter().enumerate() {
            let on_hand = ((i as usize * 7 + j * 3) % 6) as i64;
            stock.insert((sku(s), code.clone()), Position { on_hand, reserved: (on_hand / 3), safety_stock: 0 });
        }
    }
    let line = |s: &str, q: i64, tags: &[&str]| RoutingLine {
        sku: sku(s),
        quantity: q,
        units: vec![(sku(s), 1)],
        tags: tags.iter().map(|t| t.to_string()).collect(),
        may_backorder: true,
    };
    let mut lines =
        vec![line("A", 2, &["bestseller"]), line("B", 1, &[]), line("C", 3, &[]), line("D", 1, &["bestseller"])];
    lines.push(RoutingLine {
        sku: sku("KIT"),
        quantity: 1,
        units: vec![(sku("E"), 1), (sku("F"), 2)],
        tags: vec![],
        may_backorder: false,
    });
    RoutingInput {
        lines,
        order_value: Money::new(9_900, Currency::parse("USD").expect("usd")),
        channel: ChannelName::parse("shopify").expect("channel"),
        service_level: ServiceLevel::Standard,
        ship_to: Destination {
            lat: Some(38.5),
            lon: Some(-110.0),
            postal_code: "84101".into(),
            region: "UT".into(),
            country: "US".into(),
        },
        pickup_location: None,
        locations,
        component_tags: BTreeMap::new(),
        stock,
        avoid: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let input = input();
    let policy = Policy::from_toml(POLICY).expect("bench policy parses");
    let default = Policy::default();
    let now = 1_790_000_000_000;
    c.bench_function("route 20 locations x 5 lines (full policy)", |b| {
        b.iter(|| route(black_box(&input), black_box(&policy), now))
    });
    c.bench_function("route 20 locations x 5 lines (default policy)", |b| {
        b.iter(|| route(black_box(&input), black_box(&default), now))
    });
    c.bench_function("explain a decision", |b| {
        let d = route(&input, &policy, now);
        b.iter(|| black_box(&d).explain())
    });
    c.bench_function("parse the policy", |b| b.iter(|| Policy::from_toml(black_box(POLICY))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
