//! What goes out to each connection: the stock level it should show per SKU
//! (`channel_stock`, one row per channel and SKU, so only the newest level
//! is ever sent), the log of requests and of acknowledged lags, the access
//! tokens from token endpoints, and the pollers' checkpoints.

use switchyard_core::ChannelName;

use crate::db::{Row, Tx};
use crate::{args, StoreError};

/// One connection's level for one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub channel: String,
    pub sku: String,
    /// What the channel should show now.
    pub wanted: i64,
    /// Bumped whenever `wanted` changes, so an acknowledgement of an older
    /// level does not settle a newer one.
    pub version: i64,
    /// The first change not yet acknowledged; `None` when settled.
    pub changed_at: Option<i64>,
    /// What the channel last acknowledged.
    pub sent: Option<i64>,
    pub sent_at: Option<i64>,
    /// Failed attempts in a row.
    pub failures: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// Dead-lettered: no more attempts until the level changes or a resync.
    pub dead_at: Option<i64>,
}

const LEVEL_COLUMNS: &str =
    "channel, sku, wanted, version, changed_at, sent, sent_at, failures, next_attempt_at, last_error, dead_at";

fn level(r: &Row) -> Result<Level, StoreError> {
    Ok(Level {
        channel: r.string(0)?,
        sku: r.string(1)?,
        wanted: r.i64(2)?,
        version: r.i64(3)?,
        changed_at: r.opt_i64(4)?,
        sent: r.opt_i64(5)?,
        sent_at: r.opt_i64(6)?,
        failures: r.i64(7)?,
        next_attempt_at: r.i64(8)?,
        last_error: r.opt_string(9)?,
        dead_at: r.opt_i64(10)?,
    })
}

/// One level, if the connection has one for the SKU.
pub async fn get(tx: &mut Tx, channel: &ChannelName, sku: &str) -> Result<Option<Level>, StoreError> {
    let sql = format!("SELECT {LEVEL_COLUMNS} FROM channel_stock WHERE channel = $1 AND sku = $2");
    tx.query_opt(&sql, args![channel.as_str(), sku]).await?.as_ref().map(level).transpose()
}

/// Writes a level as the engine decided it.
pub async fn put(tx: &mut Tx, l: &Level) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_stock (channel, sku, wanted, version, changed_at, sent, sent_at, failures, \
         next_attempt_at, last_error, dead_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (channel, sku) DO UPDATE SET wanted = excluded.wanted, version = excluded.version, \
         changed_at = excluded.changed_at, sent = excluded.sent, sent_at = excluded.sent_at, \
         failures = excluded.failures, next_attempt_at = excluded.next_attempt_at, \
         last_error = excluded.last_error, dead_at = excluded.dead_at",
        args![
            &l.channel,
            &l.sku,
            l.wanted,
            l.version,
            l.changed_at,
            l.sent,
            l.sent_at,
            l.failures,
            l.next_attempt_at,
            l.last_error.as_deref(),
            l.dead_at
        ],
    )
    .await?;
    Ok(())
}

/// Levels due to be sent to a connection, oldest change first.
pub async fn due(tx: &mut Tx, channel: &ChannelName, now_ms: i64, limit: i64) -> Result<Vec<Level>, StoreError> {
    let sql = format!(
        "SELECT {LEVEL_COLUMNS} FROM channel_stock WHERE channel = $1 AND changed_at IS NOT NULL \
         AND dead_at IS NULL AND next_attempt_at <= $2 ORDER BY changed_at, sku LIMIT $3"
    );
    tx.query(&sql, args![channel.as_str(), now_ms, limit]).await?.iter().map(level).collect()
}

/// When the next level of a connection falls due (`None`: nothing waits).
pub async fn next_due(tx: &mut Tx, channel: &ChannelName) -> Result<Option<i64>, StoreError> {
    let r = tx
        .query_one(
            "SELECT MIN(next_attempt_at) FROM channel_stock WHERE channel = $1 AND changed_at IS NOT NULL \
             AND dead_at IS NULL",
            args![channel.as_str()],
        )
        .await?;
    r.opt_i64(0)
}

/// Every level of a connection, by SKU.
pub async fn list(tx: &mut Tx, channel: &ChannelName) -> Result<Vec<Level>, StoreError> {
    let sql = format!("SELECT {LEVEL_COLUMNS} FROM channel_stock WHERE channel = $1 ORDER BY sku");
    tx.query(&sql, args![channel.as_str()]).await?.iter().map(level).collect()
}

/// The SKUs a connection has levels for.
pub async fn skus(tx: &mut Tx, channel: &ChannelName) -> Result<Vec<String>, StoreError> {
    let rows =
        tx.query("SELECT sku FROM channel_stock WHERE channel = $1 ORDER BY sku", args![channel.as_str()]).await?;
    rows.iter().map(|r| r.string(0)).collect()
}

/// Counts for the Channels page: levels waiting, dead-lettered, and the
/// time of the newest acknowledgement.
pub async fn counts(tx: &mut Tx, channel: &ChannelName) -> Result<(i64, i64, Option<i64>), StoreError> {
    let r = tx
        .query_one(
            "SELECT CAST(COUNT(*) FILTER (WHERE changed_at IS NOT NULL AND dead_at IS NULL) AS BIGINT), \
             CAST(COUNT(*) FILTER (WHERE dead_at IS NOT NULL) AS BIGINT), MAX(sent_at) \
             FROM channel_stock WHERE channel = $1",
            args![channel.as_str()],
        )
        .await?;
    Ok((r.i64(0)?, r.i64(1)?, r.opt_i64(2)?))
}

/// One request sent to a connection, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: i64,
    /// `stock`, `fulfilment`, `cancel`, `poll`, `token`.
    pub purpose: String,
    pub items: i64,
    /// `accepted`, `throttled`, `transient`, `rejected`, `unsendable`.
    pub outcome: String,
    pub http_status: Option<i64>,
    pub error: Option<String>,
}

pub async fn log(tx: &mut Tx, channel: &ChannelName, a: &Attempt) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_sync_log (channel, at, purpose, items, outcome, http_status, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![channel.as_str(), a.at, &a.purpose, a.items, &a.outcome, a.http_status, a.error.as_deref()],
    )
    .await?;
    Ok(())
}

/// The newest attempts of a connection; only failures when `failures_only`.
pub async fn recent(
    tx: &mut Tx,
    channel: &ChannelName,
    failures_only: bool,
    limit: i64,
) -> Result<Vec<Attempt>, StoreError> {
    let filter = if failures_only { " AND outcome <> $3" } else { " AND $3 = $3" };
    let sql = format!(
        "SELECT at, purpose, items, outcome, http_status, error FROM channel_sync_log WHERE channel = $1{filter} \
         ORDER BY id DESC LIMIT $2"
    );
    let rows = tx.query(&sql, args![channel.as_str(), limit, "accepted"]).await?;
    rows.iter()
        .map(|r| {
            Ok(Attempt {
                at: r.i64(0)?,
                purpose: r.string(1)?,
                items: r.i64(2)?,
                outcome: r.string(3)?,
                http_status: r.opt_i64(4)?,
                error: r.opt_string(5)?,
            })
        })
        .collect()
}

/// Records the lag of one acknowledged level.
pub async fn lag(tx: &mut Tx, channel: &ChannelName, acked_at: i64, lag_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_lag (channel, acked_at, lag_ms) VALUES ($1, $2, $3)",
        args![channel.as_str(), acked_at, lag_ms],
    )
    .await?;
    Ok(())
}

/// The lags acknowledged since `since_ms` (at most `limit`, newest), sorted.
pub async fn lags(tx: &mut Tx, channel: &ChannelName, since_ms: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    let rows = tx
        .query(
            "SELECT lag_ms FROM channel_lag WHERE channel = $1 AND acked_at >= $2 ORDER BY acked_at DESC LIMIT $3",
            args![channel.as_str(), since_ms, limit],
        )
        .await?;
    let mut out = rows.iter().map(|r| r.i64(0)).collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    Ok(out)
}

/// Deletes log and lag rows older than `before_ms`.
pub async fn purge(tx: &mut Tx, before_ms: i64) -> Result<u64, StoreError> {
    let a = tx.execute("DELETE FROM channel_sync_log WHERE at < $1", args![before_ms]).await?;
    let b = tx.execute("DELETE FROM channel_lag WHERE acked_at < $1", args![before_ms]).await?;
    Ok(a + b)
}

/// A connection's current access token and its expiry; and the refresh
/// token when the platform rotated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub access_token: String,
    pub expires_at: i64,
    pub refresh_token: Option<String>,
}

pub async fn token(tx: &mut Tx, channel: &ChannelName) -> Result<Option<StoredToken>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT access_token, expires_at, refresh_token FROM channel_tokens WHERE channel = $1",
            args![channel.as_str()],
        )
        .await?;
    row.map(|r| Ok(StoredToken { access_token: r.string(0)?, expires_at: r.i64(1)?, refresh_token: r.opt_string(2)? }))
        .transpose()
}

/// Stores a new access token; a rotated refresh token replaces the old one
/// (`None` keeps it).
pub async fn put_token(tx: &mut Tx, channel: &ChannelName, t: &StoredToken) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_tokens (channel, access_token, expires_at, refresh_token) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (channel) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at, \
         refresh_token = COALESCE(excluded.refresh_token, channel_tokens.refresh_token)",
        args![channel.as_str(), &t.access_token, t.expires_at, t.refresh_token.as_deref()],
    )
    .await?;
    Ok(())
}

/// Forgets a connection's tokens (its credentials changed).
pub async fn drop_token(tx: &mut Tx, channel: &ChannelName) -> Result<(), StoreError> {
    tx.execute("DELETE FROM channel_tokens WHERE channel = $1", args![channel.as_str()]).await?;
    Ok(())
}

/// Where a polled connection stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollState {
    /// The platform's timestamp of the newest change taken in.
    pub checkpoint: Option<String>,
    pub polled_at: Option<i64>,
    pub failures: i64,
    pub next_poll_at: i64,
    pub last_error: Option<String>,
}

pub async fn poll_state(tx: &mut Tx, channel: &ChannelName) -> Result<PollState, StoreError> {
    let row = tx
        .query_opt(
            "SELECT checkpoint, polled_at, failures, next_poll_at, last_error FROM channel_polls WHERE channel = $1",
            args![channel.as_str()],
        )
        .await?;
    Ok(match row {
        None => PollState::default(),
        Some(r) => PollState {
            checkpoint: r.opt_string(0)?,
            polled_at: r.opt_i64(1)?,
            failures: r.i64(2)?,
            next_poll_at: r.i64(3)?,
            last_error: r.opt_string(4)?,
        },
    })
}

pub async fn put_poll_state(tx: &mut Tx, channel: &ChannelName, p: &PollState) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO channel_polls (channel, checkpoint, polled_at, failures, next_poll_at, last_error) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel) DO UPDATE SET checkpoint = excluded.checkpoint, \
         polled_at = excluded.polled_at, failures = excluded.failures, next_poll_at = excluded.next_poll_at, \
         last_error = excluded.last_error",
        args![
            channel.as_str(),
            p.checkpoint.as_deref(),
            p.polled_at,
            p.failures,
            p.next_poll_at,
            p.last_error.as_deref()
        ],
    )
    .await?;
    Ok(())
}

/// When the newest order from a channel was taken.
pub async fn last_order_at(tx: &mut Tx, channel: &ChannelName) -> Result<Option<i64>, StoreError> {
    tx.query_one("SELECT MAX(created_at) FROM orders WHERE channel = $1", args![channel.as_str()]).await?.opt_i64(0)
}
