//! "Simulate the last N days" (the Rules page): the shop's own orders of
//! the period replayed through `switchyard_core::simulate` — the routing
//! engine live traffic uses — under each policy given (the active one and a
//! draft), from the same starting stock.
//!
//! # The starting stock, an approximation
//!
//! The stock as it is now, plus what the replayed orders consumed: each
//! position's units those orders shipped (or handed over) go back on hand,
//! and the units they still hold are no longer reserved. Everything else
//! that happened during the period — receipts, counts, adjustments,
//! returns, orders from before it that shipped during it — is not undone:
//! the first orders of the period see stock that may only have arrived
//! later, and none of the stock that left with older orders. Orders naming
//! a SKU or pickup location the shop no longer has are left out (counted).
//! Each location's capacity day is its own local day (its time zone).

use std::collections::BTreeMap;

use switchyard_core::metrics::DAY_MS;
use switchyard_core::routing::{Destination, Policy};
use switchyard_core::simulate::{
    simulate, versus, Catalogue, History, Line, LocalDays, Order, PolicyResult, VsBaseline,
};
use switchyard_core::{ChannelName, Currency, ExternalOrderId, LocationCode, Money, Position, ServiceLevel, Sku};
use switchyard_store::history::{self, StoredOrder};
use switchyard_store::{catalog, views};

use crate::{Engine, Error};

/// The longest period replayed.
pub const MAX_SIMULATION_DAYS: i64 = 90;
/// The most orders replayed (the oldest first); a longer history is cut.
pub const MAX_SIMULATION_ORDERS: i64 = 20_000;

/// The replay of the last N days under each policy.
#[derive(Debug, Clone)]
pub struct RecentSimulation {
    pub days: i64,
    /// Orders received in the period (at most [`MAX_SIMULATION_ORDERS`]).
    pub orders_read: usize,
    /// Of those, orders naming a SKU or pickup location the shop no longer
    /// has (or stored values that no longer parse): not replayed.
    pub skipped_orders: usize,
    /// Whether the period held more orders than were read.
    pub capped: bool,
    /// Each policy's name and figures, in the order given (the first is
    /// the baseline).
    pub results: Vec<(String, PolicyResult)>,
    /// Each policy against the first (`None` for the first).
    pub versus: Vec<Option<VsBaseline>>,
}

impl Engine {
    /// Replays the orders of the last `days` (1 to [`MAX_SIMULATION_DAYS`])
    /// under each of `policies` (each validated against today's locations
    /// and tags first). Writes nothing.
    pub async fn simulate_recent(&self, days: i64, policies: Vec<(String, Policy)>) -> Result<RecentSimulation, Error> {
        if !(1..=MAX_SIMULATION_DAYS).contains(&days) {
            return Err(Error::Invalid(format!("days must be from 1 to {MAX_SIMULATION_DAYS} (got {days})")));
        }
        // Up to and including now.
        let end = self.now_ms().saturating_add(1);
        let from = end.saturating_sub(days.saturating_mul(DAY_MS)).max(0);
        let mut tx = self.read().await?;
        let locations = catalog::list_locations(&mut tx).await?;
        let skus = catalog::list_skus(&mut tx).await?;
        let positions = views::all_positions(&mut tx).await?;
        let stored = history::orders_between(&mut tx, from, end, MAX_SIMULATION_ORDERS + 1).await?;
        let consumed = history::consumed_between(&mut tx, from, end).await?;
        tx.rollback().await?;

        let codes: Vec<LocationCode> = locations.iter().map(|l| l.code.clone()).collect();
        let catalogue = Catalogue::new(&locations, &skus);
        let tags = catalogue.tags();
        for (_, policy) in &policies {
            policy.validate(&codes, &tags)?;
        }
        let capped = stored.len() > MAX_SIMULATION_ORDERS as usize;
        let stored = &stored[..stored.len().min(MAX_SIMULATION_ORDERS as usize)];
        let orders: Vec<Order> = stored.iter().filter_map(|o| replayable(o, &catalogue)).collect();
        let skipped_orders = stored.len() - orders.len();
        let stock = starting_stock(&positions, &consumed);
        let timezones: Vec<String> = locations.iter().map(|l| l.timezone.clone()).collect();
        let history = History::new(orders, Vec::new());
        // The replays are CPU work: off the async threads.
        let results = tokio::task::spawn_blocking(move || {
            policies
                .into_iter()
                .map(|(name, policy)| {
                    let mut days = ZoneDays(&timezones);
                    let r = simulate(&catalogue, &history, stock.clone(), &policy, &mut days, false, &mut |_| {});
                    (name, r)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| Error::Internal(format!("the simulation stopped: {e}")))?;
        let against = results.iter().enumerate().map(|(i, (_, r))| (i > 0).then(|| versus(&results[0].1, r))).collect();
        Ok(RecentSimulation { days, orders_read: stored.len(), skipped_orders, capped, results, versus: against })
    }
}

/// Today's positions with what the replayed orders consumed given back.
fn starting_stock(
    positions: &[switchyard_store::StockRow],
    consumed: &[(String, String, i64, i64)],
) -> BTreeMap<(Sku, LocationCode), Position> {
    let mut stock = BTreeMap::new();
    for p in positions {
        if let (Ok(sku), Ok(location)) = (Sku::parse(&p.sku), LocationCode::parse(&p.location)) {
            let position = Position { on_hand: p.on_hand, reserved: p.reserved, safety_stock: p.safety_stock };
            stock.insert((sku, location), position);
        }
    }
    for (sku, location, shipped, held) in consumed {
        let (Ok(sku), Ok(location)) = (Sku::parse(sku), LocationCode::parse(location)) else { continue };
        let p: &mut Position = stock.entry((sku, location)).or_default();
        p.on_hand = p.on_hand.saturating_add(*shipped);
        p.reserved = p.reserved.saturating_sub(*held).clamp(0, p.on_hand.max(0));
    }
    stock
}

/// A stored order as the replay takes it; `None` when it names what the
/// shop no longer has, or a stored value no longer parses.
fn replayable(o: &StoredOrder, catalogue: &Catalogue) -> Option<Order> {
    let currency = Currency::parse(&o.currency).ok()?;
    let mut lines = Vec::with_capacity(o.lines.len());
    let mut value: i64 = 0;
    for (sku, quantity, unit_price) in &o.lines {
        let index = catalogue.sku_index(&Sku::parse(sku).ok()?)?;
        lines.push(Line { sku: index, quantity: *quantity });
        value = value.checked_add(quantity.checked_mul(*unit_price)?)?;
    }
    let pickup_location = match &o.pickup_location {
        Some(code) => {
            let code = LocationCode::parse(code).ok()?;
            catalogue.location_index(&code)?;
            Some(code)
        }
        None => None,
    };
    Some(Order {
        at_ms: o.created_at,
        channel: ChannelName::parse(&o.channel).ok()?,
        external_id: ExternalOrderId::parse(&o.external_id).ok()?,
        service_level: ServiceLevel::parse(&o.service_level).unwrap_or(ServiceLevel::Standard),
        ship_to: Destination {
            lat: o.ship_to.lat,
            lon: o.ship_to.lon,
            postal_code: o.ship_to.postal_code.clone(),
            region: o.ship_to.region.clone(),
            country: o.ship_to.country.clone(),
        },
        pickup_location,
        value: Money::new(value, currency),
        lines,
    })
}

/// Each location's local day (its time zone's date), as live capacity counts.
struct ZoneDays<'a>(&'a [String]);

impl LocalDays for ZoneDays<'_> {
    fn day(&mut self, location: usize, at_ms: i64) -> i64 {
        let tz = self.0.get(location).map_or("UTC", String::as_str);
        // `YYYY-MM-DD` → YYYYMMDD: equal numbers, same date.
        switchyard_store::local_date(tz, at_ms).replace('-', "").parse::<i64>().unwrap_or(i64::MIN)
    }
}
