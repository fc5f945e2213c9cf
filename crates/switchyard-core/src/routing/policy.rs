//! The routing policy as plain data: what a retailer can say about where
//! orders ship from. The TOML format is documented (with a full example) in
//! the [`routing`](super) module docs; JSON uses the same field names.
//!
//! Every struct refuses unknown fields, so a misspelt rule is an error rather
//! than a silently ignored line. Numbers that must not be negative are kept
//! signed here on purpose: validation ([`Policy::check`]) then names the field
//! and the offending value, which reads better than a serde type error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelName, LocationCode, Sku};
use crate::money::{Currency, Money};
use crate::order::ServiceLevel;

/// A complete routing policy. `Policy::default()` behaves like the first
/// allocator (`FewestLocations`): locations by priority, one location for the
/// whole order when any can fill it, splits allowed without limit, and
/// anything unfilled backordered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub eligibility: Eligibility,
    /// Units kept back for walk-in customers.
    pub protection: Vec<ProtectionRule>,
    pub ranking: Ranking,
    /// Shipping rate tables used by the `shipping_cost` criterion and the
    /// cost tolerance of the split rules.
    pub shipping_rates: Vec<RateTable>,
    pub split: SplitRules,
    pub service_levels: ServiceLevelRules,
    pub distance: DistanceEstimates,
    pub fallback: FallbackRules,
}

/// Filters that remove a location before ranking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Eligibility {
    /// Per-channel location restrictions.
    pub channels: Vec<ChannelRule>,
    /// Per-SKU or per-tag location restrictions.
    pub skus: Vec<SkuRule>,
    pub max_distance_km: MaxDistance,
    /// Maximum orders a day per location. The caller counts the orders
    /// already routed there since the location's local midnight.
    pub daily_capacity: BTreeMap<LocationCode, i64>,
}

/// Orders from `channel` may only use `only_locations` (when not empty) and
/// never `except_locations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    pub channel: ChannelName,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_locations: Vec<LocationCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except_locations: Vec<LocationCode>,
}

/// Lines whose SKU is `sku`, or carries `tag`, may only ship from
/// `only_locations` (when not empty) and never from `except_locations`.
/// Exactly one of `sku` and `tag` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_locations: Vec<LocationCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except_locations: Vec<LocationCode>,
}

/// The farthest a location may be from the ship-to address, per shipped
/// service level (same-day has its own radius; pickup has no distance).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxDistance {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expedited: Option<f64>,
}

impl MaxDistance {
    pub fn for_level(&self, level: ServiceLevel) -> Option<f64> {
        match level {
            ServiceLevel::Standard => self.standard,
            ServiceLevel::Expedited => self.expedited,
            ServiceLevel::SameDay | ServiceLevel::Pickup => None,
        }
    }
}

/// Keep `keep_units` of the matching SKUs at each of `locations` for walk-in
/// customers. Matching: `sku`, or `tag`, or every SKU when neither is given.
/// The kept units come on top of the position's safety stock and are released
/// only to orders meeting `release_to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectionRule {
    pub locations: Vec<LocationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub keep_units: i64,
    #[serde(default)]
    pub release_to: ReleaseConditions,
}

/// An order qualifies for protected units when it meets ANY of these. With
/// all three empty the units are never released to orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReleaseConditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_order_value: Option<Money>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_levels: Vec<ServiceLevel>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelName>,
}

/// How eligible locations are ordered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ranking {
    pub mode: RankingMode,
    pub criteria: Vec<Criterion>,
}

impl Default for Ranking {
    /// Priority only: what `FewestLocations` does.
    fn default() -> Self {
        Self { mode: RankingMode::Lexicographic, criteria: vec![Criterion::Priority { weight: 1.0 }] }
    }
}

/// Lexicographic: the first criterion decides, later ones break ties.
/// Weighted: each criterion is scaled to 0..1 over the candidates (0 = best)
/// and the weighted sum decides (lowest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankingMode {
    #[default]
    Lexicographic,
    Weighted,
}

impl RankingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lexicographic => "lexicographic",
            Self::Weighted => "weighted",
        }
    }
}

fn default_weight() -> f64 {
    1.0
}

/// One ranking criterion. `weight` only matters in weighted mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Criterion {
    /// Nearer first (great-circle km, or the address estimate).
    Distance {
        #[serde(default = "default_weight")]
        weight: f64,
    },
    /// Lower location priority number first.
    Priority {
        #[serde(default = "default_weight")]
        weight: f64,
    },
    /// Cheaper first, from `shipping_rates`; a location without a rate for
    /// the order's service level and distance ranks last.
    ShippingCost {
        #[serde(default = "default_weight")]
        weight: f64,
    },
    /// More usable units of the order's SKUs first.
    StockDepth {
        #[serde(default = "default_weight")]
        weight: f64,
    },
    /// Shorter vendor lead time first.
    LeadTime {
        #[serde(default = "default_weight")]
        weight: f64,
    },
    /// When any line carries `tag`, warehouses first.
    WarehouseFirst {
        tag: String,
        #[serde(default = "default_weight")]
        weight: f64,
    },
}

/// The criterion kinds, without parameters: what a trace names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    Distance,
    Priority,
    ShippingCost,
    StockDepth,
    LeadTime,
    WarehouseFirst,
}

impl CriterionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Distance => "distance",
            Self::Priority => "priority",
            Self::ShippingCost => "shipping_cost",
            Self::StockDepth => "stock_depth",
            Self::LeadTime => "lead_time",
            Self::WarehouseFirst => "warehouse_first",
        }
    }
}

impl Criterion {
    pub fn kind(&self) -> CriterionKind {
        match self {
            Self::Distance { .. } => CriterionKind::Distance,
            Self::Priority { .. } => CriterionKind::Priority,
            Self::ShippingCost { .. } => CriterionKind::ShippingCost,
            Self::StockDepth { .. } => CriterionKind::StockDepth,
            Self::LeadTime { .. } => CriterionKind::LeadTime,
            Self::WarehouseFirst { .. } => CriterionKind::WarehouseFirst,
        }
    }

    pub fn weight(&self) -> f64 {
        match self {
            Self::Distance { weight }
            | Self::Priority { weight }
            | Self::ShippingCost { weight }
            | Self::StockDepth { weight }
            | Self::LeadTime { weight }
            | Self::WarehouseFirst { weight, .. } => *weight,
        }
    }
}

/// Shipping cost from one location for one service level, by distance band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateTable {
    pub location: LocationCode,
    pub service_level: ServiceLevel,
    pub currency: Currency,
    /// Ascending by `up_to_km`; the first band reaching the distance applies.
    pub bands: Vec<RateBand>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateBand {
    pub up_to_km: f64,
    /// Cost in minor units of the table's currency.
    pub cost_minor: i64,
}

impl RateTable {
    /// The cost for a distance, or `None` beyond the last band.
    pub fn cost_for(&self, distance_km: f64) -> Option<i64> {
        self.bands.iter().find(|band| distance_km <= band.up_to_km).map(|band| band.cost_minor)
    }
}

/// When an order may ship from several locations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitRules {
    pub strategy: SplitStrategy,
    /// Required for `above_value`: the order value from which splitting is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_order_value: Option<Money>,
    /// At most this many shipments (locations) per order; unlimited when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_shipments: Option<i64>,
    pub fill_order: SplitFillOrder,
    /// Prefer one location that fills the whole order over a split whose
    /// nearest location is closer, when the single location is at most this
    /// many km farther.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefer_single_within_km: Option<f64>,
    /// ... or when its shipping cost is at most this many minor units above
    /// the split's total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefer_single_within_cost_minor: Option<i64>,
}

impl Default for SplitRules {
    fn default() -> Self {
        Self {
            strategy: SplitStrategy::Always,
            min_order_value: None,
            max_shipments: None,
            fill_order: SplitFillOrder::FewestShipments,
            prefer_single_within_km: None,
            prefer_single_within_cost_minor: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitStrategy {
    Never,
    AboveValue,
    #[default]
    Always,
}

impl SplitStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::AboveValue => "above_value",
            Self::Always => "always",
        }
    }
}

/// How a split picks its locations when no single location fills the order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitFillOrder {
    /// Next, the location filling the most remaining units (ranking breaks
    /// ties): the fewest shipments.
    #[default]
    FewestShipments,
    /// Next, the best-ranked location that fills anything.
    Ranking,
}

/// Rules that depend on the order's service level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceLevelRules {
    /// Same-day orders ship only from locations within this radius; no limit
    /// when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_day_radius_km: Option<f64>,
    /// Expedited orders rank by distance first, whatever the ranking mode;
    /// the policy's ranking then breaks ties.
    pub expedited_distance_first: bool,
    /// A pickup order still waiting at the counter this many days after it
    /// was made ready opens a `pickup_uncollected` exception (at least 1).
    pub pickup_uncollected_days: i64,
    /// The promise to a pickup customer: the order is ready at the counter
    /// within this many hours of being taken (at least 1). The metrics'
    /// pickup on-time rate judges each readiness against it.
    pub pickup_ready_within_hours: i64,
}

/// Days a pickup waits at the counter before someone calls the customer.
pub const DEFAULT_PICKUP_UNCOLLECTED_DAYS: i64 = 7;

/// Hours within which a pickup order is promised ready.
pub const DEFAULT_PICKUP_READY_WITHIN_HOURS: i64 = 2;

impl Default for ServiceLevelRules {
    fn default() -> Self {
        Self {
            same_day_radius_km: None,
            expedited_distance_first: true,
            pickup_uncollected_days: DEFAULT_PICKUP_UNCOLLECTED_DAYS,
            pickup_ready_within_hours: DEFAULT_PICKUP_READY_WITHIN_HOURS,
        }
    }
}

/// Nominal distances used when coordinates are missing (see `geo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistanceEstimates {
    /// Leading postal-code characters compared; 0 disables that tier.
    pub postal_prefix_len: i64,
    pub same_postal_prefix_km: f64,
    pub same_region_km: f64,
    pub same_country_km: f64,
    pub elsewhere_km: f64,
}

impl Default for DistanceEstimates {
    fn default() -> Self {
        Self {
            postal_prefix_len: 3,
            same_postal_prefix_km: 25.0,
            same_region_km: 250.0,
            same_country_km: 1000.0,
            elsewhere_km: 5000.0,
        }
    }
}

/// What happens to units no eligible location can fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackRules {
    /// Tried in order; each step takes what it can. Units still unplaced at
    /// the end are held as an exception even without a `hold` step.
    pub chain: Vec<FallbackStep>,
    /// Expected restock for backordered units: now + this many days.
    pub backorder_restock_days: i64,
    /// Required by the `auto_cancel` step: a held order is cancelled this
    /// many hours after the decision unless someone resolves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_cancel_after_hours: Option<i64>,
}

impl Default for FallbackRules {
    fn default() -> Self {
        Self {
            chain: vec![FallbackStep::Backorder, FallbackStep::Hold],
            backorder_restock_days: 14,
            auto_cancel_after_hours: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackStep {
    /// A dropship vendor (a location of kind dropship) that has the SKU.
    Dropship,
    /// Lines whose SKU may be backordered wait for a restock.
    Backorder,
    /// The rest is held as an exception for a human.
    Hold,
    /// Held orders are cancelled after `auto_cancel_after_hours`.
    AutoCancel,
}

impl FallbackStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dropship => "dropship",
            Self::Backorder => "backorder",
            Self::Hold => "hold",
            Self::AutoCancel => "auto_cancel",
        }
    }
}
