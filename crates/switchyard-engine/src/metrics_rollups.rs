//! Daily rollups (migration 0027): a year of metrics without re-reading a
//! year of orders. Per closed UTC day — over, and wholly inside the period
//! asked for — the counts and samples of the orders received that day, per
//! channel and per location (`""`: every location, each order once), exactly
//! what [`super::metrics::cohorts`] counts from the orders.
//!
//! A rollup is written by the metrics use case, never by intake: a report
//! computes the closed days it needs that have none, or whose orders got a
//! timeline event after the rollup's mark (every change a metric reads —
//! shipment, cancellation, re-route, pickup, return — writes one on the order
//! it changes, in the same transaction), and saves them through the writer
//! after answering from them. The mark is the highest event id every
//! transaction had finished writing when the report began
//! (`settled_event_id`), so an event the report did not see is always above
//! it and marks the day again. Days the report found clean move their mark
//! forward, so the next report only looks at events since. Today and a day
//! the period covers in part are always counted from the records.
//!
//! Beside each day's order rollups, what happened that day (migration 0030:
//! exceptions opened and closed, complaints, pickups made ready, lags,
//! refunds), per channel: records are dated when they are written, so a
//! closed day's happenings never change; they are computed with the day and
//! read by every report that no location narrows (a location's happenings
//! are counted from the records: an order's locations can grow later). The
//! exceptions still open are always read from the records.
//!
//! The sweeper computes days no report asked for yet (`roll_up_metrics`).

use std::collections::BTreeMap;

use switchyard_core::fulfilment::PickStep;
use switchyard_core::metrics::{Bucket, Counts, Period, DAY_MS};
use switchyard_store::metrics::{happenings_by_channel, DayHappenings, DayKey, Key, Scope};
use switchyard_store::metrics_rollups::{self as store, RollupRow};
use switchyard_store::{StoreError, Tx};

use crate::metrics::{absorb_happened, cohorts};
use crate::{Engine, Error, MetricsQuery};

/// The closed days wholly inside the period (first, last), if any: over
/// before today began (`now_ms`'s UTC day).
pub(crate) fn closed_days(period: &Period, now_ms: i64) -> Option<(i64, i64)> {
    let first = Period::day_of(period.from_ms().saturating_add(DAY_MS - 1));
    let last = (Period::day_of(period.to_ms()) - 1).min(Period::day_of(now_ms) - 1);
    (first <= last).then_some((first, last))
}

/// What a report found about the rollups of its closed days, to be saved.
#[derive(Debug, Clone)]
pub(crate) struct Refresh {
    settled: i64,
    first: i64,
    last: i64,
    /// Days computed afresh, with all their rows and what happened on them.
    fresh: BTreeMap<i64, (Vec<RollupRow>, Vec<DayHappenings>)>,
    /// Days whose stored rollups were up to date: (day, their mark).
    clean: Vec<(i64, i64)>,
}

/// Adds the closed days `first..=last` of the query to `days` from their
/// rollups, computing those missing or out of date: the orders received,
/// and what happened unless a location narrows the query.
pub(crate) async fn read(
    tx: &mut Tx,
    q: &MetricsQuery,
    first: i64,
    last: i64,
    settled: i64,
    promise_hours: i64,
    days: &mut BTreeMap<i64, Bucket>,
) -> Result<Refresh, Error> {
    let stored: BTreeMap<i64, i64> = store::days(tx, first, last).await?.into_iter().collect();
    let mut stale: Vec<i64> = (first..=last).filter(|d| !stored.contains_key(d)).collect();
    if let Some(oldest) = stored.values().min() {
        for (day, newest) in store::events_after(tx, *oldest, first * DAY_MS, (last + 1) * DAY_MS).await? {
            if stored.get(&day).is_some_and(|seen| newest > *seen) {
                stale.push(day);
            }
        }
    }
    stale.sort_unstable();
    stale.dedup();
    let mut fresh: BTreeMap<i64, (Vec<RollupRow>, Vec<DayHappenings>)> =
        stale.iter().map(|d| (*d, (Vec::new(), Vec::new()))).collect();
    for (a, b) in runs(&stale) {
        let s = Scope { from_ms: a * DAY_MS, to_ms: (b + 1) * DAY_MS, channel: None, location: None };
        for key in [Key::Channel, Key::Location] {
            for (k, bucket) in cohorts(tx, &s, key).await? {
                fresh.entry(k.day).or_default().0.push(encode(&k, &bucket)?);
            }
        }
        for h in happenings_by_channel(tx, &s, PickStep::ReadyForPickup).await? {
            fresh.entry(h.day).or_default().1.push(h);
        }
    }
    let channel = q.channel.as_ref().map(|c| c.as_str());
    let location = q.location.as_ref().map_or("", |l| l.as_str());
    let wanted = |r: &RollupRow| r.location == location && channel.is_none_or(|c| r.channel == c);
    for row in store::rows(tx, first, last, channel, location).await? {
        if !fresh.contains_key(&row.day) {
            days.entry(row.day).or_default().absorb(decode(&row)?);
        }
    }
    for row in fresh.values().flat_map(|(rows, _)| rows).filter(|r| wanted(r)) {
        days.entry(row.day).or_default().absorb(decode(row)?);
    }
    if q.location.is_none() {
        for h in store::happenings(tx, first, last, channel).await? {
            if !fresh.contains_key(&h.day) {
                absorb_happened(days, &h, promise_hours);
            }
        }
        for h in fresh.values().flat_map(|(_, happened)| happened).filter(|h| channel.is_none_or(|c| h.channel == c)) {
            absorb_happened(days, h, promise_hours);
        }
    }
    let clean = stored.into_iter().filter(|(d, _)| !fresh.contains_key(d)).collect();
    Ok(Refresh { settled, first, last, fresh, clean })
}

/// Maximal runs of consecutive days, as (first, last).
fn runs(days: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for d in days {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == *d => *last = *d,
            _ => out.push((*d, *d)),
        }
    }
    out
}

impl Engine {
    /// Saves what a report computed (one writer command). A failure is
    /// logged, not answered: the report was right without it, and the next
    /// one computes those days again.
    pub(crate) async fn save_rollups(&self, r: Refresh, now_ms: i64) {
        let moves = r.clean.iter().any(|(_, seen)| *seen != r.settled);
        if r.fresh.is_empty() && !moves {
            return;
        }
        let saved = self
            .run(move |tx, _| {
                Box::pin(async move {
                    let mut marks: Vec<i64> = r.clean.iter().map(|(_, seen)| *seen).collect();
                    marks.sort_unstable();
                    marks.dedup();
                    for seen in marks.into_iter().filter(|s| *s != r.settled) {
                        store::advance(tx, r.first, r.last, seen, r.settled).await?;
                    }
                    for (day, (rows, happened)) in &r.fresh {
                        store::replace_day(tx, *day, r.settled, rows, happened, now_ms).await?;
                    }
                    Ok(())
                })
            })
            .await;
        if let Err(e) = saved {
            tracing::warn!(error = %e, "metrics rollups not saved");
        }
    }
}

/// Closed days a sweep rolls up at most: a year of history imported at
/// once is rolled up over a dozen sweeps, a month at a time.
pub(crate) const DAYS_PER_SWEEP: i64 = 31;

impl Engine {
    /// Rolls up closed days that have no rollup yet — the newest first, at
    /// most `max_days` consecutive ones — by running the report over them,
    /// which computes and saves them exactly as a person's report would. So
    /// a report over a long period (after an import of history, or the
    /// first one) finds its days ready instead of counting them from the
    /// orders while the person waits. Returns how many days it rolled up.
    pub async fn roll_up_metrics(&self, max_days: i64) -> Result<i64, Error> {
        let yesterday = Period::day_of(self.now_ms()) - 1;
        let mut tx = self.read().await?;
        let Some(first) = store::first_order_day(&mut tx).await? else {
            tx.rollback().await?;
            return Ok(0);
        };
        let have: std::collections::BTreeSet<i64> =
            store::days(&mut tx, first, yesterday).await?.into_iter().map(|(d, _)| d).collect();
        tx.rollback().await?;
        let Some((from, to)) = newest_missing(first, yesterday, &have, max_days) else { return Ok(0) };
        let period = Period::new(from * DAY_MS, (to + 1) * DAY_MS)
            .map_err(|e| StoreError::corrupt(format!("days {from}..={to} to roll up: {e}")))?;
        self.metrics(&MetricsQuery { period, channel: None, location: None }).await?;
        Ok(to - from + 1)
    }
}

/// The newest run of days in `first..=last` missing from `have`, at most
/// `max_days` long, as (first, last).
fn newest_missing(first: i64, last: i64, have: &std::collections::BTreeSet<i64>, max_days: i64) -> Option<(i64, i64)> {
    let newest = (first..=last).rev().find(|d| !have.contains(d))?;
    let mut oldest = newest;
    while oldest > first && newest - oldest + 1 < max_days.max(1) && !have.contains(&(oldest - 1)) {
        oldest -= 1;
    }
    Some((oldest, newest))
}

/// A bucket of orders received as a rollup row.
fn encode(k: &DayKey, b: &Bucket) -> Result<RollupRow, Error> {
    let c = &b.counts;
    let cancellations = serde_json::to_string(&b.cancellations)
        .map_err(|e| StoreError::corrupt(format!("cancellation reasons not encoded: {e}")))?;
    let handling: Vec<String> = b.handling_ms.iter().map(i64::to_string).collect();
    Ok(RollupRow {
        day: k.day,
        channel: k.channel.clone(),
        location: k.location.clone(),
        orders: c.orders,
        orders_measured: c.orders_measured,
        orders_filled: c.orders_filled,
        units_measured: c.units_measured,
        units_filled: c.units_filled,
        lines_measured: c.lines_measured,
        lines_stocked_out: c.lines_stocked_out,
        cancelled: c.cancelled,
        oversell_cancellations: c.oversell_cancellations,
        split: c.split,
        orders_returned: c.orders_returned,
        cancellations,
        handling_ms: handling.join(","),
    })
}

/// A rollup row as the bucket it was made from; unreadable text is
/// `Corrupt`, never a guess.
fn decode(r: &RollupRow) -> Result<Bucket, Error> {
    let corrupt = |what: &str| Error::Store(StoreError::corrupt(format!("metrics rollup of day {}: {what}", r.day)));
    let cancellations: BTreeMap<String, i64> =
        serde_json::from_str(&r.cancellations).map_err(|_| corrupt("cancellation reasons"))?;
    let handling_ms = if r.handling_ms.is_empty() {
        Vec::new()
    } else {
        r.handling_ms
            .split(',')
            .map(|v| v.parse::<i64>().map_err(|_| corrupt("handling times")))
            .collect::<Result<_, _>>()?
    };
    Ok(Bucket {
        counts: Counts {
            orders: r.orders,
            orders_measured: r.orders_measured,
            orders_filled: r.orders_filled,
            units_measured: r.units_measured,
            units_filled: r.units_filled,
            lines_measured: r.lines_measured,
            lines_stocked_out: r.lines_stocked_out,
            cancelled: r.cancelled,
            oversell_cancellations: r.oversell_cancellations,
            split: r.split,
            orders_returned: r.orders_returned,
            ..Counts::default()
        },
        cancellations,
        handling_ms,
        ..Bucket::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_days_are_over_and_wholly_inside_the_period() {
        let p = |a: i64, b: i64| Period::new(a, b).expect("period");
        let now = 10 * DAY_MS + 5;
        assert_eq!(closed_days(&p(0, 20 * DAY_MS), now), Some((0, 9)), "today (day 10) is open");
        assert_eq!(closed_days(&p(1, 5 * DAY_MS), now), Some((1, 4)), "day 0 only in part");
        assert_eq!(closed_days(&p(DAY_MS, 5 * DAY_MS - 1), now), Some((1, 3)), "day 4 only in part");
        assert_eq!(closed_days(&p(DAY_MS + 1, 2 * DAY_MS + 1), now), None);
        assert_eq!(closed_days(&p(10 * DAY_MS, 11 * DAY_MS), now), None);
    }

    #[test]
    fn the_newest_missing_days_are_rolled_up_first() {
        let have = |d: &[i64]| d.iter().copied().collect::<std::collections::BTreeSet<i64>>();
        assert_eq!(newest_missing(0, 9, &have(&[]), 4), Some((6, 9)));
        assert_eq!(newest_missing(0, 9, &have(&[9, 8, 5]), 31), Some((6, 7)), "stops at a day rolled up");
        assert_eq!(newest_missing(3, 9, &have(&[9]), 31), Some((3, 8)), "stops at the first order's day");
        assert_eq!(newest_missing(0, 2, &have(&[0, 1, 2]), 31), None);
        assert_eq!(newest_missing(5, 4, &have(&[]), 31), None, "no closed day yet");
        assert_eq!(newest_missing(0, 9, &have(&[]), 0), Some((9, 9)), "at least one day");
    }

    #[test]
    fn runs_join_consecutive_days() {
        assert_eq!(runs(&[]), vec![]);
        assert_eq!(runs(&[3, 4, 5, 9, 11, 12]), vec![(3, 5), (9, 9), (11, 12)]);
    }

    #[test]
    fn a_row_decodes_to_the_bucket_it_encodes() {
        let b = Bucket {
            counts: Counts { orders: 3, cancelled: 1, split: 1, orders_returned: 1, ..Counts::default() },
            cancellations: BTreeMap::from([("said \"no\", twice".to_owned(), 1)]),
            handling_ms: vec![7_200_000, 5],
            ..Bucket::default()
        };
        let k = DayKey { day: 20_000, channel: "web".into(), location: "WH".into() };
        let row = encode(&k, &b).expect("encode");
        assert_eq!(decode(&row).expect("decode"), b);
        let empty = encode(&k, &Bucket::default()).expect("encode");
        assert_eq!(decode(&empty).expect("decode"), Bucket::default());
        let bad = RollupRow { handling_ms: "1,x".into(), ..row };
        assert!(decode(&bad).is_err());
    }
}
