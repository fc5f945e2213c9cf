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

mod fallback;
mod select;

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
            avoid: Vec::new(),
        }
    }
}

fn no_currency() -> Currency {
    Currency::NONE
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
                let avoided = self.input.avoid.iter().any(|(s, c)| s == row_sku && c == code);
                if candidate == code && !avoided {
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
