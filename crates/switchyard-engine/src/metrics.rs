//! Metrics: the store's per-day counts of what was recorded, put into the
//! core's [`Bucket`]s and reported ([`switchyard_core::metrics`] holds the
//! arithmetic and its rules); and the gauges a Prometheus scrape reads.
//!
//! Every number comes from rows written by the use cases themselves — no
//! counter kept beside them that could drift — inside one read
//! transaction, so one report is one consistent snapshot.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use switchyard_core::metrics::{Bucket, Metrics, Period, DAY_MS};
use switchyard_core::returns::ReturnStatus;
use switchyard_core::{ChannelName, ExceptionKind, LocationCode, OrderStatus};
use switchyard_store::metrics::{self as counts, Scope};
use switchyard_store::outbox::{self, Backlog};
use switchyard_store::Tx;

use crate::{Engine, Error};

/// Which metrics: a period, optionally one channel and one location.
#[derive(Debug, Clone)]
pub struct MetricsQuery {
    pub period: Period,
    pub channel: Option<ChannelName>,
    /// Orders with units allocated at this location (at any time).
    pub location: Option<LocationCode>,
}

/// One UTC day's metrics (the CSV export's row).
#[derive(Debug, Clone, PartialEq)]
pub struct DayMetrics {
    /// Midnight UTC starting the day.
    pub day_start_ms: i64,
    pub metrics: Metrics,
}

/// What a scrape reports about the database and the workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gauges {
    pub reserved_units: i64,
    pub outbox: Backlog,
    /// Every exception kind, with its open count (0 included).
    pub open_exceptions: Vec<(ExceptionKind, i64)>,
    /// Every order status, with its count (0 included).
    pub orders: Vec<(OrderStatus, i64)>,
    /// Sweeps this process ran, and how many of them failed.
    pub sweeper_runs: u64,
    pub sweeper_failures: u64,
}

/// The statuses of an order whose every unit left (shipped, or handed over
/// at a pickup counter): its handling is over.
const DONE: [OrderStatus; 2] = [OrderStatus::Shipped, OrderStatus::Completed];

/// How a cancellation without a recorded reason is reported (orders
/// cancelled before reasons were recorded).
pub const UNRECORDED_REASON: &str = "unrecorded";

impl Engine {
    /// The metrics of the whole period.
    pub async fn metrics(&self, q: &MetricsQuery) -> Result<Metrics, Error> {
        let mut total = Bucket::default();
        for (_, day) in self.buckets(q).await? {
            total.absorb(day);
        }
        Ok(total.report())
    }

    /// The metrics of each UTC day the period touches, in order, days
    /// without any record included (the first and last day only over their
    /// part inside the period).
    pub async fn daily_metrics(&self, q: &MetricsQuery) -> Result<Vec<DayMetrics>, Error> {
        let mut days = self.buckets(q).await?;
        // A day nothing was recorded on is an empty day, not missing data.
        for day in q.period.days() {
            days.entry(day).or_default();
        }
        Ok(days
            .into_iter()
            .map(|(day, bucket)| DayMetrics { day_start_ms: day.saturating_mul(DAY_MS), metrics: bucket.report() })
            .collect())
    }

    /// Every record in scope, counted into one bucket per UTC day.
    async fn buckets(&self, q: &MetricsQuery) -> Result<BTreeMap<i64, Bucket>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let days = collect(&mut tx, q, now).await?;
        tx.rollback().await?;
        Ok(days)
    }

    /// The gauges of a scrape, read in one transaction.
    pub async fn gauges(&self) -> Result<Gauges, Error> {
        let mut tx = self.read().await?;
        let reserved_units = counts::reserved_units(&mut tx).await?;
        let outbox = outbox::backlog(&mut tx).await?;
        let open = counts::open_exceptions_by_kind(&mut tx).await?;
        let by_status = counts::orders_by_status(&mut tx).await?;
        tx.rollback().await?;
        // Every label value of the closed vocabularies, zeros included, so a
        // series never vanishes; a stored value outside them is not a label.
        let open_exceptions = ExceptionKind::ALL
            .iter()
            .map(|k| (*k, open.iter().find(|(s, _)| s == k.as_str()).map_or(0, |(_, n)| *n)))
            .collect();
        let orders = OrderStatus::ALL
            .iter()
            .map(|s| (*s, by_status.iter().find(|(r, _)| r == s.as_str()).map_or(0, |(_, n)| *n)))
            .collect();
        Ok(Gauges {
            reserved_units,
            outbox,
            open_exceptions,
            orders,
            sweeper_runs: self.sweeps.runs.load(Ordering::Relaxed),
            sweeper_failures: self.sweeps.failures.load(Ordering::Relaxed),
        })
    }
}

fn bucket(days: &mut BTreeMap<i64, Bucket>, day: i64) -> &mut Bucket {
    days.entry(day).or_default()
}

/// Reads every count and sample of the query into per-day buckets.
async fn collect(tx: &mut Tx, q: &MetricsQuery, now_ms: i64) -> Result<BTreeMap<i64, Bucket>, Error> {
    let s = Scope {
        from_ms: q.period.from_ms(),
        to_ms: q.period.to_ms(),
        channel: q.channel.as_ref().map(|c| c.as_str()),
        location: q.location.as_ref().map(|l| l.as_str()),
    };
    let mut days: BTreeMap<i64, Bucket> = BTreeMap::new();
    for d in counts::order_days(tx, &s).await? {
        let c = &mut bucket(&mut days, d.day).counts;
        c.orders = d.orders;
        c.cancelled = d.cancelled;
        c.oversell_cancellations = d.oversell;
    }
    for d in counts::intake_days(tx, &s).await? {
        let c = &mut bucket(&mut days, d.day).counts;
        c.orders_measured = d.orders_measured;
        c.orders_filled = d.orders_measured.saturating_sub(d.orders_short);
        c.units_measured = d.units_measured;
        c.units_filled = d.units_filled;
        c.lines_measured = d.lines_measured;
        c.lines_stocked_out = d.lines_stocked_out;
    }
    for (day, n) in counts::split_days(tx, &s).await? {
        bucket(&mut days, day).counts.split = n;
    }
    for (day, reason, n) in counts::cancellation_days(tx, &s).await? {
        let reason = reason.unwrap_or_else(|| UNRECORDED_REASON.to_owned());
        *bucket(&mut days, day).cancellations.entry(reason).or_insert(0) += n;
    }
    for (day, ms) in counts::handling_times(tx, &s, &DONE, crate::channel_intake::COUNTER_CARRIER).await? {
        bucket(&mut days, day).handling_ms.push(ms);
    }
    for (day, n) in counts::exceptions_opened(tx, &s).await? {
        bucket(&mut days, day).counts.exceptions_opened = n;
    }
    for (day, n) in counts::exceptions_resolved(tx, &s).await? {
        bucket(&mut days, day).counts.exceptions_resolved = n;
    }
    for (day, opened_at) in counts::open_exceptions(tx, &s).await? {
        bucket(&mut days, day).open_exception_ages_ms.push(now_ms.saturating_sub(opened_at).max(0));
    }
    for (day, lag) in counts::sync_lags(tx, &s).await? {
        bucket(&mut days, day).sync_lag_ms.push(lag);
    }
    for (day, n) in counts::complaint_days(tx, &s).await? {
        bucket(&mut days, day).counts.complaints = n;
    }
    for (day, n) in counts::returned_order_days(tx, &s, ReturnStatus::Rejected.as_str()).await? {
        bucket(&mut days, day).counts.orders_returned = n;
    }
    for (day, ms) in counts::return_turnarounds(tx, &s).await? {
        bucket(&mut days, day).return_turnaround_ms.push(ms.max(0));
    }
    Ok(days)
}
