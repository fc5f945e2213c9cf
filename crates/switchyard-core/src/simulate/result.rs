//! What a replay found under one policy, and how a policy compares with the
//! baseline (the first policy given), the ROI arithmetic included.

use std::collections::BTreeMap;

use crate::ids::{LocationCode, Sku};
use crate::money::{Currency, Money};
use crate::roi::{self, Percent, Period, RoiInput, RoiReport};

/// The counts of one policy's replay. Order counts are `u64`; unit counts
/// are line units (a bundle counts as one unit of its line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyResult {
    /// Orders replayed.
    pub orders: u64,
    /// Orders with every unit placed (at a store, a warehouse or a dropship
    /// vendor) when taken.
    pub filled: u64,
    /// Orders, not cancelled, allocated from more than one location.
    pub split: u64,
    /// Orders, not cancelled, with units left unplaced: backordered, or held
    /// for a person (the simulation never re-routes them).
    pub backordered: u64,
    pub backordered_units: i64,
    /// Of `backordered`: orders whose unplaced units were held as an
    /// exception rather than backordered.
    pub held: u64,
    /// Orders the policy held with an `auto_cancel` step: cancelled.
    pub cancelled: u64,
    /// Every unit of the cancelled orders.
    pub cancelled_units: i64,
    pub units_ordered: i64,
    /// Units placed and shipped (cancelled orders ship nothing).
    pub units_allocated: i64,
    /// Of `units_allocated`: units placed at dropship vendors.
    pub dropship_units: i64,
    /// Protected units (kept for walk-in customers) orders took because they
    /// qualified for release.
    pub protected_units_used: i64,
    /// (order, location) pairs shipped; pickups are not shipments.
    pub shipments: u64,
    /// Pickup orders handed over at a store.
    pub pickups: u64,
    /// Sum over shipments of the engine's distance from the location to
    /// the ship-to address.
    pub distance_km: f64,
    /// The part of `distance_km` estimated from addresses (no coordinates).
    pub distance_km_estimated: f64,
    /// Shipping cost by the policy's own rate tables, per currency, in minor units.
    pub shipping_cost: BTreeMap<Currency, i64>,
    /// Shipments no rate table priced.
    pub unpriced_shipments: u64,
    /// Order lines left short, by the SKU that ran out (a bundle's limiting
    /// component), cancelled orders included.
    pub stockouts: BTreeMap<Sku, Stockout>,
    /// Every order's value, per currency, in minor units.
    pub value: BTreeMap<Currency, i64>,
    /// The value of the filled orders.
    pub filled_value: BTreeMap<Currency, i64>,
    /// Stock changes the live rules refused (a plan beyond what is
    /// available, a release of more than reserved). Always 0 unless a bug
    /// got that far; reported so it would show.
    pub stock_errors: u64,
    /// Each order's fate, in replay order, when asked for.
    pub fates: Option<Vec<OrderFate>>,
}

impl PolicyResult {
    /// Filled orders ÷ orders (0 without orders).
    pub fn fill_rate(&self) -> f64 {
        ratio(self.filled, self.orders)
    }

    /// Split orders ÷ orders.
    pub fn split_rate(&self) -> f64 {
        ratio(self.split, self.orders)
    }

    /// Orders not filled when taken: backordered, held or cancelled.
    pub fn failed(&self) -> u64 {
        self.orders.saturating_sub(self.filled)
    }

    /// Stockouts, most units short first, then by SKU.
    pub fn stockouts_ranked(&self) -> Vec<(&Sku, &Stockout)> {
        let mut ranked: Vec<(&Sku, &Stockout)> = self.stockouts.iter().collect();
        ranked.sort_by(|a, b| b.1.units.cmp(&a.1.units).then_with(|| a.0.cmp(b.0)));
        ranked
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Short lines of one SKU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stockout {
    pub lines: u64,
    /// Line units short.
    pub units: i64,
}

/// How one simulated order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Filled,
    Backordered,
    /// Units held for a person (an exception the simulation never resolves).
    Held,
    Cancelled,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filled => "filled",
            Self::Backordered => "backordered",
            Self::Held => "held",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One order's decision, kept for `--decisions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFate {
    pub fate: Fate,
    /// Line units per location, by location code.
    pub allocations: Vec<(LocationCode, i64)>,
    pub unfilled_units: i64,
}

/// A policy against the baseline (the first policy of the run).
#[derive(Debug, Clone, PartialEq)]
pub struct VsBaseline {
    /// Orders the baseline failed (not filled when taken) that this policy
    /// filled, net: negative when this policy fails more.
    pub failed_orders_prevented: i64,
    pub fill_rate_difference: f64,
    pub extra_distance_km: f64,
    /// This policy's shipping cost minus the baseline's, per currency.
    pub extra_shipping_cost: BTreeMap<Currency, i64>,
    /// The cost-of-inaction arithmetic (`switchyard roi`'s) over the replayed
    /// period: the baseline's failure rate as "before", this policy's as
    /// "after", the history's average order value. `None` when this policy
    /// fails more orders, when there are no orders, or when the history
    /// mixes currencies (no average order value). The input is kept for
    /// its rates and average order value.
    pub roi: Option<(RoiInput, RoiReport)>,
}

/// Compares `this` with `baseline` (two replays of the same history).
pub fn versus(baseline: &PolicyResult, this: &PolicyResult) -> VsBaseline {
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut extra_shipping_cost: BTreeMap<Currency, i64> = this.shipping_cost.clone();
    for (currency, cost) in &baseline.shipping_cost {
        let entry = extra_shipping_cost.entry(*currency).or_default();
        *entry = entry.saturating_sub(*cost);
    }
    VsBaseline {
        failed_orders_prevented: signed(baseline.failed()).saturating_sub(signed(this.failed())),
        fill_rate_difference: this.fill_rate() - baseline.fill_rate(),
        extra_distance_km: this.distance_km - baseline.distance_km,
        extra_shipping_cost,
        roi: roi_against(baseline, this),
    }
}

/// The ROI report with the replayed history as one period (`Period::Year`
/// only names it: the figures are for the history's span, whatever it is).
fn roi_against(baseline: &PolicyResult, this: &PolicyResult) -> Option<(RoiInput, RoiReport)> {
    let orders = this.orders;
    let [(currency, total)] = <[(&Currency, &i64); 1]>::try_from(this.value.iter().collect::<Vec<_>>()).ok()?;
    let aov = Money::new(div_half_up(*total, orders)?, *currency);
    let input = RoiInput {
        orders,
        period: Period::Year,
        aov,
        rate_before: Percent::of(baseline.failed(), orders)?,
        rate_after: Percent::of(this.failed(), orders)?,
        minutes_per_cancellation: RoiInput::DEFAULT_MINUTES_PER_CANCELLATION,
        labour_cost_per_hour: None,
        subscription_per_month: None,
        protection: None,
        seasonal: None,
    };
    roi::report(&input).ok().map(|report| (input, report))
}

/// `total ÷ count`, rounded half up; `None` without a count or for a
/// negative total.
fn div_half_up(total: i64, count: u64) -> Option<i64> {
    let total = u128::try_from(total).ok()?;
    let count = u128::from(count);
    if count == 0 {
        return None;
    }
    i64::try_from((total * 2 + count) / (count * 2)).ok()
}
