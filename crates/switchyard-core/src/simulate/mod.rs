//! The policy simulator's replay: a shop's order history run, in time order,
//! through the routing engine under one policy, against stock that moves as
//! the simulated orders take it.
//!
//! Every decision is [`routing::route`](crate::routing::route), the function
//! live traffic calls, on a [`RoutingInput`] built as the engine builds it:
//! the same locations ([`RoutingLocation::from_location`]), each line's
//! stock-holding units (a bundle's components), tags and backorder flag, the
//! order's value, channel, service level and ship-to, and each capacity
//! location's orders of the day. Nothing here reads a file, a database or
//! the clock: the caller hands over the [`Catalogue`], the [`History`], the
//! starting stock, the policy, and a [`LocalDays`] that says which local day
//! a time falls on.
//!
//! # What a simulated order does to stock
//!
//! Each unit the decision places is reserved with `Position::reserve` (the
//! live rule) and, since a simulated order ships what it was given, shipped
//! at once with `Position::ship`: on hand goes down. An order the policy
//! holds with an `auto_cancel` step is cancelled at the decision's
//! `auto_cancel_at_ms`, as the sweeper would cancel it: its units stay
//! reserved until then and are released at that time. Unplaced units are
//! counted (backordered, or held for a person) and never wait for stock: no
//! one re-routes a simulated order.
//!
//! Receipts add stock at their time (`Position::receive`). Events at one
//! instant run receipts first, then cancellations falling due, then orders,
//! each in the order given (ties keep the file's order).
//!
//! # Daily capacity
//!
//! For the locations the policy caps (`eligibility.daily_capacity`), the
//! replay counts the orders routed to each on its local day, as the live
//! counter does (once per order per location it allocated from, cancelled or
//! not), and hands the count to the engine as `orders_today`.
//!
//! # Figures
//!
//! [`PolicyResult`] has the counts; the rates are methods. Distances are the
//! engine's own per-candidate figures from the decision's trace: great-circle
//! km when both the location and the ship-to address have coordinates,
//! otherwise the policy's `[distance]` estimate (same postal prefix, region,
//! country, elsewhere). History rows rarely carry coordinates, so
//! `distance_km_estimated` says how much of the total is estimated.
//! Shipping cost is the policy's own `shipping_rates` (the `shipping_cost`
//! criterion's price for each shipment), per currency; a shipment without a
//! rate counts in `unpriced_shipments`. Pickup orders are handed over at the
//! store: no shipment, no distance.

mod replay;
mod result;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::catalog::SkuDef;
use crate::ids::{ChannelName, ExternalOrderId, LocationCode, Sku};
use crate::location::Location;
use crate::money::Money;
use crate::order::ServiceLevel;
use crate::routing::{Destination, RoutingLocation};

pub use replay::simulate;
pub use result::{versus, Fate, OrderFate, PolicyResult, Stockout, VsBaseline};

const MS_PER_DAY: i64 = 86_400_000;

/// What the shop sells and ships from, as routing sees it: read once, shared
/// by every policy's replay.
#[derive(Debug, Clone)]
pub struct Catalogue {
    locations: Vec<RoutingLocation>,
    /// Sorted by SKU.
    skus: Vec<SimSku>,
}

/// A SKU's routing facts, as `allocate::build_input` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSku {
    pub sku: Sku,
    /// The stock-holding SKUs one unit consumes: itself, or a bundle's
    /// components with their counts.
    pub units: Vec<(Sku, i64)>,
    pub tags: Vec<String>,
    pub may_backorder: bool,
    /// A bundle's components with their own tags (for protection and SKU
    /// rules by tag); empty for a plain SKU.
    pub component_tags: Vec<(Sku, Vec<String>)>,
}

impl SimSku {
    pub fn is_bundle(&self) -> bool {
        !self.component_tags.is_empty()
    }
}

impl Catalogue {
    /// The locations in the order given (the store lists them by priority,
    /// then code, as live routing receives them) and every SKU.
    pub fn new(locations: &[Location], skus: &[SkuDef]) -> Catalogue {
        let tags_of: BTreeMap<&Sku, &Vec<String>> = skus.iter().map(|s| (&s.sku, &s.tags)).collect();
        let mut sims: Vec<SimSku> = skus
            .iter()
            .map(|def| {
                let units = if def.components.is_empty() {
                    vec![(def.sku.clone(), 1)]
                } else {
                    def.components.iter().map(|c| (c.sku.clone(), c.quantity.as_i64())).collect()
                };
                let component_tags = def
                    .components
                    .iter()
                    .map(|c| (c.sku.clone(), tags_of.get(&c.sku).map_or_else(Vec::new, |t| (*t).clone())))
                    .collect();
                SimSku {
                    sku: def.sku.clone(),
                    units,
                    tags: def.tags.clone(),
                    may_backorder: def.allow_backorder,
                    component_tags,
                }
            })
            .collect();
        sims.sort_by(|a, b| a.sku.cmp(&b.sku));
        sims.dedup_by(|later, earlier| later.sku == earlier.sku);
        Catalogue { locations: locations.iter().map(|l| RoutingLocation::from_location(l, 0)).collect(), skus: sims }
    }

    pub fn locations(&self) -> &[RoutingLocation] {
        &self.locations
    }

    pub fn location_index(&self, code: &LocationCode) -> Option<usize> {
        self.locations.iter().position(|l| &l.code == code)
    }

    pub fn sku_index(&self, sku: &Sku) -> Option<usize> {
        self.skus.binary_search_by(|s| s.sku.cmp(sku)).ok()
    }

    pub fn sku(&self, index: usize) -> Option<&SimSku> {
        self.skus.get(index)
    }

    /// Every tag a policy may name (SKU and component tags), sorted.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self.skus.iter().flat_map(|s| s.tags.iter().cloned()).collect();
        tags.sort();
        tags.dedup();
        tags
    }
}

/// One order of the history, checked: every SKU is in the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub at_ms: i64,
    pub channel: ChannelName,
    pub external_id: ExternalOrderId,
    pub service_level: ServiceLevel,
    pub ship_to: Destination,
    pub pickup_location: Option<LocationCode>,
    /// The sum of the lines' quantity × unit price.
    pub value: Money,
    pub lines: Vec<Line>,
}

/// `quantity` units of the catalogue's SKU number `sku`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub sku: usize,
    pub quantity: i64,
}

/// Goods arriving at a location at a point in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub at_ms: i64,
    pub sku: Sku,
    pub location: LocationCode,
    pub quantity: i64,
}

/// Orders and receipts in time order (ties keep the order given).
#[derive(Debug, Clone, Default)]
pub struct History {
    orders: Vec<Order>,
    receipts: Vec<Receipt>,
}

impl History {
    pub fn new(mut orders: Vec<Order>, mut receipts: Vec<Receipt>) -> History {
        // Stable sorts: equal times keep the file's order.
        orders.sort_by_key(|o| o.at_ms);
        receipts.sort_by_key(|r| r.at_ms);
        History { orders, receipts }
    }

    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    pub fn receipts(&self) -> &[Receipt] {
        &self.receipts
    }
}

/// Which local calendar day a time falls on at a location (capacity resets
/// at each location's midnight). The caller knows time zones; the core
/// does not.
pub trait LocalDays {
    /// A number naming the day of catalogue location `location` at `at_ms`:
    /// equal numbers, same day.
    fn day(&mut self, location: usize, at_ms: i64) -> i64;
}

/// Every location on UTC days.
#[derive(Debug, Clone, Copy, Default)]
pub struct UtcDays;

impl LocalDays for UtcDays {
    fn day(&mut self, _location: usize, at_ms: i64) -> i64 {
        at_ms.div_euclid(MS_PER_DAY)
    }
}
