//! The simulator's replay: 100,000 generated orders (1–3 lines, 2,000 SKUs,
//! 12 locations, receipts every day) under each of three policies, as
//! `switchyard simulate` runs them (one replay per policy; the command runs
//! them on threads of their own). The issue's target is 1,000,000 rows × 3
//! policies in 30 s on the 2-core machine. Run:
//! `cargo bench -p switchyard-core --bench simulate`.

use std::collections::BTreeMap;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use switchyard_core::routing::{Destination, Policy};
use switchyard_core::simulate::{simulate, Catalogue, History, Line, Order, Receipt, UtcDays};
use switchyard_core::{
    Address, ChannelName, Currency, ExternalOrderId, Location, LocationCode, LocationKind, Money, Position,
    ServiceLevel, Sku, SkuDef,
};

const ORDERS: usize = 100_000;
const SKUS: usize = 2_000;
const LOCATIONS: usize = 12;
const DAY_MS: i64 = 86_400_000;

const PROTECT: &str = r#"
[eligibility]
daily_capacity = { L00 = 400, L01 = 300 }

[[protection]]
locations = ["L00", "L01", "L02"]
tag = "bestseller"
keep_units = 2
[protection.release_to]
min_order_value = { minor = 7500, currency = "USD" }
channels = ["pos"]

[split]
strategy = "never"

[fallback]
chain = ["hold", "auto_cancel"]
auto_cancel_after_hours = 48
"#;

const NEAREST: &str = r#"
[ranking]
mode = "weighted"
criteria = [{ kind = "distance", weight = 3 }, { kind = "priority", weight = 1 }, { kind = "stock_depth", weight = 1 }]

[split]
strategy = "above_value"
min_order_value = { minor = 5000, currency = "USD" }
max_shipments = 2
"#;

/// A small deterministic generator (no dependency, same numbers every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

const REGIONS: [(&str, &str); 6] =
    [("97205", "OR"), ("10001", "NY"), ("60601", "IL"), ("94103", "CA"), ("73301", "TX"), ("33101", "FL")];

fn shop() -> (Catalogue, BTreeMap<(Sku, LocationCode), Position>) {
    let locations: Vec<Location> = (0..LOCATIONS)
        .map(|i| {
            let (postal_code, region) = REGIONS[i % REGIONS.len()];
            Location {
                code: LocationCode::parse(&format!("L{i:02}")).expect("code"),
                name: format!("Location {i}"),
                kind: if i < 4 { LocationKind::Store } else { LocationKind::Warehouse },
                address: Address {
                    line1: "1 Main St".into(),
                    city: "City".into(),
                    region: region.into(),
                    postal_code: postal_code.into(),
                    country: "US".into(),
                },
                lat: None,
                lon: None,
                can_ship: true,
                can_pickup: i < 4,
                priority: i as i32,
                active: true,
                lead_time_days: 0,
                timezone: "UTC".into(),
            }
        })
        .collect();
    let skus: Vec<SkuDef> = (0..SKUS)
        .map(|i| SkuDef {
            sku: Sku::parse(&format!("SKU-{i:05}")).expect("sku"),
            title: format!("Item {i}"),
            components: Vec::new(),
            tags: if i % 10 == 0 { vec!["bestseller".into()] } else { Vec::new() },
            allow_backorder: i % 3 != 0,
        })
        .collect();
    let mut rng = Lcg(7);
    let mut stock = BTreeMap::new();
    for def in &skus {
        for location in &locations {
            if rng.next(3) > 0 {
                let on_hand = i64::try_from(rng.next(40)).unwrap_or(0);
                stock.insert(
                    (def.sku.clone(), location.code.clone()),
                    Position { on_hand, reserved: 0, safety_stock: 0 },
                );
            }
        }
    }
    (Catalogue::new(&locations, &skus), stock)
}

fn history(catalogue: &Catalogue) -> History {
    let mut rng = Lcg(11);
    let usd = Currency::parse("USD").expect("usd");
    let channels: Vec<ChannelName> =
        ["web", "amazon", "pos"].iter().map(|c| ChannelName::parse(c).expect("channel")).collect();
    let span_ms = 365 * DAY_MS;
    let orders: Vec<Order> = (0..ORDERS)
        .map(|n| {
            let lines: Vec<Line> = (0..=rng.next(3))
                .map(|_| Line { sku: rng.next(SKUS as u64) as usize, quantity: 1 + rng.next(3) as i64 })
                .collect();
            let (postal_code, region) = REGIONS[rng.next(REGIONS.len() as u64) as usize];
            let units: i64 = lines.iter().map(|l| l.quantity).sum();
            Order {
                at_ms: (n as i64) * span_ms / ORDERS as i64,
                channel: channels[rng.next(3) as usize].clone(),
                external_id: ExternalOrderId::parse(&n.to_string()).expect("id"),
                service_level: if rng.next(10) == 0 { ServiceLevel::Expedited } else { ServiceLevel::Standard },
                ship_to: Destination {
                    postal_code: format!("{}{:02}", &postal_code[..3], rng.next(100)),
                    region: region.into(),
                    country: "US".into(),
                    ..Default::default()
                },
                pickup_location: None,
                value: Money::new(units * 2_500, usd),
                lines,
            }
        })
        .collect();
    let receipts: Vec<Receipt> = (0..365 * 20)
        .map(|n| {
            let sku = catalogue.sku(rng.next(SKUS as u64) as usize).expect("sku").sku.clone();
            let location = catalogue.locations()[rng.next(LOCATIONS as u64) as usize].code.clone();
            Receipt { at_ms: n * DAY_MS / 20, sku, location, quantity: 20 }
        })
        .collect();
    History::new(orders, receipts)
}

fn bench(c: &mut Criterion) {
    let (catalogue, stock) = shop();
    let history = history(&catalogue);
    let policies = [
        ("default", Policy::default()),
        ("protect", Policy::from_toml(PROTECT).expect("policy")),
        ("nearest", Policy::from_toml(NEAREST).expect("policy")),
    ];
    let mut group = c.benchmark_group("simulate_100k_orders");
    group.sample_size(10);
    for (name, policy) in &policies {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let result = simulate(&catalogue, &history, stock.clone(), policy, &mut UtcDays, false, &mut |_| {});
                black_box(result.filled)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
