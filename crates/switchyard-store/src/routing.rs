//! Routing policy versions (`routing_policies`, `routing_policy_log`), the
//! decisions recorded with each order (`routing_decisions`) and the
//! per-location, per-local-day order counts daily capacity is checked on.

use crate::db::{placeholders, Tx, Value};
use crate::{args, StoreError};

/// Saves a policy text as a new, inactive version; returns the version.
pub async fn insert_policy(tx: &mut Tx, body: &str, note: &str, by: &str, now_ms: i64) -> Result<i64, StoreError> {
    tx.query_one(
        "INSERT INTO routing_policies (body, note, created_by, created_at, is_active, is_shadow) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING version",
        args![body, note, by, now_ms, false],
    )
    .await?
    .i64(0)
}

/// Appends to the activation history (`save`, `activate`, `rollback`,
/// `shadow_start`, `shadow_stop`).
pub async fn log_policy(
    tx: &mut Tx,
    version: Option<i64>,
    action: &str,
    by: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO routing_policy_log (version, action, actor, at) VALUES ($1, $2, $3, $4)",
        args![version, action, by, now_ms],
    )
    .await?;
    Ok(())
}

/// A version's text, locking the row (activation reads then switches).
pub async fn lock_policy_body(tx: &mut Tx, version: i64) -> Result<Option<String>, StoreError> {
    let sql = format!("SELECT body FROM routing_policies WHERE version = $1{}", tx.for_update());
    tx.query_opt(&sql, args![version]).await?.map(|r| r.string(0)).transpose()
}

/// A version's text.
pub async fn policy_body(tx: &mut Tx, version: i64) -> Result<Option<String>, StoreError> {
    tx.query_opt("SELECT body FROM routing_policies WHERE version = $1", args![version])
        .await?
        .map(|r| r.string(0))
        .transpose()
}

/// Makes `version` the only active policy (or none: the built-in default).
pub async fn set_active(tx: &mut Tx, version: Option<i64>, now_ms: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE routing_policies SET is_active = $1 WHERE is_active = $2", args![false, true]).await?;
    if let Some(v) = version {
        tx.execute(
            "UPDATE routing_policies SET is_active = $1, activated_at = $2 WHERE version = $3",
            args![true, now_ms, v],
        )
        .await?;
    }
    crate::catalog::bump_version(tx).await
}

/// Makes `version` the only shadow policy (or none); false when the version
/// does not exist.
pub async fn set_shadow(tx: &mut Tx, version: Option<i64>) -> Result<bool, StoreError> {
    crate::catalog::bump_version(tx).await?;
    tx.execute("UPDATE routing_policies SET is_shadow = $1 WHERE is_shadow = $2", args![false, true]).await?;
    match version {
        Some(v) => {
            Ok(tx.execute("UPDATE routing_policies SET is_shadow = $1 WHERE version = $2", args![true, v]).await? == 1)
        }
        None => Ok(true),
    }
}

/// The latest activations and rollbacks, newest first (`None`: the default).
pub async fn activation_history(tx: &mut Tx, limit: i64) -> Result<Vec<Option<i64>>, StoreError> {
    tx.query(
        "SELECT version FROM routing_policy_log WHERE action IN ($1, $2) ORDER BY id DESC LIMIT $3",
        args!["activate", "rollback", limit],
    )
    .await?
    .iter()
    .map(|r| r.opt_i64(0))
    .collect()
}

/// (version, is_active) of the active and the shadow policy.
pub async fn in_force(tx: &mut Tx) -> Result<Vec<(i64, bool)>, StoreError> {
    tx.query("SELECT version, is_active FROM routing_policies WHERE is_active = $1 OR is_shadow = $1", args![true])
        .await?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.bool(1)?)))
        .collect()
}

/// Records a routing decision with its order.
#[allow(clippy::too_many_arguments)]
pub async fn insert_decision(
    tx: &mut Tx,
    order_id: &str,
    version: Option<i64>,
    shadow: bool,
    outcome: &str,
    explanation: &str,
    trace: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO routing_decisions (order_id, policy_version, shadow, outcome, explanation, trace, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![order_id, version, shadow, outcome, explanation, trace, now_ms],
    )
    .await?;
    Ok(())
}

/// (location, day, orders) for the given local days.
pub async fn day_counts(tx: &mut Tx, days: &[&str]) -> Result<Vec<(String, String, i64)>, StoreError> {
    if days.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT location, day, CAST(SUM(orders) AS BIGINT) FROM location_day_shards WHERE day IN ({}) \
             GROUP BY location, day",
        placeholders(1, days.len())
    );
    let params: Vec<Value> = days.iter().map(|d| Value::from(*d)).collect();
    tx.query(&sql, &params).await?.iter().map(|r| Ok((r.string(0)?, r.string(1)?, r.i64(2)?))).collect()
}

/// The shards a location's daily count is split over (see migration 0008).
pub const DAY_COUNT_SHARDS: i64 = 16;

/// Counts one more order routed to `location` on local day `day`, in
/// `shard` (0..DAY_COUNT_SHARDS; spread orders over them).
pub async fn count_routed(tx: &mut Tx, location: &str, day: &str, shard: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO location_day_shards (location, day, shard, orders) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (location, day, shard) DO UPDATE SET orders = location_day_shards.orders + 1",
        args![location, day, shard.rem_euclid(DAY_COUNT_SHARDS)],
    )
    .await?;
    Ok(())
}
