//! Metrics: the store's per-day counts of what was recorded, put into the
//! core's [`Bucket`]s and reported ([`switchyard_core::metrics`] holds the
//! arithmetic and its rules); and the gauges a Prometheus scrape reads.
//!
//! Every number comes from rows written by the use cases themselves — no
//! counter kept beside them that could drift — inside one read
//! transaction, so one report is one consistent snapshot.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use switchyard_core::fulfilment::{ready_on_time, PickStep};
use switchyard_core::metrics::{Bucket, Metrics, Period, DAY_MS};
use switchyard_core::returns::ReturnStatus;
use switchyard_core::{ChannelName, ExceptionKind, LocationCode, OrderStatus};
use switchyard_store::metrics::{self as counts, DayKey, Key, Scope};
use switchyard_store::outbox::{self, Backlog};
use switchyard_store::Tx;

use crate::metrics_rollups as rollups;
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
    /// The metrics of the whole period. Closed days come from their daily
    /// rollups (computed now when missing or out of date, and saved).
    pub async fn metrics(&self, q: &MetricsQuery) -> Result<Metrics, Error> {
        self.total(q, Save::Yes).await
    }

    /// The same numbers, computed without writing anything (`roi --db`
    /// only reads the shop's database): days without an up-to-date rollup
    /// are counted from the orders each time.
    pub async fn metrics_read_only(&self, q: &MetricsQuery) -> Result<Metrics, Error> {
        self.total(q, Save::No).await
    }

    /// The same numbers counted from the orders alone, no rollup read or
    /// written: what the rollups must always equal (their check), slower
    /// over long periods.
    pub async fn metrics_from_orders(&self, q: &MetricsQuery) -> Result<Metrics, Error> {
        self.total(q, Save::Bypass).await
    }

    async fn total(&self, q: &MetricsQuery, save: Save) -> Result<Metrics, Error> {
        let mut total = Bucket::default();
        for (_, day) in self.buckets(q, save).await? {
            total.absorb(day);
        }
        Ok(total.report())
    }

    /// The metrics of each UTC day the period touches, in order, days
    /// without any record included (the first and last day only over their
    /// part inside the period).
    pub async fn daily_metrics(&self, q: &MetricsQuery) -> Result<Vec<DayMetrics>, Error> {
        let mut days = self.buckets(q, Save::Yes).await?;
        // A day nothing was recorded on is an empty day, not missing data.
        for day in q.period.days() {
            days.entry(day).or_default();
        }
        Ok(days
            .into_iter()
            .map(|(day, bucket)| DayMetrics { day_start_ms: day.saturating_mul(DAY_MS), metrics: bucket.report() })
            .collect())
    }

    /// Every record in scope, counted into one bucket per UTC day: on
    /// closed days wholly inside the period, the orders received and (unless
    /// a location narrows the report) what happened — exceptions,
    /// complaints, pickups, lags, refunds — from the daily rollups; the other
    /// days' from the records; the exceptions still open always from them.
    async fn buckets(&self, q: &MetricsQuery, save: Save) -> Result<BTreeMap<i64, Bucket>, Error> {
        let now = self.now_ms();
        let closed = if save == Save::Bypass { None } else { rollups::closed_days(&q.period, now) };
        // Read before the snapshot below, so the snapshot holds every event
        // up to it (see `settled_event_id`).
        let settled = match closed {
            Some(_) => {
                let mut tx = self.read().await?;
                let id = switchyard_store::metrics_rollups::settled_event_id(&mut tx).await?;
                tx.rollback().await?;
                Some(id)
            }
            None => None,
        };
        let mut tx = self.read().await?;
        let ((_, policy), _) = crate::allocate::policies_in_force(&mut tx, &self.ctx).await?;
        let promise_hours = policy.service_levels.pickup_ready_within_hours;
        let mut days: BTreeMap<i64, Bucket> = BTreeMap::new();
        let (from, to) = (q.period.from_ms(), q.period.to_ms());
        open_exceptions(&mut tx, &scope(q, from, to), now, &mut days).await?;
        let refresh = match (closed, settled) {
            (Some((first, last)), Some(settled)) => {
                // What happened at a location is counted from the records:
                // the rollups of happenings are per channel only.
                let rolled = q.location.is_none();
                for (a, b) in [(from, first * DAY_MS), ((last + 1) * DAY_MS, to)] {
                    if a < b {
                        received(&mut tx, &scope(q, a, b), &mut days).await?;
                        if rolled {
                            happenings(&mut tx, &scope(q, a, b), promise_hours, &mut days).await?;
                        }
                    }
                }
                if !rolled {
                    happenings(&mut tx, &scope(q, from, to), promise_hours, &mut days).await?;
                }
                Some(rollups::read(&mut tx, q, first, last, settled, promise_hours, &mut days).await?)
            }
            _ => {
                received(&mut tx, &scope(q, from, to), &mut days).await?;
                happenings(&mut tx, &scope(q, from, to), promise_hours, &mut days).await?;
                None
            }
        };
        tx.rollback().await?;
        if let (Save::Yes, Some(refresh)) = (save, refresh) {
            self.save_rollups(refresh, now).await;
        }
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

/// Whether a report may save the rollups it computed (or reads none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Save {
    Yes,
    No,
    Bypass,
}

/// The query's channel and location over `[from_ms, to_ms)`.
fn scope(q: &MetricsQuery, from_ms: i64, to_ms: i64) -> Scope<'_> {
    Scope {
        from_ms,
        to_ms,
        channel: q.channel.as_ref().map(|c| c.as_str()),
        location: q.location.as_ref().map(|l| l.as_str()),
    }
}

/// What happened in the scope, counted on the day it happened: exceptions
/// opened and resolved, stock levels acknowledged, complaints, refunds,
/// pickups made ready (on time when within `promise_hours` of the order
/// being taken).
async fn happenings(
    tx: &mut Tx,
    s: &Scope<'_>,
    promise_hours: i64,
    days: &mut BTreeMap<i64, Bucket>,
) -> Result<(), Error> {
    for h in counts::happenings_by_channel(tx, s, PickStep::ReadyForPickup).await? {
        absorb_happened(days, &h, promise_hours);
    }
    Ok(())
}

/// What happened on a day in a channel — counted from the records, or read
/// from the rollups (`metrics_happenings`) — into the day's bucket.
pub(crate) fn absorb_happened(
    days: &mut BTreeMap<i64, Bucket>,
    h: &switchyard_store::metrics::DayHappenings,
    promise_hours: i64,
) {
    let b = bucket(days, h.day);
    count_pickups(&mut b.counts, &h.pickup_leads, promise_hours);
    b.counts.exceptions_opened += h.exceptions_opened;
    b.counts.exceptions_resolved += h.exceptions_resolved;
    b.counts.complaints += h.complaints;
    b.sync_lag_ms.extend_from_slice(&h.sync_lags);
    b.return_turnaround_ms.extend(h.refund_turnarounds.iter().map(|ms| (*ms).max(0)));
}

/// Pickups made ready `leads` ms after their orders were taken.
fn count_pickups(c: &mut switchyard_core::metrics::Counts, leads: &[i64], promise_hours: i64) {
    for lead in leads {
        c.pickups_ready += 1;
        c.pickups_ready_on_time += i64::from(ready_on_time(0, *lead, promise_hours));
    }
}

/// The exceptions opened in the scope and still open, by the day they were
/// opened, with their age at `now_ms`.
async fn open_exceptions(
    tx: &mut Tx,
    s: &Scope<'_>,
    now_ms: i64,
    days: &mut BTreeMap<i64, Bucket>,
) -> Result<(), Error> {
    for (day, opened) in counts::open_exceptions(tx, s).await? {
        let ages = opened.into_iter().map(|at| now_ms.saturating_sub(at).max(0));
        bucket(days, day).open_exception_ages_ms.extend(ages);
    }
    Ok(())
}

/// The orders received in the scope, counted into their day's bucket.
async fn received(tx: &mut Tx, s: &Scope<'_>, days: &mut BTreeMap<i64, Bucket>) -> Result<(), Error> {
    for (key, b) in cohorts(tx, s, Key::Day).await? {
        bucket(days, key.day).absorb(b);
    }
    Ok(())
}

/// The counts and samples of the orders received in the scope, one bucket
/// per key (the daily rollups are these, keyed by channel and location).
pub(crate) async fn cohorts(tx: &mut Tx, s: &Scope<'_>, key: Key) -> Result<BTreeMap<DayKey, Bucket>, Error> {
    let mut out: BTreeMap<DayKey, Bucket> = BTreeMap::new();
    for d in counts::order_days(tx, s, key).await? {
        let c = &mut out.entry(d.key).or_default().counts;
        c.orders = d.orders;
        c.cancelled = d.cancelled;
        c.oversell_cancellations = d.oversell;
    }
    for d in counts::intake_days(tx, s, key).await? {
        let c = &mut out.entry(d.key).or_default().counts;
        c.orders_measured = d.orders_measured;
        c.orders_filled = d.orders_measured.saturating_sub(d.orders_short);
        c.units_measured = d.units_measured;
        c.units_filled = d.units_filled;
        c.lines_measured = d.lines_measured;
        c.lines_stocked_out = d.lines_stocked_out;
    }
    for (k, n) in counts::split_days(tx, s, key).await? {
        out.entry(k).or_default().counts.split = n;
    }
    for (k, reason, n) in counts::cancellation_days(tx, s, key).await? {
        let reason = reason.unwrap_or_else(|| UNRECORDED_REASON.to_owned());
        *out.entry(k).or_default().cancellations.entry(reason).or_insert(0) += n;
    }
    let counter = crate::channel_intake::COUNTER_CARRIER;
    for (k, ms) in counts::handling_times(tx, s, key, &DONE, counter).await? {
        out.entry(k).or_default().handling_ms.push(ms);
    }
    for (k, n) in counts::returned_order_days(tx, s, key, ReturnStatus::Rejected.as_str()).await? {
        out.entry(k).or_default().counts.orders_returned = n;
    }
    Ok(out)
}
