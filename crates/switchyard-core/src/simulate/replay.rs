//! The replay loop: one policy over the whole history, one decision per
//! order through [`route`], each applied to the in-memory positions.
//!
//! The routing input lives for the whole replay and is refilled per order:
//! the locations are cloned once, and the stock map is the simulation's own
//! state (the engine reads only the rows of the order's SKUs, by range), so
//! an order costs its lines and its decision, not a copy of the shop.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::result::{Fate, OrderFate, PolicyResult};
use super::{Catalogue, History, LocalDays, Order};
use crate::ids::{ChannelName, LocationCode, Sku};
use crate::money::{Currency, Money};
use crate::order::ServiceLevel;
use crate::routing::geo::DistanceSource;
use crate::routing::{route, Decision, Outcome, Policy, RoutingInput, RoutingLine};
use crate::stock::Position;

/// How often (in orders) `progress` hears how far the replay got.
const PROGRESS_EVERY: usize = 1024;

/// Replays `history` under `policy` from `stock` (every position the
/// simulation starts with; the engine plans only from positions present).
/// `progress` is called with the orders done so far, every
/// [`PROGRESS_EVERY`] orders and at the end. With `keep_fates`, the result
/// records each order's fate (its locations and how it ended).
pub fn simulate(
    catalogue: &Catalogue,
    history: &History,
    stock: BTreeMap<(Sku, LocationCode), Position>,
    policy: &Policy,
    days: &mut dyn LocalDays,
    keep_fates: bool,
    progress: &mut dyn FnMut(usize),
) -> PolicyResult {
    let mut replay = Replay::new(catalogue, policy, stock, days);
    let mut result = PolicyResult { fates: keep_fates.then(Vec::new), ..PolicyResult::default() };
    let mut receipts = history.receipts().iter().peekable();
    for (done, order) in history.orders().iter().enumerate() {
        // Receipts first, then cancellations falling due, then the order.
        while let Some(receipt) = receipts.next_if(|r| r.at_ms <= order.at_ms) {
            replay.release_due(receipt.at_ms, &mut result);
            replay.receive(&receipt.sku, &receipt.location, receipt.quantity, &mut result);
        }
        replay.release_due(order.at_ms, &mut result);
        replay.take(order, &mut result);
        if (done + 1) % PROGRESS_EVERY == 0 {
            progress(done + 1);
        }
    }
    progress(history.orders().len());
    result
}

/// Units an auto-cancelled order holds until its cancellation time.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Release {
    at_ms: i64,
    /// Breaks ties in scheduling order, so the heap's order is total.
    seq: u64,
    sku: Sku,
    location: LocationCode,
    quantity: i64,
}

/// A capped location's count of orders on its current local day.
struct DayCount {
    location: usize,
    day: Option<i64>,
    orders: u32,
}

struct Replay<'a> {
    catalogue: &'a Catalogue,
    policy: &'a Policy,
    days: &'a mut dyn LocalDays,
    input: RoutingInput,
    capacity: Vec<DayCount>,
    releases: BinaryHeap<Reverse<Release>>,
    next_seq: u64,
}

impl<'a> Replay<'a> {
    fn new(
        catalogue: &'a Catalogue,
        policy: &'a Policy,
        stock: BTreeMap<(Sku, LocationCode), Position>,
        days: &'a mut dyn LocalDays,
    ) -> Self {
        let capacity = catalogue
            .locations()
            .iter()
            .enumerate()
            .filter(|(_, l)| policy.eligibility.daily_capacity.contains_key(&l.code))
            .map(|(location, _)| DayCount { location, day: None, orders: 0 })
            .collect();
        let input = RoutingInput {
            lines: Vec::new(),
            order_value: Money::zero(Currency::NONE),
            channel: placeholder_channel(),
            service_level: ServiceLevel::Standard,
            ship_to: Default::default(),
            pickup_location: None,
            locations: catalogue.locations().to_vec(),
            component_tags: BTreeMap::new(),
            stock,
            avoid: Vec::new(),
        };
        Replay { catalogue, policy, days, input, capacity, releases: BinaryHeap::new(), next_seq: 0 }
    }

    fn receive(&mut self, sku: &Sku, location: &LocationCode, quantity: i64, result: &mut PolicyResult) {
        let position = self.input.stock.entry((sku.clone(), location.clone())).or_default();
        match position.receive(quantity) {
            Ok(delta) => *position = position.apply(&delta),
            Err(_) => result.stock_errors += 1,
        }
    }

    /// Releases the units of auto-cancelled orders whose time has come.
    fn release_due(&mut self, now_ms: i64, result: &mut PolicyResult) {
        while self.releases.peek().is_some_and(|Reverse(r)| r.at_ms <= now_ms) {
            let Some(Reverse(r)) = self.releases.pop() else { break };
            let Some(position) = self.input.stock.get_mut(&(r.sku, r.location)) else {
                result.stock_errors += 1;
                continue;
            };
            match position.release(r.quantity) {
                Ok(delta) => *position = position.apply(&delta),
                Err(_) => result.stock_errors += 1,
            }
        }
    }

    /// Routes one order and applies the decision.
    fn take(&mut self, order: &Order, result: &mut PolicyResult) {
        self.prepare(order);
        let mut decision = route(&self.input, self.policy, order.at_ms);
        let cancel_at = match decision.outcome {
            Outcome::Held { auto_cancel_at_ms: Some(at), .. } => Some(at),
            _ => None,
        };
        let fate = self.record(order, &decision, cancel_at, result);
        self.count_day(&decision);
        for r in std::mem::take(&mut decision.plan.reservations) {
            self.apply(r.sku, r.location, r.quantity, cancel_at, result);
        }
        if let Some(fates) = result.fates.as_mut() {
            fates.push(fate);
        }
    }

    /// Refills the routing input with this order, as `allocate::build_input`
    /// fills it for a live one.
    fn prepare(&mut self, order: &Order) {
        let input = &mut self.input;
        input.lines.clear();
        input.component_tags.clear();
        for line in &order.lines {
            let Some(sku) = self.catalogue.sku(line.sku) else { continue };
            input.lines.push(RoutingLine {
                sku: sku.sku.clone(),
                quantity: line.quantity,
                units: sku.units.clone(),
                tags: sku.tags.clone(),
                may_backorder: sku.may_backorder,
            });
            for (component, tags) in &sku.component_tags {
                input.component_tags.insert(component.clone(), tags.clone());
            }
        }
        input.order_value = order.value;
        input.channel.clone_from(&order.channel);
        input.service_level = order.service_level;
        input.ship_to.clone_from(&order.ship_to);
        input.pickup_location.clone_from(&order.pickup_location);
        for count in &mut self.capacity {
            let day = self.days.day(count.location, order.at_ms);
            if count.day != Some(day) {
                count.day = Some(day);
                count.orders = 0;
            }
            if let Some(location) = input.locations.get_mut(count.location) {
                location.orders_today = count.orders;
            }
        }
    }

    /// Counts the order once at each capped location it allocated from.
    fn count_day(&mut self, decision: &Decision) {
        for count in &mut self.capacity {
            let Some(location) = self.input.locations.get(count.location) else { continue };
            let used = decision.plan.lines.iter().any(|l| l.allocations.iter().any(|(c, _)| c == &location.code));
            if used {
                count.orders = count.orders.saturating_add(1);
            }
        }
    }

    /// Reserves one planned quantity (the live rule) and ships it, or keeps
    /// it reserved until the order's cancellation.
    fn apply(
        &mut self,
        sku: Sku,
        location: LocationCode,
        quantity: i64,
        cancel_at: Option<i64>,
        result: &mut PolicyResult,
    ) {
        let key = (sku, location);
        let Some(position) = self.input.stock.get_mut(&key) else {
            result.stock_errors += 1;
            return;
        };
        let reserved = match position.reserve(quantity) {
            Ok(delta) => position.apply(&delta),
            Err(_) => {
                result.stock_errors += 1;
                return;
            }
        };
        *position = match cancel_at {
            None => match reserved.ship(quantity) {
                Ok(delta) => reserved.apply(&delta),
                Err(_) => {
                    result.stock_errors += 1;
                    reserved
                }
            },
            Some(at_ms) => {
                let (sku, location) = key;
                self.releases.push(Reverse(Release { at_ms, seq: self.next_seq, sku, location, quantity }));
                self.next_seq += 1;
                reserved
            }
        };
    }

    /// Adds the order's figures to the result; returns its fate.
    fn record(
        &self,
        order: &Order,
        decision: &Decision,
        cancel_at: Option<i64>,
        result: &mut PolicyResult,
    ) -> OrderFate {
        let wanted: i64 = order.lines.iter().map(|l| l.quantity.max(0)).sum();
        let unfilled: i64 = decision.plan.lines.iter().map(|l| l.backordered.max(0)).sum();
        let held = decision.lines.iter().any(|l| l.held_units > 0);
        result.orders += 1;
        result.units_ordered += wanted;
        *result.value.entry(order.value.currency()).or_default() += order.value.minor();
        for (index, line) in decision.plan.lines.iter().enumerate() {
            if line.backordered <= 0 {
                continue;
            }
            let outcome = decision.lines.get(index);
            let stock_sku = outcome.and_then(|o| o.shortage.as_ref()).map(|s| &s.sku);
            let sku = stock_sku.or_else(|| self.input.lines.get(index).map(|l| &l.sku));
            if let Some(sku) = sku {
                let stockout = result.stockouts.entry(sku.clone()).or_default();
                stockout.lines += 1;
                stockout.units += line.backordered;
            }
        }
        let mut allocations: Vec<(LocationCode, i64)> = Vec::new();
        for (code, units) in decision.plan.lines.iter().flat_map(|l| l.allocations.iter()) {
            match allocations.iter_mut().find(|(c, _)| c == code) {
                Some(entry) => entry.1 += units,
                None => allocations.push((code.clone(), *units)),
            }
        }
        allocations.sort();
        let fate = if cancel_at.is_some() {
            result.cancelled += 1;
            result.cancelled_units += wanted;
            Fate::Cancelled
        } else {
            self.record_shipments(order, decision, result);
            result.units_allocated += wanted - unfilled;
            result.dropship_units += decision.lines.iter().map(|l| l.dropship_units).sum::<i64>();
            result.protected_units_used +=
                decision.trace.protection.iter().map(|p| p.protected_units_used).sum::<i64>();
            if allocations.len() > 1 {
                result.split += 1;
            }
            if unfilled == 0 {
                result.filled += 1;
                *result.filled_value.entry(order.value.currency()).or_default() += order.value.minor();
                Fate::Filled
            } else {
                result.backordered += 1;
                result.backordered_units += unfilled;
                if held {
                    result.held += 1;
                    Fate::Held
                } else {
                    Fate::Backordered
                }
            }
        };
        OrderFate { fate, allocations, unfilled_units: unfilled }
    }

    /// Distance and shipping cost of each location the order ships from.
    fn record_shipments(&self, order: &Order, decision: &Decision, result: &mut PolicyResult) {
        if order.service_level == ServiceLevel::Pickup {
            result.pickups += u64::from(decision.trace.candidates.iter().any(|c| c.planned_units > 0));
            return;
        }
        for candidate in decision.trace.candidates.iter().filter(|c| c.planned_units > 0) {
            result.shipments += 1;
            result.distance_km += candidate.distance_km;
            if matches!(candidate.distance_source, DistanceSource::Estimated(_)) {
                result.distance_km_estimated += candidate.distance_km;
            }
            let priced = candidate.shipping_cost_minor.and_then(|cost| {
                self.rate_currency(&candidate.location, order.service_level, candidate.distance_km)
                    .map(|currency| (currency, cost))
            });
            match priced {
                Some((currency, cost)) => *result.shipping_cost.entry(currency).or_default() += cost,
                None => result.unpriced_shipments += 1,
            }
        }
    }

    /// The currency of the rate table that priced a shipment: the first
    /// table for the location and service level with a band for the
    /// distance, as the engine picks it.
    fn rate_currency(&self, location: &LocationCode, level: ServiceLevel, distance_km: f64) -> Option<Currency> {
        self.policy
            .shipping_rates
            .iter()
            .find(|t| &t.location == location && t.service_level == level && t.cost_for(distance_km).is_some())
            .map(|t| t.currency)
    }
}

/// The input's channel before the first order replaces it.
fn placeholder_channel() -> ChannelName {
    ChannelName::parse("simulated").expect("a valid constant channel name")
}
