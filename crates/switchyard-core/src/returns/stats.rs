//! Return data as arithmetic: what the store counted over a period turned
//! into the figures an owner reads — reasons by SKU and by channel, the
//! return rate per SKU, and the turnaround from request to refund.
//!
//! What counts (the store selects it; this module only adds up):
//!
//! - **Reasons**: returns *requested* in the period, whatever became of
//!   them (a rejected request still says why customers send things back):
//!   per (SKU, reason) and per (channel, reason), the returns and the units
//!   asked for.
//! - **Return rate per SKU**: over the orders *received* in the period (a
//!   cohort, as the metrics' `return_rate`): units on returns the shop
//!   accepted (ever authorized: they have an RMA number) ÷ units shipped.
//!   A SKU with nothing shipped has rate 0 (never NaN; the counts are
//!   beside it).
//! - **Turnaround**: returns *refunded* in the period, seconds from the
//!   request to the refund: count, mean, nearest-rank p50 and p90, max
//!   (`None` when nothing was refunded) — the metrics' rules.

use std::collections::BTreeMap;

use serde::Serialize;

use super::policy::ReturnReason;
use crate::metrics::{mean, percentile, rate};

/// Returns and units asked back for one reason of one SKU or channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    /// The SKU or the channel.
    pub key: String,
    /// The canonical reason code.
    pub reason: String,
    /// Its plain-English words.
    pub label: String,
    pub returns: i64,
    pub units: i64,
}

/// The return rate of one SKU over the period's orders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkuRate {
    pub sku: String,
    pub units_shipped: i64,
    pub units_returned: i64,
    /// `units_returned ÷ units_shipped`, 0 when nothing shipped.
    pub return_rate: f64,
}

/// Request → refund times of the returns refunded in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turnaround {
    pub refunded: i64,
    pub mean_secs: Option<f64>,
    pub p50_secs: Option<f64>,
    pub p90_secs: Option<f64>,
    pub max_secs: Option<f64>,
}

/// The period's return data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnStats {
    /// Returns requested in the period, and their units.
    pub returns: i64,
    pub units: i64,
    /// By SKU, then most units first within it.
    pub reasons_by_sku: Vec<ReasonCount>,
    /// By channel, then most returns first within it.
    pub reasons_by_channel: Vec<ReasonCount>,
    /// Highest rate first, then SKU.
    pub rate_by_sku: Vec<SkuRate>,
    pub turnaround: Turnaround,
}

/// What the store counted: `(key, reason code, returns, units)` rows (a
/// key and reason may repeat: they add up), units shipped and returned
/// per SKU, and each refunded return's milliseconds from request to refund.
#[derive(Debug, Clone, Default)]
pub struct StatsInput {
    pub by_sku: Vec<(String, String, i64, i64)>,
    pub by_channel: Vec<(String, String, i64, i64)>,
    /// Returns requested in the period and their units.
    pub requested: (i64, i64),
    pub shipped: Vec<(String, i64)>,
    pub returned: Vec<(String, i64)>,
    pub turnaround_ms: Vec<i64>,
}

fn label_of(code: &str) -> String {
    ReturnReason::parse(code).map_or_else(|| code.to_owned(), |r| r.label().to_owned())
}

fn reasons(rows: &[(String, String, i64, i64)], by_units: bool) -> Vec<ReasonCount> {
    let mut sum: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    for (key, reason, returns, units) in rows {
        let e = sum.entry((key.as_str(), reason.as_str())).or_default();
        *e = (e.0.saturating_add(*returns), e.1.saturating_add(*units));
    }
    let mut out: Vec<ReasonCount> = sum
        .into_iter()
        .map(|((key, reason), (returns, units))| ReasonCount {
            key: key.to_owned(),
            reason: reason.to_owned(),
            label: label_of(reason),
            returns,
            units,
        })
        .collect();
    out.sort_by(|a, b| {
        let (x, y) = if by_units { (a.units, b.units) } else { (a.returns, b.returns) };
        a.key.cmp(&b.key).then(y.cmp(&x)).then(a.reason.cmp(&b.reason))
    });
    out
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl StatsInput {
    /// The report (pure; see the module doc for what counts).
    pub fn report(&self) -> ReturnStats {
        let mut per_sku: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for (sku, n) in &self.shipped {
            let e = per_sku.entry(sku.as_str()).or_default();
            e.0 = e.0.saturating_add(*n);
        }
        for (sku, n) in &self.returned {
            let e = per_sku.entry(sku.as_str()).or_default();
            e.1 = e.1.saturating_add(*n);
        }
        let mut rate_by_sku: Vec<SkuRate> = per_sku
            .into_iter()
            .map(|(sku, (shipped, returned))| SkuRate {
                sku: sku.to_owned(),
                units_shipped: shipped,
                units_returned: returned,
                return_rate: rate(returned, shipped),
            })
            .collect();
        rate_by_sku.sort_by(|a, b| b.return_rate.total_cmp(&a.return_rate).then(a.sku.cmp(&b.sku)));
        let mut sorted = self.turnaround_ms.iter().map(|ms| (*ms).max(0)).collect::<Vec<_>>();
        sorted.sort_unstable();
        let turnaround = Turnaround {
            refunded: i64::try_from(sorted.len()).unwrap_or(i64::MAX),
            mean_secs: mean(&sorted).map(|ms| ms / 1000.0),
            p50_secs: percentile(&sorted, 50).map(secs),
            p90_secs: percentile(&sorted, 90).map(secs),
            max_secs: sorted.last().copied().map(secs),
        };
        ReturnStats {
            returns: self.requested.0,
            units: self.requested.1,
            reasons_by_sku: reasons(&self.by_sku, true),
            reasons_by_channel: reasons(&self.by_channel, false),
            rate_by_sku,
            turnaround,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, reason: &str, returns: i64, units: i64) -> (String, String, i64, i64) {
        (key.into(), reason.into(), returns, units)
    }

    #[test]
    fn the_report_adds_up_sorts_and_never_divides_by_zero() {
        let input = StatsInput {
            by_sku: vec![row("TEE", "wrong_size", 1, 1), row("MUG", "defective", 1, 2), row("TEE", "defective", 2, 3)],
            by_channel: vec![
                row("web", "defective", 2, 4),
                row("web", "wrong_size", 1, 1),
                row("web", "defective", 1, 1),
            ],
            requested: (3, 6),
            shipped: vec![("TEE".into(), 10), ("MUG".into(), 4), ("HAT".into(), 0)],
            returned: vec![("TEE".into(), 3), ("MUG".into(), 2), ("HAT".into(), 0)],
            turnaround_ms: vec![3_000, 1_000, 2_000, -5],
        };
        let r = input.report();
        assert_eq!((r.returns, r.units), (3, 6));
        let keys: Vec<(&str, &str, i64)> =
            r.reasons_by_sku.iter().map(|c| (c.key.as_str(), c.reason.as_str(), c.units)).collect();
        assert_eq!(keys, vec![("MUG", "defective", 2), ("TEE", "defective", 3), ("TEE", "wrong_size", 1)]);
        assert_eq!(r.reasons_by_sku[0].label, "It is faulty or doesn't work");
        let web: Vec<(&str, i64, i64)> =
            r.reasons_by_channel.iter().map(|c| (c.reason.as_str(), c.returns, c.units)).collect();
        assert_eq!(web, vec![("defective", 3, 5), ("wrong_size", 1, 1)]);
        let rates: Vec<(&str, f64)> = r.rate_by_sku.iter().map(|s| (s.sku.as_str(), s.return_rate)).collect();
        assert_eq!(rates, vec![("MUG", 0.5), ("TEE", 0.3), ("HAT", 0.0)]);
        assert_eq!(r.turnaround.refunded, 4);
        assert_eq!(r.turnaround.mean_secs, Some(1.5));
        assert_eq!(
            (r.turnaround.p50_secs, r.turnaround.p90_secs, r.turnaround.max_secs),
            (Some(1.0), Some(3.0), Some(3.0))
        );
        let empty = StatsInput::default().report();
        assert_eq!((empty.turnaround.refunded, empty.turnaround.mean_secs, empty.turnaround.p50_secs), (0, None, None));
    }
}
