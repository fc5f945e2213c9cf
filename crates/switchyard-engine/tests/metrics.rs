//! Metrics from the records (issue 10), on both backends: a scripted
//! history over two days where every number is known by hand, the period,
//! channel and location filters, the per-day rows, an oversell
//! cancellation, complaints, sync lags against a stand-in, and the scrape
//! gauges. Time is a `ManualClock`: orders land on the days the test says.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{assert_clean, loc, sku, web_order};

use switchyard_core::metrics::{Metrics, Period, DAY_MS};
use switchyard_core::{
    Channel, ChannelDraft, ChannelName, ExceptionKind, LocationCode, NewShipment, OrderStatus, PaymentState, Quantity,
    SkuDef,
};
use switchyard_engine::{ChannelSync, Config, Engine, Error, IdGen, ManualClock, MetricsQuery, SyncOptions};
use switchyard_standin::StandIn;
use switchyard_store::testing::{Backend, TestDb};

both!(
    a_scripted_history_gives_the_numbers_worked_out_by_hand,
    periods_channels_and_locations_narrow_the_orders,
    each_day_has_its_own_row,
    an_order_cancelled_short_of_stock_is_an_oversell_cancellation,
    complaints_need_an_order_and_a_note,
    sync_lags_are_percentiles_of_the_acknowledged_levels,
    gauges_read_the_database_and_count_sweeps,
    rollups_of_closed_days_equal_the_orders_after_later_changes,
    sweeps_roll_up_closed_days_ahead_of_reports,
    pickups_on_time_are_judged_against_the_policys_promise,
);

/// Midnight UTC, 2026-09-21: day 1 of the scripted history.
const DAY1: i64 = 20_717 * DAY_MS;
const DAY2: i64 = DAY1 + DAY_MS;
const HOUR: i64 = 3_600_000;

struct T {
    e: Arc<Engine>,
    clock: Arc<ManualClock>,
}

impl T {
    fn at(&self, ms: i64) {
        self.clock.set(ms);
    }
}

impl std::ops::Deref for T {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.e
    }
}

/// Two warehouses (WH first, then STORE); TEE and MUG at WH, SOCK one at
/// each, HAT nowhere.
async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(DAY1));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(11)).await.expect("open engine");
    for (code, priority) in [("WH", 1), ("STORE", 2)] {
        e.put_location(&switchyard_store::testing::warehouse(code, priority)).await.expect("location");
    }
    for s in ["TEE", "MUG", "SOCK", "HAT"] {
        e.put_sku(&SkuDef::plain(sku(s), s)).await.expect("sku");
    }
    for (s, l, n) in [("TEE", "WH", 10), ("MUG", "WH", 10), ("SOCK", "WH", 1), ("SOCK", "STORE", 1)] {
        e.set_stock(&sku(s), &loc(l), n, None, "start").await.expect("stock");
    }
    T { e: Arc::new(e), clock }
}

async fn order(t: &T, channel: &str, ext: &str, lines: &[(&str, i64)]) -> String {
    let mut o = web_order(ext, lines, 1000, 1000 * lines.iter().map(|(_, q)| q).sum::<i64>(), PaymentState::Paid);
    o.channel = ChannelName::parse(channel).expect("channel");
    t.create_order(&o).await.expect("order").0.id
}

fn query(from_ms: i64, to_ms: i64, channel: Option<&str>, location: Option<&str>) -> MetricsQuery {
    MetricsQuery {
        period: Period::new(from_ms, to_ms).expect("period"),
        channel: channel.map(|c| ChannelName::parse(c).expect("channel")),
        location: location.map(|l| LocationCode::parse(l).expect("location")),
    }
}

/// The two days of history every test below reads:
///
/// - day 1, 10:00 `web` A: 2 × TEE, all at WH; shipped whole at 12:00 (2 h).
/// - day 1, 11:00 `web` B: 1 × MUG at WH; cancelled at 13:00 ("customer_request").
/// - day 1, 12:00 `web` C: 1 × TEE and 1 × HAT, of which nothing is in stock:
///   1 of 2 units allocated, the HAT line a stockout; backordered (one
///   `backordered` exception, still open).
/// - day 2, 09:00 `pos` D: 2 × SOCK, one at WH and one at STORE (a split).
/// - day 2, 10:00 `web` E: 1 × TEE; cancelled at 11:00 ("address_wrong").
/// - day 2, 12:00: a complaint about A.
///
/// Returns (A, C) and leaves the clock at day 2, 18:00.
async fn history(t: &T) -> (String, String) {
    t.at(DAY1 + 10 * HOUR);
    let a = order(t, "web", "A", &[("TEE", 2)]).await;
    t.at(DAY1 + 11 * HOUR);
    let b = order(t, "web", "B", &[("MUG", 1)]).await;
    t.at(DAY1 + 12 * HOUR);
    let ship = NewShipment {
        location: loc("WH"),
        lines: vec![(sku("TEE"), Quantity::new(2).expect("q"))],
        carrier: None,
        tracking: None,
        tracking_url: None,
    };
    assert_eq!(t.ship(&a, &ship).await.expect("ship").status, "shipped");
    let c = order(t, "web", "C", &[("TEE", 1), ("HAT", 1)]).await;
    t.at(DAY1 + 13 * HOUR);
    t.cancel_order(&b, "customer_request").await.expect("cancel");

    t.at(DAY2 + 9 * HOUR);
    let d = order(t, "pos", "D", &[("SOCK", 2)]).await;
    let split = t.get_order(&d).await.expect("read").expect("order");
    assert_eq!(split.lines[0].allocations.len(), 2, "D is split over WH and STORE");
    t.at(DAY2 + 10 * HOUR);
    let e = order(t, "web", "E", &[("TEE", 1)]).await;
    t.at(DAY2 + 11 * HOUR);
    t.cancel_order(&e, "address_wrong").await.expect("cancel");
    t.at(DAY2 + 12 * HOUR);
    t.add_complaint(&a, "arrived late", "ops").await.expect("complaint");
    t.at(DAY2 + 18 * HOUR);
    (a, c)
}

fn reasons(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect()
}

async fn a_scripted_history_gives_the_numbers_worked_out_by_hand(t: T) {
    history(&t).await;
    let m = t.metrics(&query(DAY1, DAY2 + DAY_MS, None, None)).await.expect("metrics");
    // Five orders, all taken with their intake recorded.
    assert_eq!((m.orders, m.orders_measured), (5, 5));
    // A, B, D, E fully allocated when taken; C got 1 of its 2 units.
    assert_eq!(m.fill_rate, 4.0 / 5.0);
    assert_eq!(m.fill_rate_units, 7.0 / 8.0);
    // Six lines; HAT had nothing to promise.
    assert_eq!((m.lines_measured, m.stockout_rate), (6, 1.0 / 6.0));
    assert_eq!((m.cancelled, m.cancellation_rate), (2, 2.0 / 5.0));
    assert_eq!(m.cancellations_by_reason, reasons(&[("address_wrong", 1), ("customer_request", 1)]));
    assert_eq!(m.oversell_cancellations, 0, "B and E were fully allocated when cancelled");
    assert_eq!((m.split_shipments, m.split_shipment_rate), (1, 1.0 / 5.0));
    assert_eq!((m.shipped_orders, m.avg_handling_secs, m.p90_handling_secs), (1, Some(7200.0), Some(7200.0)));
    assert_eq!(m.complaints, 1);
    // C's backordered exception: opened day 1 at 12:00, open 30 h later.
    assert_eq!((m.exceptions_opened, m.exceptions_resolved, m.exceptions_open), (1, 0, 1));
    assert_eq!(m.exceptions_open_avg_age_secs, Some(30.0 * 3600.0));
    assert_eq!(m.exceptions_open_max_age_secs, Some(30.0 * 3600.0));
    // No returns in this history; pickups are not measured; no channel acknowledged a level.
    assert_eq!((m.return_rate, m.return_turnaround_secs, m.pickup_on_time_rate), (0.0, None, None));
    assert_eq!((m.sync_lags, m.sync_lag_p50_secs), (0, None));
    assert_clean(&t).await;
}

async fn periods_channels_and_locations_narrow_the_orders(t: T) {
    let (_, c) = history(&t).await;
    // Day 2 only: D and E, both fully allocated; E cancelled.
    let m = t.metrics(&query(DAY2, DAY2 + DAY_MS, None, None)).await.expect("metrics");
    assert_eq!((m.orders, m.fill_rate, m.stockout_rate), (2, 1.0, 0.0));
    assert_eq!((m.cancelled, m.split_shipments, m.complaints), (1, 1, 1));
    assert_eq!((m.shipped_orders, m.avg_handling_secs, m.exceptions_opened), (0, None, 0));
    // A period ending before C was taken (12:00) leaves it out.
    let m = t.metrics(&query(DAY1, DAY1 + 12 * HOUR, None, None)).await.expect("metrics");
    assert_eq!((m.orders, m.fill_rate, m.stockout_rate, m.exceptions_opened), (2, 1.0, 0.0, 0));
    // From 12:00 on day 1: C is in; the end is excluded, so it is alone.
    let m = t.metrics(&query(DAY1 + 12 * HOUR, DAY1 + 12 * HOUR + 1, None, None)).await.expect("metrics");
    assert_eq!((m.orders, m.fill_rate, m.fill_rate_units, m.stockout_rate), (1, 0.0, 0.5, 0.5));

    // Channel pos: D alone.
    let m = t.metrics(&query(DAY1, DAY2 + DAY_MS, Some("pos"), None)).await.expect("metrics");
    assert_eq!((m.orders, m.split_shipment_rate, m.cancelled, m.complaints), (1, 1.0, 0, 0));
    // Channel web: A, B, C, E, the complaint about A and C's exception.
    let m = t.metrics(&query(DAY1, DAY2 + DAY_MS, Some("web"), None)).await.expect("metrics");
    assert_eq!((m.orders, m.fill_rate, m.cancellation_rate), (4, 3.0 / 4.0, 2.0 / 4.0));
    assert_eq!((m.split_shipments, m.complaints, m.exceptions_opened), (0, 1, 1));
    // A channel with no orders: zero rates, no NaN.
    let m = t.metrics(&query(DAY1, DAY2 + DAY_MS, Some("ebay"), None)).await.expect("metrics");
    assert_eq!((m.orders, m.fill_rate, m.cancellation_rate, m.avg_handling_secs), (0, 0.0, 0.0, None));

    // STORE only ever held D's sock.
    let m = t.metrics(&query(DAY1, DAY2 + DAY_MS, None, Some("STORE"))).await.expect("metrics");
    assert_eq!((m.orders, m.split_shipments), (1, 1));
    // WH: A, B (released, still recorded), C, D, E — every order.
    let m = t.metrics(&query(DAY1, DAY2 + DAY_MS, None, Some("WH"))).await.expect("metrics");
    assert_eq!((m.orders, m.cancelled, m.exceptions_opened), (5, 2, 1));
    // C is still open: its exception is the one counted.
    let order = t.get_order(&c).await.expect("read").expect("order");
    assert_eq!(order.status, "backordered");
}

async fn each_day_has_its_own_row(t: T) {
    history(&t).await;
    // Day 1 to day 3 (nothing happened on day 3).
    let days = t.daily_metrics(&query(DAY1, DAY2 + 2 * DAY_MS, None, None)).await.expect("days");
    let starts: Vec<i64> = days.iter().map(|d| d.day_start_ms).collect();
    assert_eq!(starts, vec![DAY1, DAY2, DAY2 + DAY_MS]);
    let [one, two, three]: [&Metrics; 3] = [&days[0].metrics, &days[1].metrics, &days[2].metrics];
    assert_eq!((one.orders, one.fill_rate, one.cancelled, one.shipped_orders), (3, 2.0 / 3.0, 1, 1));
    assert_eq!(one.cancellations_by_reason, reasons(&[("customer_request", 1)]));
    assert_eq!((two.orders, two.fill_rate, two.split_shipment_rate, two.complaints), (2, 1.0, 0.5, 1));
    assert_eq!(two.cancellations_by_reason, reasons(&[("address_wrong", 1)]));
    assert_eq!((three.orders, three.fill_rate, three.avg_handling_secs), (0, 0.0, None));
    // The days add up to the whole.
    let whole = t.metrics(&query(DAY1, DAY2 + 2 * DAY_MS, None, None)).await.expect("metrics");
    assert_eq!(whole.orders, days.iter().map(|d| d.metrics.orders).sum::<i64>());
    assert_eq!(whole.cancelled, days.iter().map(|d| d.metrics.cancelled).sum::<i64>());
    // A period starting mid-day has that day as its first row, over its part.
    let late = t.daily_metrics(&query(DAY1 + 11 * HOUR, DAY2, None, None)).await.expect("days");
    assert_eq!(late.len(), 1);
    assert_eq!((late[0].day_start_ms, late[0].metrics.orders), (DAY1, 2));
}

async fn an_order_cancelled_short_of_stock_is_an_oversell_cancellation(t: T) {
    t.at(DAY1 + HOUR);
    // Nothing to promise: backordered, then cancelled from its exception.
    let short = order(&t, "web", "S", &[("HAT", 2)]).await;
    let view = t.get_order(&short).await.expect("read").expect("order");
    assert_eq!(view.status, "backordered");
    let exception = view.exceptions.iter().find(|e| e.kind == "backordered").expect("a backordered exception");
    t.at(DAY1 + 2 * HOUR);
    let cancel = switchyard_core::Resolution {
        action: switchyard_core::ResolutionAction::Cancel,
        actor: "ops".into(),
        note: "cannot restock".into(),
        address: None,
        location: None,
    };
    t.resolve_exception(&exception.id, &cancel).await.expect("cancel");
    // A fully allocated order cancelled is not one; nor is an unpaid one
    // whose hold lapsed (its units went back for want of payment).
    let full = order(&t, "web", "F", &[("TEE", 1)]).await;
    t.cancel_order(&full, "").await.expect("cancel");
    let unpaid = web_order("U", &[("MUG", 1)], 1000, 1000, PaymentState::Pending);
    t.create_order(&unpaid).await.expect("order");
    t.at(DAY1 + 3 * HOUR);
    assert_eq!(t.sweep().await.expect("sweep").expired.len(), 1);

    let m = t.metrics(&query(DAY1, DAY2, None, None)).await.expect("metrics");
    assert_eq!((m.orders, m.cancelled, m.oversell_cancellations), (3, 3, 1));
    assert_eq!(
        m.cancellations_by_reason,
        reasons(&[("backordered", 1), ("cancelled", 1), ("payment_timeout", 1)]),
        "the exception's kind, the code of a cancellation without a reason, the sweeper's"
    );
    assert_eq!((m.exceptions_opened, m.exceptions_resolved, m.exceptions_open), (1, 1, 0));
    assert_clean(&t).await;
}

async fn complaints_need_an_order_and_a_note(t: T) {
    t.at(DAY1 + HOUR);
    let a = order(&t, "web", "A", &[("TEE", 1)]).await;
    t.at(DAY1 + 2 * HOUR);
    let c = t.add_complaint(&a, "box was crushed", "ana").await.expect("complaint");
    assert_eq!((c.order_id.as_str(), c.note.as_str(), c.created_by.as_str()), (a.as_str(), "box was crushed", "ana"));
    assert_eq!(c.created_at, "2026-09-21T02:00:00.000Z");
    let timeline = t.get_order(&a).await.expect("read").expect("order").events.unwrap_or_default();
    assert!(timeline.iter().any(|e| e.kind == "complaint" && e.message.contains("box was crushed")), "{timeline:?}");
    assert!(matches!(t.add_complaint("no-such-order", "late", "ana").await, Err(Error::NotFound { .. })));
    assert!(matches!(t.add_complaint(&a, "", "ana").await, Err(Error::Intake(_))));
    assert!(matches!(t.add_complaint(&a, "bad\u{7}bell", "ana").await, Err(Error::Intake(_))));
    // The refused ones were not counted; the complaint counts on its own day.
    let m = t.metrics(&query(DAY1, DAY2, None, None)).await.expect("metrics");
    assert_eq!(m.complaints, 1);
    let m = t.metrics(&query(DAY2, DAY2 + DAY_MS, None, None)).await.expect("metrics");
    assert_eq!(m.complaints, 0);
}

async fn sync_lags_are_percentiles_of_the_acknowledged_levels(t: T) {
    let shop = StandIn::start(switchyard_core::ChannelKind::parse("shopify").expect("kind")).await.expect("up");
    let c = Channel::parse(ChannelDraft {
        name: "shopify".into(),
        kind: Some("shopify".into()),
        mode: Some("live".into()),
        base_url: Some(shop.url()),
        settings: [("location_id", "77"), ("poll_orders", "off")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        active: true,
        ..ChannelDraft::default()
    })
    .expect("channel");
    t.at(DAY1 + HOUR);
    let creds = [("access_token".to_owned(), "shpat".to_owned())].into_iter().collect();
    t.put_connection(&c, None, Some(creds)).await.expect("connect");
    let name = ChannelName::parse("shopify").expect("name");
    t.map_channel_sku(&name, "TEE", &sku("TEE"), Some("111")).await.expect("map");
    // Going live sends every level at once (not measured below).
    let mut sync = ChannelSync::new(t.e.clone(), SyncOptions::default()).expect("sync");
    sync.round().await.expect("round");
    // A sale changes TEE's level; the worker sends it 1.5 s later.
    t.at(DAY1 + 2 * HOUR);
    order(&t, "web", "A", &[("TEE", 1)]).await;
    t.at(DAY1 + 2 * HOUR + 1_500);
    let round = sync.round().await.expect("round");
    assert!(round.accepted >= 1 && round.failed == 0, "{round:?}");
    // Another sale, sent 4 s later.
    t.at(DAY1 + 3 * HOUR);
    order(&t, "web", "B", &[("TEE", 1)]).await;
    t.at(DAY1 + 3 * HOUR + 4_000);
    sync.round().await.expect("round");

    let status = t.channel_sync_status(&name).await.expect("status");
    let after_going_live = DAY1 + 2 * HOUR;
    let m = t.metrics(&query(after_going_live, DAY2, None, None)).await.expect("metrics");
    assert_eq!(m.sync_lags, 2, "one acknowledged level per sale: {status:?}");
    assert_eq!((m.sync_lag_p50_secs, m.sync_lag_p95_secs), (Some(1.5), Some(4.0)));
    let m = t.metrics(&query(after_going_live, DAY2, Some("shopify"), None)).await.expect("metrics");
    assert_eq!(m.sync_lags, 2);
    let m = t.metrics(&query(after_going_live, DAY2, Some("web"), None)).await.expect("metrics");
    assert_eq!(m.sync_lags, 0, "web has no connection");
    // Once day 1 is over, its lags come from the day's rollup: the same.
    t.at(DAY2 + 3 * HOUR);
    for channel in [None, Some("shopify"), Some("web")] {
        let q = query(DAY1, DAY2, channel, None);
        let m = t.metrics(&q).await.expect("metrics");
        assert_eq!(m, t.metrics_from_orders(&q).await.expect("raw"), "{channel:?}");
        // The whole day: the level sent when the channel went live too.
        assert_eq!(m.sync_lags, if channel == Some("web") { 0 } else { 3 });
    }
}

async fn gauges_read_the_database_and_count_sweeps(t: T) {
    let (_, _) = history(&t).await;
    let g = t.gauges().await.expect("gauges");
    // Held: C's TEE and D's two socks (A shipped, B and E cancelled).
    assert_eq!(g.reserved_units, 3);
    let status = |s: OrderStatus| g.orders.iter().find(|(k, _)| *k == s).map(|(_, n)| *n);
    assert_eq!(status(OrderStatus::Shipped), Some(1));
    assert_eq!(status(OrderStatus::Cancelled), Some(2));
    assert_eq!(status(OrderStatus::Backordered), Some(1));
    assert_eq!(status(OrderStatus::Accepted), Some(1));
    assert_eq!(status(OrderStatus::Completed), Some(0), "every status is listed");
    assert_eq!(g.orders.len(), OrderStatus::ALL.len());
    let kind = |k: ExceptionKind| g.open_exceptions.iter().find(|(x, _)| *x == k).map(|(_, n)| *n);
    assert_eq!(kind(ExceptionKind::Backordered), Some(1));
    assert_eq!(kind(ExceptionKind::AddressInvalid), Some(0));
    assert!(g.outbox.pending > 0, "stock levels and news wait in the outbox: {:?}", g.outbox);
    assert_eq!(g.sweeper_runs, 0);
    t.sweep().await.expect("sweep");
    t.sweep().await.expect("sweep");
    let g = t.gauges().await.expect("gauges");
    assert_eq!((g.sweeper_runs, g.sweeper_failures), (2, 0));
}

/// Every filter the rollups are kept by: the whole shop, a channel, a
/// location, both.
fn filters(from_ms: i64, to_ms: i64) -> Vec<MetricsQuery> {
    let mut out = vec![];
    for channel in [None, Some("web"), Some("pos"), Some("ebay")] {
        for location in [None, Some("WH"), Some("STORE")] {
            out.push(query(from_ms, to_ms, channel, location));
        }
    }
    out
}

/// Each report of closed days (read from their daily rollups) equals the
/// same report counted from the orders, per filter and per day.
async fn assert_rollups_match(t: &T, queries: &[MetricsQuery]) -> Vec<Metrics> {
    let mut reports = vec![];
    for q in queries {
        let m = t.metrics(q).await.expect("metrics");
        assert_eq!(m, t.metrics_from_orders(q).await.expect("raw"), "{q:?}");
        let daily = t.daily_metrics(q).await.expect("days");
        assert_eq!(daily.iter().map(|d| d.metrics.orders).sum::<i64>(), m.orders, "{q:?}");
        reports.push(m);
    }
    reports
}

async fn rollups_of_closed_days_equal_the_orders_after_later_changes(t: T) {
    let (a, c) = history(&t).await;
    // Day 5: days 1 to 4 are closed; the period covers day 1 in part (from
    // 09:00) and today (day 5) too, so rollups, raw part-days and today mix.
    let day5 = DAY1 + 4 * DAY_MS;
    t.at(day5 + 10 * HOUR);
    let today = order(&t, "web", "T", &[("MUG", 1)]).await;
    let (from, to) = (DAY1 + 9 * HOUR, day5 + DAY_MS);
    let whole = query(from, to, None, None);
    let before = assert_rollups_match(&t, &filters(from, to)).await;
    // Read again: from the saved rollups this time, still equal.
    let again = assert_rollups_match(&t, &filters(from, to)).await;
    assert_eq!(before, again);
    assert_eq!((before[0].orders, before[0].cancelled), (6, 2));

    // Later events on orders of closed days: day 2's D shipped from both
    // locations, day 1's C cancelled, day 1's A returned.
    t.at(day5 + 11 * HOUR);
    let pos = switchyard_store::OrderFilter { status: None, channel: Some("pos".into()), limit: 10, cursor: None };
    let d = t.list_orders(&pos).await.expect("list").orders.remove(0);
    assert_eq!(d.external_id, "D");
    for place in ["WH", "STORE"] {
        let ship = NewShipment {
            location: loc(place),
            lines: vec![(sku("SOCK"), Quantity::new(1).expect("q"))],
            carrier: None,
            tracking: None,
            tracking_url: None,
        };
        t.ship(&d.id, &ship).await.expect("ship");
    }
    t.cancel_order(&c, "customer_request").await.expect("cancel");
    let ask = switchyard_core::returns::NewReturn::parse(switchyard_core::returns::ReturnDraft {
        order_id: a.clone(),
        lines: vec![("TEE".to_owned(), 1)],
        reason: "changed_mind".into(),
        condition: None,
        note: String::new(),
        by: "customer".into(),
    })
    .expect("return");
    t.request_return(&ask).await.expect("request");
    t.cancel_order(&today, "customer_request").await.expect("cancel today's");

    let after = assert_rollups_match(&t, &filters(from, to)).await;
    let (b, m) = (&before[0], &after[0]);
    assert_eq!(m.cancelled, b.cancelled + 2, "C (day 1) and T (today)");
    assert_eq!(m.shipped_orders, b.shipped_orders + 1, "D (day 2), 74 h after it was taken");
    assert_eq!(m.avg_handling_secs, Some((7_200.0 + 74.0 * 3_600.0) / 2.0));
    assert_eq!(m.return_rate, 1.0 / 6.0);
    let store = after[2].clone();
    assert_eq!((store.orders, store.shipped_orders), (1, 1), "STORE: D, now shipped");
    assert_ne!(before, after);
    // A period of closed days only, read after the changes.
    let closed = assert_rollups_match(&t, &[query(DAY1, day5, None, None), whole]).await;
    assert_eq!(closed[0].orders, 5);
    assert_clean(&t).await;
}

/// The sweeper rolls up closed days no report asked for yet, newest first,
/// a bounded run at a time, and never the same day twice; what it saved is
/// what the orders say.
async fn sweeps_roll_up_closed_days_ahead_of_reports(t: T) {
    assert_eq!(t.roll_up_metrics(31).await.expect("roll up"), 0, "no order, no day");
    history(&t).await;
    assert_eq!(t.roll_up_metrics(31).await.expect("roll up"), 1, "day 1 is closed, day 2 is today");
    let day5 = DAY1 + 4 * DAY_MS;
    t.at(day5 + 10 * HOUR);
    assert_eq!(t.roll_up_metrics(2).await.expect("roll up"), 2, "days 3 and 4 (no orders)");
    assert_eq!(t.sweep().await.expect("sweep").metrics_days_rolled_up, 1, "day 2");
    assert_eq!(t.sweep().await.expect("sweep").metrics_days_rolled_up, 0, "all rolled up");
    let closed = assert_rollups_match(&t, &filters(DAY1, day5)).await;
    assert_eq!((closed[0].orders, closed[0].cancelled), (5, 2));
    assert_eq!(t.sweep().await.expect("sweep").metrics_days_rolled_up, 0, "reports add no day");
}

/// A pickup order of one MUG at COUNTER, taken at `at`, made ready at
/// `ready_at`.
async fn pickup(t: &T, ext: &str, at: i64, ready_at: i64) -> String {
    t.at(at);
    let mut o = web_order(ext, &[("MUG", 1)], 1000, 1000, PaymentState::Paid);
    o.service_level = switchyard_core::ServiceLevel::Pickup;
    o.pickup_location = Some(loc("COUNTER"));
    let id = t.create_order(&o).await.expect("order").0.id;
    t.at(ready_at);
    assert_eq!(t.ready_for_pickup(&id, &loc("COUNTER")).await.expect("ready").status, "ready_for_pickup");
    id
}

async fn pickups_on_time_are_judged_against_the_policys_promise(t: T) {
    let mut counter = switchyard_store::testing::warehouse("COUNTER", 3);
    counter.can_pickup = true;
    t.put_location(&counter).await.expect("location");
    t.set_stock(&sku("MUG"), &loc("COUNTER"), 5, None, "count").await.expect("stock");
    // Day 1: P1 ready after 1 h (on time: the default promise is 2 h), P2
    // after 3.5 h (late). Day 2: P3, taken late on day 1, ready after 3 h
    // (late), counted on the day it was made ready.
    let p1 = pickup(&t, "P1", DAY1 + 10 * HOUR, DAY1 + 11 * HOUR).await;
    pickup(&t, "P2", DAY1 + 10 * HOUR, DAY1 + 13 * HOUR + HOUR / 2).await;
    pickup(&t, "P3", DAY1 + 22 * HOUR, DAY2 + HOUR).await;
    // Picked up: still made ready when it was.
    t.at(DAY2 + 2 * HOUR);
    t.picked_up(&p1).await.expect("picked up");
    // One counted on time is at the promise itself.
    pickup(&t, "P4", DAY2 + 3 * HOUR, DAY2 + 5 * HOUR).await;

    let day1 = t.metrics(&query(DAY1, DAY2, None, None)).await.expect("metrics");
    assert_eq!((day1.pickups_ready, day1.pickup_on_time_rate), (2, Some(0.5)));
    let day2 = t.metrics(&query(DAY2, DAY2 + DAY_MS, None, None)).await.expect("metrics");
    assert_eq!((day2.pickups_ready, day2.pickup_on_time_rate), (2, Some(0.5)));
    let both = query(DAY1, DAY2 + DAY_MS, None, None);
    let m = t.metrics(&both).await.expect("metrics");
    assert_eq!((m.pickups_ready, m.pickup_on_time_rate), (4, Some(0.5)));
    // Narrowed: the channel and location of the orders; none made ready → null.
    let at_counter = t.metrics(&query(DAY1, DAY2 + DAY_MS, Some("web"), Some("COUNTER"))).await.expect("metrics");
    assert_eq!((at_counter.pickups_ready, at_counter.pickup_on_time_rate), (4, Some(0.5)));
    let elsewhere = t.metrics(&query(DAY1, DAY2 + DAY_MS, None, Some("WH"))).await.expect("metrics");
    assert_eq!((elsewhere.pickups_ready, elsewhere.pickup_on_time_rate), (0, None));
    let pos = t.metrics(&query(DAY1, DAY2 + DAY_MS, Some("pos"), None)).await.expect("metrics");
    assert_eq!((pos.pickups_ready, pos.pickup_on_time_rate), (0, None));

    // A promise of 4 hours: every one was on time.
    assert!(t.save_policy("[service_levels]\npickup_ready_within_hours = 0\n", "", "ann").await.is_err());
    let saved = t.save_policy("[service_levels]\npickup_ready_within_hours = 4\n", "", "ann").await.expect("save");
    t.activate_policy(saved.version, "ann").await.expect("activate");
    let m = t.metrics(&both).await.expect("metrics");
    assert_eq!((m.pickups_ready, m.pickup_on_time_rate), (4, Some(1.0)));
    let day2 = t.daily_metrics(&both).await.expect("days");
    assert_eq!(day2.iter().map(|d| d.metrics.pickups_ready).collect::<Vec<_>>(), vec![2, 2]);
    assert_clean(&t).await;
}
