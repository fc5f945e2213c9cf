//! The routing pipeline: eligibility → stock protection → ranking → split
//! strategy → fallback chain, as one pure function, [`route`].
//!
//! Internally everything is indexed: the order's stock-holding SKUs and the
//! candidate locations become small integers, and availability is a dense
//! `locations × skus` matrix read once from the snapshot. The hot loops then
//! touch only slices of `i64`, which keeps one decision for 20 locations and
//! a 5-line order to a few microseconds, and makes the central invariant easy
//! to see: every unit planned is subtracted from the same pool, so nothing is
//! planned beyond `Position::available()` minus the protected units, and
//! lines sharing a component (bundles) share that pool exactly as
//! `allocation::FewestLocations` does.

use std::cmp::Ordering;
use std::ops::Not;

use super::decision::{
    CandidateTrace, DecidingFactor, DecidingStep, Decision, DistanceSummary, ExceptionKind, Exclusion, FallbackResult,
    FallbackTrace, LineExclusion, LineOutcome, Outcome, ProtectionTrace, ProtectionVerdict, RefusalReason,
    ReleaseReason, Selection, Shortage, ShortageCause, SkipReason, SplitComparison, SplitPermission, SplitTrace, Trace,
};
use super::geo::{address_tier, haversine_km, AddressArea, AddressTier, Coordinates, DistanceSource};
use super::input::{RoutingInput, RoutingLine, RoutingLocation};
use super::policy::{Criterion, FallbackStep, Policy, ProtectionRule, RankingMode, SplitFillOrder, SplitStrategy};
use crate::allocation::{AllocationPlan, AllocationRequest, Allocator, LinePlan, Reservation};
use crate::ids::{ChannelName, LocationCode, Sku};
use crate::location::LocationKind;
use crate::money::{Currency, Money};
use crate::order::ServiceLevel;
use crate::stock::{Position, MAX_UNITS};

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Decides where an order ships from under `policy`. Pure: the same input,
/// policy and `now_ms` always give the same decision.
///
/// The policy should have passed [`Policy::check`]; an unchecked one cannot
/// break the invariants (nothing beyond available, no protected unit to a
/// non-qualifying order, never more shipments than allowed) but may hold
/// orders it need not.
pub fn route(input: &RoutingInput, policy: &Policy, now_ms: i64) -> Decision {
    Engine::new(input, policy, now_ms).decide()
}

/// The routing engine behind the [`Allocator`] trait, so it can replace
/// `FewestLocations` where an `AllocationRequest` is all there is. With
/// `Policy::default()` it plans exactly what `FewestLocations` plans.
#[derive(Debug, Clone, Default)]
pub struct PolicyAllocator {
    pub policy: Policy,
    /// The decision time (for expected dates; the plan does not depend on it).
    pub now_ms: i64,
}

impl Allocator for PolicyAllocator {
    fn allocate(&self, request: &AllocationRequest) -> AllocationPlan {
        route(&RoutingInput::from_allocation_request(request), &self.policy, self.now_ms).plan
    }
}

impl RoutingInput {
    /// Adapts an `AllocationRequest`, which knows nothing of channels, money,
    /// addresses or tags: every line may backorder (as `FewestLocations`
    /// assumes), locations count as warehouses named by their code, and the
    /// order value is zero in the "no currency" code `XXX`.
    pub fn from_allocation_request(request: &AllocationRequest) -> RoutingInput {
        RoutingInput {
            lines: request
                .lines
                .iter()
                .map(|line| RoutingLine {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    units: line.units.clone(),
                    tags: Vec::new(),
                    may_backorder: true,
                })
                .collect(),
            order_value: Money::zero(no_currency()),
            channel: unknown_channel(),
            service_level: request.service_level,
            ship_to: Default::default(),
            pickup_location: request.pickup_location.clone(),
            locations: request
                .locations
                .iter()
                .map(|location| RoutingLocation {
                    code: location.code.clone(),
                    name: location.code.to_string(),
                    kind: LocationKind::Warehouse,
                    lat: None,
                    lon: None,
                    postal_code: String::new(),
                    region: String::new(),
                    country: String::new(),
                    can_ship: location.can_ship,
                    can_pickup: location.can_pickup,
                    active: location.active,
                    priority: location.priority,
                    lead_time_days: 0,
                    orders_today: 0,
                })
                .collect(),
            component_tags: Default::default(),
            stock: request.stock.clone(),
        }
    }
}

fn no_currency() -> Currency {
    // ISO 4217 reserves XXX for "no currency"; a constant that always parses.
    Currency::parse("XXX").expect("XXX is a valid currency code")
}

fn unknown_channel() -> ChannelName {
    ChannelName::parse("unknown").expect("a valid constant channel name")
}

/// The order's lines flattened over the indexed stock-holding SKUs.
struct OrderShape {
    /// (stock SKU index, units per line unit); duplicates within a line merged.
    units: Vec<(usize, i64)>,
    /// Per line, its range in `units`.
    line_units: Vec<(usize, usize)>,
}

impl OrderShape {
    fn line(&self, line: usize) -> &[(usize, i64)] {
        let (start, end) = self.line_units[line];
        &self.units[start..end]
    }
}

/// Fills what it can of each line at one location, in line order, taking
/// from that location's `column` of the pool and from `need`. `allowed` is
/// the location's per-line eligibility. Writes line units taken to `took`
/// and returns their sum.
fn fill_lines(shape: &OrderShape, allowed: &[bool], need: &mut [i64], column: &mut [i64], took: &mut [i64]) -> i64 {
    let mut total: i64 = 0;
    for line in 0..shape.line_units.len() {
        took[line] = 0;
        let units = shape.line(line);
        if need[line] <= 0 || units.is_empty() || !allowed[line] {
            continue;
        }
        let fillable = units.iter().map(|&(s, per)| if per <= 0 { 0 } else { column[s] / per }).min().unwrap_or(0);
        let take = fillable.min(need[line]);
        if take <= 0 {
            continue;
        }
        for &(s, per) in units {
            column[s] -= take * per;
        }
        need[line] -= take;
        took[line] = take;
        total = total.saturating_add(take);
    }
    total
}

/// How the shipments so far are limited.
#[derive(Clone, Copy)]
struct ShipmentLimit(Option<usize>);

impl ShipmentLimit {
    fn allows_another(self, used: usize) -> bool {
        self.0.is_none_or(|max| used < max)
    }
}

struct Engine<'a> {
    input: &'a RoutingInput,
    policy: &'a Policy,
    now_ms: i64,
    level: ServiceLevel,
    skus: Vec<&'a Sku>,
    shape: OrderShape,
    /// Line units wanted per line.
    wanted: Vec<i64>,
    /// (code, location index) sorted by code, first occurrence only.
    by_code: Vec<(&'a LocationCode, usize)>,
    /// Per location: its position in code order, so ties are broken by
    /// comparing integers rather than strings.
    code_order: Vec<usize>,
    /// Per location: false for a repeated code (only the first counts).
    canonical: Vec<bool>,
    /// `locations × skus`: `Position::available()`.
    available: Vec<i64>,
    /// `locations × skus`: what this order may use after protection.
    usable: Vec<i64>,
    /// `locations × lines`: SKU eligibility rules.
    line_allowed: Vec<bool>,
    distance_km: Vec<f64>,
    distance_source: Vec<DistanceSource>,
    exclusions: Vec<Option<Exclusion>>,
    shipping_cost: Vec<Option<i64>>,
    line_exclusions: Vec<LineExclusion>,
    protection: Vec<ProtectionEntry>,
}

/// Protection at one (location, sku) before the plan is known.
struct ProtectionEntry {
    location: usize,
    sku: usize,
    rule: usize,
    keep_units: i64,
    verdict: ProtectionVerdict,
}

/// The ranked order of candidates and the values behind it.
struct Ranked {
    criteria_values: Vec<f64>,
    scores: Vec<Option<f64>>,
    primary: Vec<usize>,
    dropship: Vec<usize>,
    rank: Vec<Option<usize>>,
}

/// The plan under construction and the pool it draws from.
struct Planner {
    pool: Vec<i64>,
    need: Vec<i64>,
    plan: AllocationPlan,
    used_locations: Vec<usize>,
    scratch_column: Vec<i64>,
    scratch_need: Vec<i64>,
    took: Vec<i64>,
    /// Line units planned per location.
    planned_at: Vec<i64>,
    /// Line units planned at dropship vendors, per line.
    dropshipped: Vec<i64>,
    /// False for a trial: it tracks the pool and the locations used but
    /// writes no plan (which would clone codes only to throw them away).
    records_plan: bool,
}

impl Planner {
    /// A copy that trial fills may consume without touching this one.
    fn trial(&self) -> Planner {
        Planner {
            pool: self.pool.clone(),
            need: self.need.clone(),
            plan: AllocationPlan::default(),
            used_locations: Vec::new(),
            scratch_column: self.scratch_column.clone(),
            scratch_need: self.scratch_need.clone(),
            took: self.took.clone(),
            planned_at: vec![0; self.planned_at.len()],
            dropshipped: vec![0; self.dropshipped.len()],
            records_plan: false,
        }
    }
}

impl<'a> Engine<'a> {
    fn new(input: &'a RoutingInput, policy: &'a Policy, now_ms: i64) -> Self {
        let mut skus: Vec<&Sku> = input.lines.iter().flat_map(|line| line.units.iter().map(|(sku, _)| sku)).collect();
        skus.sort_unstable();
        skus.dedup();

        let mut units: Vec<(usize, i64)> = Vec::with_capacity(skus.len() + input.lines.len());
        let mut line_units = Vec::with_capacity(input.lines.len());
        for line in &input.lines {
            let start = units.len();
            for (sku, per) in &line.units {
                let Ok(s) = skus.binary_search(&sku) else { continue };
                // A component listed twice counts once with the summed count,
                // so the pool is checked against the true total per unit.
                match units[start..].iter_mut().find(|(existing, _)| *existing == s) {
                    Some(entry) => entry.1 = entry.1.saturating_add(*per),
                    None => units.push((s, *per)),
                }
            }
            line_units.push((start, units.len()));
        }
        let shape = OrderShape { units, line_units };
        let wanted = input.lines.iter().map(|line| line.quantity.max(0)).collect();

        let mut by_code: Vec<(&LocationCode, usize)> =
            input.locations.iter().enumerate().map(|(i, location)| (&location.code, i)).collect();
        // Stable sort keeps the first of duplicate codes first; dedup drops the rest.
        by_code.sort_by(|a, b| a.0.cmp(b.0));
        by_code.dedup_by(|later, earlier| later.0 == earlier.0);
        let location_count = input.locations.len();
        let mut code_order = vec![usize::MAX; location_count];
        let mut canonical = vec![false; location_count];
        for (order, &(_, l)) in by_code.iter().enumerate() {
            code_order[l] = order;
            canonical[l] = true;
        }

        Self {
            input,
            policy,
            now_ms,
            level: input.service_level,
            available: vec![0; location_count * skus.len()],
            usable: Vec::new(),
            line_allowed: vec![true; location_count * input.lines.len()],
            distance_km: Vec::with_capacity(location_count),
            distance_source: Vec::with_capacity(location_count),
            exclusions: vec![None; location_count],
            shipping_cost: vec![None; location_count],
            line_exclusions: Vec::new(),
            protection: Vec::new(),
            skus,
            shape,
            wanted,
            by_code,
            code_order,
            canonical,
        }
    }

    fn sku_count(&self) -> usize {
        self.skus.len()
    }

    fn line_count(&self) -> usize {
        self.input.lines.len()
    }

    fn location(&self, l: usize) -> &'a RoutingLocation {
        &self.input.locations[l]
    }

    /// The canonical index of a location code (the first occurrence).
    fn location_index(&self, code: &LocationCode) -> Option<usize> {
        self.by_code.binary_search_by(|(c, _)| (*c).cmp(code)).ok().map(|i| self.by_code[i].1)
    }

    fn decide(mut self) -> Decision {
        self.read_stock();
        self.measure_distances();
        self.apply_eligibility();
        self.apply_sku_rules();
        self.apply_protection();
        self.price_shipping();
        let ranked = self.rank();
        let (split_allowed, permission) = self.split_permission();
        let limit = if split_allowed {
            ShipmentLimit(self.policy.split.max_shipments.map(|max| usize::try_from(max).unwrap_or(0)))
        } else {
            ShipmentLimit(Some(1))
        };
        let split = SplitTrace {
            strategy: self.policy.split.strategy,
            allowed: split_allowed,
            permission,
            max_shipments: limit.0,
        };

        let mut planner = Planner {
            pool: self.usable.clone(),
            need: self.wanted.clone(),
            plan: AllocationPlan { lines: vec![LinePlan::default(); self.line_count()], reservations: Vec::new() },
            used_locations: Vec::new(),
            scratch_column: vec![0; self.sku_count()],
            scratch_need: vec![0; self.line_count()],
            took: vec![0; self.line_count()],
            planned_at: vec![0; self.input.locations.len()],
            dropshipped: vec![0; self.line_count()],
            records_plan: true,
        };
        let fills_whole: Vec<bool> = (0..self.input.locations.len())
            .map(|l| ranked.rank[l].is_some() && self.fills_whole_order(&mut planner, l))
            .collect();
        let selection = self.select(&ranked, &fills_whole, split_allowed, limit, &mut planner);

        let shortages: Vec<Option<Shortage>> =
            (0..self.line_count()).map(|line| self.shortage(line, &ranked, &planner)).collect();
        let mut lines: Vec<LineOutcome> =
            shortages.into_iter().map(|shortage| LineOutcome { shortage, ..Default::default() }).collect();
        let (fallbacks, nearest_store) = self.run_fallbacks(&ranked, limit, &mut planner, &mut lines);

        // The plan's `backordered` is every unit left unreserved, whichever
        // fallback took it, as `FewestLocations` reports it.
        for ((plan_line, outcome), left) in planner.plan.lines.iter_mut().zip(&lines).zip(&planner.need) {
            plan_line.backordered =
                outcome.backordered_units.saturating_add(outcome.held_units).saturating_add(*left.max(&0));
        }
        for ((outcome, plan_line), dropshipped) in lines.iter_mut().zip(&planner.plan.lines).zip(&planner.dropshipped) {
            let planned = saturating_sum(plan_line.allocations.iter().map(|(_, units)| *units));
            outcome.dropship_units = *dropshipped;
            outcome.reserved_units = planned - dropshipped;
        }
        let outcome = self.outcome(&lines, &fallbacks, nearest_store);
        let trace = self.trace(ranked, fills_whole, &planner, split, selection, fallbacks);
        Decision { plan: planner.plan, outcome, lines, trace }
    }

    /// Reads the snapshot into the dense availability matrix. A range per
    /// SKU visits only that SKU's rows, whatever else the map holds, and
    /// since both the rows and `by_code` are sorted by location code, one
    /// merge pass matches them (a lookup per row would cost a binary search
    /// of string compares each).
    fn read_stock(&mut self) {
        let Some((first_code, _)) = self.by_code.first() else { return };
        let sku_count = self.sku_count();
        for (s, sku) in self.skus.iter().enumerate() {
            let from = ((*sku).clone(), (*first_code).clone());
            let mut cursor = 0;
            for ((row_sku, code), position) in self.input.stock.range(from..) {
                if row_sku != *sku {
                    break;
                }
                while cursor < self.by_code.len() && self.by_code[cursor].0 < code {
                    cursor += 1;
                }
                let Some(&(candidate, l)) = self.by_code.get(cursor) else { break };
                if candidate == code {
                    self.available[l * sku_count + s] = available_units(position);
                }
            }
        }
    }

    fn measure_distances(&mut self) {
        let ship_to = &self.input.ship_to;
        let destination = Coordinates::from_pair(ship_to.lat, ship_to.lon);
        let destination_area =
            AddressArea { postal_code: &ship_to.postal_code, region: &ship_to.region, country: &ship_to.country };
        for location in &self.input.locations {
            let here = Coordinates::from_pair(location.lat, location.lon);
            let (km, source) = match (destination, here) {
                (Some(to), Some(from)) => (haversine_km(from, to), DistanceSource::GreatCircle),
                _ => {
                    let tier = address_tier(area_of(location), destination_area, self.postal_prefix_len());
                    (self.estimated_km(tier), DistanceSource::Estimated(tier))
                }
            };
            self.distance_km.push(km);
            self.distance_source.push(source);
        }
    }

    fn postal_prefix_len(&self) -> usize {
        usize::try_from(self.policy.distance.postal_prefix_len).unwrap_or(0)
    }

    fn estimated_km(&self, tier: AddressTier) -> f64 {
        let estimates = &self.policy.distance;
        match tier {
            AddressTier::SamePostalPrefix => estimates.same_postal_prefix_km,
            AddressTier::SameRegion => estimates.same_region_km,
            AddressTier::SameCountry => estimates.same_country_km,
            AddressTier::Elsewhere => estimates.elsewhere_km,
        }
    }

    /// Per location, whether `only` (when not empty) allows it and `except`
    /// does not remove it. Resolving the lists once keeps string compares
    /// out of the per-location loops.
    fn location_mask(&self, only: &[LocationCode], except: &[LocationCode]) -> Vec<bool> {
        let mut allowed = vec![only.is_empty(); self.input.locations.len()];
        for code in only {
            if let Some(l) = self.location_index(code) {
                allowed[l] = true;
            }
        }
        for code in except {
            if let Some(l) = self.location_index(code) {
                allowed[l] = false;
            }
        }
        allowed
    }

    /// Location-wide filters, first reason wins.
    fn apply_eligibility(&mut self) {
        let input = self.input;
        let eligibility = &self.policy.eligibility;
        let channel_masks: Vec<(usize, Vec<bool>)> = eligibility
            .channels
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.channel == input.channel)
            .map(|(index, rule)| (index, self.location_mask(&rule.only_locations, &rule.except_locations)))
            .collect();
        let mut capacity: Vec<Option<i64>> = vec![None; input.locations.len()];
        for (code, max_orders) in &eligibility.daily_capacity {
            if let Some(l) = self.location_index(code) {
                capacity[l] = Some(*max_orders);
            }
        }
        for (l, location) in input.locations.iter().enumerate() {
            let exclusion = if !self.canonical[l] {
                Some(Exclusion::DuplicateCode)
            } else if !location.active {
                Some(Exclusion::Inactive)
            } else if self.level == ServiceLevel::Pickup {
                if self.input.pickup_location.as_ref() != Some(&location.code) {
                    Some(Exclusion::NotPickupLocation)
                } else if !location.can_pickup {
                    Some(Exclusion::CannotPickup)
                } else {
                    None
                }
            } else if !location.can_ship {
                Some(Exclusion::CannotShip)
            } else if self.level == ServiceLevel::SameDay && location.kind == LocationKind::Dropship {
                Some(Exclusion::DropshipNotForServiceLevel)
            } else {
                None
            };
            let exclusion = exclusion.or_else(|| {
                channel_masks
                    .iter()
                    .find(|(_, allowed)| !allowed[l])
                    .map(|(rule, _)| Exclusion::ChannelRule { rule: *rule })
            });
            let exclusion = exclusion.or_else(|| {
                let max_orders = capacity[l]?;
                (i64::from(location.orders_today) >= max_orders)
                    .then_some(Exclusion::CapacityReached { orders_today: location.orders_today, max_orders })
            });
            let distance_km = self.distance_km[l];
            let exclusion = exclusion.or_else(|| {
                let max_km = eligibility.max_distance_km.for_level(self.level)?;
                within(distance_km, max_km).not().then_some(Exclusion::TooFar { distance_km, max_km })
            });
            let exclusion = exclusion.or_else(|| {
                let radius_km =
                    self.policy.service_levels.same_day_radius_km.filter(|_| self.level == ServiceLevel::SameDay)?;
                within(distance_km, radius_km)
                    .not()
                    .then_some(Exclusion::OutsideSameDayRadius { distance_km, radius_km })
            });
            self.exclusions[l] = exclusion;
        }
    }

    /// `eligibility.skus`: per line, per location.
    fn apply_sku_rules(&mut self) {
        let line_count = self.line_count();
        let input = self.input;
        for (rule_index, rule) in self.policy.eligibility.skus.iter().enumerate() {
            let mut allowed: Option<Vec<bool>> = None;
            for line in 0..line_count {
                if !self.line_matches(line, rule.sku.as_ref(), rule.tag.as_deref()) {
                    continue;
                }
                let allowed =
                    allowed.get_or_insert_with(|| self.location_mask(&rule.only_locations, &rule.except_locations));
                for (l, location) in input.locations.iter().enumerate() {
                    let cell = &mut self.line_allowed[l * line_count + line];
                    if *cell && !allowed[l] {
                        *cell = false;
                        if self.exclusions[l].is_none() {
                            self.line_exclusions.push(LineExclusion {
                                line,
                                location: location.code.clone(),
                                rule: rule_index,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Whether a line falls under a SKU rule: its own SKU or tags, or those of
    /// any stock-holding SKU it draws on (a restricted component restricts
    /// the bundle).
    fn line_matches(&self, line: usize, sku: Option<&Sku>, tag: Option<&str>) -> bool {
        let order_line = &self.input.lines[line];
        if let Some(sku) = sku {
            return &order_line.sku == sku || self.shape.line(line).iter().any(|&(s, _)| self.skus[s] == sku);
        }
        match tag {
            Some(tag) => {
                order_line.tags.iter().any(|t| t == tag)
                    || self.shape.line(line).iter().any(|&(s, _)| self.stock_sku_has_tag(s, tag))
            }
            None => true,
        }
    }

    /// A stock-holding SKU's tags: those of lines selling it directly, plus
    /// `component_tags`.
    fn stock_sku_has_tag(&self, s: usize, tag: &str) -> bool {
        let sku = self.skus[s];
        self.input.lines.iter().any(|line| &line.sku == sku && line.tags.iter().any(|t| t == tag))
            || self.input.component_tags.get(sku).is_some_and(|tags| tags.iter().any(|t| t == tag))
    }

    /// Computes what this order may use at each (location, sku): available
    /// minus the largest keep of any matching rule the order does not
    /// qualify for.
    fn apply_protection(&mut self) {
        let sku_count = self.sku_count();
        let verdicts: Vec<ProtectionVerdict> =
            self.policy.protection.iter().map(|rule| protection_verdict(rule, self.input)).collect();
        // (location, sku) → index into self.protection
        let mut entries: Vec<ProtectionEntry> = Vec::new();
        for (rule_index, rule) in self.policy.protection.iter().enumerate() {
            let keep_units = rule.keep_units.max(0);
            let refuses = matches!(verdicts[rule_index], ProtectionVerdict::Refused { .. });
            let covered: Vec<bool> = (0..sku_count)
                .map(|s| match (&rule.sku, &rule.tag) {
                    (Some(sku), _) => self.skus[s] == sku,
                    (None, Some(tag)) => self.stock_sku_has_tag(s, tag),
                    (None, None) => true,
                })
                .collect();
            for code in &rule.locations {
                let Some(l) = self.location_index(code) else { continue };
                for s in (0..sku_count).filter(|&s| covered[s]) {
                    let candidate = ProtectionEntry {
                        location: l,
                        sku: s,
                        rule: rule_index,
                        keep_units,
                        verdict: verdicts[rule_index].clone(),
                    };
                    match entries.iter_mut().find(|e| e.location == l && e.sku == s) {
                        None => entries.push(candidate),
                        Some(existing) => {
                            let existing_refuses = matches!(existing.verdict, ProtectionVerdict::Refused { .. });
                            // A refusing rule always binds over a releasing one;
                            // among equals the larger keep binds.
                            let replace = match (refuses, existing_refuses) {
                                (true, false) => true,
                                (false, true) => false,
                                _ => keep_units > existing.keep_units,
                            };
                            if replace {
                                *existing = candidate;
                            }
                        }
                    }
                }
            }
        }
        self.usable = self.available.clone();
        for entry in &entries {
            if matches!(entry.verdict, ProtectionVerdict::Refused { .. }) {
                let cell = &mut self.usable[entry.location * sku_count + entry.sku];
                *cell = (*cell - entry.keep_units).max(0);
            }
        }
        entries.sort_by_key(|e| (e.location, e.sku));
        self.protection = entries;
    }

    fn price_shipping(&mut self) {
        for table in &self.policy.shipping_rates {
            if table.service_level != self.level {
                continue;
            }
            if let Some(l) = self.location_index(&table.location) {
                if self.shipping_cost[l].is_none() {
                    self.shipping_cost[l] = table.cost_for(self.distance_km[l]);
                }
            }
        }
    }

    /// A criterion's raw value at a location, lower is better.
    /// `order_has_tag` is precomputed for `warehouse_first`.
    fn criterion_value(&self, criterion: &Criterion, l: usize, order_has_tag: bool) -> f64 {
        let location = self.location(l);
        match criterion {
            Criterion::Distance { .. } => self.distance_km[l],
            Criterion::Priority { .. } => f64::from(location.priority),
            Criterion::ShippingCost { .. } => self.shipping_cost[l].map_or(f64::INFINITY, |cost| cost as f64),
            Criterion::StockDepth { .. } => {
                let sku_count = self.sku_count();
                -self.usable[l * sku_count..(l + 1) * sku_count].iter().map(|u| *u as f64).sum::<f64>()
            }
            Criterion::LeadTime { .. } => f64::from(location.lead_time_days),
            Criterion::WarehouseFirst { .. } => {
                if order_has_tag && location.kind != LocationKind::Warehouse {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Orders the eligible locations; stores and warehouses in one list,
    /// dropship vendors (fallback only) in another.
    fn rank(&self) -> Ranked {
        let location_count = self.input.locations.len();
        let criteria = &self.policy.ranking.criteria;
        let criterion_count = criteria.len();
        let tag_present: Vec<bool> = criteria
            .iter()
            .map(|criterion| match criterion {
                Criterion::WarehouseFirst { tag, .. } => {
                    self.input.lines.iter().any(|line| line.tags.iter().any(|t| t == tag))
                }
                _ => false,
            })
            .collect();
        let mut criteria_values = vec![0.0; location_count * criterion_count];
        for l in 0..location_count {
            for (c, criterion) in criteria.iter().enumerate() {
                criteria_values[l * criterion_count + c] = self.criterion_value(criterion, l, tag_present[c]);
            }
        }
        let (mut primary, mut dropship): (Vec<usize>, Vec<usize>) = (0..location_count)
            .filter(|&l| self.exclusions[l].is_none())
            .partition(|&l| self.location(l).kind != LocationKind::Dropship);
        let mut scores = vec![None; location_count];
        let weighted = self.policy.ranking.mode == RankingMode::Weighted;
        if weighted {
            for group in [&primary, &dropship] {
                self.weighted_scores(group, &criteria_values, &mut scores);
            }
        }
        let distance_first = self.distance_first();
        let compare = |&a: &usize, &b: &usize| -> Ordering {
            let by_distance =
                if distance_first { self.distance_km[a].total_cmp(&self.distance_km[b]) } else { Ordering::Equal };
            let by_policy = if weighted {
                let score = |l: usize| scores[l].unwrap_or(f64::INFINITY);
                score(a).total_cmp(&score(b))
            } else {
                let (row_a, row_b) = (
                    &criteria_values[a * criterion_count..(a + 1) * criterion_count],
                    &criteria_values[b * criterion_count..(b + 1) * criterion_count],
                );
                row_a.iter().zip(row_b).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            };
            by_distance.then(by_policy).then_with(|| self.code_order[a].cmp(&self.code_order[b]))
        };
        primary.sort_by(compare);
        dropship.sort_by(compare);
        let mut rank = vec![None; location_count];
        for group in [&primary, &dropship] {
            for (position, &l) in group.iter().enumerate() {
                rank[l] = Some(position);
            }
        }
        Ranked { criteria_values, scores, primary, dropship, rank }
    }

    fn distance_first(&self) -> bool {
        self.level == ServiceLevel::Expedited && self.policy.service_levels.expedited_distance_first
    }

    /// Each criterion scaled to 0..1 (0 = best; a missing value such as an
    /// unknown shipping cost = 1), times its weight.
    fn weighted_scores(&self, group: &[usize], values: &[f64], scores: &mut [Option<f64>]) {
        let criteria = &self.policy.ranking.criteria;
        let criterion_count = criteria.len();
        for &l in group {
            scores[l] = Some(0.0);
        }
        // Scale over the locations holding some of the order's stock: one
        // that cannot supply anything never wins, and letting it set the
        // range would distort the others' scores.
        let sku_count = self.sku_count();
        let holders: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&l| self.usable[l * sku_count..(l + 1) * sku_count].iter().any(|u| *u > 0))
            .collect();
        let scale_over: &[usize] = if holders.is_empty() { group } else { &holders };
        for (c, criterion) in criteria.iter().enumerate() {
            let finite = scale_over.iter().map(|&l| values[l * criterion_count + c]).filter(|v| v.is_finite());
            let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let weight = criterion.weight();
            for &l in group {
                let value = values[l * criterion_count + c];
                let scaled = if !value.is_finite() {
                    1.0
                } else if max > min {
                    (value - min) / (max - min)
                } else {
                    0.0
                };
                if let Some(score) = scores[l].as_mut() {
                    *score += weight * scaled;
                }
            }
        }
    }

    fn split_permission(&self) -> (bool, SplitPermission) {
        if self.level == ServiceLevel::Pickup {
            return (false, SplitPermission::PickupIsOneStore);
        }
        match self.policy.split.strategy {
            SplitStrategy::Always => (true, SplitPermission::Always),
            SplitStrategy::Never => (false, SplitPermission::Never),
            SplitStrategy::AboveValue => {
                let value = self.input.order_value;
                match self.policy.split.min_order_value {
                    // An unchecked policy without a threshold: the safe reading is "never".
                    None => (false, SplitPermission::Never),
                    Some(threshold) if threshold.currency() != value.currency() => {
                        (false, SplitPermission::CurrencyDiffers { value, threshold })
                    }
                    Some(threshold) if value.minor() >= threshold.minor() => {
                        (true, SplitPermission::ValueAtLeast { value, threshold })
                    }
                    Some(threshold) => (false, SplitPermission::ValueBelow { value, threshold }),
                }
            }
        }
    }

    fn allowed_at(&self, l: usize) -> &[bool] {
        let line_count = self.line_count();
        &self.line_allowed[l * line_count..(l + 1) * line_count]
    }

    /// Units a location would fill from the current pool, without changing it.
    fn trial_fill(&self, planner: &mut Planner, l: usize) -> i64 {
        let sku_count = self.sku_count();
        planner.scratch_column.copy_from_slice(&planner.pool[l * sku_count..(l + 1) * sku_count]);
        planner.scratch_need.copy_from_slice(&planner.need);
        fill_lines(
            &self.shape,
            self.allowed_at(l),
            &mut planner.scratch_need,
            &mut planner.scratch_column,
            &mut planner.took,
        )
    }

    fn fills_whole_order(&self, planner: &mut Planner, l: usize) -> bool {
        let total = saturating_sum(planner.need.iter().copied());
        total > 0 && self.location(l).kind != LocationKind::Dropship && self.trial_fill(planner, l) == total
    }

    /// Takes what location `l` can fill and records it in the plan.
    fn commit(&self, planner: &mut Planner, l: usize) -> i64 {
        let sku_count = self.sku_count();
        let filled = fill_lines(
            &self.shape,
            self.allowed_at(l),
            &mut planner.need,
            &mut planner.pool[l * sku_count..(l + 1) * sku_count],
            &mut planner.took,
        );
        if filled == 0 {
            return 0;
        }
        let location = self.location(l);
        let code = &location.code;
        planner.planned_at[l] += filled;
        planner.used_locations.push(l);
        if !planner.records_plan {
            return filled;
        }
        for (line, &taken) in planner.took.iter().enumerate() {
            if taken == 0 {
                continue;
            }
            if location.kind == LocationKind::Dropship {
                planner.dropshipped[line] += taken;
            }
            planner.plan.lines[line].allocations.push((code.clone(), taken));
            for &(s, per) in self.shape.line(line) {
                planner.plan.reservations.push(Reservation {
                    line,
                    sku: self.skus[s].clone(),
                    location: code.clone(),
                    per_unit: per,
                    quantity: taken * per,
                });
            }
        }
        filled
    }

    /// Chooses the stores and warehouses (the split strategy stage).
    fn select(
        &self,
        ranked: &Ranked,
        fills_whole: &[bool],
        split_allowed: bool,
        limit: ShipmentLimit,
        planner: &mut Planner,
    ) -> Selection {
        let total = saturating_sum(planner.need.iter().copied());
        if self.level == ServiceLevel::Pickup {
            let pickup = ranked.primary.first().copied();
            let filled = pickup.map_or(0, |l| self.commit(planner, l));
            return Selection::Pickup {
                requested: self.input.pickup_location.clone(),
                eligible: pickup.is_some(),
                filled_units: filled,
            };
        }
        if total == 0 {
            return Selection::NothingToFill;
        }
        if !limit.allows_another(0) {
            return Selection::NoPrimaryStock;
        }
        let whole_candidates: Vec<usize> = ranked.primary.iter().copied().filter(|&l| fills_whole[l]).collect();
        if let Some(&whole) = whole_candidates.first() {
            let deciding = self.deciding_factor(ranked, &whole_candidates);
            let comparison = if split_allowed { self.compare_with_split(ranked, whole, limit, planner) } else { None };
            if let Some(comparison) = comparison.as_ref().filter(|c| !c.within_tolerance) {
                for code in &comparison.split_locations {
                    if let Some(l) = self.location_index(code) {
                        self.commit(planner, l);
                    }
                }
                return Selection::Split {
                    locations: comparison.split_locations.clone(),
                    fill_order: None,
                    preferred_over_whole: Some(comparison.clone()),
                };
            }
            self.commit(planner, whole);
            return Selection::WholeOrder {
                location: self.location(whole).code.clone(),
                deciding,
                locations_filling_whole_order: whole_candidates.len(),
                split_comparison: comparison,
            };
        }
        let fill_order = self.policy.split.fill_order;
        let mut unused: Vec<usize> = ranked.primary.clone();
        while planner.need.iter().any(|n| *n > 0) && limit.allows_another(planner.used_locations.len()) {
            let next = if split_allowed && fill_order == SplitFillOrder::Ranking {
                unused.iter().position(|&l| self.trial_fill(planner, l) > 0)
            } else {
                // The most units next; the earlier-ranked wins a tie (as FewestLocations).
                let mut best: Option<(usize, i64)> = None;
                for (position, &l) in unused.iter().enumerate() {
                    let filled = self.trial_fill(planner, l);
                    if filled > best.map_or(0, |(_, f)| f) {
                        best = Some((position, filled));
                    }
                }
                best.map(|(position, _)| position)
            };
            let Some(position) = next else { break };
            let l = unused.remove(position);
            self.commit(planner, l);
        }
        match planner.used_locations.as_slice() {
            [] => Selection::NoPrimaryStock,
            [only] => Selection::BestSingleLocation {
                location: self.location(*only).code.clone(),
                filled_units: total.saturating_sub(saturating_sum(planner.need.iter().copied())),
            },
            used => Selection::Split {
                locations: used.iter().map(|&l| self.location(l).code.clone()).collect(),
                fill_order: Some(fill_order),
                preferred_over_whole: None,
            },
        }
    }

    /// With a tolerance configured, builds the split a "nearest first" fill
    /// would make and says whether the whole-order location is within the
    /// tolerance of it. `None` when no tolerance is set or no complete,
    /// genuinely split alternative exists.
    fn compare_with_split(
        &self,
        ranked: &Ranked,
        whole: usize,
        limit: ShipmentLimit,
        planner: &mut Planner,
    ) -> Option<SplitComparison> {
        let rules = &self.policy.split;
        if rules.prefer_single_within_km.is_none() && rules.prefer_single_within_cost_minor.is_none() {
            return None;
        }
        let mut by_distance = ranked.primary.clone();
        by_distance.sort_by(|&a, &b| self.distance_km[a].total_cmp(&self.distance_km[b]));
        // A trial planner, so the real pool is untouched.
        let mut trial = planner.trial();
        for &l in &by_distance {
            if trial.need.iter().all(|n| *n == 0) || !limit.allows_another(trial.used_locations.len()) {
                break;
            }
            self.commit(&mut trial, l);
        }
        let complete = trial.need.iter().all(|n| *n == 0);
        if !complete || trial.used_locations.len() < 2 || trial.used_locations.contains(&whole) {
            return None;
        }
        let split_nearest_km = trial.used_locations.iter().map(|&l| self.distance_km[l]).fold(f64::INFINITY, f64::min);
        let whole_distance_km = self.distance_km[whole];
        let whole_cost_minor = self.shipping_cost[whole];
        let split_cost_minor = trial
            .used_locations
            .iter()
            .try_fold(0i64, |sum, &l| self.shipping_cost[l].map(|cost| sum.saturating_add(cost)));
        let within_km = rules.prefer_single_within_km.is_some_and(|km| whole_distance_km - split_nearest_km <= km);
        let within_cost = match (rules.prefer_single_within_cost_minor, whole_cost_minor, split_cost_minor) {
            (Some(tolerance), Some(whole_cost), Some(split_cost)) => whole_cost.saturating_sub(split_cost) <= tolerance,
            _ => false,
        };
        Some(SplitComparison {
            whole_location: self.location(whole).code.clone(),
            whole_distance_km,
            split_locations: trial.used_locations.iter().map(|&l| self.location(l).code.clone()).collect(),
            split_nearest_km,
            whole_cost_minor,
            split_cost_minor,
            within_tolerance: within_km || within_cost,
        })
    }

    /// What separated the chosen whole-order location from the others that
    /// could fill the whole order: replays the ranking as successive
    /// eliminations and records each step that removed a competitor.
    fn deciding_factor(&self, ranked: &Ranked, whole_candidates: &[usize]) -> DecidingFactor {
        let Some((&chosen, competitors)) = whole_candidates.split_first() else {
            return DecidingFactor::OnlyCandidate;
        };
        if competitors.is_empty() {
            return DecidingFactor::OnlyCandidate;
        }
        let mut remaining = competitors.to_vec();
        let mut steps = Vec::new();
        if self.distance_first() {
            remaining.retain(|&l| self.distance_km[l] == self.distance_km[chosen]);
            if remaining.len() < competitors.len() {
                steps.push(DecidingStep::DistanceFirst);
            }
        }
        if remaining.is_empty() {
            return DecidingFactor::Ranking { steps };
        }
        if self.policy.ranking.mode == RankingMode::Weighted {
            // `remaining` keeps ranked order, so its first is the runner-up.
            let (score, runner_up) = (ranked.scores[chosen].unwrap_or(0.0), ranked.scores[remaining[0]].unwrap_or(0.0));
            if score != runner_up {
                return DecidingFactor::WeightedScore { chosen: score, runner_up };
            }
            steps.push(DecidingStep::LocationCode);
            return DecidingFactor::Ranking { steps };
        }
        let count = self.policy.ranking.criteria.len();
        for (c, criterion) in self.policy.ranking.criteria.iter().enumerate() {
            let before = remaining.len();
            let value = ranked.criteria_values[chosen * count + c];
            remaining.retain(|&l| ranked.criteria_values[l * count + c] == value);
            if remaining.len() < before {
                steps.push(match criterion {
                    Criterion::WarehouseFirst { tag, .. } => DecidingStep::WarehouseFirst { tag: tag.clone() },
                    other => DecidingStep::Criterion { criterion: other.kind() },
                });
            }
            if remaining.is_empty() {
                break;
            }
        }
        if !remaining.is_empty() {
            steps.push(DecidingStep::LocationCode);
        }
        DecidingFactor::Ranking { steps }
    }

    /// Why a line is still short after the stores and warehouses were chosen.
    fn shortage(&self, line: usize, ranked: &Ranked, planner: &Planner) -> Option<Shortage> {
        let units_short = planner.need[line];
        if units_short <= 0 {
            return None;
        }
        let units = self.shape.line(line);
        let line_sku = &self.input.lines[line].sku;
        let eligible: Vec<usize> = ranked.primary.iter().copied().filter(|&l| self.allowed_at(l)[line]).collect();
        // The limiting stock SKU: the fewest line units across eligible locations.
        let sku_count = self.sku_count();
        let limiting = units
            .iter()
            .filter(|(_, per)| *per > 0)
            .min_by_key(|&&(s, per)| saturating_sum(eligible.iter().map(|&l| planner.pool[l * sku_count + s] / per)))
            .or(units.first())
            .map(|&(s, _)| s);
        let Some(s) = limiting else {
            return Some(Shortage { units_short, sku: line_sku.clone(), cause: ShortageCause::NoStock });
        };
        let sku = self.skus[s].clone();
        if eligible.is_empty() {
            return Some(Shortage { units_short, sku, cause: self.excluded_stock_cause(s) });
        }
        if self.level != ServiceLevel::Pickup {
            let blocked_at = eligible.iter().copied().find(|&l| {
                !planner.used_locations.contains(&l)
                    && units.iter().all(|&(s, per)| per > 0 && planner.pool[l * sku_count + s] >= per)
            });
            if let Some(l) = blocked_at {
                return Some(Shortage {
                    units_short,
                    sku,
                    cause: ShortageCause::SplitLimit { location: self.location(l).code.clone() },
                });
            }
        }
        // Stock another line of this order took at the eligible locations.
        let taken = planner.plan.reservations.iter().find(|r| {
            r.line != line
                && &r.sku == self.skus[s]
                && self.location_index(&r.location).is_some_and(|l| eligible.contains(&l))
        });
        if let Some(taken) = taken {
            let units = saturating_sum(
                planner
                    .plan
                    .reservations
                    .iter()
                    .filter(|r| r.line != line && &r.sku == self.skus[s])
                    .map(|r| r.quantity),
            );
            let other = &self.input.lines[taken.line];
            let is_bundle = other.units.len() > 1 || other.units.first().is_some_and(|(unit, _)| unit != &other.sku);
            return Some(Shortage {
                units_short,
                sku,
                cause: ShortageCause::TakenByOtherLine {
                    line: taken.line,
                    line_sku: other.sku.clone(),
                    is_bundle,
                    units,
                },
            });
        }
        let (mut reserved, mut protected, mut safety, mut on_hand) = (0i64, 0i64, 0i64, 0i64);
        for &l in &eligible {
            let key = (self.skus[s].clone(), self.location(l).code.clone());
            if let Some(position) = self.input.stock.get(&key) {
                on_hand = on_hand.saturating_add(position.on_hand.max(0));
                reserved = reserved.saturating_add(position.reserved.max(0));
                safety = safety.saturating_add(position.safety_stock.max(0));
            }
            protected = protected.saturating_add(self.available[l * sku_count + s] - self.usable[l * sku_count + s]);
        }
        let cause = if on_hand > 0 && reserved > 0 {
            ShortageCause::ReservedForOtherOrders { units: reserved }
        } else if protected > 0 {
            ShortageCause::Protected { units: protected }
        } else if on_hand > 0 && safety > 0 {
            ShortageCause::SafetyStock { units: safety.min(on_hand) }
        } else {
            self.excluded_stock_cause(s)
        };
        Some(Shortage { units_short, sku, cause })
    }

    /// `OnlyAtExcludedLocations` when excluded stores or warehouses have the
    /// SKU, else `NoStock` (or `NoEligibleLocation` when nothing is eligible).
    fn excluded_stock_cause(&self, s: usize) -> ShortageCause {
        let sku_count = self.sku_count();
        let excluded_with_stock: Vec<LocationCode> = (0..self.input.locations.len())
            .filter(|&l| {
                self.exclusions[l].is_some()
                    && !matches!(self.exclusions[l], Some(Exclusion::NotPickupLocation | Exclusion::DuplicateCode))
                    && self.location(l).kind != LocationKind::Dropship
                    && self.available[l * sku_count + s] > 0
            })
            .map(|l| self.location(l).code.clone())
            .collect();
        if !excluded_with_stock.is_empty() {
            ShortageCause::OnlyAtExcludedLocations { locations: excluded_with_stock }
        } else if self.exclusions.iter().all(Option::is_some) {
            ShortageCause::NoEligibleLocation
        } else {
            ShortageCause::NoStock
        }
    }

    /// Runs the fallback chain over the units still unplaced. Returns the
    /// trace and, for pickup, the nearest other store with stock.
    fn run_fallbacks(
        &self,
        ranked: &Ranked,
        limit: ShipmentLimit,
        planner: &mut Planner,
        lines: &mut [LineOutcome],
    ) -> (Vec<FallbackTrace>, Option<LocationCode>) {
        let mut trace = Vec::new();
        let split_blocked = |outcome: &LineOutcome| {
            matches!(outcome.shortage, Some(Shortage { cause: ShortageCause::SplitLimit { .. }, .. }))
        };
        let same_day_or_pickup = matches!(self.level, ServiceLevel::SameDay | ServiceLevel::Pickup);
        let mut held_something = false;
        for &step in &self.policy.fallback.chain {
            let nothing_left = planner.need.iter().all(|n| *n <= 0);
            // `auto_cancel` still runs after a `hold` that took the last units.
            if nothing_left && step != FallbackStep::AutoCancel {
                break;
            }
            let result = match step {
                FallbackStep::Dropship | FallbackStep::Backorder if same_day_or_pickup => {
                    FallbackResult::Skipped { reason: SkipReason::NotForServiceLevel { level: self.level } }
                }
                FallbackStep::Dropship => {
                    let dropshipped = self.dropship(ranked, limit, planner);
                    if !dropshipped.is_empty() {
                        trace.extend(dropshipped.into_iter().map(|result| FallbackTrace {
                            step,
                            implicit: false,
                            result,
                        }));
                        continue;
                    }
                    let reason = if limit.allows_another(planner.used_locations.len()) {
                        SkipReason::NoVendorHasStock
                    } else {
                        SkipReason::ShipmentLimitReached { max_shipments: limit.0.unwrap_or(0) }
                    };
                    FallbackResult::Skipped { reason }
                }
                FallbackStep::Backorder => {
                    let expected_restock_ms = self.days_from_now(self.policy.fallback.backorder_restock_days.max(0));
                    let mut backordered = Vec::new();
                    let mut blocked = false;
                    for (line, outcome) in lines.iter_mut().enumerate() {
                        let units = planner.need[line];
                        if units <= 0 || !self.input.lines[line].may_backorder {
                            continue;
                        }
                        // Stock exists elsewhere: a human approves a split instead.
                        if split_blocked(outcome) {
                            blocked = true;
                            continue;
                        }
                        outcome.backordered_units += units;
                        outcome.expected_restock_ms = Some(expected_restock_ms);
                        planner.need[line] = 0;
                        backordered.push((line, units));
                    }
                    if backordered.is_empty() {
                        let reason =
                            if blocked { SkipReason::StockExistsElsewhere } else { SkipReason::NoLineMayBackorder };
                        FallbackResult::Skipped { reason }
                    } else {
                        FallbackResult::Backordered { lines: backordered, expected_restock_ms }
                    }
                }
                FallbackStep::Hold => {
                    held_something = true;
                    self.hold(planner, lines)
                }
                FallbackStep::AutoCancel if !held_something => {
                    FallbackResult::Skipped { reason: SkipReason::NothingHeld }
                }
                FallbackStep::AutoCancel => {
                    let hours = self.policy.fallback.auto_cancel_after_hours.unwrap_or(0).max(0);
                    FallbackResult::AutoCancel { at_ms: self.now_ms.saturating_add(hours.saturating_mul(MS_PER_HOUR)) }
                }
            };
            trace.push(FallbackTrace { step, implicit: false, result });
        }
        if planner.need.iter().any(|n| *n > 0) {
            let result = self.hold(planner, lines);
            trace.push(FallbackTrace { step: FallbackStep::Hold, implicit: true, result });
        }
        let held = lines.iter().any(|line| line.held_units > 0);
        let nearest = if held && self.level == ServiceLevel::Pickup { self.nearest_pickup_store() } else { None };
        (trace, nearest)
    }

    /// Dropship vendors in ranked order take what they can, each one a
    /// shipment, while the shipment limit allows.
    fn dropship(&self, ranked: &Ranked, limit: ShipmentLimit, planner: &mut Planner) -> Vec<FallbackResult> {
        let mut results = Vec::new();
        for &vendor in &ranked.dropship {
            if planner.need.iter().all(|n| *n <= 0) || !limit.allows_another(planner.used_locations.len()) {
                break;
            }
            let before = planner.need.clone();
            if self.commit(planner, vendor) == 0 {
                continue;
            }
            let location = self.location(vendor);
            let lines = before
                .iter()
                .zip(&planner.need)
                .enumerate()
                .filter(|(_, (wanted, left))| wanted > left)
                .map(|(line, (wanted, left))| (line, wanted - left))
                .collect();
            results.push(FallbackResult::Dropshipped {
                location: location.code.clone(),
                name: location.name.clone(),
                lead_time_days: location.lead_time_days,
                expected_ship_ms: self.days_from_now(i64::from(location.lead_time_days)),
                lines,
            });
        }
        results
    }

    /// Holds every unit still unplaced.
    fn hold(&self, planner: &mut Planner, lines: &mut [LineOutcome]) -> FallbackResult {
        let mut held = Vec::new();
        for (line, outcome) in lines.iter_mut().enumerate() {
            let units = planner.need[line];
            if units > 0 {
                outcome.held_units += units;
                planner.need[line] = 0;
                held.push((line, units));
            }
        }
        FallbackResult::Held { exception: self.exception_kind(lines), lines: held }
    }

    fn exception_kind(&self, lines: &[LineOutcome]) -> ExceptionKind {
        if self.level == ServiceLevel::Pickup {
            return ExceptionKind::PickupUnavailable;
        }
        let split_blocked = lines.iter().any(|line| {
            line.held_units > 0
                && matches!(line.shortage, Some(Shortage { cause: ShortageCause::SplitLimit { .. }, .. }))
        });
        if split_blocked {
            ExceptionKind::SplitOverLimit
        } else {
            ExceptionKind::Unroutable
        }
    }

    /// The nearest other active pickup store that could hand over the whole
    /// order (or, failing that, the most of it), measured from the chosen store.
    fn nearest_pickup_store(&self) -> Option<LocationCode> {
        let chosen = self.input.pickup_location.as_ref().and_then(|code| self.location_index(code));
        let sku_count = self.sku_count();
        let mut best: Option<(bool, i64, f64, usize)> = None;
        for (l, location) in self.input.locations.iter().enumerate() {
            if Some(l) == chosen
                || !location.active
                || !location.can_pickup
                || location.kind == LocationKind::Dropship
                || !self.canonical[l]
            {
                continue;
            }
            let mut column = self.usable[l * sku_count..(l + 1) * sku_count].to_vec();
            let mut need = self.wanted.clone();
            let mut took = vec![0; self.line_count()];
            let filled = fill_lines(&self.shape, self.allowed_at(l), &mut need, &mut column, &mut took);
            if filled == 0 {
                continue;
            }
            let whole = need.iter().all(|n| *n == 0);
            let km = match chosen {
                Some(c) => self.distance_between(c, l),
                None => self.distance_km[l],
            };
            let better = match best {
                None => true,
                Some((best_whole, best_filled, best_km, _)) => {
                    (whole, filled, -km).partial_cmp(&(best_whole, best_filled, -best_km)) == Some(Ordering::Greater)
                }
            };
            if better {
                best = Some((whole, filled, km, l));
            }
        }
        best.map(|(_, _, _, l)| self.location(l).code.clone())
    }

    fn distance_between(&self, a: usize, b: usize) -> f64 {
        let (from, to) = (self.location(a), self.location(b));
        match (Coordinates::from_pair(from.lat, from.lon), Coordinates::from_pair(to.lat, to.lon)) {
            (Some(x), Some(y)) => haversine_km(x, y),
            _ => self.estimated_km(address_tier(area_of(from), area_of(to), self.postal_prefix_len())),
        }
    }

    fn days_from_now(&self, days: i64) -> i64 {
        self.now_ms.saturating_add(days.saturating_mul(MS_PER_DAY))
    }

    fn outcome(&self, lines: &[LineOutcome], fallbacks: &[FallbackTrace], nearest: Option<LocationCode>) -> Outcome {
        let held = fallbacks.iter().find_map(|f| match f.result {
            FallbackResult::Held { exception, .. } => Some(exception),
            _ => None,
        });
        if let Some(exception) = held.filter(|_| lines.iter().any(|l| l.held_units > 0)) {
            let auto_cancel_at_ms = fallbacks.iter().find_map(|f| match f.result {
                FallbackResult::AutoCancel { at_ms } => Some(at_ms),
                _ => None,
            });
            let nearest_store_with_stock = if exception == ExceptionKind::PickupUnavailable { nearest } else { None };
            return Outcome::Held { exception, nearest_store_with_stock, auto_cancel_at_ms };
        }
        let expected_restock = lines.iter().filter_map(|l| l.expected_restock_ms).max();
        if let Some(expected_restock_ms) = expected_restock {
            let anything_reserved = lines.iter().any(|l| l.reserved_units > 0 || l.dropship_units > 0);
            return if anything_reserved {
                Outcome::PartiallyAllocated { expected_restock_ms }
            } else {
                Outcome::Backordered { expected_restock_ms }
            };
        }
        let dropship_ship = fallbacks
            .iter()
            .filter_map(|f| match f.result {
                FallbackResult::Dropshipped { expected_ship_ms, .. } => Some(expected_ship_ms),
                _ => None,
            })
            .max();
        match dropship_ship {
            Some(expected_ship_ms) => Outcome::Dropship { expected_ship_ms },
            None => Outcome::Allocated,
        }
    }

    fn trace(
        &self,
        ranked: Ranked,
        fills_whole: Vec<bool>,
        planner: &Planner,
        split: SplitTrace,
        selection: Selection,
        fallbacks: Vec<FallbackTrace>,
    ) -> Trace {
        let sku_count = self.sku_count();
        let criterion_count = self.policy.ranking.criteria.len();
        let candidates = self
            .input
            .locations
            .iter()
            .enumerate()
            .map(|(l, location)| CandidateTrace {
                location: location.code.clone(),
                name: location.name.clone(),
                kind: location.kind,
                distance_km: self.distance_km[l],
                distance_source: self.distance_source[l],
                exclusion: self.exclusions[l].clone(),
                rank: ranked.rank[l],
                criteria_values: ranked.criteria_values[l * criterion_count..(l + 1) * criterion_count].to_vec(),
                weighted_score: ranked.scores[l],
                shipping_cost_minor: self.shipping_cost[l],
                usable_units: saturating_sum(self.usable[l * sku_count..(l + 1) * sku_count].iter().copied()),
                fills_whole_order: fills_whole[l],
                planned_units: planner.planned_at[l],
            })
            .collect();
        // Only protection that mattered: units withheld from this order, or
        // protected units it actually took.
        let protection = self
            .protection
            .iter()
            .filter_map(|entry| {
                let cell = entry.location * sku_count + entry.sku;
                let available = self.available[cell];
                let released = matches!(entry.verdict, ProtectionVerdict::Released { .. });
                let taken = self.usable[cell] - planner.pool[cell];
                let unprotected = (available - entry.keep_units).max(0);
                let protected_units_used = if released { (taken - unprotected).max(0) } else { 0 };
                let mattered = if released { protected_units_used > 0 } else { available > 0 && entry.keep_units > 0 };
                mattered.then(|| ProtectionTrace {
                    location: self.location(entry.location).code.clone(),
                    sku: self.skus[entry.sku].clone(),
                    rule: entry.rule,
                    keep_units: entry.keep_units,
                    available,
                    verdict: entry.verdict.clone(),
                    protected_units_used,
                })
            })
            .collect();
        let considered: Vec<DistanceSource> = (0..self.input.locations.len())
            .filter(|&l| ranked.rank[l].is_some())
            .map(|l| self.distance_source[l])
            .collect();
        let distance_source = if considered.is_empty() {
            DistanceSummary::NoCandidates
        } else if considered.iter().all(|s| *s == DistanceSource::GreatCircle) {
            DistanceSummary::GreatCircle
        } else if considered.iter().all(|s| matches!(s, DistanceSource::Estimated(_))) {
            DistanceSummary::Estimated
        } else {
            DistanceSummary::Mixed
        };
        Trace {
            service_level: self.level,
            channel: self.input.channel.clone(),
            order_value: self.input.order_value,
            total_units: saturating_sum(self.wanted.iter().copied()),
            line_skus: self.input.lines.iter().map(|line| line.sku.clone()).collect(),
            distance_source,
            ranking_mode: self.policy.ranking.mode,
            distance_first: self.distance_first(),
            criteria: self.policy.ranking.criteria.iter().map(Criterion::kind).collect(),
            candidates,
            line_exclusions: self.line_exclusions.clone(),
            protection,
            split,
            selection,
            fallbacks,
        }
    }
}

/// `Position::available()` for any position the store can hold. A row
/// outside the store's bounds (corrupt or hand-made) counts as nothing
/// available: planning from it could only oversell, and computing it could
/// overflow.
fn available_units(position: &Position) -> i64 {
    let in_bounds = |units: i64| units.unsigned_abs() <= MAX_UNITS.unsigned_abs();
    if in_bounds(position.on_hand) && in_bounds(position.reserved) && in_bounds(position.safety_stock) {
        position.available()
    } else {
        0
    }
}

/// Sums without overflowing on absurd inputs (quantities and positions are
/// raw `i64` here; the store bounds them, the engine must not panic).
fn saturating_sum(values: impl IntoIterator<Item = i64>) -> i64 {
    values.into_iter().fold(0, i64::saturating_add)
}

/// Whether a distance is within a limit. A NaN on either side is not, so a
/// broken coordinate can never slip past a distance rule.
fn within(distance_km: f64, limit_km: f64) -> bool {
    distance_km.partial_cmp(&limit_km).is_some_and(Ordering::is_le)
}

fn area_of(location: &RoutingLocation) -> AddressArea<'_> {
    AddressArea { postal_code: &location.postal_code, region: &location.region, country: &location.country }
}

/// Whether this order may use a rule's protected units, and why.
fn protection_verdict(rule: &ProtectionRule, input: &RoutingInput) -> ProtectionVerdict {
    let release = &rule.release_to;
    let value = input.order_value;
    if let Some(threshold) = release.min_order_value {
        if threshold.currency() == value.currency() && value.minor() >= threshold.minor() {
            return ProtectionVerdict::Released { reason: ReleaseReason::OrderValue { value, threshold } };
        }
    }
    if release.service_levels.contains(&input.service_level) {
        return ProtectionVerdict::Released { reason: ReleaseReason::ServiceLevel { level: input.service_level } };
    }
    if release.channels.contains(&input.channel) {
        return ProtectionVerdict::Released { reason: ReleaseReason::Channel { channel: input.channel.clone() } };
    }
    let reason = match release.min_order_value {
        Some(threshold) if threshold.currency() != value.currency() => {
            RefusalReason::CurrencyDiffers { value, threshold }
        }
        Some(threshold) => RefusalReason::OrderValueBelow { value, threshold },
        None if release.service_levels.is_empty() && release.channels.is_empty() => RefusalReason::NeverReleased,
        None => RefusalReason::NotQualifying,
    };
    ProtectionVerdict::Refused { reason }
}
