//! Read models for the API, the dashboard and the CLI: an order with its
//! lines, allocations, timeline, exceptions and routing decisions; the
//! exception queue; policy versions; stock positions.
//!
//! Only reads. Each function runs inside the caller's transaction, so a view
//! assembled from several queries is one consistent snapshot. A stored value
//! that does not read back as what it must be (an unknown status, JSON that
//! does not parse) is [`StoreError::Corrupt`] rather than a default: a
//! silently blank address or trace would be shown to people as the truth.

use std::collections::BTreeMap;

use switchyard_core::{ExceptionKind, ExceptionStatus, LocationCode, OrderStatus, Position, ShipTo, Sku};

use crate::db::{placeholders, Row, Tx, Value};
use crate::{
    args, rfc3339, AllocationView, DecisionView, EventView, ExceptionFilter, ExceptionLogView, ExceptionView, LineView,
    OrderFilter, OrderPage, OrderView, PolicyRecord, ShadowPair, ShipToView, ShipmentLineView, ShipmentView,
    StockFilter, StockPage, StockRow, StockSearch, StockSkuRow, StoreError,
};

/// The most rows one list returns, whatever the caller asks for.
const MAX_PAGE: i64 = 500;

const ORDER_COLUMNS: &str = "id, channel, external_id, status, currency, total_minor, payment, service_level, \
     pickup_location, ship_to, reservation_expires_at, created_at, updated_at";

/// An exception with its order's external id (`e` joined with `o`).
const EXCEPTION_SELECT: &str = "SELECT e.id, e.order_id, o.external_id, e.kind, e.severity, e.owner_role, e.status, \
     e.message, e.level, e.sla_ms, e.created_at, e.resolved_at, e.resolved_by, e.resolution, e.note, \
     COALESCE(e.channel, o.channel) FROM exceptions e LEFT JOIN orders o ON o.id = e.order_id";

const POLICY_COLUMNS: &str = "version, body, note, created_by, created_at, is_active, is_shadow, activated_at";

/// One order with everything: lines, allocations, timeline, all its
/// exceptions and every routing decision.
pub async fn get_order(tx: &mut Tx, id: &str) -> Result<Option<OrderView>, StoreError> {
    let Some(mut view) = get_order_brief(tx, id).await? else { return Ok(None) };
    view.routing = Some(order_decisions(tx, id).await?);
    let shipments = crate::orders::shipments_of(tx, id).await?;
    view.shipments = Some(
        shipments
            .into_iter()
            .map(|s| ShipmentView {
                id: s.id,
                location: s.location,
                lines: s.lines.into_iter().map(|(sku, quantity)| ShipmentLineView { sku, quantity }).collect(),
                carrier: s.carrier,
                tracking: s.tracking,
                tracking_url: s.tracking_url,
                shipped_at: rfc3339(s.created_at),
            })
            .collect(),
    );
    Ok(Some(view))
}

/// An order with its lines, exceptions and timeline, but not its routing
/// decisions (their traces are the bulk of an order's data; the timeline
/// carries each decision's explanation).
pub async fn get_order_brief(tx: &mut Tx, id: &str) -> Result<Option<OrderView>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let Some(row) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    let ids = [id.to_owned()];
    let lines = load_lines(tx, &ids).await?.into_values().flatten().collect();
    let exceptions = load_exceptions(tx, &ids, None).await?;
    let events = order_events(tx, id).await?;
    Ok(Some(assemble(&row, lines, exceptions, Some(events))?))
}

/// A page of orders, newest first, with their open exceptions (no timeline,
/// no decisions).
pub async fn list_orders(tx: &mut Tx, f: &OrderFilter) -> Result<OrderPage, StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    for (test, value) in [("status =", &f.status), ("channel =", &f.channel), ("id <", &f.cursor)] {
        if let Some(v) = value {
            args.push(Value::from(v));
            clauses.push(format!("{test} ${}", args.len()));
        }
    }
    let limit = f.limit.clamp(1, MAX_PAGE);
    // One row past the page tells whether another page follows.
    args.push(Value::from(limit + 1));
    let sql =
        format!("SELECT {ORDER_COLUMNS} FROM orders{} ORDER BY id DESC LIMIT ${}", where_clause(&clauses), args.len());
    let mut rows = tx.query(&sql, &args).await?;
    let page = limit as usize; // within 1..=MAX_PAGE
    let more = rows.len() > page;
    rows.truncate(page);
    let orders = assemble_page(tx, &rows).await?;
    let next_cursor = if more { orders.last().map(|o| o.id.clone()) } else { None };
    Ok(OrderPage { orders, next_cursor })
}

/// The orders of a list page, each with its lines and open exceptions.
async fn assemble_page(tx: &mut Tx, rows: &[Row]) -> Result<Vec<OrderView>, StoreError> {
    let ids = rows.iter().map(|r| r.string(0)).collect::<Result<Vec<_>, _>>()?;
    let mut lines = load_lines(tx, &ids).await?;
    let mut exceptions: BTreeMap<String, Vec<ExceptionView>> = BTreeMap::new();
    for e in load_exceptions(tx, &ids, Some(ExceptionStatus::Open)).await? {
        if let Some(id) = e.order_id.clone() {
            exceptions.entry(id).or_default().push(e);
        }
    }
    rows.iter()
        .zip(&ids)
        .map(|(r, id)| {
            let (lines, exceptions) = (take_group(&mut lines, id), take_group(&mut exceptions, id));
            assemble(r, lines, exceptions, None)
        })
        .collect()
}

/// Takes the rows grouped under `key` out of `groups`. A key with no group
/// simply has no rows (a line not allocated yet, an order without
/// exceptions): a missing group, not a stored value that failed to parse.
fn take_group<K: Ord, V>(groups: &mut BTreeMap<K, Vec<V>>, key: &K) -> Vec<V> {
    groups.remove(key).into_iter().flatten().collect()
}

/// The order a channel knows by `external_id`.
pub async fn find_order_id(tx: &mut Tx, channel: &str, external_id: &str) -> Result<Option<String>, StoreError> {
    let sql = "SELECT id FROM orders WHERE channel = $1 AND external_id = $2";
    tx.query_opt(sql, args![channel, external_id]).await?.map(|r| r.string(0)).transpose()
}

/// `" WHERE a AND b"`, or nothing without clauses.
fn where_clause(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    }
}

/// Reads a row of [`ORDER_COLUMNS`] into the view; `routing` is left out.
fn assemble(
    r: &Row,
    lines: Vec<LineView>,
    exceptions: Vec<ExceptionView>,
    events: Option<Vec<EventView>>,
) -> Result<OrderView, StoreError> {
    let id = r.string(0)?;
    let status = r.string(3)?;
    if OrderStatus::parse(&status).is_none() {
        return Err(StoreError::corrupt(format!("order {id}: status {status:?}")));
    }
    let ship_to: ShipTo =
        serde_json::from_str(&r.string(9)?).map_err(|e| StoreError::corrupt(format!("order {id}: ship_to: {e}")))?;
    Ok(OrderView {
        channel: r.string(1)?,
        external_id: r.string(2)?,
        status,
        currency: r.string(4)?,
        total: r.i64(5)?,
        payment: r.string(6)?,
        service_level: r.string(7)?,
        pickup_location: r.opt_string(8)?,
        ship_to: ShipToView::from(ship_to),
        lines,
        exceptions,
        shipments: None,
        events,
        routing: None,
        reservation_expires_at: r.opt_i64(10)?.map(rfc3339),
        created_at: rfc3339(r.i64(11)?),
        updated_at: rfc3339(r.i64(12)?),
        id,
    })
}

/// The lines of `ids` with their allocations, by order id, in line order.
async fn load_lines(tx: &mut Tx, ids: &[String]) -> Result<BTreeMap<String, Vec<LineView>>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list = placeholders(1, ids.len());
    let args: Vec<Value> = ids.iter().map(Value::from).collect();
    let mut allocations = load_allocations(tx, &list, &args).await?;
    let sql = format!(
        "SELECT order_id, line_no, sku, quantity, unit_price, backordered FROM order_lines \
         WHERE order_id IN ({list}) ORDER BY order_id, line_no"
    );
    let mut lines: BTreeMap<String, Vec<LineView>> = BTreeMap::new();
    for r in tx.query(&sql, &args).await? {
        let key = (r.string(0)?, r.i64(1)?);
        let line = LineView {
            sku: r.string(2)?,
            quantity: r.i64(3)?,
            unit_price: r.i64(4)?,
            backordered: r.i64(5)?,
            allocations: take_group(&mut allocations, &key),
        };
        lines.entry(key.0).or_default().push(line);
    }
    Ok(lines)
}

/// Allocations of the orders in `list` (placeholders for `args`), by
/// (order id, line number), in the order they were made.
async fn load_allocations(
    tx: &mut Tx,
    list: &str,
    args: &[Value],
) -> Result<BTreeMap<(String, i64), Vec<AllocationView>>, StoreError> {
    let sql = format!(
        "SELECT order_id, line_no, location, quantity, shipped, released FROM allocations \
         WHERE order_id IN ({list}) ORDER BY order_id, line_no, seq"
    );
    let mut allocations: BTreeMap<(String, i64), Vec<AllocationView>> = BTreeMap::new();
    for r in tx.query(&sql, args).await? {
        let a = AllocationView { location: r.string(2)?, quantity: r.i64(3)?, shipped: r.i64(4)?, released: r.i64(5)? };
        allocations.entry((r.string(0)?, r.i64(1)?)).or_default().push(a);
    }
    Ok(allocations)
}

/// An order's timeline, oldest first.
async fn order_events(tx: &mut Tx, id: &str) -> Result<Vec<EventView>, StoreError> {
    let rows =
        tx.query("SELECT at, kind, message FROM order_events WHERE order_id = $1 ORDER BY id", args![id]).await?;
    rows.iter().map(|r| Ok(EventView { at: rfc3339(r.i64(0)?), kind: r.string(1)?, message: r.string(2)? })).collect()
}

/// The exceptions of `order_ids` (of one status, or all), oldest first.
async fn load_exceptions(
    tx: &mut Tx,
    order_ids: &[String],
    status: Option<ExceptionStatus>,
) -> Result<Vec<ExceptionView>, StoreError> {
    if order_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args: Vec<Value> = order_ids.iter().map(Value::from).collect();
    let mut sql = format!("{EXCEPTION_SELECT} WHERE e.order_id IN ({})", placeholders(1, order_ids.len()));
    if let Some(s) = status {
        args.push(Value::from(s.as_str()));
        sql.push_str(&format!(" AND e.status = ${}", args.len()));
    }
    sql.push_str(" ORDER BY e.created_at, e.id");
    tx.query(&sql, &args).await?.iter().map(exception_view).collect()
}

/// The exception queue, oldest first.
pub async fn list_exceptions(tx: &mut Tx, f: &ExceptionFilter) -> Result<Vec<ExceptionView>, StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let filters = [
        ("e.status", &f.status),
        ("e.kind", &f.kind),
        ("e.order_id", &f.order_id),
        ("COALESCE(e.channel, o.channel)", &f.channel),
    ];
    for (col, value) in filters {
        if let Some(v) = value {
            args.push(Value::from(v));
            clauses.push(format!("{col} = ${}", args.len()));
        }
    }
    args.push(Value::from(f.limit.clamp(1, MAX_PAGE)));
    let sql = format!("{EXCEPTION_SELECT}{} ORDER BY e.created_at, e.id LIMIT ${}", where_clause(&clauses), args.len());
    tx.query(&sql, &args).await?.iter().map(exception_view).collect()
}

/// One exception with its log.
pub async fn get_exception(tx: &mut Tx, id: &str) -> Result<Option<ExceptionView>, StoreError> {
    let sql = format!("{EXCEPTION_SELECT} WHERE e.id = $1");
    let Some(row) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    let mut view = exception_view(&row)?;
    let sql = "SELECT at, actor, action, note FROM exception_log WHERE exception_id = $1 ORDER BY id";
    let log = tx.query(sql, args![id]).await?;
    let log = log.iter().map(|r| {
        Ok(ExceptionLogView { at: rfc3339(r.i64(0)?), actor: r.string(1)?, action: r.string(2)?, note: r.string(3)? })
    });
    view.log = Some(log.collect::<Result<_, StoreError>>()?);
    Ok(Some(view))
}

/// How many exceptions are open.
pub async fn open_exception_count(tx: &mut Tx) -> Result<i64, StoreError> {
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM exceptions WHERE status = $1";
    tx.query_one(sql, args![ExceptionStatus::Open.as_str()]).await?.i64(0)
}

/// Reads an [`EXCEPTION_SELECT`] row. Only an open exception has a due time
/// and actions.
fn exception_view(r: &Row) -> Result<ExceptionView, StoreError> {
    let id = r.string(0)?;
    let (kind, status) = (r.string(3)?, r.string(6)?);
    let bad = |what: &str, raw: &str| StoreError::corrupt(format!("exception {id}: {what} {raw:?}"));
    let actions = ExceptionKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?.actions();
    let open = ExceptionStatus::parse(&status).ok_or_else(|| bad("status", &status))? == ExceptionStatus::Open;
    let (level, sla_ms, created_ms) = (r.i64(8)?, r.i64(9)?, r.i64(10)?);
    // It escalates each time another SLA period passes unanswered.
    let due_ms = created_ms.saturating_add(sla_ms.saturating_mul(level.saturating_add(1)));
    Ok(ExceptionView {
        due_at: open.then(|| rfc3339(due_ms)),
        actions: if open { actions.iter().map(|a| a.as_str().to_owned()).collect() } else { vec![] },
        order_id: r.opt_string(1)?,
        external_id: r.opt_string(2)?,
        channel: r.opt_string(15)?,
        kind,
        severity: r.string(4)?,
        owner_role: r.string(5)?,
        status,
        message: r.string(7)?,
        level,
        sla_secs: sla_ms / 1000,
        created_at: rfc3339(created_ms),
        resolved_at: r.opt_i64(11)?.map(rfc3339),
        resolved_by: r.opt_string(12)?,
        resolution: r.opt_string(13)?,
        note: r.opt_string(14)?,
        log: None,
        created_ms,
        id,
    })
}

/// Every routing decision of an order (shadow ones too), oldest first.
pub async fn order_decisions(tx: &mut Tx, order_id: &str) -> Result<Vec<DecisionView>, StoreError> {
    let sql = "SELECT policy_version, outcome, explanation, trace, at, shadow FROM routing_decisions \
               WHERE order_id = $1 ORDER BY id";
    let rows = tx.query(sql, args![order_id]).await?;
    rows.iter().map(|r| decision_view(r, 0, r.bool(5)?)).collect()
}

/// The latest shadow decisions, newest first, each beside the active
/// decision made just before it for the same order.
pub async fn shadow_pairs(tx: &mut Tx, limit: i64) -> Result<Vec<ShadowPair>, StoreError> {
    let sql = "SELECT s.order_id, o.external_id, a.policy_version, a.outcome, a.explanation, a.trace, a.at, \
               s.policy_version, s.outcome, s.explanation, s.trace, s.at \
               FROM routing_decisions s JOIN orders o ON o.id = s.order_id \
               JOIN routing_decisions a ON a.id = (SELECT MAX(x.id) FROM routing_decisions x \
                 WHERE x.order_id = s.order_id AND x.shadow = $1 AND x.id < s.id) \
               WHERE s.shadow = $2 ORDER BY s.id DESC LIMIT $3";
    let rows = tx.query(sql, args![false, true, limit.clamp(1, MAX_PAGE)]).await?;
    rows.iter()
        .map(|r| {
            let (active, shadow) = (decision_view(r, 2, false)?, decision_view(r, 7, true)?);
            Ok(ShadowPair { order_id: r.string(0)?, external_id: r.string(1)?, active, shadow })
        })
        .collect()
}

/// Reads `policy_version, outcome, explanation, trace, at` from column `i` on.
fn decision_view(r: &Row, i: usize, shadow: bool) -> Result<DecisionView, StoreError> {
    let trace = serde_json::from_str(&r.string(i + 3)?)
        .map_err(|e| StoreError::corrupt(format!("routing decision trace: {e}")))?;
    Ok(DecisionView {
        policy_version: r.opt_i64(i)?,
        shadow,
        outcome: r.string(i + 1)?,
        explanation: r.string(i + 2)?,
        trace,
        at: rfc3339(r.i64(i + 4)?),
    })
}

/// One saved policy version.
pub async fn get_policy(tx: &mut Tx, version: i64) -> Result<Option<PolicyRecord>, StoreError> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies WHERE version = $1");
    tx.query_opt(&sql, args![version]).await?.as_ref().map(policy_record).transpose()
}

/// The latest policy versions, newest first.
pub async fn list_policies(tx: &mut Tx, limit: i64) -> Result<Vec<PolicyRecord>, StoreError> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies ORDER BY version DESC LIMIT $1");
    tx.query(&sql, args![limit.clamp(1, MAX_PAGE)]).await?.iter().map(policy_record).collect()
}

/// The active policy version; `None` when the built-in default is in force.
pub async fn active_policy(tx: &mut Tx) -> Result<Option<PolicyRecord>, StoreError> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies WHERE is_active = $1");
    tx.query_opt(&sql, args![true]).await?.as_ref().map(policy_record).transpose()
}

/// The policy version running in shadow, if any.
pub async fn shadow_policy(tx: &mut Tx) -> Result<Option<PolicyRecord>, StoreError> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM routing_policies WHERE is_shadow = $1");
    tx.query_opt(&sql, args![true]).await?.as_ref().map(policy_record).transpose()
}

/// Reads a row of [`POLICY_COLUMNS`].
fn policy_record(r: &Row) -> Result<PolicyRecord, StoreError> {
    Ok(PolicyRecord {
        version: r.i64(0)?,
        body: r.string(1)?,
        note: r.string(2)?,
        created_by: r.string(3)?,
        created_at: rfc3339(r.i64(4)?),
        active: r.bool(5)?,
        shadow: r.bool(6)?,
        activated_at: r.opt_i64(7)?.map(rfc3339),
    })
}

/// How many orders are in each status, by status code.
pub async fn status_counts(tx: &mut Tx) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = "SELECT status, CAST(COUNT(*) AS BIGINT) FROM orders GROUP BY status ORDER BY status";
    let rows = tx.query(sql, args![]).await?;
    rows.iter()
        .map(|r| {
            let status = r.string(0)?;
            if OrderStatus::parse(&status).is_none() {
                return Err(StoreError::corrupt(format!("order status {status:?}")));
            }
            Ok((status, r.i64(1)?))
        })
        .collect()
}

/// A SKU's positions, by location.
pub async fn sku_positions(tx: &mut Tx, sku: &Sku) -> Result<Vec<(LocationCode, Position)>, StoreError> {
    let sql = "SELECT location, on_hand, reserved, safety_stock FROM stock WHERE sku = $1 ORDER BY location";
    let rows = tx.query(sql, args![sku.as_str()]).await?;
    rows.iter()
        .map(|r| {
            let raw = r.string(0)?;
            let code = LocationCode::parse(&raw)
                .map_err(|e| StoreError::corrupt(format!("stock of {sku}: location {raw:?}: {e}")))?;
            Ok((code, Position { on_hand: r.i64(1)?, reserved: r.i64(2)?, safety_stock: r.i64(3)? }))
        })
        .collect()
}

/// Every position, by SKU then location, with what it can still promise.
pub async fn all_positions(tx: &mut Tx) -> Result<Vec<StockRow>, StoreError> {
    let sql = "SELECT sku, location, on_hand, reserved, safety_stock FROM stock ORDER BY sku, location";
    tx.query(sql, args![]).await?.iter().map(stock_row).collect()
}

/// Reads `sku, location, on_hand, reserved, safety_stock`.
fn stock_row(r: &Row) -> Result<StockRow, StoreError> {
    let p = Position { on_hand: r.i64(2)?, reserved: r.i64(3)?, safety_stock: r.i64(4)? };
    let (on_hand, reserved, safety_stock) = (p.on_hand, p.reserved, p.safety_stock);
    Ok(StockRow {
        sku: r.string(0)?,
        location: r.string(1)?,
        on_hand,
        reserved,
        safety_stock,
        available: p.available(),
    })
}

/// A page of stocked SKUs with their positions (see [`StockSearch`]).
///
/// Keyset pagination over the code in byte order (`Tx::bytewise`), on the
/// index of stocked SKUs (migration 0015): a page reads the rows after the
/// cursor and stops at the page size, never counting or skipping rows. A
/// code prefix is a range of that index; a title match is checked row by
/// row as the index is walked, so a rare title walks further (at worst the
/// whole index, still without reading the table on SQLite).
pub async fn stock_page(tx: &mut Tx, s: &StockSearch) -> Result<StockPage, StoreError> {
    let c = tx.bytewise();
    let mut clauses = vec!["is_bundle = FALSE".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    if let Some(after) = &s.after {
        args.push(Value::from(after));
        clauses.push(format!("sku{c} > ${}", args.len()));
    }
    match &s.filter {
        StockFilter::All => {}
        StockFilter::CodePrefix(prefix) => {
            let Some((low, high)) = code_range(prefix) else { return Ok(StockPage::default()) };
            args.push(Value::from(low));
            args.push(Value::from(high));
            clauses.push(format!("sku{c} >= ${} AND sku{c} < ${}", args.len() - 1, args.len()));
        }
        StockFilter::TitleContains(text) => {
            args.push(Value::from(format!("%{}%", like_escaped(&text.to_lowercase()))));
            clauses.push(format!("lower(title) LIKE ${} ESCAPE '\\'", args.len()));
        }
    }
    let limit = s.limit.clamp(1, MAX_PAGE);
    args.push(Value::from(limit + 1));
    let sql = format!("SELECT sku, title FROM skus{} ORDER BY sku{c} LIMIT ${}", where_clause(&clauses), args.len());
    let mut rows = tx.query(&sql, &args).await?;
    let page = limit as usize; // within 1..=MAX_PAGE
    let more = rows.len() > page;
    rows.truncate(page);
    let skus = rows.iter().map(|r| r.string(0)).collect::<Result<Vec<_>, _>>()?;
    let mut positions: BTreeMap<String, Vec<StockRow>> = BTreeMap::new();
    if !skus.is_empty() {
        let sql = format!(
            "SELECT sku, location, on_hand, reserved, safety_stock FROM stock WHERE sku IN ({}) \
             ORDER BY sku, location",
            placeholders(1, skus.len())
        );
        let args: Vec<Value> = skus.iter().map(Value::from).collect();
        for r in tx.query(&sql, &args).await? {
            let row = stock_row(&r)?;
            positions.entry(row.sku.clone()).or_default().push(row);
        }
    }
    let skus = rows
        .iter()
        .zip(skus)
        .map(|(r, sku)| Ok(StockSkuRow { title: r.string(1)?, positions: take_group(&mut positions, &sku), sku }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let next_after = if more { skus.last().map(|s| s.sku.clone()) } else { None };
    Ok(StockPage { skus, next_after })
}

/// `text` with LIKE's wildcards (and the escape character) escaped by `\`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The byte range of codes starting with `prefix`: `[prefix, prefix with
/// its last byte + 1)`. `None` when no code could start with it (codes are
/// ASCII letters, digits and `. _ - : / #`; an empty prefix is no search).
fn code_range(prefix: &str) -> Option<(String, String)> {
    let code_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '#');
    let last = prefix.chars().last()?;
    if !prefix.chars().all(code_char) {
        return None;
    }
    // ASCII, so the last char is one byte and the next one is ASCII too.
    let next = char::from(last as u8 + 1);
    Some((prefix.to_owned(), format!("{}{next}", &prefix[..prefix.len() - 1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_become_byte_ranges() {
        assert_eq!(code_range("TEE"), Some(("TEE".into(), "TEF".into())));
        assert_eq!(code_range("a/z"), Some(("a/z".into(), "a/{".into())));
        assert_eq!(code_range(""), None);
        assert_eq!(code_range("red mug"), None, "a space is in no code");
        assert_eq!(code_range("tée"), None);
        assert_eq!(like_escaped("50%_off\\"), "50\\%\\_off\\\\");
    }
}
