//! Scenario tests for the routing engine: one table per rule kind, the seed
//! cases from the issue, and property tests of the invariants.
//!
//! The shop: a flagship store and a second store in Portland, a warehouse in
//! Boise ("Warehouse East", ~555 km) and one in Reno (~720 km), and a
//! dropship vendor. Customers are in Portland unless a test moves them.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::allocation::{
    AllocationPlan, AllocationRequest, Allocator, CandidateLocation, FewestLocations, LineRequest,
};
use crate::ids::{ChannelName, LocationCode, Sku};
use crate::location::LocationKind;
use crate::money::{Currency, Money};
use crate::order::ServiceLevel;
use crate::stock::Position;

/// 2026-06-01T00:00:00Z.
const NOW_MS: i64 = 1_780_272_000_000;
const DAY_MS: i64 = 86_400_000;

fn sku(code: &str) -> Sku {
    Sku::parse(code).expect("test sku")
}
fn code(code: &str) -> LocationCode {
    LocationCode::parse(code).expect("test location code")
}
fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").expect("USD"))
}
fn channel(name: &str) -> ChannelName {
    ChannelName::parse(name).expect("test channel")
}

fn location(code_: &str, name: &str, kind: LocationKind, lat: f64, lon: f64, priority: i32) -> RoutingLocation {
    RoutingLocation {
        code: code(code_),
        name: name.to_owned(),
        kind,
        lat: Some(lat),
        lon: Some(lon),
        postal_code: String::new(),
        region: String::new(),
        country: "US".to_owned(),
        can_ship: true,
        can_pickup: kind == LocationKind::Store,
        active: true,
        priority,
        lead_time_days: 0,
        orders_today: 0,
    }
}

fn shop() -> Vec<RoutingLocation> {
    let mut vendor = location("VENDOR", "Acme Dropship", LocationKind::Dropship, 40.7128, -74.0060, 9);
    vendor.lead_time_days = 5;
    vec![
        location("FLAGSHIP", "Flagship", LocationKind::Store, 45.5190, -122.6789, 1),
        location("STORE-2", "Store Two", LocationKind::Store, 45.4871, -122.8037, 2),
        location("WH-EAST", "Warehouse East", LocationKind::Warehouse, 43.6150, -116.2023, 3),
        location("WH-RENO", "Warehouse Reno", LocationKind::Warehouse, 39.5296, -119.8138, 4),
        vendor,
    ]
}

fn line(code_: &str, quantity: i64) -> RoutingLine {
    RoutingLine { sku: sku(code_), quantity, units: vec![(sku(code_), 1)], tags: Vec::new(), may_backorder: false }
}

fn tagged(mut line: RoutingLine, tag: &str) -> RoutingLine {
    line.tags.push(tag.to_owned());
    line
}

fn backorderable(mut line: RoutingLine) -> RoutingLine {
    line.may_backorder = true;
    line
}

fn bundle(code_: &str, quantity: i64, components: &[(&str, i64)]) -> RoutingLine {
    RoutingLine {
        sku: sku(code_),
        quantity,
        units: components.iter().map(|(c, n)| (sku(c), *n)).collect(),
        tags: Vec::new(),
        may_backorder: false,
    }
}

fn position(on_hand: i64) -> Position {
    Position { on_hand, reserved: 0, safety_stock: 0 }
}

/// An order from a Portland customer worth `value_minor` cents.
fn order(lines: Vec<RoutingLine>, value_minor: i64, stock: &[(&str, &str, i64)]) -> RoutingInput {
    RoutingInput {
        lines,
        order_value: usd(value_minor),
        channel: channel("shopify"),
        service_level: ServiceLevel::Standard,
        ship_to: Destination {
            lat: Some(45.5152),
            lon: Some(-122.6784),
            postal_code: "97205".to_owned(),
            region: "OR".to_owned(),
            country: "US".to_owned(),
        },
        pickup_location: None,
        locations: shop(),
        component_tags: BTreeMap::new(),
        stock: stock.iter().map(|(s, l, n)| ((sku(s), code(l)), position(*n))).collect(),
        avoid: Vec::new(),
    }
}

fn policy(toml_text: &str) -> Policy {
    match Policy::from_toml(toml_text) {
        Ok(policy) => policy,
        Err(errors) => panic!("test policy is invalid: {errors}"),
    }
}

/// Per line: (location, units) in plan order.
fn shipped(decision: &Decision) -> Vec<Vec<(String, i64)>> {
    decision.plan.lines.iter().map(|l| l.allocations.iter().map(|(c, n)| (c.to_string(), *n)).collect()).collect()
}

fn locations_used(decision: &Decision) -> Vec<String> {
    let mut used: Vec<String> =
        decision.plan.lines.iter().flat_map(|l| l.allocations.iter().map(|(c, _)| c.to_string())).collect();
    used.sort();
    used.dedup();
    used
}

fn held(exception: ExceptionKind) -> impl Fn(&Outcome) -> bool {
    move |outcome| matches!(outcome, Outcome::Held { exception: e, .. } if *e == exception)
}

fn assert_explains(decision: &Decision, fragments: &[&str]) {
    let text = decision.explain();
    for fragment in fragments {
        assert!(text.contains(fragment), "explanation lacks {fragment:?}:\n{text}");
    }
}

// ---------------------------------------------------------------------------
// Seed cases
// ---------------------------------------------------------------------------

#[test]
fn nearest_location_wins() {
    let nearest = policy("[ranking]\ncriteria = [{ kind = \"distance\" }, { kind = \"priority\" }]\n");
    let stock = [("X", "WH-EAST", 5), ("X", "STORE-2", 5), ("Y", "WH-EAST", 5), ("Y", "STORE-2", 5)];
    let mut input = order(vec![line("X", 2), line("Y", 1)], 4000, &stock);
    // Move the customer to Seattle: Store Two (~235 km) beats Warehouse East (~650 km).
    input.ship_to.lat = Some(47.6062);
    input.ship_to.lon = Some(-122.3321);
    let decision = route(&input, &nearest, NOW_MS);
    assert_eq!(shipped(&decision), vec![vec![("STORE-2".into(), 2)], vec![("STORE-2".into(), 1)]]);
    assert_eq!(decision.outcome, Outcome::Allocated);
    assert_explains(&decision, &["Ships from Store Two (23", "km): nearest location holding all 3 items."]);
    assert_eq!(decision.trace.distance_source, DistanceSummary::GreatCircle);
}

#[test]
fn flagship_protection_keeps_two_for_walk_ins() {
    let protect = policy(
        r#"
[ranking]
criteria = [{ kind = "distance" }]

[[protection]]
locations = ["FLAGSHIP"]
tag = "bestseller"
keep_units = 2
release_to = { min_order_value = { minor = 7500, currency = "USD" }, service_levels = ["same_day", "pickup"] }
"#,
    );
    let stock =
        [("TEE-RED-M", "FLAGSHIP", 4), ("TEE-RED-M", "WH-EAST", 20), ("MUG", "FLAGSHIP", 5), ("MUG", "WH-EAST", 5)];
    let lines = || vec![tagged(line("TEE-RED-M", 3), "bestseller"), line("MUG", 0)];
    // (value, service level, expected location, explanation fragment)
    let cases: &[(i64, ServiceLevel, &str, &str)] = &[
        (
            3800,
            ServiceLevel::Standard,
            "WH-EAST",
            "Flagship excluded for SKU TEE-RED-M: protected stock (keeps 2 for walk-ins; order value $38.00 < $75.00).",
        ),
        (
            7500,
            ServiceLevel::Standard,
            "FLAGSHIP",
            "Flagship released 1 unit of SKU TEE-RED-M kept for walk-ins: order value $75.00 ≥ $75.00.",
        ),
        (3800, ServiceLevel::SameDay, "FLAGSHIP", "same-day orders qualify"),
        (3800, ServiceLevel::Pickup, "FLAGSHIP", "pickup orders qualify"),
        (3800, ServiceLevel::Expedited, "WH-EAST", "protected stock"),
    ];
    for (value, level, expected, fragment) in cases {
        let mut input = order(lines(), *value, &stock);
        input.service_level = *level;
        input.pickup_location = Some(code("FLAGSHIP"));
        let decision = route(&input, &protect, NOW_MS);
        assert_eq!(shipped(&decision)[0], vec![(expected.to_string(), 3)], "{value} {level:?}");
        assert_explains(&decision, &[fragment]);
    }
    // The full sentence of the issue's example.
    let decision = route(&order(lines(), 3800, &stock), &protect, NOW_MS);
    assert_explains(&decision, &["Ships from Warehouse East (555 km): the only location that can fill all 3 items."]);
    let flagship = &decision.trace.protection[0];
    assert_eq!((flagship.keep_units, flagship.available, flagship.protected_units_used), (2, 4, 0));
}

#[test]
fn protection_rules() {
    // Flagship has 3 X; the order wants 2. Usable there = 3 - keep when refused.
    let stock = [("X", "FLAGSHIP", 3), ("X", "WH-RENO", 9)];
    let nearest = "[ranking]\ncriteria = [{ kind = \"distance\" }]\n";
    // (name, rules, channel, order value in cents, expected location, refusal)
    type ProtectionCase = (&'static str, &'static str, &'static str, i64, &'static str, Option<RefusalReason>);
    let cases: &[ProtectionCase] = &[
        ("no rule", "", "shopify", 1000, "FLAGSHIP", None),
        (
            "by SKU, never released",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 2\n",
            "shopify",
            99_999,
            "WH-RENO",
            Some(RefusalReason::NeverReleased),
        ),
        (
            "keeps 1: two unprotected units are enough",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 1\n",
            "shopify",
            1000,
            "FLAGSHIP",
            Some(RefusalReason::NeverReleased),
        ),
        (
            "every SKU when neither sku nor tag",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nkeep_units = 2\n",
            "shopify",
            1000,
            "WH-RENO",
            Some(RefusalReason::NeverReleased),
        ),
        (
            "released to the point of sale",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 2\n\
             release_to = { channels = [\"pos\"] }\n",
            "pos",
            1000,
            "FLAGSHIP",
            None,
        ),
        (
            "not released to another channel",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 2\n\
             release_to = { channels = [\"pos\"] }\n",
            "shopify",
            1000,
            "WH-RENO",
            Some(RefusalReason::NotQualifying),
        ),
        (
            "a threshold in another currency is never met",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 2\n\
             release_to = { min_order_value = { minor = 100, currency = \"EUR\" } }\n",
            "shopify",
            99_999,
            "WH-RENO",
            Some(RefusalReason::CurrencyDiffers {
                value: usd(99_999),
                threshold: Money::new(100, Currency::parse("EUR").expect("EUR")),
            }),
        ),
        (
            "a refusing rule binds even when another releases",
            "[[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 3\n\
             release_to = { channels = [\"shopify\"] }\n\
             [[protection]]\nlocations = [\"FLAGSHIP\"]\nsku = \"X\"\nkeep_units = 2\n",
            "shopify",
            1000,
            "WH-RENO",
            Some(RefusalReason::NeverReleased),
        ),
    ];
    for (name, rules, channel_name, value, expected, refusal) in cases {
        let mut input = order(vec![line("X", 2)], *value, &stock);
        input.channel = channel(channel_name);
        let decision = route(&input, &policy(&format!("{nearest}{rules}")), NOW_MS);
        assert_eq!(locations_used(&decision), vec![*expected], "{name}: {}", decision.explain());
        let refused = decision.trace.protection.iter().find_map(|p| match &p.verdict {
            ProtectionVerdict::Refused { reason } => Some(reason.clone()),
            ProtectionVerdict::Released { .. } => None,
        });
        assert_eq!(&refused, refusal, "{name}");
    }
}

#[test]
fn split_only_above_the_value_threshold() {
    let threshold = policy(
        "[split]\nstrategy = \"above_value\"\nmin_order_value = { minor = 7500, currency = \"USD\" }\n\
         [ranking]\ncriteria = [{ kind = \"distance\" }]\n",
    );
    let stock = [("X", "FLAGSHIP", 1), ("Y", "WH-EAST", 1)];
    // Below $75: one shipment; the other line is held for a human to approve a split.
    let small = route(&order(vec![line("X", 1), line("Y", 1)], 5000, &stock), &threshold, NOW_MS);
    assert_eq!(locations_used(&small), vec!["FLAGSHIP"]);
    assert!(held(ExceptionKind::SplitOverLimit)(&small.outcome), "{:?}", small.outcome);
    assert_eq!(small.plan.lines[1].backordered, 1);
    assert_explains(
        &small,
        &[
            "Not split: order value $50.00 < $75.00 does not allow a split.",
            "Held as over the split limit: Y ×1: Warehouse East has it",
        ],
    );
    // Above: split into two shipments.
    let large = route(&order(vec![line("X", 1), line("Y", 1)], 12000, &stock), &threshold, NOW_MS);
    assert_eq!(locations_used(&large), vec!["FLAGSHIP", "WH-EAST"]);
    assert_eq!(large.outcome, Outcome::Allocated);
    assert_explains(&large, &["Split into 2 shipments", "order value $120.00 ≥ $75.00 allows a split"]);
    // A threshold in another currency never allows a split.
    let mut euros = order(vec![line("X", 1), line("Y", 1)], 12000, &stock);
    euros.order_value = Money::new(12000, Currency::parse("EUR").expect("EUR"));
    let decision = route(&euros, &threshold, NOW_MS);
    assert_eq!(locations_used(&decision).len(), 1);
    assert!(matches!(decision.trace.split.permission, SplitPermission::CurrencyDiffers { .. }));
}

#[test]
fn warehouse_first_for_high_volume_skus() {
    let warehouse_first = policy(
        "[ranking]\ncriteria = [{ kind = \"warehouse_first\", tag = \"high-volume\" }, { kind = \"distance\" }]\n",
    );
    let stock = [("X", "FLAGSHIP", 5), ("X", "WH-EAST", 5), ("X", "WH-RENO", 5)];
    let high_volume = route(&order(vec![tagged(line("X", 1), "high-volume")], 2000, &stock), &warehouse_first, NOW_MS);
    assert_eq!(locations_used(&high_volume), vec!["WH-EAST"], "nearest warehouse");
    assert_explains(
        &high_volume,
        &["Ships from Warehouse East (555 km): warehouses come first for SKUs tagged \"high-volume\"; among them it \
           holds the item and wins on distance."],
    );
    let ordinary = route(&order(vec![line("X", 1)], 2000, &stock), &warehouse_first, NOW_MS);
    assert_eq!(locations_used(&ordinary), vec!["FLAGSHIP"], "untagged SKUs go by distance");
}

#[test]
fn pickup_reserves_at_the_chosen_store_only() {
    let stock = [("X", "FLAGSHIP", 5), ("X", "STORE-2", 1), ("X", "WH-EAST", 50)];
    let mut input = order(vec![line("X", 2)], 2000, &stock);
    input.service_level = ServiceLevel::Pickup;
    input.pickup_location = Some(code("FLAGSHIP"));
    let ready = route(&input, &Policy::default(), NOW_MS);
    assert_eq!(shipped(&ready), vec![vec![("FLAGSHIP".into(), 2)]]);
    assert_eq!(ready.outcome, Outcome::Allocated);
    assert_explains(&ready, &["Ready for pickup at Flagship: all 2 items reserved at the chosen store."]);

    // Short at Store Two: the unit it has is held for the customer, and the
    // nearest other store with stock is named (warehouses do not do pickup).
    input.pickup_location = Some(code("STORE-2"));
    let short = route(&input, &Policy::default(), NOW_MS);
    assert_eq!(shipped(&short), vec![vec![("STORE-2".into(), 1)]]);
    assert_eq!(
        short.outcome,
        Outcome::Held {
            exception: ExceptionKind::PickupUnavailable,
            nearest_store_with_stock: Some(code("FLAGSHIP")),
            auto_cancel_at_ms: None
        }
    );
    assert_explains(
        &short,
        &["Pickup at Store Two is short: 1 of 2 items reserved.", "Nearest other store with stock: Flagship."],
    );
    // Backorder and dropship make no sense for pickup.
    assert!(short.trace.fallbacks.iter().any(|f| matches!(
        f.result,
        FallbackResult::Skipped { reason: SkipReason::NotForServiceLevel { level: ServiceLevel::Pickup } }
    )));

    // A store that does not offer pickup.
    input.pickup_location = Some(code("WH-EAST"));
    let refused = route(&input, &Policy::default(), NOW_MS);
    assert!(held(ExceptionKind::PickupUnavailable)(&refused.outcome));
    assert!(refused.plan.reservations.is_empty());
    assert_explains(&refused, &["Pickup at Warehouse East is not possible: does not offer pickup."]);
}

#[test]
fn same_day_only_within_the_radius() {
    let same_day =
        policy("[service_levels]\nsame_day_radius_km = 40\n[ranking]\ncriteria = [{ kind = \"priority\" }]\n");
    let mut input = order(vec![line("X", 1)], 2000, &[("X", "STORE-2", 1), ("X", "WH-EAST", 9), ("X", "VENDOR", 9)]);
    input.service_level = ServiceLevel::SameDay;
    let decision = route(&input, &same_day, NOW_MS);
    assert_eq!(locations_used(&decision), vec!["STORE-2"]);
    assert_explains(
        &decision,
        &[
            "Same-day delivery from Store Two",
            "Warehouse East excluded: 555 km away, outside the 40 km same-day radius.",
        ],
    );
    // Nothing within the radius: held, never dropshipped or backordered.
    input.stock.remove(&(sku("X"), code("STORE-2")));
    let decision = route(&input, &same_day, NOW_MS);
    assert!(held(ExceptionKind::Unroutable)(&decision.outcome), "{:?}", decision.outcome);
    assert!(decision.plan.reservations.is_empty());
}

#[test]
fn dropship_fallback_with_lead_time() {
    let chain = policy("[fallback]\nchain = [\"dropship\", \"backorder\", \"hold\"]\n");
    let input = order(vec![line("X", 2), line("Y", 1)], 5000, &[("X", "VENDOR", 10), ("Y", "FLAGSHIP", 3)]);
    let decision = route(&input, &chain, NOW_MS);
    assert_eq!(shipped(&decision), vec![vec![("VENDOR".into(), 2)], vec![("FLAGSHIP".into(), 1)]]);
    assert_eq!(decision.outcome, Outcome::Dropship { expected_ship_ms: NOW_MS + 5 * DAY_MS });
    assert_eq!(decision.lines[0].dropship_units, 2);
    assert_eq!(decision.lines[1].reserved_units, 1);
    assert_explains(
        &decision,
        &["2 items (X ×2) dropshipped by Acme Dropship (lead time 5 days; expected to ship by 2026-06-06)."],
    );
    // Vendors are never a first choice, even when nearer or first by priority.
    let stocked = order(vec![line("X", 1)], 5000, &[("X", "VENDOR", 10), ("X", "WH-RENO", 1)]);
    assert_eq!(locations_used(&route(&stocked, &chain, NOW_MS)), vec!["WH-RENO"]);
    // Without a dropship step, the same order is backordered or held.
    let no_dropship = route(&input, &Policy::default(), NOW_MS);
    assert!(held(ExceptionKind::Unroutable)(&no_dropship.outcome));
}

#[test]
fn held_because_the_only_remaining_stock_is_reserved_for_a_bundle() {
    // The kit (line 1) takes both X at the warehouse; the single X (line 2) is short.
    let kit = bundle("KIT-GIFT", 1, &[("X", 2), ("Y", 1)]);
    let input = order(vec![kit, line("X", 1)], 6000, &[("X", "WH-EAST", 2), ("Y", "WH-EAST", 5)]);
    let decision = route(&input, &Policy::default(), NOW_MS);
    assert_eq!(shipped(&decision), vec![vec![("WH-EAST".into(), 1)], vec![]]);
    assert!(held(ExceptionKind::Unroutable)(&decision.outcome), "{:?}", decision.outcome);
    assert_eq!(
        decision.lines[1].shortage.as_ref().map(|s| &s.cause),
        Some(&ShortageCause::TakenByOtherLine { line: 0, line_sku: sku("KIT-GIFT"), is_bundle: true, units: 2 })
    );
    assert_explains(
        &decision,
        &["Held as unroutable: X ×1: the only remaining stock (2 units) is reserved \
           for bundle KIT-GIFT (line 1) of this order."],
    );

    // The same when the stock is held by other open orders' reservations.
    let mut reserved = order(vec![line("X", 1)], 6000, &[]);
    reserved.stock.insert((sku("X"), code("WH-EAST")), Position { on_hand: 3, reserved: 3, safety_stock: 0 });
    let decision = route(&reserved, &Policy::default(), NOW_MS);
    assert!(held(ExceptionKind::Unroutable)(&decision.outcome));
    assert_explains(&decision, &["the remaining stock (3 units) is reserved for other open orders"]);
}

#[test]
fn expedited_ranks_by_distance_first() {
    let by_priority = policy("[ranking]\ncriteria = [{ kind = \"priority\" }]\n");
    let mut shop = shop();
    shop[2].priority = 0; // Warehouse East first by priority.
    let mut input = order(vec![line("X", 1)], 2000, &[("X", "WH-EAST", 5), ("X", "STORE-2", 5)]);
    input.locations = shop;
    assert_eq!(locations_used(&route(&input, &by_priority, NOW_MS)), vec!["WH-EAST"]);
    input.service_level = ServiceLevel::Expedited;
    let expedited = route(&input, &by_priority, NOW_MS);
    assert_eq!(locations_used(&expedited), vec!["STORE-2"]);
    assert_explains(&expedited, &["(expedited orders go by distance first)"]);
    // The policy may turn that off.
    let mut off = by_priority.clone();
    off.service_levels.expedited_distance_first = false;
    assert_eq!(locations_used(&route(&input, &off, NOW_MS)), vec!["WH-EAST"]);
}

#[test]
fn capacity_limit_excludes_a_store() {
    let capped =
        policy("[eligibility]\ndaily_capacity = { FLAGSHIP = 10 }\n[ranking]\ncriteria = [{ kind = \"distance\" }]\n");
    for (orders_today, expected) in [(9, "FLAGSHIP"), (10, "STORE-2"), (11, "STORE-2")] {
        let mut input = order(vec![line("X", 1)], 2000, &[("X", "FLAGSHIP", 5), ("X", "STORE-2", 5)]);
        input.locations[0].orders_today = orders_today;
        let decision = route(&input, &capped, NOW_MS);
        assert_eq!(locations_used(&decision), vec![expected], "{orders_today} orders today");
        if expected == "STORE-2" {
            assert_explains(
                &decision,
                &[&format!("Flagship excluded: daily capacity reached ({orders_today} of 10 orders today).")],
            );
        }
    }
}

// ---------------------------------------------------------------------------
// One table per rule kind
// ---------------------------------------------------------------------------

/// (name, policy, input tweak, expected locations used)
type Case = (&'static str, &'static str, fn(&mut RoutingInput), &'static [&'static str]);

fn run_cases(cases: &[Case], stock: &[(&str, &str, i64)]) {
    for (name, toml_text, tweak, expected) in cases {
        let mut input = order(vec![line("X", 1)], 2000, stock);
        tweak(&mut input);
        let decision = route(&input, &policy(toml_text), NOW_MS);
        assert_eq!(locations_used(&decision), *expected, "{name}: {}", decision.explain());
    }
}

#[test]
fn eligibility_rules() {
    let everywhere = [("X", "FLAGSHIP", 5), ("X", "STORE-2", 5), ("X", "WH-EAST", 5), ("X", "WH-RENO", 5)];
    let distance = "[ranking]\ncriteria = [{ kind = \"distance\" }]\n";
    let cases: &[Case] = &[
        ("baseline: nearest", distance, |_| {}, &["FLAGSHIP"]),
        (
            "amazon only from Reno",
            "[[eligibility.channels]]\nchannel = \"amazon\"\nonly_locations = [\"WH-RENO\"]\n",
            |input| input.channel = channel("amazon"),
            &["WH-RENO"],
        ),
        (
            "the amazon rule does not touch shopify",
            "[[eligibility.channels]]\nchannel = \"amazon\"\nonly_locations = [\"WH-RENO\"]\n\
             [ranking]\ncriteria = [{ kind = \"distance\" }]\n",
            |_| {},
            &["FLAGSHIP"],
        ),
        (
            "wholesale never from stores",
            "[[eligibility.channels]]\nchannel = \"wholesale\"\nexcept_locations = [\"FLAGSHIP\", \"STORE-2\"]\n\
             [ranking]\ncriteria = [{ kind = \"distance\" }]\n",
            |input| input.channel = channel("wholesale"),
            &["WH-EAST"],
        ),
        (
            "hazmat tag never from stores",
            "[[eligibility.skus]]\ntag = \"hazmat\"\nexcept_locations = [\"FLAGSHIP\", \"STORE-2\"]\n\
             [ranking]\ncriteria = [{ kind = \"distance\" }]\n",
            |input| input.lines[0].tags.push("hazmat".into()),
            &["WH-EAST"],
        ),
        (
            "a SKU only from Reno",
            "[[eligibility.skus]]\nsku = \"X\"\nonly_locations = [\"WH-RENO\"]\n",
            |_| {},
            &["WH-RENO"],
        ),
        (
            "a tagged bundle component restricts the bundle",
            "[[eligibility.skus]]\ntag = \"hazmat\"\nonly_locations = [\"WH-RENO\"]\n",
            |input| {
                input.lines[0] = bundle("KIT", 1, &[("X", 1)]);
                input.component_tags.insert(sku("X"), vec!["hazmat".into()]);
            },
            &["WH-RENO"],
        ),
        (
            "max distance for standard",
            "[eligibility.max_distance_km]\nstandard = 600\n[ranking]\ncriteria = [{ kind = \"priority\" }]\n",
            |input| input.locations[0].active = false,
            &["STORE-2"],
        ),
        (
            "max distance excludes all but Reno is too far too",
            "[eligibility.max_distance_km]\nstandard = 600\n",
            |input| {
                input.stock.retain(|(_, l), _| l.as_str() == "WH-RENO");
            },
            &[],
        ),
        ("inactive is skipped", "", |input| input.locations[0].active = false, &["STORE-2"]),
        ("cannot ship is skipped", "", |input| input.locations[0].can_ship = false, &["STORE-2"]),
    ];
    run_cases(cases, &everywhere);
}

#[test]
fn ranking_criteria() {
    let stock = [("X", "WH-EAST", 3), ("X", "WH-RENO", 9)];
    let rates = r#"
[[shipping_rates]]
location = "WH-EAST"
service_level = "standard"
currency = "USD"
bands = [{ up_to_km = 300, cost_minor = 500 }, { up_to_km = 1000, cost_minor = 1200 }]
[[shipping_rates]]
location = "WH-RENO"
service_level = "standard"
currency = "USD"
bands = [{ up_to_km = 1000, cost_minor = 800 }]
"#;
    let cheapest =
        Box::leak(format!("{rates}[ranking]\ncriteria = [{{ kind = \"shipping_cost\" }}]\n").into_boxed_str());
    let cases: Vec<Case> = vec![
        ("priority", "", |_| {}, &["WH-EAST"]),
        ("distance", "[ranking]\ncriteria = [{ kind = \"distance\" }]\n", |_| {}, &["WH-EAST"]),
        ("shipping cost", cheapest, |_| {}, &["WH-RENO"]),
        ("stock depth", "[ranking]\ncriteria = [{ kind = \"stock_depth\" }]\n", |_| {}, &["WH-RENO"]),
        (
            "lead time",
            "[ranking]\ncriteria = [{ kind = \"lead_time\" }, { kind = \"distance\" }]\n",
            |input| input.locations[2].lead_time_days = 2,
            &["WH-RENO"],
        ),
        (
            "weighted: depth outweighs distance",
            "[ranking]\nmode = \"weighted\"\n\
             criteria = [{ kind = \"distance\", weight = 1 }, { kind = \"stock_depth\", weight = 3 }]\n",
            |_| {},
            &["WH-RENO"],
        ),
        (
            "weighted: distance outweighs depth",
            "[ranking]\nmode = \"weighted\"\n\
             criteria = [{ kind = \"distance\", weight = 3 }, { kind = \"stock_depth\", weight = 1 }]\n",
            |_| {},
            &["WH-EAST"],
        ),
    ];
    run_cases(&cases, &stock);

    // The trace keeps the scores and the explanation names the weighted score.
    let weighted = policy(
        "[ranking]\nmode = \"weighted\"\n\
         criteria = [{ kind = \"distance\", weight = 1 }, { kind = \"stock_depth\", weight = 3 }]\n",
    );
    let decision = route(&order(vec![line("X", 1)], 2000, &stock), &weighted, NOW_MS);
    let reno = decision.trace.candidates.iter().find(|c| c.location.as_str() == "WH-RENO").expect("reno");
    assert_eq!(reno.weighted_score, Some(1.0), "farthest (1 × 1.0) with the deepest stock (3 × 0.0)");
    assert_explains(&decision, &["best weighted score (1.00 against 3.00)"]);
}

#[test]
fn split_rules() {
    // X only at the flagship, Y only at Store Two, both at Warehouse East.
    let stock =
        [("X", "FLAGSHIP", 1), ("Y", "STORE-2", 1), ("X", "WH-EAST", 1), ("Y", "WH-EAST", 1), ("Z", "WH-RENO", 1)];
    let two = || vec![line("X", 1), line("Y", 1)];
    let cases: &[(&str, &str, Vec<RoutingLine>, &[&str])] = &[
        ("whole order beats a split by default", "", two(), &["WH-EAST"]),
        (
            "a nearer split beyond the km tolerance",
            "[split]\nprefer_single_within_km = 100\n",
            two(),
            &["FLAGSHIP", "STORE-2"],
        ),
        ("the whole order within the km tolerance", "[split]\nprefer_single_within_km = 1000\n", two(), &["WH-EAST"]),
        (
            "max shipments caps a split",
            "[split]\nmax_shipments = 2\n",
            vec![line("X", 1), line("Y", 1), line("Z", 1)],
            &["WH-EAST", "WH-RENO"],
        ),
        ("never split", "[split]\nstrategy = \"never\"\n", vec![line("X", 1), line("Z", 1)], &["FLAGSHIP"]),
    ];
    for (name, toml_text, lines, expected) in cases {
        let decision = route(&order(lines.clone(), 20000, &stock), &policy(toml_text), NOW_MS);
        assert_eq!(locations_used(&decision), *expected, "{name}: {}", decision.explain());
    }

    let nearer = route(&order(two(), 20000, &stock), &policy("[split]\nprefer_single_within_km = 100\n"), NOW_MS);
    assert_explains(
        &nearer,
        &[
            "Warehouse East holds everything but is 554 km farther than Flagship",
            "beyond the tolerance, so the order is split.",
        ],
    );
    let kept = route(&order(two(), 20000, &stock), &policy("[split]\nprefer_single_within_km = 1000\n"), NOW_MS);
    assert_explains(&kept, &["Ships from Warehouse East", "within the tolerance."]);

    // Three lines at three places, at most two shipments: the third is over the limit.
    let capped = policy("[split]\nmax_shipments = 2\n");
    let stock3 = [("X", "FLAGSHIP", 1), ("Y", "STORE-2", 1), ("Z", "WH-RENO", 1)];
    let decision = route(&order(vec![line("X", 1), line("Y", 1), line("Z", 1)], 20000, &stock3), &capped, NOW_MS);
    assert_eq!(decision.plan.locations_used(), 2);
    assert!(held(ExceptionKind::SplitOverLimit)(&decision.outcome), "{:?}", decision.outcome);
    // Split-blocked units are not backordered even when the SKU allows it.
    let lines = vec![backorderable(line("X", 1)), backorderable(line("Y", 1)), backorderable(line("Z", 1))];
    let decision = route(&order(lines, 20000, &stock3), &capped, NOW_MS);
    assert!(held(ExceptionKind::SplitOverLimit)(&decision.outcome));
    assert_explains(
        &decision,
        &["What is left unfilled waits for a person to approve a split, not for a restock: another location has \
           the stock."],
    );

    // No single location fills X ×3 + Y ×1. "fewest_shipments" (the
    // default) takes the location filling the most first; "ranking" the
    // best-ranked location that has anything.
    let stock_fill = [("X", "FLAGSHIP", 1), ("X", "WH-EAST", 2), ("Y", "WH-EAST", 1)];
    let lines = vec![line("X", 3), line("Y", 1)];
    let fewest = route(&order(lines.clone(), 20000, &stock_fill), &Policy::default(), NOW_MS);
    assert_eq!(
        shipped(&fewest),
        vec![vec![("WH-EAST".into(), 2), ("FLAGSHIP".into(), 1)], vec![("WH-EAST".into(), 1)]]
    );
    let by_rank =
        route(&order(lines.clone(), 20000, &stock_fill), &policy("[split]\nfill_order = \"ranking\"\n"), NOW_MS);
    assert_eq!(
        shipped(&by_rank),
        vec![vec![("FLAGSHIP".into(), 1), ("WH-EAST".into(), 2)], vec![("WH-EAST".into(), 1)]]
    );
    // One shipment only: the location filling the most ships; the rest is over the limit.
    let single = route(&order(lines, 20000, &stock_fill), &policy("[split]\nmax_shipments = 1\n"), NOW_MS);
    assert_eq!(locations_used(&single), vec!["WH-EAST"]);
    assert!(held(ExceptionKind::SplitOverLimit)(&single.outcome));
    assert_explains(&single, &["Ships 3 of 4 items from Warehouse East (555 km): no location holds all 4 items."]);
}

#[test]
fn fallback_chain() {
    let input = || order(vec![backorderable(line("X", 3)), line("Y", 1)], 5000, &[("X", "WH-EAST", 1)]);
    // Backorder what may wait; hold the rest; auto-cancel the held order.
    let chain = policy(
        "[fallback]\nchain = [\"backorder\", \"hold\", \"auto_cancel\"]\n\
         backorder_restock_days = 10\nauto_cancel_after_hours = 48\n",
    );
    let decision = route(&input(), &chain, NOW_MS);
    assert_eq!(shipped(&decision), vec![vec![("WH-EAST".into(), 1)], vec![]]);
    assert_eq!(decision.lines[0].backordered_units, 2);
    assert_eq!(decision.lines[0].expected_restock_ms, Some(NOW_MS + 10 * DAY_MS));
    assert_eq!(decision.lines[1].held_units, 1);
    assert_eq!(
        decision.outcome,
        Outcome::Held {
            exception: ExceptionKind::Unroutable,
            nearest_store_with_stock: None,
            auto_cancel_at_ms: Some(NOW_MS + 48 * 3_600_000)
        }
    );
    assert_eq!((decision.plan.lines[0].backordered, decision.plan.lines[1].backordered), (2, 1));
    assert_explains(
        &decision,
        &[
            "2 items (X ×2) backordered; restock expected by 2026-06-11.",
            "Held as unroutable: Y ×1: no eligible location has it.",
            "cancelled automatically at 2026-06-03 00:00 UTC",
        ],
    );

    // Everything may wait: partially allocated with an expected date.
    let waits = order(vec![backorderable(line("X", 3))], 5000, &[("X", "WH-EAST", 1)]);
    assert_eq!(
        route(&waits, &Policy::default(), NOW_MS).outcome,
        Outcome::PartiallyAllocated { expected_restock_ms: NOW_MS + 14 * DAY_MS }
    );
    let nothing = order(vec![backorderable(line("X", 3))], 5000, &[]);
    assert_eq!(
        route(&nothing, &Policy::default(), NOW_MS).outcome,
        Outcome::Backordered { expected_restock_ms: NOW_MS + 14 * DAY_MS }
    );

    // An empty chain still holds what is left, and says so.
    let empty = policy("[fallback]\nchain = []\n");
    let decision = route(&input(), &empty, NOW_MS);
    assert!(held(ExceptionKind::Unroutable)(&decision.outcome));
    assert!(decision.trace.fallbacks.iter().any(|f| f.implicit));
    assert_explains(&decision, &["(the fallback chain has no further step)"]);

    // Stock only at an excluded location is named.
    let mut capped = order(vec![line("Y", 1)], 5000, &[("Y", "WH-EAST", 1)]);
    capped.locations[2].active = false;
    let decision = route(&capped, &Policy::default(), NOW_MS);
    assert_explains(&decision, &["only Warehouse East has it, and it is excluded for this order"]);
}

#[test]
fn estimated_distances_when_the_address_has_no_coordinates() {
    let nearest = policy("[ranking]\ncriteria = [{ kind = \"distance\" }, { kind = \"priority\" }]\n");
    let mut locations = shop();
    for (location, (postal, region)) in
        locations.iter_mut().zip([("97209", "OR"), ("97005", "OR"), ("83702", "ID"), ("89501", "NV"), ("10001", "NY")])
    {
        location.postal_code = postal.into();
        location.region = region.into();
    }
    let mut input = order(vec![line("X", 1)], 2000, &[("X", "STORE-2", 1), ("X", "WH-EAST", 1)]);
    input.locations = locations;
    input.ship_to.lat = None;
    input.ship_to.lon = None;
    input.ship_to.postal_code = "97005".into(); // Beaverton: Store Two's prefix
    let decision = route(&input, &nearest, NOW_MS);
    assert_eq!(locations_used(&decision), vec!["STORE-2"]);
    assert_eq!(decision.trace.distance_source, DistanceSummary::Estimated);
    let store_two = &decision.trace.candidates[1];
    assert_eq!(store_two.distance_source, geo::DistanceSource::Estimated(geo::AddressTier::SamePostalPrefix));
    assert_eq!(store_two.distance_km, 25.0);
    assert_explains(&decision, &["Ships from Store Two (same postal area)", "Distances are estimated"]);
}

// ---------------------------------------------------------------------------
// Policy data: default, example, JSON
// ---------------------------------------------------------------------------

#[test]
fn an_empty_policy_is_the_default() {
    assert_eq!(policy(""), Policy::default());
    let text = Policy::default().to_toml().expect("serialize");
    assert_eq!(policy(&text), Policy::default());
}

#[test]
fn the_documented_example_is_valid() {
    let text = include_str!("example_policy.toml");
    let locations: Vec<LocationCode> =
        ["FLAGSHIP", "STORE-2", "WH-EAST", "WH-RENO", "VENDOR"].iter().map(|c| code(c)).collect();
    let tags: Vec<String> = ["bestseller", "high-volume", "hazmat"].iter().map(|t| t.to_string()).collect();
    let parsed = Policy::from_toml_validated(text, &locations, &tags).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.protection.len(), 2);
    assert_eq!(parsed.fallback.chain.len(), 4);
    // Round trips through TOML and JSON.
    assert_eq!(policy(&parsed.to_toml().expect("toml")), parsed);
    let json = serde_json::to_string(&parsed).expect("json");
    assert_eq!(serde_json::from_str::<Policy>(&json).expect("from json"), parsed);
    // An unknown field in JSON is refused too.
    assert!(serde_json::from_str::<Policy>(r#"{"splitt": {}}"#).is_err());
}

#[test]
fn decisions_and_inputs_serialize_to_json() {
    let input = order(vec![line("X", 1)], 2000, &[("X", "WH-EAST", 1)]);
    let decision = route(&input, &Policy::default(), NOW_MS);
    let json = serde_json::to_value(&decision).expect("decision json");
    assert_eq!(json["outcome"]["status"], "allocated");
    assert_eq!(json["plan"]["lines"][0]["allocations"][0]["location"], "WH-EAST");
    assert_eq!(json["trace"]["selection"]["selected"], "whole_order");
    let input_json = serde_json::to_string(&input).expect("input json");
    assert_eq!(serde_json::from_str::<RoutingInput>(&input_json).expect("input back"), input);
}

#[test]
fn absurd_numbers_do_not_panic() {
    let mut input = order(vec![line("X", i64::MAX), line("Y", i64::MIN), line("X", i64::MAX)], i64::MIN, &[]);
    input
        .stock
        .insert((sku("X"), code("WH-EAST")), Position { on_hand: i64::MAX, reserved: -1, safety_stock: i64::MIN });
    input.stock.insert((sku("X"), code("WH-RENO")), position(crate::stock::MAX_UNITS));
    input.lines.push(bundle("KIT", 3, &[("X", i64::MAX), ("Y", 0), ("X", -4)]));
    input.locations[0].lat = Some(f64::NAN);
    input.ship_to.lon = Some(f64::INFINITY);
    let chain = policy(
        "[fallback]\nchain = [\"dropship\", \"backorder\", \"hold\", \"auto_cancel\"]\nauto_cancel_after_hours = 1\n",
    );
    for now_ms in [i64::MIN, 0, i64::MAX] {
        let decision = route(&input, &chain, now_ms);
        // The corrupt row is never planned from; the sound one is.
        assert!(decision.plan.reservations.iter().all(|r| r.location.as_str() == "WH-RENO"));
        assert!(!decision.explain().is_empty());
    }
}

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

const SKUS: [&str; 3] = ["A", "B", "C"];
const LOCATION_CODES: [&str; 5] = ["S1", "S2", "W1", "W2", "D1"];
const TAGS: [&str; 2] = ["bestseller", "high-volume"];

fn arbitrary_line() -> impl Strategy<Value = RoutingLine> {
    (0..4usize, -1..6i64, proptest::collection::vec(0..2usize, 0..2), any::<bool>()).prop_map(
        |(which, quantity, tags, may_backorder)| {
            let units = if which == 3 { vec![(sku("A"), 2), (sku("B"), 1)] } else { vec![(sku(SKUS[which]), 1)] };
            RoutingLine {
                sku: sku(if which == 3 { "KIT" } else { SKUS[which] }),
                quantity,
                units,
                tags: tags.into_iter().map(|t| TAGS[t].to_owned()).collect(),
                may_backorder,
            }
        },
    )
}

fn arbitrary_location(index: usize) -> impl Strategy<Value = RoutingLocation> {
    (any::<[bool; 4]>(), 0..5i32, proptest::option::of((44.0..47.0f64, -124.0..-116.0f64)), 0..4u32, 0..6u32).prop_map(
        move |([active, can_ship, can_pickup, _], priority, coordinates, lead_time_days, orders_today)| {
            let kind = match index {
                0 | 1 => LocationKind::Store,
                2 | 3 => LocationKind::Warehouse,
                _ => LocationKind::Dropship,
            };
            RoutingLocation {
                code: code(LOCATION_CODES[index]),
                name: LOCATION_CODES[index].to_owned(),
                kind,
                lat: coordinates.map(|(lat, _)| lat),
                lon: coordinates.map(|(_, lon)| lon),
                postal_code: format!("97{index}01"),
                region: "OR".to_owned(),
                country: "US".to_owned(),
                can_ship: can_ship || index > 1,
                can_pickup,
                active: active || index == 0,
                priority,
                lead_time_days,
                orders_today,
            }
        },
    )
}

fn arbitrary_protection() -> impl Strategy<Value = ProtectionRule> {
    (
        proptest::sample::subsequence(LOCATION_CODES.to_vec(), 1..3),
        0..4usize,
        0..4i64,
        proptest::option::of(0..15000i64),
        proptest::sample::subsequence(vec![ServiceLevel::SameDay, ServiceLevel::Pickup, ServiceLevel::Expedited], 0..2),
        any::<bool>(),
    )
        .prop_map(|(locations, target, keep_units, min_value, service_levels, pos_channel)| ProtectionRule {
            locations: locations.into_iter().map(code).collect(),
            sku: (target < 2).then(|| sku(SKUS[target])),
            tag: (target == 2).then(|| TAGS[0].to_owned()),
            keep_units,
            release_to: ReleaseConditions {
                min_order_value: min_value.map(usd),
                service_levels,
                channels: if pos_channel { vec![channel("pos")] } else { Vec::new() },
            },
        })
}

fn arbitrary_policy() -> impl Strategy<Value = Policy> {
    let criteria = proptest::sample::subsequence(
        vec![
            Criterion::Distance { weight: 1.0 },
            Criterion::Priority { weight: 1.0 },
            Criterion::StockDepth { weight: 1.0 },
            Criterion::LeadTime { weight: 1.0 },
            Criterion::WarehouseFirst { tag: TAGS[1].to_owned(), weight: 1.0 },
            Criterion::ShippingCost { weight: 1.0 },
        ],
        1..4,
    );
    let chain = prop_oneof![
        Just(vec![FallbackStep::Dropship, FallbackStep::Backorder, FallbackStep::Hold]),
        Just(vec![FallbackStep::Backorder, FallbackStep::Dropship, FallbackStep::Hold, FallbackStep::AutoCancel]),
        Just(vec![FallbackStep::Backorder]),
        Just(vec![FallbackStep::Hold]),
        Just(vec![]),
    ];
    (
        proptest::collection::vec(arbitrary_protection(), 0..3),
        (criteria, any::<bool>()),
        (0..3u8, 0..12000i64, proptest::option::of(1..4i64), any::<bool>(), proptest::option::of(0.0..500.0f64)),
        chain,
        (proptest::option::of(0..4i64), proptest::option::of(50.0..400.0f64), any::<bool>()),
    )
        .prop_map(|(protection, (criteria, weighted), split, chain, (capacity, radius, amazon_rule))| {
            let (strategy, threshold, max_shipments, ranking_fill, tolerance_km) = split;
            let mut policy = Policy { protection, ..Policy::default() };
            policy.ranking.criteria = criteria;
            policy.ranking.mode = if weighted { RankingMode::Weighted } else { RankingMode::Lexicographic };
            policy.split.strategy =
                [SplitStrategy::Never, SplitStrategy::AboveValue, SplitStrategy::Always][strategy as usize];
            policy.split.min_order_value = Some(usd(threshold));
            policy.split.max_shipments = max_shipments;
            policy.split.fill_order =
                if ranking_fill { SplitFillOrder::Ranking } else { SplitFillOrder::FewestShipments };
            policy.split.prefer_single_within_km = tolerance_km;
            policy.fallback.chain = chain;
            policy.fallback.auto_cancel_after_hours = Some(24);
            policy.service_levels.same_day_radius_km = radius;
            if let Some(max_orders) = capacity {
                policy.eligibility.daily_capacity.insert(code("S1"), max_orders);
            }
            if amazon_rule {
                policy.eligibility.channels.push(ChannelRule {
                    channel: channel("amazon"),
                    only_locations: vec![code("W1"), code("D1")],
                    except_locations: Vec::new(),
                });
            }
            policy.shipping_rates.push(RateTable {
                location: code("W1"),
                service_level: ServiceLevel::Standard,
                currency: Currency::parse("USD").expect("USD"),
                bands: vec![RateBand { up_to_km: 300.0, cost_minor: 500 }],
            });
            policy
        })
}

fn arbitrary_input() -> impl Strategy<Value = RoutingInput> {
    let locations = (0..LOCATION_CODES.len()).map(arbitrary_location).collect::<Vec<_>>();
    let stock = proptest::collection::vec((0..8i64, 0..8i64, 0..3i64), SKUS.len() * LOCATION_CODES.len());
    (
        proptest::collection::vec(arbitrary_line(), 1..5),
        locations,
        stock,
        (0..4usize, 0..5usize, 0..20000i64, 0..3usize),
        proptest::option::of((44.0..47.0f64, -124.0..-116.0f64)),
    )
        .prop_map(|(lines, locations, stock, (level, pickup, value, channel_index), ship_to)| RoutingInput {
            lines,
            order_value: usd(value),
            channel: channel(["shopify", "amazon", "pos"][channel_index]),
            service_level: [
                ServiceLevel::Standard,
                ServiceLevel::Expedited,
                ServiceLevel::SameDay,
                ServiceLevel::Pickup,
            ][level],
            ship_to: Destination {
                lat: ship_to.map(|(lat, _)| lat),
                lon: ship_to.map(|(_, lon)| lon),
                postal_code: "97101".to_owned(),
                region: "OR".to_owned(),
                country: "US".to_owned(),
            },
            pickup_location: Some(code(LOCATION_CODES[pickup])),
            locations,
            component_tags: BTreeMap::from([(sku("A"), vec![TAGS[0].to_owned()])]),
            stock: stock
                .into_iter()
                .enumerate()
                .map(|(i, (on_hand, reserved, safety_stock))| {
                    let key = (sku(SKUS[i % SKUS.len()]), code(LOCATION_CODES[i / SKUS.len()]));
                    (key, Position { on_hand, reserved: reserved.min(on_hand), safety_stock })
                })
                .collect(),
            avoid: Vec::new(),
        })
}

/// Whether the order may use a rule's protected units, computed
/// independently of the engine.
fn qualifies(rule: &ProtectionRule, input: &RoutingInput) -> bool {
    let release = &rule.release_to;
    release
        .min_order_value
        .is_some_and(|t| t.currency() == input.order_value.currency() && input.order_value.minor() >= t.minor())
        || release.service_levels.contains(&input.service_level)
        || release.channels.contains(&input.channel)
}

fn rule_covers(rule: &ProtectionRule, stock_sku: &Sku, input: &RoutingInput) -> bool {
    match (&rule.sku, &rule.tag) {
        (Some(s), _) => s == stock_sku,
        (None, Some(tag)) => {
            input.lines.iter().any(|l| &l.sku == stock_sku && l.tags.contains(tag))
                || input.component_tags.get(stock_sku).is_some_and(|t| t.contains(tag))
        }
        (None, None) => true,
    }
}

fn allowed_shipments(policy: &Policy, input: &RoutingInput) -> Option<usize> {
    let split_allowed = input.service_level != ServiceLevel::Pickup
        && match policy.split.strategy {
            SplitStrategy::Always => true,
            SplitStrategy::Never => false,
            SplitStrategy::AboveValue => policy.split.min_order_value.is_some_and(|t| {
                t.currency() == input.order_value.currency() && input.order_value.minor() >= t.minor()
            }),
        };
    if split_allowed {
        policy.split.max_shipments.map(|m| m as usize)
    } else {
        Some(1)
    }
}

fn reserved_at(plan: &AllocationPlan) -> BTreeMap<(Sku, LocationCode), i64> {
    let mut totals = BTreeMap::new();
    for r in &plan.reservations {
        *totals.entry((r.sku.clone(), r.location.clone())).or_insert(0) += r.quantity;
    }
    totals
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decisions_keep_the_invariants(input in arbitrary_input(), policy in arbitrary_policy()) {
        prop_assert!(policy.check().is_ok(), "generated policy invalid: {:?}", policy.check());
        let decision = route(&input, &policy, NOW_MS);
        let reserved = reserved_at(&decision.plan);

        // Never more than available at any (sku, location).
        for ((sku, location), units) in &reserved {
            let available = input.stock.get(&(sku.clone(), location.clone())).map_or(0, Position::available);
            prop_assert!(*units <= available, "{sku}@{location}: {units} > {available}");
        }
        // Never a protected unit to an order that does not qualify.
        for rule in policy.protection.iter().filter(|r| !qualifies(r, &input)) {
            for location in &rule.locations {
                for ((sku, at), units) in &reserved {
                    if at == location && rule_covers(rule, sku, &input) {
                        let available = input.stock.get(&(sku.clone(), at.clone())).map_or(0, Position::available);
                        prop_assert!(
                            *units <= (available - rule.keep_units).max(0),
                            "protection broken at {at} for {sku}"
                        );
                    }
                }
            }
        }
        // Never more shipments than the split rules allow.
        if let Some(max) = allowed_shipments(&policy, &input) {
            prop_assert!(decision.plan.locations_used() <= max, "{} > {max}", decision.plan.locations_used());
        }
        // Every unit is accounted for, and reservations match allocations.
        for (i, line) in input.lines.iter().enumerate() {
            let wanted = line.quantity.max(0);
            let planned: i64 = decision.plan.lines[i].allocations.iter().map(|(_, n)| n).sum();
            prop_assert_eq!(planned + decision.plan.lines[i].backordered, wanted);
            let outcome = &decision.lines[i];
            prop_assert_eq!(
                outcome.reserved_units + outcome.dropship_units + outcome.backordered_units + outcome.held_units,
                wanted
            );
            for (location, n) in &decision.plan.lines[i].allocations {
                for (unit_sku, per) in &line.units {
                    let held_units: i64 = decision.plan.reservations.iter()
                        .filter(|r| r.line == i && &r.location == location && &r.sku == unit_sku)
                        .map(|r| r.quantity).sum();
                    prop_assert_eq!(held_units, n * per);
                }
                let candidate = input.locations.iter().find(|l| &l.code == location).expect("known location");
                prop_assert!(candidate.active);
                if input.service_level == ServiceLevel::Pickup {
                    prop_assert_eq!(Some(location), input.pickup_location.as_ref());
                }
            }
        }
        // The outcome agrees with the lines.
        let any_held = decision.lines.iter().any(|l| l.held_units > 0);
        prop_assert_eq!(matches!(decision.outcome, Outcome::Held { .. }), any_held);
        prop_assert!(!decision.explain().is_empty());
        prop_assert!(serde_json::to_string(&decision).is_ok());
    }

    /// With the default policy the engine plans exactly what `FewestLocations` plans.
    #[test]
    fn the_default_policy_matches_fewest_locations(
        lines in proptest::collection::vec((0..4usize, -1..7i64), 1..5),
        stock in proptest::collection::vec((0..9i64, 0..4i64, 0..3i64), 9),
        flags in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<bool>(), 0..3i32), 3),
        level in 0..4usize,
        pickup in 0..4usize,
    ) {
        let codes = ["L1", "L2", "L3"];
        let request = AllocationRequest {
            lines: lines.iter().map(|&(which, quantity)| {
                let units = match which {
                    3 => vec![(sku("A"), 2), (sku("B"), 1)],
                    _ => vec![(sku(SKUS[which]), 1)],
                };
                LineRequest { sku: sku(if which == 3 { "KIT" } else { SKUS[which] }), quantity, units }
            }).collect(),
            service_level: [
                ServiceLevel::Standard,
                ServiceLevel::Expedited,
                ServiceLevel::SameDay,
                ServiceLevel::Pickup
            ][level],
            pickup_location: codes.get(pickup).map(|c| code(c)),
            locations: flags.iter().zip(codes).map(|(&(active, can_ship, can_pickup, priority), c)| CandidateLocation {
                code: code(c), priority, can_ship, can_pickup, active,
            }).collect(),
            stock: stock.iter().enumerate().map(|(i, &(on_hand, reserved, safety_stock))| {
                (
                    (sku(SKUS[i % 3]), code(codes[i / 3])),
                    Position { on_hand, reserved: reserved.min(on_hand), safety_stock }
                )
            }).collect(),
        };
        prop_assert_eq!(PolicyAllocator::default().allocate(&request), FewestLocations.allocate(&request));
    }
}

// ---------------------------------------------------------------------------
// Issue 7: explanations never contradict the facts
// ---------------------------------------------------------------------------

/// A decision is made at placement, when nothing has shipped yet.
#[test]
fn an_explanation_at_placement_never_says_shipped() {
    let whole = route(&order(vec![line("X", 2)], 4000, &[("X", "WH-EAST", 5)]), &Policy::default(), NOW_MS);
    let short = route(
        &order(vec![line("X", 3), line("Y", 1)], 20000, &[("X", "WH-EAST", 2), ("Y", "WH-EAST", 1)]),
        &policy("[split]\nmax_shipments = 1\n"),
        NOW_MS,
    );
    for decision in [&whole, &short] {
        let text = decision.explain();
        assert!(!text.contains("Shipped"), "{text}");
    }
    assert_explains(&whole, &["Ships from Warehouse East (555 km): the only location that can fill all 2 items."]);
    assert_explains(&short, &["Ships 3 of 4 items from Warehouse East (555 km)"]);
}

/// The order's lines count every unfilled unit as `backordered`; the
/// explanation must not say "Not backordered" beside them.
#[test]
fn an_explanation_never_says_not_backordered_beside_unfilled_units() {
    let no_backorder = route(&order(vec![line("X", 3)], 5000, &[("X", "WH-EAST", 1)]), &Policy::default(), NOW_MS);
    let split_blocked = route(
        &order(
            vec![backorderable(line("X", 1)), backorderable(line("Y", 1))],
            2000,
            &[("X", "FLAGSHIP", 1), ("Y", "STORE-2", 1)],
        ),
        &policy("[split]\nstrategy = \"never\"\n"),
        NOW_MS,
    );
    for decision in [&no_backorder, &split_blocked] {
        assert!(decision.plan.lines.iter().any(|l| l.backordered > 0), "{:?}", decision.plan);
        let text = decision.explain();
        assert!(!text.contains("Not backordered"), "{text}");
    }
    assert_explains(&no_backorder, &["Those SKUs may not wait for a restock: what is left unfilled is held"]);
    assert_explains(&split_blocked, &["waits for a person to approve a split, not for a restock"]);
}

/// A location the order must avoid (it could not find the item) is named as
/// such; the chosen one is not called the only location holding the items.
#[test]
fn an_avoided_location_is_named_and_never_called_empty() {
    let mut input = order(vec![line("X", 2)], 4000, &[("X", "FLAGSHIP", 5), ("X", "WH-EAST", 5)]);
    input.avoid = vec![(sku("X"), code("FLAGSHIP"))];
    let decision = route(&input, &Policy::default(), NOW_MS);
    assert_eq!(locations_used(&decision), vec!["WH-EAST"]);
    assert_eq!(decision.trace.avoided, vec![(code("FLAGSHIP"), sku("X"))]);
    let text = decision.explain();
    assert!(!text.contains("the only location holding"), "{text}");
    assert_explains(
        &decision,
        &[
            "Ships from Warehouse East (555 km): the only location that can fill all 2 items.",
            "Flagship is not used for SKU X: it could not find the item.",
        ],
    );
}

/// Issue 7: the shadow-report comparison was tested on hand-made JSON. It
/// now reads what a `Decision` serializes to, typed, and agrees with the
/// decision itself.
#[test]
fn the_shadow_comparison_reads_real_serialized_decisions() {
    use super::compare::{differences, ComparisonTotals, DecisionSummary, Difference, RecordedDecision};
    let stock = [("X", "FLAGSHIP", 1), ("Y", "STORE-2", 1), ("X", "WH-EAST", 1), ("Y", "WH-EAST", 1)];
    let input = order(vec![line("X", 1), line("Y", 1)], 20000, &stock);
    let whole = route(&input, &Policy::default(), NOW_MS);
    let split = route(&input, &policy("[split]\nprefer_single_within_km = 100\n"), NOW_MS);
    let recorded = |d: &Decision| -> RecordedDecision {
        let json = serde_json::to_string(d).expect("a decision serializes");
        serde_json::from_str(&json).expect("a recorded decision reads back")
    };
    let (a, b) = (DecisionSummary::of_recorded(&recorded(&whole)), DecisionSummary::of_recorded(&recorded(&split)));
    assert_eq!(a, DecisionSummary::of(&whole), "the record says what the decision said");
    assert_eq!(b, DecisionSummary::of(&split));
    assert_eq!((a.locations.clone(), a.shipments, a.unfilled_units), (vec![code("WH-EAST")], 1, 0));
    assert_eq!((b.locations.clone(), b.shipments), (vec![code("FLAGSHIP"), code("STORE-2")], 2));
    assert!(a.max_distance_km > 500.0 && b.max_distance_km < 20.0, "{a:?} {b:?}");
    let found = differences(&a, &b);
    assert_eq!(
        found[..2],
        [
            Difference::Locations {
                current: vec![code("WH-EAST")],
                candidate: vec![code("FLAGSHIP"), code("STORE-2")]
            },
            Difference::Shipments { current: 1, candidate: 2 },
        ]
    );
    assert!(matches!(found[2], Difference::Distance { .. }), "{found:?}");
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].to_string(), "ships from FLAGSHIP + STORE-2 instead of WH-EAST");
    assert!(differences(&a, &a).is_empty());
    let mut totals = ComparisonTotals::default();
    totals.add(&a, &b);
    totals.add(&a, &a);
    assert_eq!((totals.orders_compared, totals.orders_different, totals.more_shipments, totals.nearer), (2, 1, 1, 1));
    // A record that is not a decision is an error, not an empty comparison.
    assert!(serde_json::from_str::<RecordedDecision>("{\"plan\": {}}").is_err());
}
