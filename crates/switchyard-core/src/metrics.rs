//! Operational metrics as arithmetic: the store counts what was recorded
//! (per UTC day), and this module turns the counts and samples into the
//! numbers an owner reads — rates, averages, percentiles.
//!
//! Rules that hold for every number here:
//!
//! - A rate is a fraction between 0 and 1, never NaN: a rate over nothing
//!   (no orders, no measured lines) is `0.0`, and the count it is over is
//!   reported beside it (`orders`, `orders_measured`, `lines_measured`), so
//!   "0 of 0" can be told from "0 of 100".
//! - A duration over an empty sample (no shipped order, no acknowledged
//!   stock level) is `None` (JSON `null`): there is no such time to report.
//! - Percentiles use the nearest-rank method on the sorted sample: the p-th
//!   percentile of n values is the value at rank ⌈p·n/100⌉ (p90 of 1..=10 is
//!   9; of one value, that value).
//! - Counts add with saturation (they never wrap).
//!
//! Returns: `return_rate` is the orders received in the period with a
//! return that was not rejected, over the orders; `return_turnaround_secs`
//! the mean time from a return's request to its refund, over the returns
//! refunded in the period.
//!
//! Pickups: `pickup_on_time_rate` is the pickup orders made ready in the
//! period within the promise (the routing policy's
//! `service_levels.pickup_ready_within_hours` from when the order was taken,
//! judged by `fulfilment::ready_on_time`) over those made ready in the
//! period; `None` when none was — there is no rate over nothing to report.

use std::collections::BTreeMap;

use serde::Serialize;

/// One UTC day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// A half-open time range `[from, to)` in milliseconds since the Unix epoch:
/// not empty, not before the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from_ms: i64,
    to_ms: i64,
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`from` must be before `to`")]
    Empty,
    #[error("the period must not start before 1970-01-01")]
    BeforeEpoch,
    #[error("the period touches {days} days; at most {max} are allowed here")]
    TooLong { days: i64, max: i64 },
}

impl Period {
    pub fn new(from_ms: i64, to_ms: i64) -> Result<Period, PeriodError> {
        if from_ms < 0 {
            return Err(PeriodError::BeforeEpoch);
        }
        if from_ms >= to_ms {
            return Err(PeriodError::Empty);
        }
        Ok(Period { from_ms, to_ms })
    }

    pub fn from_ms(&self) -> i64 {
        self.from_ms
    }

    /// The end, excluded.
    pub fn to_ms(&self) -> i64 {
        self.to_ms
    }

    /// The UTC day an instant falls on, as days since 1970-01-01.
    pub fn day_of(ms: i64) -> i64 {
        ms.div_euclid(DAY_MS)
    }

    /// The UTC days the period touches, first to last.
    pub fn days(&self) -> std::ops::RangeInclusive<i64> {
        Self::day_of(self.from_ms)..=Self::day_of(self.to_ms - 1)
    }

    pub fn day_count(&self) -> i64 {
        Self::day_of(self.to_ms - 1) - Self::day_of(self.from_ms) + 1
    }

    /// The period, when it touches at most `max` days.
    pub fn at_most_days(self, max: i64) -> Result<Period, PeriodError> {
        let days = self.day_count();
        if days > max {
            return Err(PeriodError::TooLong { days, max });
        }
        Ok(self)
    }
}

/// What was counted over some orders, lines and events (one day's worth, or
/// the sum of several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Orders received.
    pub orders: i64,
    /// Orders whose intake was recorded (allocated units per line): orders
    /// taken before that was recorded are not measured.
    pub orders_measured: i64,
    /// Measured orders every unit of which was allocated when taken.
    pub orders_filled: i64,
    /// Units ordered on measured orders.
    pub units_measured: i64,
    /// Of those, units allocated when taken.
    pub units_filled: i64,
    /// Lines whose available-to-promise at order time was recorded.
    pub lines_measured: i64,
    /// Of those, lines whose SKU had nothing available to promise.
    pub lines_stocked_out: i64,
    pub cancelled: i64,
    /// Cancelled orders that were short of stock when cancelled.
    pub oversell_cancellations: i64,
    /// Orders whose units are (or were shipped) at more than one location.
    pub split: i64,
    pub complaints: i64,
    /// Orders with a return that was not rejected.
    pub orders_returned: i64,
    pub exceptions_opened: i64,
    /// Exceptions closed (resolved, dismissed, or closed with their order).
    pub exceptions_resolved: i64,
    /// Pickup orders made ready for pickup.
    pub pickups_ready: i64,
    /// Of those, made ready within the promise
    /// (`switchyard_core::fulfilment::ready_on_time`).
    pub pickups_ready_on_time: i64,
}

impl Counts {
    pub fn add(&self, o: &Counts) -> Counts {
        Counts {
            orders: self.orders.saturating_add(o.orders),
            orders_measured: self.orders_measured.saturating_add(o.orders_measured),
            orders_filled: self.orders_filled.saturating_add(o.orders_filled),
            units_measured: self.units_measured.saturating_add(o.units_measured),
            units_filled: self.units_filled.saturating_add(o.units_filled),
            lines_measured: self.lines_measured.saturating_add(o.lines_measured),
            lines_stocked_out: self.lines_stocked_out.saturating_add(o.lines_stocked_out),
            cancelled: self.cancelled.saturating_add(o.cancelled),
            oversell_cancellations: self.oversell_cancellations.saturating_add(o.oversell_cancellations),
            split: self.split.saturating_add(o.split),
            complaints: self.complaints.saturating_add(o.complaints),
            orders_returned: self.orders_returned.saturating_add(o.orders_returned),
            exceptions_opened: self.exceptions_opened.saturating_add(o.exceptions_opened),
            exceptions_resolved: self.exceptions_resolved.saturating_add(o.exceptions_resolved),
            pickups_ready: self.pickups_ready.saturating_add(o.pickups_ready),
            pickups_ready_on_time: self.pickups_ready_on_time.saturating_add(o.pickups_ready_on_time),
        }
    }
}

/// The counts and samples of one day (or several absorbed into one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    pub counts: Counts,
    /// Cancelled orders per reason.
    pub cancellations: BTreeMap<String, i64>,
    /// Per fully shipped order: intake to its last shipment, in ms.
    pub handling_ms: Vec<i64>,
    /// Per acknowledged stock level: first change to acknowledgement, in ms.
    pub sync_lag_ms: Vec<i64>,
    /// Per exception opened and still open: its age now, in ms.
    pub open_exception_ages_ms: Vec<i64>,
    /// Per return refunded: request to refund, in ms.
    pub return_turnaround_ms: Vec<i64>,
}

impl Bucket {
    /// Adds another bucket's counts and samples to this one.
    pub fn absorb(&mut self, other: Bucket) {
        self.counts = self.counts.add(&other.counts);
        for (reason, n) in other.cancellations {
            let entry = self.cancellations.entry(reason).or_insert(0);
            *entry = entry.saturating_add(n);
        }
        self.handling_ms.extend(other.handling_ms);
        self.sync_lag_ms.extend(other.sync_lag_ms);
        self.open_exception_ages_ms.extend(other.open_exception_ages_ms);
        self.return_turnaround_ms.extend(other.return_turnaround_ms);
    }

    /// The numbers an owner reads.
    pub fn report(mut self) -> Metrics {
        let c = self.counts;
        Metrics {
            orders: c.orders,
            orders_measured: c.orders_measured,
            fill_rate: rate(c.orders_filled, c.orders_measured),
            fill_rate_units: rate(c.units_filled, c.units_measured),
            lines_measured: c.lines_measured,
            stockout_rate: rate(c.lines_stocked_out, c.lines_measured),
            cancelled: c.cancelled,
            cancellation_rate: rate(c.cancelled, c.orders),
            cancellations_by_reason: self.cancellations,
            oversell_cancellations: c.oversell_cancellations,
            split_shipments: c.split,
            split_shipment_rate: rate(c.split, c.orders),
            shipped_orders: count(&self.handling_ms),
            avg_handling_secs: mean(&self.handling_ms).map(|ms| ms / 1000.0),
            p90_handling_secs: percentile_of(&mut self.handling_ms, 90).map(secs),
            pickups_ready: c.pickups_ready,
            pickup_on_time_rate: (c.pickups_ready > 0).then(|| rate(c.pickups_ready_on_time, c.pickups_ready)),
            return_rate: rate(c.orders_returned, c.orders),
            return_turnaround_secs: mean(&self.return_turnaround_ms).map(|ms| ms / 1000.0),
            complaints: c.complaints,
            exceptions_opened: c.exceptions_opened,
            exceptions_resolved: c.exceptions_resolved,
            exceptions_open: count(&self.open_exception_ages_ms),
            exceptions_open_avg_age_secs: mean(&self.open_exception_ages_ms).map(|ms| ms / 1000.0),
            exceptions_open_max_age_secs: self.open_exception_ages_ms.iter().max().copied().map(secs),
            sync_lags: count(&self.sync_lag_ms),
            sync_lag_p50_secs: percentile_of(&mut self.sync_lag_ms, 50).map(secs),
            sync_lag_p95_secs: percentile_of(&mut self.sync_lag_ms, 95).map(secs),
        }
    }
}

/// The metrics of a period (see the module doc for the rules).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub orders: i64,
    pub orders_measured: i64,
    /// Measured orders fully allocated when taken ÷ measured orders.
    pub fill_rate: f64,
    /// Units allocated when taken ÷ units ordered, over measured orders.
    pub fill_rate_units: f64,
    pub lines_measured: i64,
    /// Lines with nothing available to promise at order time ÷ measured lines.
    pub stockout_rate: f64,
    pub cancelled: i64,
    /// Cancelled orders ÷ orders.
    pub cancellation_rate: f64,
    pub cancellations_by_reason: BTreeMap<String, i64>,
    /// Orders cancelled while short of stock; the goal is zero.
    pub oversell_cancellations: i64,
    pub split_shipments: i64,
    /// Orders at more than one location ÷ orders.
    pub split_shipment_rate: f64,
    /// Fully shipped orders: the handling-time sample.
    pub shipped_orders: i64,
    pub avg_handling_secs: Option<f64>,
    pub p90_handling_secs: Option<f64>,
    /// Pickup orders made ready in the period.
    pub pickups_ready: i64,
    /// Of those, made ready within the promise ÷ made ready; `None` when
    /// none was made ready.
    pub pickup_on_time_rate: Option<f64>,
    pub return_rate: f64,
    pub return_turnaround_secs: Option<f64>,
    pub complaints: i64,
    pub exceptions_opened: i64,
    pub exceptions_resolved: i64,
    /// Exceptions opened in the period and still open.
    pub exceptions_open: i64,
    pub exceptions_open_avg_age_secs: Option<f64>,
    pub exceptions_open_max_age_secs: Option<f64>,
    /// Stock levels acknowledged by channels: the sync-lag sample.
    pub sync_lags: i64,
    pub sync_lag_p50_secs: Option<f64>,
    pub sync_lag_p95_secs: Option<f64>,
}

/// One scalar of [`Metrics`], for tabular output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(i64),
    Rate(f64),
    /// `None`: nothing to report.
    Maybe(Option<f64>),
}

impl Metrics {
    /// Every scalar field, named as in the JSON, in declaration order (all
    /// fields but `cancellations_by_reason`).
    pub fn scalars(&self) -> Vec<(&'static str, Cell)> {
        use Cell::{Count, Maybe, Rate};
        vec![
            ("orders", Count(self.orders)),
            ("orders_measured", Count(self.orders_measured)),
            ("fill_rate", Rate(self.fill_rate)),
            ("fill_rate_units", Rate(self.fill_rate_units)),
            ("lines_measured", Count(self.lines_measured)),
            ("stockout_rate", Rate(self.stockout_rate)),
            ("cancelled", Count(self.cancelled)),
            ("cancellation_rate", Rate(self.cancellation_rate)),
            ("oversell_cancellations", Count(self.oversell_cancellations)),
            ("split_shipments", Count(self.split_shipments)),
            ("split_shipment_rate", Rate(self.split_shipment_rate)),
            ("shipped_orders", Count(self.shipped_orders)),
            ("avg_handling_secs", Maybe(self.avg_handling_secs)),
            ("p90_handling_secs", Maybe(self.p90_handling_secs)),
            ("pickups_ready", Count(self.pickups_ready)),
            ("pickup_on_time_rate", Maybe(self.pickup_on_time_rate)),
            ("return_rate", Rate(self.return_rate)),
            ("return_turnaround_secs", Maybe(self.return_turnaround_secs)),
            ("complaints", Count(self.complaints)),
            ("exceptions_opened", Count(self.exceptions_opened)),
            ("exceptions_resolved", Count(self.exceptions_resolved)),
            ("exceptions_open", Count(self.exceptions_open)),
            ("exceptions_open_avg_age_secs", Maybe(self.exceptions_open_avg_age_secs)),
            ("exceptions_open_max_age_secs", Maybe(self.exceptions_open_max_age_secs)),
            ("sync_lags", Count(self.sync_lags)),
            ("sync_lag_p50_secs", Maybe(self.sync_lag_p50_secs)),
            ("sync_lag_p95_secs", Maybe(self.sync_lag_p95_secs)),
        ]
    }
}

/// `part ÷ whole`, or `0.0` when `whole` is not positive (a rate over
/// nothing); never NaN or infinite.
pub fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    part as f64 / whole as f64
}

/// The arithmetic mean, `None` for an empty sample (summed in i128: no
/// overflow).
pub fn mean(sample: &[i64]) -> Option<f64> {
    if sample.is_empty() {
        return None;
    }
    let sum: i128 = sample.iter().map(|v| i128::from(*v)).sum();
    Some(sum as f64 / sample.len() as f64)
}

/// The `pct`-th percentile (1–100) of a sorted sample by nearest rank;
/// `None` for an empty sample. `pct` outside 1–100 is clamped.
pub fn percentile(sorted: &[i64], pct: u32) -> Option<i64> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    let pct = u64::from(pct.clamp(1, 100));
    // ⌈pct · n / 100⌉, at least 1.
    let rank = (pct * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// The same nearest-rank percentile as [`percentile`], of an unsorted
/// sample, in linear time (a year's samples are hundreds of thousands):
/// the sample is reordered, not sorted.
pub fn percentile_of(sample: &mut [i64], pct: u32) -> Option<i64> {
    let n = sample.len() as u64;
    if n == 0 {
        return None;
    }
    let rank = (u64::from(pct.clamp(1, 100)) * n).div_ceil(100).max(1);
    let index = usize::try_from(rank - 1).ok()?;
    sample.select_nth_unstable(index);
    sample.get(index).copied()
}

fn count(sample: &[i64]) -> i64 {
    i64::try_from(sample.len()).unwrap_or(i64::MAX)
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_fractions_and_never_nan() {
        assert_eq!(rate(1, 4), 0.25);
        assert_eq!(rate(0, 7), 0.0);
        assert_eq!(rate(7, 7), 1.0);
        assert_eq!(rate(0, 0), 0.0);
        assert_eq!(rate(3, 0), 0.0);
        assert_eq!(rate(3, -1), 0.0);
        assert!(!rate(i64::MAX, i64::MAX).is_nan());
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let one_to_ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&one_to_ten, 90), Some(9));
        assert_eq!(percentile(&one_to_ten, 50), Some(5));
        assert_eq!(percentile(&one_to_ten, 95), Some(10));
        assert_eq!(percentile(&one_to_ten, 100), Some(10));
        assert_eq!(percentile(&one_to_ten, 1), Some(1));
        assert_eq!(percentile(&one_to_ten, 0), Some(1), "clamped to 1");
        assert_eq!(percentile(&[42], 90), Some(42));
        assert_eq!(percentile(&[10, 20], 50), Some(10));
        assert_eq!(percentile(&[10, 20], 51), Some(20));
        assert_eq!(percentile(&[], 90), None);
        // 11 values: rank ⌈9.9⌉ = 10.
        let eleven: Vec<i64> = (1..=11).map(|v| v * 100).collect();
        assert_eq!(percentile(&eleven, 90), Some(1000));
    }

    /// Selecting in place gives what sorting then ranking gives.
    #[test]
    fn a_percentile_of_an_unsorted_sample_is_the_sorted_ones() {
        let mut state = 7_u64;
        for n in [1_usize, 2, 3, 10, 11, 99, 100, 101, 1000] {
            let sample: Vec<i64> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    i64::try_from(state >> 44).unwrap_or(0) % 500
                })
                .collect();
            let mut sorted = sample.clone();
            sorted.sort_unstable();
            for pct in [0, 1, 50, 90, 95, 99, 100, 101] {
                let mut shuffled = sample.clone();
                assert_eq!(percentile_of(&mut shuffled, pct), percentile(&sorted, pct), "n {n}, p{pct}");
            }
        }
        assert_eq!(percentile_of(&mut [], 90), None);
    }

    #[test]
    fn means_do_not_overflow() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1, 2]), Some(1.5));
        assert_eq!(mean(&[i64::MAX, i64::MAX]), Some(i64::MAX as f64));
    }

    #[test]
    fn a_period_is_half_open_and_lists_the_days_it_touches() {
        assert_eq!(Period::new(5, 5), Err(PeriodError::Empty));
        assert_eq!(Period::new(6, 5), Err(PeriodError::Empty));
        assert_eq!(Period::new(-1, 5), Err(PeriodError::BeforeEpoch));
        let p = Period::new(DAY_MS + 10, 3 * DAY_MS).expect("period");
        assert_eq!(p.days(), 1..=2, "the end is excluded: day 3 is not touched");
        assert_eq!(p.day_count(), 2);
        let one_ms = Period::new(DAY_MS - 1, DAY_MS).expect("period");
        assert_eq!(one_ms.days(), 0..=0);
        assert_eq!(p.at_most_days(2), Ok(p));
        assert_eq!(p.at_most_days(1), Err(PeriodError::TooLong { days: 2, max: 1 }));
        assert_eq!(Period::day_of(-1), -1);
    }

    #[test]
    fn an_empty_bucket_reports_zero_rates_and_no_durations() {
        let m = Bucket::default().report();
        assert_eq!(m.orders, 0);
        for (name, cell) in m.scalars() {
            match cell {
                Cell::Rate(r) => assert_eq!(r, 0.0, "{name}"),
                Cell::Maybe(v) => assert_eq!(v, None, "{name}"),
                Cell::Count(n) => assert_eq!(n, 0, "{name}"),
            }
        }
    }

    /// Ten orders, eight measured (two taken before intake was recorded):
    /// six of the eight fully allocated, 20 of 24 measured units; 2 of 16
    /// lines out of stock; 2 cancelled (one short of stock); 1 split.
    #[test]
    fn a_report_divides_each_count_by_its_own_base() {
        let mut day1 = Bucket {
            counts: Counts {
                orders: 6,
                orders_measured: 4,
                orders_filled: 3,
                units_measured: 12,
                units_filled: 10,
                lines_measured: 8,
                lines_stocked_out: 1,
                cancelled: 1,
                oversell_cancellations: 0,
                split: 1,
                complaints: 1,
                orders_returned: 1,
                exceptions_opened: 2,
                exceptions_resolved: 1,
                pickups_ready: 3,
                pickups_ready_on_time: 2,
            },
            cancellations: BTreeMap::from([("customer_request".to_owned(), 1)]),
            handling_ms: vec![7_200_000, 3_600_000],
            sync_lag_ms: vec![300, 100, 200],
            open_exception_ages_ms: vec![60_000],
            return_turnaround_ms: vec![86_400_000],
        };
        let day2 = Bucket {
            counts: Counts {
                orders: 4,
                orders_measured: 4,
                orders_filled: 3,
                units_measured: 12,
                units_filled: 10,
                lines_measured: 8,
                lines_stocked_out: 1,
                cancelled: 1,
                oversell_cancellations: 1,
                pickups_ready: 1,
                pickups_ready_on_time: 0,
                ..Counts::default()
            },
            cancellations: BTreeMap::from([("customer_request".to_owned(), 1)]),
            handling_ms: vec![1_800_000],
            sync_lag_ms: vec![400],
            open_exception_ages_ms: vec![120_000, 30_000],
            return_turnaround_ms: vec![172_800_000],
        };
        day1.absorb(day2);
        let m = day1.report();
        assert_eq!((m.orders, m.orders_measured, m.lines_measured), (10, 8, 16));
        assert_eq!(m.fill_rate, 6.0 / 8.0);
        assert_eq!(m.fill_rate_units, 20.0 / 24.0);
        assert_eq!(m.stockout_rate, 2.0 / 16.0);
        assert_eq!((m.cancelled, m.cancellation_rate, m.oversell_cancellations), (2, 0.2, 1));
        assert_eq!(m.cancellations_by_reason, BTreeMap::from([("customer_request".to_owned(), 2)]));
        assert_eq!((m.split_shipments, m.split_shipment_rate), (1, 0.1));
        assert_eq!(m.shipped_orders, 3);
        assert_eq!(m.avg_handling_secs, Some(4_200.0));
        assert_eq!(m.p90_handling_secs, Some(7_200.0));
        assert_eq!((m.sync_lags, m.sync_lag_p50_secs, m.sync_lag_p95_secs), (4, Some(0.2), Some(0.4)));
        assert_eq!(m.exceptions_open, 3);
        assert_eq!(m.exceptions_open_avg_age_secs, Some(70.0));
        assert_eq!(m.exceptions_open_max_age_secs, Some(120.0));
        assert_eq!((m.return_rate, m.return_turnaround_secs), (0.1, Some(129_600.0)));
        // Two of four pickups made ready within the promise.
        assert_eq!((m.pickups_ready, m.pickup_on_time_rate), (4, Some(0.5)));
    }

    /// The tabular scalars are exactly the JSON fields, in order, but the
    /// per-reason map.
    #[test]
    fn scalars_name_every_json_field_but_the_reasons() {
        let m = Bucket::default().report();
        let json = serde_json::to_value(&m).expect("json");
        let mut keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
        keys.retain(|k| *k != "cancellations_by_reason");
        keys.sort_unstable();
        let mut names: Vec<&str> = m.scalars().into_iter().map(|(n, _)| n).collect();
        names.sort_unstable();
        assert_eq!(names, keys);
    }
}
