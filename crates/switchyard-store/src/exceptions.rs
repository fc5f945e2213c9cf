//! The exception queue (`exceptions`) and its action log (`exception_log`).
//! Severity, owner and SLA come from the core's `ExceptionKind`.

use switchyard_core::{ExceptionKind, ExceptionStatus, Severity};

use crate::db::Tx;
use crate::{args, StoreError};

/// An exception row read under its lock.
#[derive(Debug, Clone)]
pub struct LockedException {
    /// The order it is about; `None` for a channel's exception.
    pub order_id: Option<String>,
    /// The connection it is about, for a channel's exception.
    pub channel: Option<String>,
    pub kind: ExceptionKind,
    pub status: ExceptionStatus,
}

/// An open exception, as escalation sees it.
#[derive(Debug, Clone)]
pub struct OpenException {
    pub id: String,
    /// `None` for a channel's exception.
    pub order_id: Option<String>,
    pub channel: Option<String>,
    pub kind: ExceptionKind,
    pub level: i64,
    pub sla_ms: i64,
    pub created_at: i64,
}

fn kind(raw: &str) -> Result<ExceptionKind, StoreError> {
    ExceptionKind::parse(raw).ok_or_else(|| StoreError::corrupt(format!("exception kind {raw:?}")))
}

/// Opens an exception about an order.
pub async fn insert(
    tx: &mut Tx,
    id: &str,
    order_id: &str,
    k: ExceptionKind,
    message: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    insert_row(tx, id, (Some(order_id), None), k, message, now_ms).await
}

/// Opens an exception about a channel connection (bound to no order).
pub async fn insert_for_channel(
    tx: &mut Tx,
    id: &str,
    channel: &str,
    k: ExceptionKind,
    message: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    insert_row(tx, id, (None, Some(channel)), k, message, now_ms).await
}

/// One open exception row, about (an order, a channel).
async fn insert_row(
    tx: &mut Tx,
    id: &str,
    (order_id, channel): (Option<&str>, Option<&str>),
    k: ExceptionKind,
    message: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO exceptions (id, order_id, channel, kind, severity, owner_role, status, message, level, sla_ms, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
        args![
            id,
            order_id,
            channel,
            k.as_str(),
            k.severity().as_str(),
            k.owner().as_str(),
            ExceptionStatus::Open.as_str(),
            message,
            k.sla_ms(),
            now_ms
        ],
    )
    .await?;
    Ok(())
}

/// (id, kind) of a connection's open exceptions (those bound to no order),
/// oldest first.
pub async fn open_of_channel(tx: &mut Tx, channel: &str) -> Result<Vec<(String, ExceptionKind)>, StoreError> {
    tx.query(
        "SELECT id, kind FROM exceptions WHERE channel = $1 AND order_id IS NULL AND status = $2 \
         ORDER BY created_at, id",
        args![channel, ExceptionStatus::Open.as_str()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, kind(&r.string(1)?)?)))
    .collect()
}

/// Appends to an exception's action log.
pub async fn log(
    tx: &mut Tx,
    exception_id: &str,
    actor: &str,
    action: &str,
    note: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO exception_log (exception_id, at, actor, action, note) VALUES ($1, $2, $3, $4, $5)",
        args![exception_id, now_ms, actor, action, note],
    )
    .await?;
    Ok(())
}

/// (id, kind) of an order's open exceptions, oldest first.
pub async fn open_of_order(tx: &mut Tx, order_id: &str) -> Result<Vec<(String, ExceptionKind)>, StoreError> {
    tx.query(
        "SELECT id, kind FROM exceptions WHERE order_id = $1 AND status = $2 ORDER BY created_at, id",
        args![order_id, ExceptionStatus::Open.as_str()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.string(0)?, kind(&r.string(1)?)?)))
    .collect()
}

/// Closes an exception.
#[allow(clippy::too_many_arguments)]
pub async fn close(
    tx: &mut Tx,
    id: &str,
    status: ExceptionStatus,
    actor: &str,
    resolution: &str,
    note: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE exceptions SET status = $1, resolved_at = $2, resolved_by = $3, resolution = $4, note = $5 \
         WHERE id = $6",
        args![status.as_str(), now_ms, actor, resolution, note, id],
    )
    .await?;
    Ok(())
}

/// Reads an exception, locking it until commit.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<LockedException>, StoreError> {
    let sql = format!("SELECT order_id, kind, status, channel FROM exceptions WHERE id = $1{}", tx.for_update());
    let Some(r) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    let status = r.string(2)?;
    Ok(Some(LockedException {
        order_id: r.opt_string(0)?,
        channel: r.opt_string(3)?,
        kind: kind(&r.string(1)?)?,
        status: ExceptionStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("exception status {status:?}")))?,
    }))
}

/// Open exceptions, oldest first (at most `limit`).
pub async fn open(tx: &mut Tx, limit: i64) -> Result<Vec<OpenException>, StoreError> {
    tx.query(
        "SELECT id, order_id, kind, level, sla_ms, created_at, channel FROM exceptions WHERE status = $1 \
         ORDER BY created_at, id LIMIT $2",
        args![ExceptionStatus::Open.as_str(), limit],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(OpenException {
            id: r.string(0)?,
            order_id: r.opt_string(1)?,
            channel: r.opt_string(6)?,
            kind: kind(&r.string(2)?)?,
            level: r.i64(3)?,
            sla_ms: r.i64(4)?,
            created_at: r.i64(5)?,
        })
    })
    .collect()
}

/// Raises an open exception to `level` unless it is there already (so two
/// processes escalating at once raise it once); true when it changed.
pub async fn raise_level(tx: &mut Tx, id: &str, level: i64, severity: Severity) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            "UPDATE exceptions SET level = $1, severity = $2 WHERE id = $3 AND status = $4 AND level < $1",
            args![level, severity.as_str(), id, ExceptionStatus::Open.as_str()],
        )
        .await?;
    Ok(n == 1)
}

/// Whether the order ever had an exception of `kind` (open or settled).
pub async fn ever_of_kind(tx: &mut Tx, order_id: &str, k: ExceptionKind) -> Result<bool, StoreError> {
    let sql = "SELECT 1 FROM exceptions WHERE order_id = $1 AND kind = $2";
    Ok(tx.query_opt(sql, args![order_id, k.as_str()]).await?.is_some())
}
