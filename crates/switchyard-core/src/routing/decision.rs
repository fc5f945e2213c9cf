//! What a routing decision returns: the plan the store applies, an outcome
//! hint for the order's status, per-line results, and the structured trace
//! that explains it (rendered to English by [`Decision::explain`]).
//!
//! Expected outcomes — a stock-out, a partial fill, a pickup store that is
//! short — are values here, never errors.

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::geo::DistanceSource;
use super::policy::{CriterionKind, FallbackStep, RankingMode, SplitFillOrder, SplitStrategy};
use crate::allocation::AllocationPlan;
use crate::ids::{ChannelName, LocationCode, Sku};
use crate::location::LocationKind;
use crate::money::Money;
use crate::order::ServiceLevel;

/// The result of [`route`](super::route).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Exactly the shape `allocation::Allocator` returns, so the store applies
    /// it unchanged: per line, where from and how many units are unfilled
    /// (`backordered` counts every unfilled unit — backordered or held; see
    /// `lines` for which); and the reservations that carry it out.
    pub plan: AllocationPlan,
    pub outcome: Outcome,
    /// Per order line, in order.
    pub lines: Vec<LineOutcome>,
    pub trace: Trace,
}

/// What the order's status should become. Precedence: held, then
/// backordered, then dropship, then allocated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Every unit is reserved at a location that ships (or hands over) now.
    Allocated,
    /// Every unit is reserved; some at a dropship vendor, which ships after
    /// its lead time.
    Dropship { expected_ship_ms: i64 },
    /// Some units are reserved; the rest wait for a restock.
    PartiallyAllocated { expected_restock_ms: i64 },
    /// Nothing is reserved; everything waits for a restock.
    Backordered { expected_restock_ms: i64 },
    /// Some units could not be placed: an exception for a human. Whatever
    /// could be reserved is reserved (so it is not sold meanwhile).
    Held {
        exception: ExceptionKind,
        /// For `pickup_unavailable`: the nearest other pickup store with stock.
        nearest_store_with_stock: Option<LocationCode>,
        /// When the policy's `auto_cancel` step applies; the caller schedules it.
        auto_cancel_at_ms: Option<i64>,
    },
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Allocated => "allocated",
            Self::Dropship { .. } => "dropship",
            Self::PartiallyAllocated { .. } => "partially_allocated",
            Self::Backordered { .. } => "backordered",
            Self::Held { .. } => "held",
        }
    }
}

/// The exception kind a held order raises (the exception queue's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// No eligible location or fallback could place some units.
    Unroutable,
    /// The chosen pickup store cannot hand over the whole order.
    PickupUnavailable,
    /// Stock exists, but using it would exceed the split rules.
    SplitOverLimit,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unroutable => "unroutable",
            Self::PickupUnavailable => "pickup_unavailable",
            Self::SplitOverLimit => "split_over_limit",
        }
    }
}

/// How one order line ended up, in line units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineOutcome {
    /// Reserved at stores and warehouses.
    pub reserved_units: i64,
    /// Reserved at dropship vendors.
    pub dropship_units: i64,
    pub backordered_units: i64,
    pub held_units: i64,
    pub expected_restock_ms: Option<i64>,
    /// Why the eligible locations could not fill the line, when they could not.
    pub shortage: Option<Shortage>,
}

/// Why a line came up short at the eligible locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortage {
    /// Line units the locations could not fill.
    pub units_short: i64,
    /// The stock-holding SKU that ran out (a bundle's limiting component).
    pub sku: Sku,
    pub cause: ShortageCause,
}

/// The first reason that applies, checked in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum ShortageCause {
    /// Every location was excluded for this line (eligibility rules).
    NoEligibleLocation,
    /// An eligible location not used has stock, but another shipment would
    /// break the split rules.
    SplitLimit { location: LocationCode },
    /// An earlier line of this order (typically a bundle sharing the
    /// component) took the remaining stock.
    TakenByOtherLine { line: usize, line_sku: Sku, is_bundle: bool, units: i64 },
    /// The stock is on hand but reserved for other open orders.
    ReservedForOtherOrders { units: i64 },
    /// The stock is kept for walk-in customers and this order does not qualify.
    Protected { units: i64 },
    /// The only units left are safety stock.
    SafetyStock { units: i64 },
    /// Stock exists only at locations excluded for this order.
    OnlyAtExcludedLocations { locations: Vec<LocationCode> },
    /// No eligible location has any.
    NoStock,
}

/// Everything the engine considered, in the order it considered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub service_level: ServiceLevel,
    pub channel: ChannelName,
    pub order_value: Money,
    /// Line units ordered in total.
    pub total_units: i64,
    pub line_skus: Vec<Sku>,
    pub distance_source: DistanceSummary,
    pub ranking_mode: RankingMode,
    /// Expedited orders rank by distance before the policy's ranking.
    pub distance_first: bool,
    /// The policy's criteria, in order; each candidate's `criteria_values`
    /// follow this order.
    pub criteria: Vec<CriterionKind>,
    pub candidates: Vec<CandidateTrace>,
    pub line_exclusions: Vec<LineExclusion>,
    /// (location, SKU) positions not drawn on because the location could
    /// not find the item (`RoutingInput::avoid`).
    pub avoided: Vec<(LocationCode, Sku)>,
    pub protection: Vec<ProtectionTrace>,
    pub split: SplitTrace,
    pub selection: Selection,
    pub fallbacks: Vec<FallbackTrace>,
}

/// Which distances the decision used, over all candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceSummary {
    GreatCircle,
    /// The ship-to address (or every location) had no coordinates.
    Estimated,
    /// Some locations lacked coordinates.
    Mixed,
    NoCandidates,
}

/// One location, as the engine saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateTrace {
    pub location: LocationCode,
    pub name: String,
    pub kind: LocationKind,
    pub distance_km: f64,
    pub distance_source: DistanceSource,
    /// Why the location was removed before ranking, if it was.
    pub exclusion: Option<Exclusion>,
    /// 0-based rank among the ranked locations of its group (stores and
    /// warehouses; dropship vendors separately).
    pub rank: Option<usize>,
    /// Raw criterion values, lower is better (stock depth is negated).
    pub criteria_values: Vec<f64>,
    /// Weighted mode only.
    pub weighted_score: Option<f64>,
    pub shipping_cost_minor: Option<i64>,
    /// Units of the order's stock-holding SKUs this order may use here.
    pub usable_units: i64,
    pub fills_whole_order: bool,
    /// Line units planned here.
    pub planned_units: i64,
}

/// Why a location was removed for the whole order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "excluded", rename_all = "snake_case")]
pub enum Exclusion {
    Inactive,
    /// The same code appeared earlier in the input; only the first counts.
    DuplicateCode,
    CannotShip,
    CannotPickup,
    NotPickupLocation,
    /// `eligibility.channels[rule]`.
    ChannelRule {
        rule: usize,
    },
    CapacityReached {
        orders_today: u32,
        max_orders: i64,
    },
    TooFar {
        distance_km: f64,
        max_km: f64,
    },
    OutsideSameDayRadius {
        distance_km: f64,
        radius_km: f64,
    },
    /// Dropship vendors cannot serve same-day or pickup orders.
    DropshipNotForServiceLevel,
}

/// A location removed for one line by `eligibility.skus[rule]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineExclusion {
    pub line: usize,
    pub location: LocationCode,
    pub rule: usize,
}

/// Protected stock of one SKU at one location that mattered to this order:
/// withheld from it, or released to it and used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtectionTrace {
    pub location: LocationCode,
    pub sku: Sku,
    /// `protection[rule]`: the rule that decided (the largest refusing rule,
    /// or the largest releasing one when all release).
    pub rule: usize,
    pub keep_units: i64,
    /// Units available before protection.
    pub available: i64,
    pub verdict: ProtectionVerdict,
    /// Protected units this order actually took (released rules only).
    pub protected_units_used: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ProtectionVerdict {
    Released { reason: ReleaseReason },
    Refused { reason: RefusalReason },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum ReleaseReason {
    OrderValue { value: Money, threshold: Money },
    ServiceLevel { level: ServiceLevel },
    Channel { channel: ChannelName },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum RefusalReason {
    OrderValueBelow {
        value: Money,
        threshold: Money,
    },
    /// The threshold is in another currency, so it cannot be met.
    CurrencyDiffers {
        value: Money,
        threshold: Money,
    },
    /// The rule releases only to some service levels or channels, not this one.
    NotQualifying,
    /// The rule releases to no order at all.
    NeverReleased,
}

/// Whether splitting was allowed and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitTrace {
    pub strategy: SplitStrategy,
    pub allowed: bool,
    pub permission: SplitPermission,
    /// Shipments allowed for this order (1 when splitting is not allowed);
    /// `None` means unlimited.
    pub max_shipments: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum SplitPermission {
    Always,
    Never,
    ValueAtLeast {
        value: Money,
        threshold: Money,
    },
    ValueBelow {
        value: Money,
        threshold: Money,
    },
    CurrencyDiffers {
        value: Money,
        threshold: Money,
    },
    /// A pickup order is handed over at one store.
    PickupIsOneStore,
}

/// How the stores and warehouses were chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "selected", rename_all = "snake_case")]
pub enum Selection {
    /// Nothing to fill (no line units).
    NothingToFill,
    /// One location fills the whole order.
    WholeOrder {
        location: LocationCode,
        deciding: DecidingFactor,
        locations_filling_whole_order: usize,
        /// Present when a nearer split was considered (tolerance rules).
        split_comparison: Option<SplitComparison>,
    },
    /// Several locations share the order.
    Split {
        locations: Vec<LocationCode>,
        /// How the locations were picked; `None` when the split came from the
        /// tolerance comparison, which fills nearest first.
        fill_order: Option<SplitFillOrder>,
        /// Present when a whole-order location existed but lay outside the
        /// tolerance.
        preferred_over_whole: Option<SplitComparison>,
    },
    /// No location fills everything and no (further) split was possible:
    /// the location filling the most ships what it has.
    BestSingleLocation { location: LocationCode, filled_units: i64 },
    /// Pickup: the chosen store only. `eligible` is false when the store is
    /// unknown or was excluded (see its candidate's `exclusion`).
    Pickup { requested: Option<LocationCode>, eligible: bool, filled_units: i64 },
    /// No eligible location has any of the order's stock.
    NoPrimaryStock,
}

/// What made the chosen whole-order location beat the other locations that
/// could also fill the whole order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "factor", rename_all = "snake_case")]
pub enum DecidingFactor {
    OnlyCandidate,
    /// The steps that eliminated competitors, in ranking order.
    Ranking {
        steps: Vec<DecidingStep>,
    },
    /// Weighted mode: the chosen score against the best competitor's.
    WeightedScore {
        chosen: f64,
        runner_up: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum DecidingStep {
    /// Expedited: distance before the policy's ranking.
    DistanceFirst,
    Criterion {
        criterion: CriterionKind,
    },
    WarehouseFirst {
        tag: String,
    },
    /// Equal on every criterion; the location code decided.
    LocationCode,
}

/// A whole-order location compared with a nearer split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitComparison {
    pub whole_location: LocationCode,
    pub whole_distance_km: f64,
    pub split_locations: Vec<LocationCode>,
    pub split_nearest_km: f64,
    pub whole_cost_minor: Option<i64>,
    pub split_cost_minor: Option<i64>,
    pub within_tolerance: bool,
}

/// One step of the fallback chain and what it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FallbackTrace {
    pub step: FallbackStep,
    /// A hold the engine added because the chain ended with units unplaced.
    pub implicit: bool,
    pub result: FallbackResult,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum FallbackResult {
    Dropshipped {
        location: LocationCode,
        name: String,
        lead_time_days: u32,
        expected_ship_ms: i64,
        /// (line, line units)
        lines: Vec<(usize, i64)>,
    },
    Backordered {
        lines: Vec<(usize, i64)>,
        expected_restock_ms: i64,
    },
    Held {
        exception: ExceptionKind,
        lines: Vec<(usize, i64)>,
    },
    AutoCancel {
        at_ms: i64,
    },
    Skipped {
        reason: SkipReason,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum SkipReason {
    NotForServiceLevel {
        level: ServiceLevel,
    },
    ShipmentLimitReached {
        max_shipments: usize,
    },
    NoVendorHasStock,
    NoLineMayBackorder,
    /// The units left are held for split approval, not backordered, because
    /// stock exists at another location.
    StockExistsElsewhere,
    NothingHeld,
}

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Decision", 4)?;
        out.serialize_field("plan", &PlanView(&self.plan))?;
        out.serialize_field("outcome", &self.outcome)?;
        out.serialize_field("lines", &self.lines)?;
        out.serialize_field("trace", &self.trace)?;
        out.end()
    }
}

/// `AllocationPlan` as JSON, without touching the allocation module.
struct PlanView<'a>(&'a AllocationPlan);

impl Serialize for PlanView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Allocation<'a> {
            location: &'a LocationCode,
            quantity: i64,
        }
        #[derive(Serialize)]
        struct Line<'a> {
            allocations: Vec<Allocation<'a>>,
            backordered: i64,
        }
        #[derive(Serialize)]
        struct Reservation<'a> {
            line: usize,
            sku: &'a Sku,
            location: &'a LocationCode,
            per_unit: i64,
            quantity: i64,
        }
        let lines: Vec<Line<'_>> = self
            .0
            .lines
            .iter()
            .map(|line| Line {
                allocations: line
                    .allocations
                    .iter()
                    .map(|(location, quantity)| Allocation { location, quantity: *quantity })
                    .collect(),
                backordered: line.backordered,
            })
            .collect();
        let reservations: Vec<Reservation<'_>> = self
            .0
            .reservations
            .iter()
            .map(|r| Reservation {
                line: r.line,
                sku: &r.sku,
                location: &r.location,
                per_unit: r.per_unit,
                quantity: r.quantity,
            })
            .collect();
        let mut out = serializer.serialize_struct("AllocationPlan", 2)?;
        out.serialize_field("lines", &lines)?;
        out.serialize_field("reservations", &reservations)?;
        out.end()
    }
}
