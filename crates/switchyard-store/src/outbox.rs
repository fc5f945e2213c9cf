//! The transactional outbox: messages written in the same transaction as
//! the change they announce, then claimed, acknowledged or failed by their
//! consumers. On PostgreSQL a claim skips rows another process holds
//! (`FOR UPDATE SKIP LOCKED`), so two processes never take the same row.

use switchyard_core::outbox::Message;

use crate::db::Tx;
use crate::{args, StoreError};

/// A claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub message: Message,
    /// Deliveries tried so far, this one included.
    pub attempts: i64,
    /// When the change it announces was committed.
    pub created_at: i64,
}

/// Counts of rows by state, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}

/// Queues a message for every consumer of its topic.
pub async fn enqueue(tx: &mut Tx, m: &Message, now_ms: i64) -> Result<(), StoreError> {
    let payload = serde_json::to_string(m).map_err(StoreError::corrupt)?;
    tx.execute(
        "INSERT INTO outbox (topic, key, payload, created_at, coalesce_key, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $4)",
        args![m.topic(), m.subject(), payload, now_ms, m.coalesce_key()],
    )
    .await?;
    Ok(())
}

/// Marks unsent messages that a newer unsent message with the same
/// coalescing key replaces as delivered (`superseded`).
pub async fn supersede(tx: &mut Tx, topic: &str, now_ms: i64) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE outbox SET delivered_at = $1, last_error = $2 WHERE topic = $3 AND delivered_at IS NULL \
         AND dead_at IS NULL AND coalesce_key IS NOT NULL AND (claimed_until IS NULL OR claimed_until < $1) \
         AND EXISTS (SELECT 1 FROM outbox n WHERE n.coalesce_key = outbox.coalesce_key \
         AND n.destination = outbox.destination AND n.id > outbox.id AND n.delivered_at IS NULL AND n.dead_at IS NULL)",
        args![now_ms, "superseded", topic],
    )
    .await
}

/// Claims up to `limit` due messages of a topic for `consumer` until
/// `now_ms + lease_ms`, oldest first. A lease that runs out makes the
/// row claimable again (the consumer died).
pub async fn claim(
    tx: &mut Tx,
    topic: &str,
    consumer: &str,
    limit: i64,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let skip_locked = if tx.is_postgres() { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM outbox WHERE topic = $3 AND delivered_at IS NULL AND dead_at IS NULL \
         AND next_attempt_at <= $4 AND (claimed_until IS NULL OR claimed_until < $4) \
         ORDER BY id LIMIT $5{skip_locked}) \
         RETURNING id, payload, attempts, created_at"
    );
    let rows = tx.query(&sql, args![consumer, now_ms.saturating_add(lease_ms), topic, now_ms, limit]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let payload = r.string(1)?;
        let message = serde_json::from_str(&payload).map_err(|e| StoreError::corrupt(format!("outbox: {e}")))?;
        out.push(Claimed { id: r.i64(0)?, message, attempts: r.i64(2)?, created_at: r.i64(3)? });
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// Acknowledges a delivered message; false when the claim was lost (the
/// lease ran out and another consumer took it).
pub async fn ack(tx: &mut Tx, id: i64, consumer: &str, now_ms: i64) -> Result<bool, StoreError> {
    Ok(tx
        .execute(
            "UPDATE outbox SET delivered_at = $1, claimed_until = NULL WHERE id = $2 AND claimed_by = $3 \
             AND delivered_at IS NULL",
            args![now_ms, id, consumer],
        )
        .await?
        == 1)
}

/// Records a failed delivery: retried at `retry_at`, or dead-lettered when
/// `retry_at` is `None`.
pub async fn fail(
    tx: &mut Tx,
    id: i64,
    consumer: &str,
    error: &str,
    retry_at: Option<i64>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let (next, dead) = match retry_at {
        Some(at) => (at, None),
        None => (now_ms, Some(now_ms)),
    };
    Ok(tx
        .execute(
            "UPDATE outbox SET last_error = $1, next_attempt_at = $2, dead_at = $3, claimed_until = NULL \
             WHERE id = $4 AND claimed_by = $5 AND delivered_at IS NULL",
            args![error, next, dead, id, consumer],
        )
        .await?
        == 1)
}

/// Makes a subject's dead-lettered messages of a topic due again, with
/// their attempts counted afresh (a person fixed the cause); how many.
pub async fn revive(tx: &mut Tx, topic: &str, subject: &str, now_ms: i64) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = $1, claimed_until = NULL \
         WHERE topic = $2 AND key = $3 AND dead_at IS NOT NULL AND delivered_at IS NULL",
        args![now_ms, topic, subject],
    )
    .await
}

/// Deletes delivered rows older than `before_ms` (at most `limit`).
pub async fn purge_delivered(tx: &mut Tx, before_ms: i64, limit: i64) -> Result<u64, StoreError> {
    tx.execute(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NOT NULL \
         AND delivered_at < $1 ORDER BY id LIMIT $2)",
        args![before_ms, limit],
    )
    .await
}

/// Rows pending, delivered and dead.
pub async fn backlog(tx: &mut Tx) -> Result<Backlog, StoreError> {
    let r = tx
        .query_one(
            "SELECT CAST(COUNT(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS BIGINT), \
             CAST(COUNT(*) FILTER (WHERE delivered_at IS NOT NULL) AS BIGINT), \
             CAST(COUNT(*) FILTER (WHERE dead_at IS NOT NULL) AS BIGINT) FROM outbox",
            args![],
        )
        .await?;
    Ok(Backlog { pending: r.i64(0)?, delivered: r.i64(1)?, dead: r.i64(2)? })
}

/// Rows of a topic not yet delivered nor dead.
pub async fn pending(tx: &mut Tx, topic: &str) -> Result<i64, StoreError> {
    let sql =
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE topic = $1 AND delivered_at IS NULL AND dead_at IS NULL";
    tx.query_one(sql, args![topic]).await?.i64(0)
}
