//! Catalogue health (`Engine::doctor`), the overview and "simulate the last
//! N days" (issue 10, items 4–6), on both backends: each doctor finding
//! planted in a real database and found, a clean shop finding nothing; the
//! overview's trend, channels per day and exception ages from orders placed
//! on known days; the shop's own orders replayed under two policies from the
//! stock they consumed given back.

mod common;

use std::sync::Arc;

use common::{loc, sku, web_order};

use switchyard_core::doctor::FindingKind;
use switchyard_core::metrics::DAY_MS;
use switchyard_core::routing::Policy;
use switchyard_core::{ChannelName, NewShipment, PaymentState, Quantity, SkuDef};
use switchyard_engine::{Config, Engine, Error, IdGen, ManualClock};
use switchyard_store::testing::{warehouse, Backend, TestDb};

both!(
    a_clean_shop_has_nothing_to_fix,
    a_page_reuses_a_recent_report_until_it_ages_or_the_catalogue_changes,
    every_planted_problem_is_found_with_its_fix,
    the_overview_compares_periods_and_counts_channels_per_day,
    the_last_days_replay_from_the_stock_they_consumed,
);

/// Midnight UTC, 2026-11-01.
const START: i64 = 20_758 * DAY_MS;
const HOUR: i64 = 3_600_000;

use common::Clocked as T;

/// WH (Reno, coordinates from its ZIP code) with 5 × TEE and 3 × MUG.
async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(START));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(7)).await.expect("open engine");
    e.put_location(&warehouse("WH", 1)).await.expect("location");
    e.put_sku(&SkuDef::plain(sku("TEE"), "Cotton tee, red")).await.expect("sku");
    e.put_sku(&SkuDef::plain(sku("MUG"), "Stoneware mug")).await.expect("sku");
    e.set_stock(&sku("TEE"), &loc("WH"), 5, None, "start").await.expect("stock");
    e.set_stock(&sku("MUG"), &loc("WH"), 3, None, "start").await.expect("stock");
    T { e: Arc::new(e), clock }
}

async fn order(t: &T, channel: &str, ext: &str, lines: &[(&str, i64)]) -> String {
    let mut o = web_order(ext, lines, 1000, 1000 * lines.iter().map(|(_, q)| q).sum::<i64>(), PaymentState::Paid);
    o.channel = ChannelName::parse(channel).expect("channel");
    t.create_order(&o).await.expect("order").0.id
}

async fn a_clean_shop_has_nothing_to_fix(t: T) {
    order(&t, "web", "A", &[("TEE", 1), ("MUG", 1)]).await;
    let r = t.doctor(30).await.expect("doctor");
    assert!(r.is_clean(), "{:#?}", r.findings);
    assert_eq!((r.skus_checked, r.locations_checked, r.policies_checked, r.window_days), (2, 1, 0, 30));
    assert!(matches!(t.doctor(0).await, Err(Error::Invalid(_))));
    assert!(matches!(t.doctor(367).await, Err(Error::Invalid(_))));
}

/// The overview shows the health check on every load: a report at most a
/// minute old is reused (an order in between does not make it again); an
/// older one, or one made before a change to the catalogue, is made afresh.
async fn a_page_reuses_a_recent_report_until_it_ages_or_the_catalogue_changes(t: T) {
    let (first, at) = t.doctor_recent(30, 60_000).await.expect("doctor");
    assert_eq!(at, START);
    order(&t, "web", "A", &[("TEE", 1)]).await;
    t.clock.advance_ms(60_000);
    let (again, at) = t.doctor_recent(30, 60_000).await.expect("doctor");
    assert_eq!((at, &again), (START, &first), "a minute old: reused");
    assert_eq!(t.doctor_recent(7, 60_000).await.expect("doctor").1, START + 60_000, "another window: made");
    t.clock.advance_ms(1);
    assert_eq!(t.doctor_recent(7, 60_000).await.expect("doctor").1, START + 60_000, "7 days: still fresh");
    assert_eq!(t.doctor_recent(30, 60_000).await.expect("doctor").1, START + 60_001, "older: made again");
    // A near-duplicate SKU appears at once: a catalogue change forgets it.
    t.put_sku(&SkuDef::plain(sku("tee"), "Cotton tee, red")).await.expect("sku");
    let (r, at) = t.doctor_recent(30, 60_000).await.expect("doctor");
    assert_eq!(at, START + 60_001);
    assert!(r.findings.iter().any(|f| f.kind == FindingKind::DuplicateSku), "{:#?}", r.findings);
}

async fn every_planted_problem_is_found_with_its_fix(t: T) {
    // Near-duplicates: a code differing in case and punctuation; a title typo.
    t.put_sku(&SkuDef::plain(sku("tee_"), "Cotton tee (old code)")).await.expect("sku");
    t.put_sku(&SkuDef::plain(sku("CANDLE-1"), "Soy candle, lavender")).await.expect("sku");
    t.put_sku(&SkuDef::plain(sku("CANDLE-2"), "Soy candle, lavendr")).await.expect("sku");
    // Sells with nothing on hand anywhere: VASE ordered with no stock row,
    // MUG counted down to 0 after it sold.
    t.put_sku(&SkuDef::plain(sku("VASE"), "Glass vase")).await.expect("sku");
    order(&t, "web", "A", &[("VASE", 1)]).await;
    t.set_stock(&sku("MUG"), &loc("WH"), 0, None, "broken").await.expect("count");
    order(&t, "web", "B", &[("MUG", 1)]).await;
    // A store abroad without coordinates; one at home with a bad ZIP code.
    let mut abroad = warehouse("TORONTO", 2);
    (abroad.address.country, abroad.address.postal_code) = ("CA".into(), "M5V 2T6".into());
    t.put_location(&abroad).await.expect("location");
    let mut bad = warehouse("EAST", 3);
    (bad.address.postal_code, bad.lat, bad.lon) = ("9720".into(), Some(45.5), Some(-122.6));
    t.put_location(&bad).await.expect("location");
    // A channel order held for a SKU we do not have, under its stand-in.
    let held = switchyard_core::channel::held_sku("Blue Mug").expect("held");
    let mut o = web_order("S-1", &[], 1000, 1000, PaymentState::Paid);
    o.channel = ChannelName::parse("shop").expect("channel");
    o.lines = vec![switchyard_core::NewLine { sku: held, quantity: Quantity::new(1).expect("q"), unit_price: 1000 }];
    let (held_order, _) = t.create_channel_order(&o).await.expect("held order");
    assert_eq!(held_order.status, "on_hold");
    // The active policy protects a tag no SKU carries any more.
    let mut tee = SkuDef::plain(sku("TEE"), "Cotton tee, red");
    tee.tags = vec!["bestseller".into()];
    t.put_sku(&tee).await.expect("tagged");
    let text = "[[protection]]\nlocations = [\"WH\"]\ntag = \"bestseller\"\nkeep_units = 1\n";
    let v = t.save_policy(text, "protect", "ana").await.expect("save").version;
    t.activate_policy(v, "ana").await.expect("activate");
    tee.tags.clear();
    t.put_sku(&tee).await.expect("untagged");

    let r = t.doctor(30).await.expect("doctor");
    let found: Vec<(FindingKind, String)> = r.findings.iter().map(|f| (f.kind, f.subject.clone())).collect();
    let policy = format!("active policy v{v}");
    let want = [
        (FindingKind::DuplicateSku, "TEE, tee_"),
        (FindingKind::SimilarTitles, "CANDLE-1, CANDLE-2"),
        (FindingKind::NoStockStillSells, "MUG"),
        (FindingKind::NoStockStillSells, "VASE"),
        (FindingKind::LocationWithoutCoordinates, "TORONTO"),
        (FindingKind::LocationBadAddress, "EAST"),
        (FindingKind::UnmappedChannelSku, "shop: \"Blue Mug\""),
        (FindingKind::PolicyUnknownTag, policy.as_str()),
    ];
    for (kind, subject) in want {
        assert!(found.contains(&(kind, subject.to_owned())), "{kind:?} {subject} not found in {found:#?}");
    }
    assert_eq!(found.len(), want.len(), "nothing else: {found:#?}");
    assert!(r.findings.iter().all(|f| !f.fix.is_empty()));
    let tag = r.findings.iter().find(|f| f.kind == FindingKind::PolicyUnknownTag).expect("tag");
    assert!(tag.problem.contains("line 3"), "{tag:?}");

    // Orders older than the window no longer count as selling.
    t.clock.set(START + 31 * DAY_MS);
    let r = t.doctor(30).await.expect("doctor");
    assert!(!r.findings.iter().any(|f| f.kind == FindingKind::NoStockStillSells), "{:#?}", r.findings);
    let r = t.doctor(40).await.expect("doctor");
    assert_eq!(r.findings.iter().filter(|f| f.kind == FindingKind::NoStockStillSells).count(), 2);
}

async fn the_overview_compares_periods_and_counts_channels_per_day(t: T) {
    // The previous week: one web order, filled.
    t.clock.set(START + 2 * DAY_MS);
    order(&t, "web", "OLD", &[("MUG", 1)]).await;
    // This week: two web orders on day 8, one pos order on day 9 that is
    // short (5 TEE; it wants 7): backordered, with an open exception.
    t.clock.set(START + 8 * DAY_MS + 10 * HOUR);
    order(&t, "web", "A", &[("MUG", 1)]).await;
    order(&t, "web", "B", &[("MUG", 1)]).await;
    t.clock.set(START + 9 * DAY_MS + 9 * HOUR);
    order(&t, "pos", "C", &[("TEE", 7)]).await;
    t.clock.set(START + 9 * DAY_MS + 11 * HOUR);

    let o = t.overview(7).await.expect("overview");
    assert_eq!((o.current.orders, o.previous.orders), (3, 1));
    assert_eq!((o.current.fill_rate, o.previous.fill_rate), (2.0 / 3.0, 1.0));
    assert_eq!(o.daily.len(), 8, "seven days touch eight UTC days");
    assert_eq!(o.channels, vec!["pos".to_owned(), "web".to_owned()]);
    let by_day: Vec<(i64, Vec<i64>)> = o
        .daily
        .iter()
        .zip(&o.orders_by_channel)
        .filter(|(_, n)| n.iter().any(|c| *c > 0))
        .map(|(d, n)| (d.day_start_ms, n.clone()))
        .collect();
    assert_eq!(by_day, vec![(START + 8 * DAY_MS, vec![0, 2]), (START + 9 * DAY_MS, vec![1, 0])]);
    assert_eq!(
        o.exception_ages,
        vec![("under 1 h", 0), ("1–4 h", 1), ("4–24 h", 0), ("1–3 days", 0), ("over 3 days", 0)]
    );
    assert!(matches!(t.overview(0).await, Err(Error::Invalid(_))));
}

async fn the_last_days_replay_from_the_stock_they_consumed(t: T) {
    t.put_location(&warehouse("STORE", 2)).await.expect("location");
    // An order from before the window keeps its unit: not replayed, not given back.
    order(&t, "web", "OLD", &[("TEE", 1)]).await;
    t.clock.set(START + 10 * DAY_MS);
    // 4 TEE left: A and B take 2 each, C wants 2 and is short.
    let a = order(&t, "web", "A", &[("TEE", 2)]).await;
    order(&t, "web", "B", &[("TEE", 2)]).await;
    order(&t, "web", "C", &[("TEE", 2)]).await;
    // A ships: its units are gone from on hand, and come back for the replay.
    let ship = NewShipment {
        location: loc("WH"),
        lines: vec![(sku("TEE"), Quantity::new(2).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    t.ship(&a, &ship).await.expect("ship");
    t.clock.set(START + 11 * DAY_MS);

    let store_only = Policy::from_toml("[[eligibility.channels]]\nchannel = \"web\"\nonly_locations = [\"STORE\"]\n")
        .expect("policy");
    let sim = t
        .simulate_recent(7, vec![("active".into(), Policy::default()), ("draft".into(), store_only)])
        .await
        .expect("simulate");
    assert_eq!((sim.orders_read, sim.skipped_orders, sim.capped), (3, 0, false));
    let (active, draft) = (&sim.results[0].1, &sim.results[1].1);
    assert_eq!((active.orders, active.filled, active.backordered, active.units_allocated), (3, 2, 1, 4));
    assert_eq!((draft.orders, draft.filled, draft.units_allocated), (3, 0, 0));
    let vs = sim.versus[1].as_ref().expect("versus");
    assert_eq!(vs.failed_orders_prevented, -2);
    assert!(sim.versus[0].is_none());
    // Nothing was written: the stock is as it was.
    let positions = t.sku_positions(&sku("TEE")).await.expect("positions");
    assert_eq!((positions[0].1.on_hand, positions[0].1.reserved), (3, 3), "{positions:?}");

    let unknown = Policy::from_toml("[eligibility.daily_capacity]\nGONE = 1\n").expect("policy");
    assert!(matches!(t.simulate_recent(7, vec![("x".into(), unknown)]).await, Err(Error::Policy(_))));
    assert!(matches!(t.simulate_recent(91, vec![]).await, Err(Error::Invalid(_))));
}
