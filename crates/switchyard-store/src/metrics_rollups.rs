//! Daily rollups of the metrics (migration 0027): per closed UTC day,
//! channel and location, the counts and samples over the orders received
//! that day, and per day the highest timeline event (`order_events.id`) the
//! computation had certainly seen; per day and channel, what happened that
//! day (migration 0030, `metrics_happenings`). Storage only: what is rolled up, and when
//! a day must be computed again, is the engine's (`metrics.rs`).

use crate::db::{Tx, Value};
use crate::metrics::{parse_sample, sample_text, DayHappenings};
use crate::{args, StoreError};

/// One rollup row: a day's orders of one channel, at one location (`""`:
/// every location).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupRow {
    pub day: i64,
    pub channel: String,
    pub location: String,
    pub orders: i64,
    pub orders_measured: i64,
    pub orders_filled: i64,
    pub units_measured: i64,
    pub units_filled: i64,
    pub lines_measured: i64,
    pub lines_stocked_out: i64,
    pub cancelled: i64,
    pub oversell_cancellations: i64,
    pub split: i64,
    pub orders_returned: i64,
    /// Cancelled orders per reason, encoded by the engine.
    pub cancellations: String,
    /// The handling-time sample, encoded by the engine.
    pub handling_ms: String,
}

const COLUMNS: &str = "day, channel, location, orders, orders_measured, orders_filled, units_measured, \
    units_filled, lines_measured, lines_stocked_out, cancelled, oversell_cancellations, split, orders_returned, \
    cancellations, handling_ms";
const WIDTH: usize = 16;
/// Rows per INSERT statement (16 parameters each; well under both backends'
/// parameter limits).
const CHUNK: usize = 500;

/// The highest timeline event id every transaction has finished writing:
/// on PostgreSQL, identities are handed out before their transactions
/// commit, so a share lock on the table first waits for the transactions
/// still inserting (intake waits only for this one statement); SQLite's one
/// writer commits in id order. Run it in its own transaction, ended at once.
pub async fn settled_event_id(tx: &mut Tx) -> Result<i64, StoreError> {
    if tx.is_postgres() {
        tx.execute("LOCK TABLE order_events IN SHARE MODE", args![]).await?;
    }
    tx.query_one("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM order_events", args![]).await?.i64(0)
}

/// The UTC day of the oldest order, if there is one.
pub async fn first_order_day(tx: &mut Tx) -> Result<Option<i64>, StoreError> {
    let row = tx.query_one("SELECT CAST(MIN(created_at) AS BIGINT) FROM orders", args![]).await?;
    Ok(row.opt_i64(0)?.map(|at| at.div_euclid(86_400_000)))
}

/// The days from `first` to `last` that have rollups: (day, events seen).
pub async fn days(tx: &mut Tx, first: i64, last: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    tx.query("SELECT day, events_seen FROM metrics_days WHERE day >= $1 AND day <= $2 ORDER BY day", args![first, last])
        .await?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
        .collect()
}

/// Per day of the orders received in `[from_ms, to_ms)`, the highest
/// timeline event after `after_id` on any of them: (day, event id). The
/// events after the mark are taken first (few, by the primary key) and each
/// looks up its order: joined instead, SQLite may walk every order of the
/// range and probe its events (0.1–0.7 s over a year of a million orders).
pub async fn events_after(tx: &mut Tx, after_id: i64, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    tx.query(
        "WITH ev AS MATERIALIZED (SELECT e.id, (SELECT o.created_at FROM orders o WHERE o.id = e.order_id) AS taken \
         FROM order_events e WHERE e.id > $1) \
         SELECT taken / 86400000, CAST(MAX(id) AS BIGINT) FROM ev WHERE taken >= $2 AND taken < $3 \
         GROUP BY taken / 86400000",
        args![after_id, from_ms, to_ms],
    )
    .await?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
    .collect()
}

/// The rows of the days `first` to `last` at `location` (`""`: every
/// location), of one channel or all.
pub async fn rows(
    tx: &mut Tx,
    first: i64,
    last: i64,
    channel: Option<&str>,
    location: &str,
) -> Result<Vec<RollupRow>, StoreError> {
    let mut params = vec![Value::from(first), Value::from(last), Value::from(location)];
    let mut sql = format!("SELECT {COLUMNS} FROM metrics_rollups WHERE day >= $1 AND day <= $2 AND location = $3");
    if let Some(c) = channel {
        params.push(Value::from(c));
        sql.push_str(" AND channel = $4");
    }
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(|r| {
            Ok(RollupRow {
                day: r.i64(0)?,
                channel: r.string(1)?,
                location: r.string(2)?,
                orders: r.i64(3)?,
                orders_measured: r.i64(4)?,
                orders_filled: r.i64(5)?,
                units_measured: r.i64(6)?,
                units_filled: r.i64(7)?,
                lines_measured: r.i64(8)?,
                lines_stocked_out: r.i64(9)?,
                cancelled: r.i64(10)?,
                oversell_cancellations: r.i64(11)?,
                split: r.i64(12)?,
                orders_returned: r.i64(13)?,
                cancellations: r.string(14)?,
                handling_ms: r.string(15)?,
            })
        })
        .collect()
}

/// What happened on the days `first` to `last` (migration 0030), of one
/// channel or all.
pub async fn happenings(
    tx: &mut Tx,
    first: i64,
    last: i64,
    channel: Option<&str>,
) -> Result<Vec<DayHappenings>, StoreError> {
    let mut params = vec![Value::from(first), Value::from(last)];
    let mut sql = "SELECT day, channel, exceptions_opened, exceptions_resolved, complaints, pickup_leads, sync_lags, \
                   refund_turnarounds FROM metrics_happenings WHERE day >= $1 AND day <= $2"
        .to_owned();
    if let Some(c) = channel {
        params.push(Value::from(c));
        sql.push_str(" AND channel = $3");
    }
    let mut out = Vec::new();
    for r in tx.query(&sql, &params).await?.iter() {
        let day = r.i64(0)?;
        out.push(DayHappenings {
            day,
            channel: r.string(1)?,
            exceptions_opened: r.i64(2)?,
            exceptions_resolved: r.i64(3)?,
            complaints: r.i64(4)?,
            pickup_leads: parse_sample(day, &r.string(5)?)?,
            sync_lags: parse_sample(day, &r.string(6)?)?,
            refund_turnarounds: parse_sample(day, &r.string(7)?)?,
        });
    }
    Ok(out)
}

/// Replaces the rollups of `day` with `rows` and what happened that day
/// with `happened` (all of that day), computed having seen every event up
/// to `events_seen`.
pub async fn replace_day(
    tx: &mut Tx,
    day: i64,
    events_seen: i64,
    rows: &[RollupRow],
    happened: &[DayHappenings],
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute("DELETE FROM metrics_happenings WHERE day = $1", args![day]).await?;
    for h in happened {
        tx.execute(
            "INSERT INTO metrics_happenings (day, channel, exceptions_opened, exceptions_resolved, complaints, \
             pickup_leads, sync_lags, refund_turnarounds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![
                day,
                h.channel.as_str(),
                h.exceptions_opened,
                h.exceptions_resolved,
                h.complaints,
                sample_text(&h.pickup_leads),
                sample_text(&h.sync_lags),
                sample_text(&h.refund_turnarounds)
            ],
        )
        .await?;
    }
    tx.execute("DELETE FROM metrics_rollups WHERE day = $1", args![day]).await?;
    for chunk in rows.chunks(CHUNK) {
        let mut params = Vec::with_capacity(chunk.len() * WIDTH);
        let mut tuples = Vec::with_capacity(chunk.len());
        for r in chunk {
            tuples.push(format!("({})", crate::db::placeholders(params.len() + 1, WIDTH)));
            params.extend([
                Value::from(r.day),
                Value::from(r.channel.as_str()),
                Value::from(r.location.as_str()),
                Value::from(r.orders),
                Value::from(r.orders_measured),
                Value::from(r.orders_filled),
                Value::from(r.units_measured),
                Value::from(r.units_filled),
                Value::from(r.lines_measured),
                Value::from(r.lines_stocked_out),
                Value::from(r.cancelled),
                Value::from(r.oversell_cancellations),
                Value::from(r.split),
                Value::from(r.orders_returned),
                Value::from(r.cancellations.as_str()),
                Value::from(r.handling_ms.as_str()),
            ]);
        }
        let sql = format!("INSERT INTO metrics_rollups ({COLUMNS}) VALUES {}", tuples.join(", "));
        tx.execute(&sql, &params).await?;
    }
    tx.execute(
        "INSERT INTO metrics_days (day, events_seen, computed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (day) DO UPDATE SET events_seen = excluded.events_seen, computed_at = excluded.computed_at",
        args![day, events_seen, now_ms],
    )
    .await?;
    Ok(())
}

/// Moves the days `first` to `last` whose rollups were computed having seen
/// `seen` (and found clean since) on to `to`: their orders got no event in
/// between. A day computed again meanwhile keeps its own mark.
pub async fn advance(tx: &mut Tx, first: i64, last: i64, seen: i64, to: i64) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE metrics_days SET events_seen = $1 WHERE day >= $2 AND day <= $3 AND events_seen = $4",
        args![to, first, last, seen],
    )
    .await
}
