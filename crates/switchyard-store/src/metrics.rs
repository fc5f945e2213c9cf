//! Metrics counted from what is recorded — orders and their lines'
//! intake facts, allocations, shipments, exceptions, complaints, channel
//! lags — per UTC day (`at / 86400000`), and the operational gauges a
//! Prometheus scrape reads. Counting only: what the counts mean is
//! `switchyard_core::metrics`.
//!
//! Every query selects by a time range first (`orders_created`,
//! `orders_channel_created`, `exceptions_created`, `exceptions_resolved`,
//! `complaints_created`, `channel_lag_acked`), then narrows by channel and
//! location. Orders count in the period they were received (a cohort);
//! exceptions, complaints and lags in the period they happened.

use switchyard_core::fulfilment::PickStep;
use switchyard_core::{ExceptionStatus, OrderStatus};

use crate::db::{Tx, Value};
use crate::{args, StoreError};

/// Which records count: a time range `[from_ms, to_ms)`, optionally one
/// channel and one location (orders with an allocation there).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub from_ms: i64,
    pub to_ms: i64,
    pub channel: Option<&'a str>,
    pub location: Option<&'a str>,
}

/// How rows over the orders received are keyed: by UTC day alone (the
/// scope's channel and location narrow them), by day and channel, or by
/// day, channel and each location the order had units allocated at (the
/// keys of the daily rollups, `metrics_rollups`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Day,
    Channel,
    Location,
}

/// The key of a row: the day the orders were received, and their channel
/// and location (`""` when the rows are not keyed by them).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayKey {
    pub day: i64,
    pub channel: String,
    pub location: String,
}

impl Key {
    /// The key columns after the day, the join that brings the locations
    /// (each (order, location) pair once, for the orders in the range only),
    /// and the GROUP BY columns after the day.
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Key::Day => ("'' AS k_channel, '' AS k_location", "", ""),
            Key::Channel => ("o.channel AS k_channel, '' AS k_location", "", ", o.channel"),
            Key::Location => (
                "o.channel AS k_channel, w.location AS k_location",
                " JOIN (SELECT DISTINCT a.order_id, a.location FROM allocations a JOIN orders x ON x.id = a.order_id \
                 WHERE x.created_at >= $1 AND x.created_at < $2) w ON w.order_id = o.id",
                ", o.channel, w.location",
            ),
        }
    }

    /// The row's key from its first three columns.
    fn read(r: &crate::db::Row) -> Result<DayKey, StoreError> {
        Ok(DayKey { day: r.i64(0)?, channel: r.string(1)?, location: r.string(2)? })
    }
}

/// One day's counts over the orders received that day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderDay {
    pub key: DayKey,
    pub orders: i64,
    pub cancelled: i64,
    /// Cancelled while short of stock.
    pub oversell: i64,
}

/// One day's intake facts over the orders received that day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeDay {
    pub key: DayKey,
    /// Orders whose lines recorded the units allocated at intake.
    pub orders_measured: i64,
    /// Of those, orders with a line not fully allocated at intake.
    pub orders_short: i64,
    pub units_measured: i64,
    pub units_filled: i64,
    /// Lines that recorded their SKU's available-to-promise.
    pub lines_measured: i64,
    /// Of those, lines whose SKU had none.
    pub lines_stocked_out: i64,
}

const DAY: &str = "86400000";

/// `AND` conditions narrowing orders aliased `o` (its channel compared as
/// `channel_expr`) to the scope's channel and location; their values are
/// pushed onto `params`.
fn narrowing(s: &Scope<'_>, channel_expr: &str, params: &mut Vec<Value>) -> String {
    let mut sql = String::new();
    if let Some(c) = s.channel {
        params.push(Value::from(c));
        sql.push_str(&format!(" AND {channel_expr} = ${}", params.len()));
    }
    if let Some(l) = s.location {
        params.push(Value::from(l));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM allocations w WHERE w.order_id = o.id AND w.location = ${})",
            params.len()
        ));
    }
    sql
}

/// Whether the scope narrows by channel or location: records of orders
/// need their order (`o`) joined only then.
fn narrowed(s: &Scope<'_>) -> bool {
    s.channel.is_some() || s.location.is_some()
}

/// Orders received in the scope (`o`, by `created_at`), with `extra`
/// parameters after the range: the WHERE clause and its parameters.
fn orders_in(s: &Scope<'_>, extra: Vec<Value>) -> (String, Vec<Value>) {
    let mut params = vec![Value::from(s.from_ms), Value::from(s.to_ms)];
    params.extend(extra);
    let narrow = narrowing(s, "o.channel", &mut params);
    (format!("o.created_at >= $1 AND o.created_at < $2{narrow}"), params)
}

/// The values of `expr` over each group, in one text of comma-separated
/// integers made by the database: a day's sample in one row rather than a
/// row per record (on SQLite every row fetched is a hop between threads,
/// which made 150,000 samples cost half a second).
fn concat(tx: &Tx, expr: &str) -> String {
    if tx.is_postgres() {
        format!("string_agg(CAST(({expr}) AS TEXT), ',')")
    } else {
        format!("group_concat(({expr}), ',')")
    }
}

/// (day, sample) rows of `concat` texts.
async fn day_samples(tx: &mut Tx, sql: &str, params: &[Value]) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
    let mut out = Vec::new();
    for r in tx.query(sql, params).await?.iter() {
        let day = r.i64(0)?;
        out.push((day, parse_sample(day, r.opt_string(1)?.as_deref().unwrap_or(""))?));
    }
    Ok(out)
}

/// A sample as comma-separated integers (empty: none); anything else is
/// `Corrupt`, never a guess.
pub fn parse_sample(day: i64, text: &str) -> Result<Vec<i64>, StoreError> {
    text.split(',')
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<i64>().map_err(|_| StoreError::corrupt(format!("metrics sample of day {day}: {v:?}"))))
        .collect()
}

/// A sample as `parse_sample` reads it.
pub fn sample_text(sample: &[i64]) -> String {
    sample.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// (key, count) rows.
async fn keyed_counts(tx: &mut Tx, sql: &str, params: &[Value]) -> Result<Vec<(DayKey, i64)>, StoreError> {
    tx.query(sql, params).await?.iter().map(|r| Ok((Key::read(r)?, r.i64(3)?))).collect()
}

/// Orders, cancellations and oversell cancellations per key.
pub async fn order_days(tx: &mut Tx, s: &Scope<'_>, key: Key) -> Result<Vec<OrderDay>, StoreError> {
    let (filter, params) = orders_in(s, vec![Value::from(OrderStatus::Cancelled.as_str())]);
    let (cols, join, group) = key.parts();
    let sql = format!(
        "SELECT o.created_at / {DAY}, {cols}, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(CASE WHEN o.status = $3 THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN o.status = $3 AND o.cancel_short_units > 0 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM orders o{join} WHERE {filter} GROUP BY o.created_at / {DAY}{group}"
    );
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(|r| Ok(OrderDay { key: Key::read(r)?, orders: r.i64(3)?, cancelled: r.i64(4)?, oversell: r.i64(5)? }))
        .collect()
}

/// What the orders' lines met at intake, per key.
pub async fn intake_days(tx: &mut Tx, s: &Scope<'_>, key: Key) -> Result<Vec<IntakeDay>, StoreError> {
    let (filter, params) = orders_in(s, vec![]);
    let (cols, join, group) = key.parts();
    let sql = format!(
        "SELECT o.created_at / {DAY}, {cols}, \
         CAST(COUNT(DISTINCT CASE WHEN l.filled_at_order IS NOT NULL THEN o.id END) AS BIGINT), \
         CAST(COUNT(DISTINCT CASE WHEN l.filled_at_order < l.quantity THEN o.id END) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN l.filled_at_order IS NOT NULL THEN l.quantity ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(l.filled_at_order), 0) AS BIGINT), \
         CAST(COUNT(l.atp_at_order) AS BIGINT), \
         CAST(SUM(CASE WHEN l.atp_at_order = 0 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM orders o{join} JOIN order_lines l ON l.order_id = o.id WHERE {filter} \
         GROUP BY o.created_at / {DAY}{group}"
    );
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(|r| {
            Ok(IntakeDay {
                key: Key::read(r)?,
                orders_measured: r.i64(3)?,
                orders_short: r.i64(4)?,
                units_measured: r.i64(5)?,
                units_filled: r.i64(6)?,
                lines_measured: r.i64(7)?,
                lines_stocked_out: r.i64(8)?,
            })
        })
        .collect()
}

/// Orders whose units are held, or were shipped, at more than one location
/// (allocations not wholly released), per key.
pub async fn split_days(tx: &mut Tx, s: &Scope<'_>, key: Key) -> Result<Vec<(DayKey, i64)>, StoreError> {
    let (filter, params) = orders_in(s, vec![]);
    let (cols, join, group) = key.parts();
    let sql = format!(
        "SELECT day, k_channel, k_location, CAST(COUNT(*) AS BIGINT) FROM (SELECT o.created_at / {DAY} AS day, \
         {cols} FROM orders o{join} JOIN allocations a ON a.order_id = o.id WHERE {filter} \
         AND a.quantity > a.released GROUP BY o.id, o.created_at{group} HAVING COUNT(DISTINCT a.location) > 1) \
         split GROUP BY day, k_channel, k_location"
    );
    keyed_counts(tx, &sql, &params).await
}

/// (key, reason — `None` when not recorded —, cancelled orders).
pub async fn cancellation_days(
    tx: &mut Tx,
    s: &Scope<'_>,
    key: Key,
) -> Result<Vec<(DayKey, Option<String>, i64)>, StoreError> {
    let (filter, params) = orders_in(s, vec![Value::from(OrderStatus::Cancelled.as_str())]);
    let (cols, join, group) = key.parts();
    let sql = format!(
        "SELECT o.created_at / {DAY}, {cols}, o.cancel_reason, CAST(COUNT(*) AS BIGINT) FROM orders o{join} \
         WHERE {filter} AND o.status = $3 GROUP BY o.created_at / {DAY}{group}, o.cancel_reason"
    );
    tx.query(&sql, &params).await?.iter().map(|r| Ok((Key::read(r)?, r.opt_string(3)?, r.i64(4)?))).collect()
}

/// Per order in one of `done` (fully shipped) statuses without a shipment
/// by `skip_carrier` (a counter sale): (key, ms from intake to its last
/// shipment).
pub async fn handling_times(
    tx: &mut Tx,
    s: &Scope<'_>,
    key: Key,
    done: &[OrderStatus],
    skip_carrier: &str,
) -> Result<Vec<(DayKey, i64)>, StoreError> {
    if done.is_empty() {
        return Ok(vec![]);
    }
    let mut extra = vec![Value::from(skip_carrier)];
    extra.extend(done.iter().map(|d| Value::from(d.as_str())));
    let statuses = crate::db::placeholders(4, done.len());
    let (filter, params) = orders_in(s, extra);
    let (cols, join, group) = key.parts();
    let sql = format!(
        "SELECT o.created_at / {DAY}, {cols}, MAX(sh.created_at) - o.created_at FROM orders o{join} \
         JOIN shipments sh ON sh.order_id = o.id WHERE {filter} AND o.status IN ({statuses}) \
         AND NOT EXISTS (SELECT 1 FROM shipments c WHERE c.order_id = o.id AND c.carrier = $3) \
         GROUP BY o.id, o.created_at{group}"
    );
    keyed_counts(tx, &sql, &params).await
}

/// Orders received (in scope) with a return in any status but `rejected`
/// (the customer sent, or may send, something back), per key.
pub async fn returned_order_days(
    tx: &mut Tx,
    s: &Scope<'_>,
    key: Key,
    rejected: &str,
) -> Result<Vec<(DayKey, i64)>, StoreError> {
    let (filter, params) = orders_in(s, vec![Value::from(rejected)]);
    let (cols, join, group) = key.parts();
    let sql = format!(
        "SELECT o.created_at / {DAY}, {cols}, CAST(COUNT(*) AS BIGINT) FROM orders o{join} WHERE {filter} \
         AND EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.id AND r.status <> $3) \
         GROUP BY o.created_at / {DAY}{group}"
    );
    keyed_counts(tx, &sql, &params).await
}

/// Exceptions (of orders in scope, or of a channel connection when no
/// location narrows them) whose `at_column` falls in the range.
fn exceptions_in(s: &Scope<'_>, at_column: &str, extra: Vec<Value>) -> (String, Vec<Value>) {
    let mut params = vec![Value::from(s.from_ms), Value::from(s.to_ms)];
    params.extend(extra);
    let narrow = narrowing(s, "COALESCE(o.channel, e.channel)", &mut params);
    let join = if narrowed(s) { " LEFT JOIN orders o ON o.id = e.order_id" } else { "" };
    let sql = format!("FROM exceptions e{join} WHERE e.{at_column} >= $1 AND e.{at_column} < $2{narrow}");
    (sql, params)
}

/// Exceptions opened in the range and still open: (day, when each was
/// opened).
pub async fn open_exceptions(tx: &mut Tx, s: &Scope<'_>) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
    let (from, params) = exceptions_in(s, "created_at", vec![Value::from(ExceptionStatus::Open.as_str())]);
    let sql =
        format!("SELECT e.created_at / {DAY}, {} {from} AND e.status = $3 GROUP BY 1", concat(tx, "e.created_at"));
    day_samples(tx, &sql, &params).await
}

// ------------------------------------------------------------------ gauges

/// Units reserved over every position.
pub async fn reserved_units(tx: &mut Tx) -> Result<i64, StoreError> {
    tx.query_one("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM stock", args![]).await?.i64(0)
}

/// (kind, count) of the open exceptions.
pub async fn open_exceptions_by_kind(tx: &mut Tx) -> Result<Vec<(String, i64)>, StoreError> {
    tx.query(
        "SELECT kind, CAST(COUNT(*) AS BIGINT) FROM exceptions WHERE status = $1 GROUP BY kind ORDER BY kind",
        args![ExceptionStatus::Open.as_str()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, r.i64(1)?)))
    .collect()
}

/// (status, count) of every order.
pub async fn orders_by_status(tx: &mut Tx) -> Result<Vec<(String, i64)>, StoreError> {
    tx.query("SELECT status, CAST(COUNT(*) AS BIGINT) FROM orders GROUP BY status ORDER BY status", args![])
        .await?
        .iter()
        .map(|r| Ok((r.string(0)?, r.i64(1)?)))
        .collect()
}

/// Orders received per day and channel (in scope): (day, channel, orders),
/// by day then channel.
pub async fn orders_by_channel_day(tx: &mut Tx, s: &Scope<'_>) -> Result<Vec<(i64, String, i64)>, StoreError> {
    let (filter, params) = orders_in(s, vec![]);
    let sql = format!(
        "SELECT o.created_at / {DAY}, o.channel, CAST(COUNT(*) AS BIGINT) FROM orders o WHERE {filter} \
         GROUP BY 1, 2 ORDER BY 1, 2"
    );
    tx.query(&sql, &params).await?.iter().map(|r| Ok((r.i64(0)?, r.string(1)?, r.i64(2)?))).collect()
}

// ------------------------------------------------------------- happenings

/// What happened on one UTC day in one channel (`""`: exceptions of no
/// channel): the counts, and the samples the percentiles and the pickup
/// promise need. The rows of `metrics_happenings`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayHappenings {
    pub day: i64,
    pub channel: String,
    pub exceptions_opened: i64,
    pub exceptions_resolved: i64,
    pub complaints: i64,
    /// Per pickup made ready that day, ms from the order being taken.
    pub pickup_leads: Vec<i64>,
    /// Lags of the stock levels acknowledged that day, ms.
    pub sync_lags: Vec<i64>,
    /// Per refund that day, ms from the return's request.
    pub refund_turnarounds: Vec<i64>,
}

/// What happened in the scope, per day and channel (of the order, else of
/// the record): exceptions opened and closed, complaints, pickups made
/// ready (the event kind is the `ready` step's code, written into the text
/// so the partial index `order_events_ready` serves it), stock levels
/// acknowledged (a channel's, so a location does not narrow them) and
/// refunds. Both what a report counts from the records and the rows of
/// `metrics_happenings`.
pub async fn happenings_by_channel(
    tx: &mut Tx,
    s: &Scope<'_>,
    ready: PickStep,
) -> Result<Vec<DayHappenings>, StoreError> {
    let mut out: std::collections::BTreeMap<(i64, String), DayHappenings> = std::collections::BTreeMap::new();
    let exceptions = |at: &str, params: &mut Vec<Value>| {
        let narrow = narrowing(s, "COALESCE(o.channel, e.channel)", params);
        format!(
            "SELECT e.{at} / {DAY}, COALESCE(o.channel, e.channel, ''), CAST(COUNT(*) AS BIGINT) FROM exceptions e \
             LEFT JOIN orders o ON o.id = e.order_id WHERE e.{at} >= $1 AND e.{at} < $2{narrow} GROUP BY 1, 2"
        )
    };
    let of_orders = |select: &str, from: &str, at: &str, params: &mut Vec<Value>| {
        let narrow = narrowing(s, "o.channel", params);
        format!(
            "SELECT {at} / {DAY}, o.channel, {select} FROM {from} WHERE {at} >= $1 AND {at} < $2{narrow} GROUP BY 1, 2"
        )
    };
    let range = || vec![Value::from(s.from_ms), Value::from(s.to_ms)];
    let mut count_queries = Vec::new();
    for at in ["created_at", "resolved_at"] {
        let mut params = range();
        count_queries.push((exceptions(at, &mut params), params));
    }
    let mut params = range();
    let complaints = "complaints c JOIN orders o ON o.id = c.order_id";
    count_queries.push((of_orders("CAST(COUNT(*) AS BIGINT)", complaints, "c.created_at", &mut params), params));
    for (which, (sql, params)) in count_queries.iter().enumerate() {
        for r in tx.query(sql, params).await?.iter() {
            let h = entry(&mut out, r.i64(0)?, r.string(1)?);
            let n = r.i64(2)?;
            match which {
                0 => h.exceptions_opened = n,
                1 => h.exceptions_resolved = n,
                _ => h.complaints = n,
            }
        }
    }
    let kind = ready.as_str();
    let mut sample_queries = Vec::new();
    let mut params = range();
    let pickups = format!("order_events ev JOIN orders o ON o.id = ev.order_id AND ev.kind = '{kind}'");
    sample_queries.push((of_orders(&concat(tx, "ev.at - o.created_at"), &pickups, "ev.at", &mut params), params));
    let mut params = range();
    let mut lags = format!(
        "SELECT acked_at / {DAY}, channel, {} FROM channel_lag WHERE acked_at >= $1 AND acked_at < $2",
        concat(tx, "lag_ms")
    );
    if let Some(c) = s.channel {
        params.push(Value::from(c));
        lags.push_str(" AND channel = $3");
    }
    lags.push_str(" GROUP BY 1, 2");
    sample_queries.push((lags, params));
    let mut params = range();
    let refunds = "returns r JOIN orders o ON o.id = r.order_id";
    let turnaround = concat(tx, "r.refunded_at - r.created_at");
    sample_queries.push((of_orders(&turnaround, refunds, "r.refunded_at", &mut params), params));
    for (which, (sql, params)) in sample_queries.iter().enumerate() {
        for r in tx.query(sql, params).await?.iter() {
            let day = r.i64(0)?;
            let sample = parse_sample(day, r.opt_string(2)?.as_deref().unwrap_or(""))?;
            let h = entry(&mut out, day, r.string(1)?);
            match which {
                0 => h.pickup_leads = sample,
                1 => h.sync_lags = sample,
                _ => h.refund_turnarounds = sample,
            }
        }
    }
    Ok(out.into_values().collect())
}

/// The happenings of `day` in `channel`, made empty when new.
fn entry(
    out: &mut std::collections::BTreeMap<(i64, String), DayHappenings>,
    day: i64,
    channel: String,
) -> &mut DayHappenings {
    out.entry((day, channel.clone())).or_insert_with(|| DayHappenings { day, channel, ..Default::default() })
}
