//! The dashboard's overview: the last N days against the N before (each
//! [`Metrics`] from the metrics engine), the same days one by one, orders
//! per channel per day, and today's open exceptions by age. It changes no
//! order; like every report, it saves the daily rollups it had to compute.

use std::collections::BTreeMap;

use switchyard_core::metrics::{Metrics, Period, DAY_MS};
use switchyard_core::overview::age_buckets;
use switchyard_store::metrics::{self as counts, Scope};

use crate::{DayMetrics, Engine, Error, MetricsQuery};

/// The longest period the overview shows.
pub const MAX_OVERVIEW_DAYS: i64 = 90;

/// What the overview page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub days: i64,
    /// `[now − days, now]` (as a half-open range ending a millisecond after now).
    pub current_period: Period,
    pub current: Metrics,
    /// The `days` before that.
    pub previous: Metrics,
    /// Each UTC day the current period touches (its first and last day only
    /// in part).
    pub daily: Vec<DayMetrics>,
    /// Every channel with an order in the current period, sorted.
    pub channels: Vec<String>,
    /// Per day of `daily`: orders per channel, in `channels` order.
    pub orders_by_channel: Vec<Vec<i64>>,
    /// Every open exception (whenever opened) by age band.
    pub exception_ages: Vec<(&'static str, i64)>,
}

impl Engine {
    /// The overview of the last `days` (1 to [`MAX_OVERVIEW_DAYS`]).
    pub async fn overview(&self, days: i64) -> Result<Overview, Error> {
        if !(1..=MAX_OVERVIEW_DAYS).contains(&days) {
            return Err(Error::Invalid(format!("days must be from 1 to {MAX_OVERVIEW_DAYS} (got {days})")));
        }
        let now = self.now_ms();
        // Up to and including now: an order taken this millisecond counts.
        let end = now.saturating_add(1);
        let span = days * DAY_MS;
        let period = |from: i64, to: i64| {
            Period::new(from.max(0), to.max(1)).map_err(|e| Error::Invalid(format!("the period: {e}")))
        };
        let current_period = period(end - span, end)?;
        let previous_period = period(end - 2 * span, (end - span).max(1))?;
        let query = |period| MetricsQuery { period, channel: None, location: None };
        let current = self.metrics(&query(current_period)).await?;
        let previous = self.metrics(&query(previous_period)).await?;
        let daily = self.daily_metrics(&query(current_period)).await?;

        let mut tx = self.read().await?;
        let scope =
            Scope { from_ms: current_period.from_ms(), to_ms: current_period.to_ms(), channel: None, location: None };
        let by_channel = counts::orders_by_channel_day(&mut tx, &scope).await?;
        let all_time = Scope { from_ms: 0, to_ms: end, channel: None, location: None };
        let open = counts::open_exceptions(&mut tx, &all_time).await?;
        tx.rollback().await?;

        let mut channels: Vec<String> = by_channel.iter().map(|(_, c, _)| c.clone()).collect();
        channels.sort();
        channels.dedup();
        let mut per_day: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (day, channel, n) in by_channel {
            let column = channels.iter().position(|c| *c == channel).unwrap_or(0);
            per_day.entry(day).or_insert_with(|| vec![0; channels.len()])[column] = n;
        }
        let orders_by_channel = daily
            .iter()
            .map(|d| per_day.get(&Period::day_of(d.day_start_ms)).cloned().unwrap_or_else(|| vec![0; channels.len()]))
            .collect();
        let ages: Vec<i64> =
            open.iter().flat_map(|(_, opened)| opened.iter().map(|at| now.saturating_sub(*at))).collect();
        Ok(Overview {
            days,
            current_period,
            current,
            previous,
            daily,
            channels,
            orders_by_channel,
            exception_ages: age_buckets(&ages),
        })
    }
}
