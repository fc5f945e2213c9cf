//! Customer notifications' rows: the customer's address on an order,
//! templates (`notification_templates`), deliveries
//! (`notification_deliveries`), the status page's milestones
//! (`customer_milestones`) and links (`status_links`, token hashes only).

use serde::{Deserialize, Serialize};
use switchyard_core::notification::{DeliveryChannel, DeliveryStatus, NotificationEvent};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::db::Tx;
use crate::{args, rfc3339, Row, StoreError, Value};

// ------------------------------------------------------------- customers

/// The order's customer address, if it has one.
pub async fn customer_email(tx: &mut Tx, order_id: &str) -> Result<Option<String>, StoreError> {
    let row = tx.query_opt("SELECT customer_email FROM orders WHERE id = $1", args![order_id]).await?;
    match row {
        Some(r) => r.opt_string(0),
        None => Ok(None),
    }
}

// ------------------------------------------------------------- templates

/// A merchant's template for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRow {
    pub event: NotificationEvent,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub updated_by: String,
    pub updated_at: i64,
}

fn template(r: &Row) -> Result<TemplateRow, StoreError> {
    let raw = r.string(0)?;
    let event = NotificationEvent::parse(&raw)
        .ok_or_else(|| StoreError::corrupt(format!("notification template for unknown event {raw:?}")))?;
    Ok(TemplateRow {
        event,
        subject: r.string(1)?,
        text_body: r.string(2)?,
        html_body: r.opt_string(3)?,
        updated_by: r.string(4)?,
        updated_at: r.i64(5)?,
    })
}

const TEMPLATE_COLUMNS: &str = "event, subject, text_body, html_body, updated_by, updated_at";

/// The merchant's template for `event` (none: the built-in default).
pub async fn get_template(tx: &mut Tx, event: NotificationEvent) -> Result<Option<TemplateRow>, StoreError> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM notification_templates WHERE event = $1");
    tx.query_opt(&sql, args![event.as_str()]).await?.as_ref().map(template).transpose()
}

/// Creates or replaces the merchant's template for its event.
pub async fn put_template(tx: &mut Tx, t: &TemplateRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO notification_templates (event, subject, text_body, html_body, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event) DO UPDATE SET subject = excluded.subject, \
         text_body = excluded.text_body, html_body = excluded.html_body, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
        args![
            t.event.as_str(),
            t.subject.as_str(),
            t.text_body.as_str(),
            t.html_body.as_deref(),
            t.updated_by.as_str(),
            t.updated_at
        ],
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------ deliveries

/// A delivery about to be queued.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub id: &'a str,
    pub event: NotificationEvent,
    pub channel: DeliveryChannel,
    /// The e-mail address, or the webhook's name.
    pub recipient: &'a str,
    pub order_id: &'a str,
    pub return_id: Option<&'a str>,
    /// The outbox message it delivers, as JSON.
    pub notice: &'a str,
}

/// Records a delivery, `pending`.
pub async fn insert_delivery(tx: &mut Tx, d: &NewDelivery<'_>, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO notification_deliveries (id, event, channel, recipient, order_id, return_id, notice, status, \
         attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
        args![
            d.id,
            d.event.as_str(),
            d.channel.as_str(),
            d.recipient,
            d.order_id,
            d.return_id,
            d.notice,
            DeliveryStatus::Pending.as_str(),
            now_ms
        ],
    )
    .await?;
    Ok(())
}

/// One delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event: NotificationEvent,
    pub channel: DeliveryChannel,
    pub recipient: String,
    pub order_id: String,
    pub return_id: Option<String>,
    pub notice: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "id, event, channel, recipient, order_id, return_id, notice, status, attempts, \
                                last_error, created_at, updated_at, sent_at";

fn delivery(r: &Row) -> Result<Delivery, StoreError> {
    let (event, channel, status) = (r.string(1)?, r.string(2)?, r.string(7)?);
    let bad = |what: &str, v: &str| StoreError::corrupt(format!("notification delivery: unknown {what} {v:?}"));
    Ok(Delivery {
        id: r.string(0)?,
        event: NotificationEvent::parse(&event).ok_or_else(|| bad("event", &event))?,
        channel: DeliveryChannel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        recipient: r.string(3)?,
        order_id: r.string(4)?,
        return_id: r.opt_string(5)?,
        notice: r.string(6)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        attempts: r.i64(8)?,
        last_error: r.opt_string(9)?,
        created_at: r.i64(10)?,
        updated_at: r.i64(11)?,
        sent_at: r.opt_i64(12)?,
    })
}

pub async fn get_delivery(tx: &mut Tx, id: &str) -> Result<Option<Delivery>, StoreError> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1");
    tx.query_opt(&sql, args![id]).await?.as_ref().map(delivery).transpose()
}

/// Records one more attempt and its outcome: `sent` (with `sent_at`),
/// `retrying` or `dead`, and the last error.
pub async fn record_attempt(
    tx: &mut Tx,
    id: &str,
    status: DeliveryStatus,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let sent_at = (status == DeliveryStatus::Sent).then_some(now_ms);
    tx.execute(
        "UPDATE notification_deliveries SET status = $1, attempts = attempts + 1, \
         last_error = COALESCE($2, last_error), updated_at = $3, sent_at = COALESCE($4, sent_at) WHERE id = $5",
        args![status.as_str(), error, now_ms, sent_at, id],
    )
    .await?;
    Ok(())
}

/// Makes an order's dead deliveries pending again (a person retries);
/// how many.
pub async fn revive_dead(tx: &mut Tx, order_id: &str, now_ms: i64) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE notification_deliveries SET status = $1, updated_at = $2 WHERE order_id = $3 AND status = $4",
        args![DeliveryStatus::Pending.as_str(), now_ms, order_id, DeliveryStatus::Dead.as_str()],
    )
    .await
}

/// An order's deliveries that are dead.
pub async fn dead_of_order(tx: &mut Tx, order_id: &str) -> Result<i64, StoreError> {
    tx.query_one(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM notification_deliveries WHERE order_id = $1 AND status = $2",
        args![order_id, DeliveryStatus::Dead.as_str()],
    )
    .await?
    .i64(0)
}

/// A delivery as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeliveryView {
    pub id: String,
    /// `order_accepted`, `order_delayed`, `order_shipped`, `ready_for_pickup`, `order_cancelled`,
    /// `return_authorized`, `return_received` or `refund_issued`.
    pub event: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address, or the webhook's name.
    pub recipient: String,
    pub order_id: String,
    pub return_id: Option<String>,
    /// `pending`, `retrying`, `sent` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub sent_at: Option<String>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            event: d.event.as_str().to_owned(),
            channel: d.channel.as_str().to_owned(),
            recipient: d.recipient,
            order_id: d.order_id,
            return_id: d.return_id,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            sent_at: d.sent_at.map(rfc3339),
        }
    }
}

/// Which deliveries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub order_id: Option<String>,
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this id (the previous page's last).
    pub before: Option<String>,
    pub limit: i64,
}

/// A page of deliveries, newest first (ids are time-ordered).
pub async fn list_deliveries(tx: &mut Tx, f: &DeliveryFilter) -> Result<Vec<DeliveryView>, StoreError> {
    let mut clauses = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let status = f.status.map(|s| s.as_str().to_owned());
    for (clause, value) in [("order_id =", &f.order_id), ("status =", &status), ("id <", &f.before)] {
        if let Some(v) = value {
            params.push(Value::from(v));
            clauses.push(format!("{clause} ${}", params.len()));
        }
    }
    params.push(Value::from(f.limit.clamp(1, 500)));
    let filter = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries{filter} ORDER BY id DESC LIMIT ${}",
        params.len()
    );
    tx.query(&sql, &params).await?.iter().map(|r| delivery(r).map(DeliveryView::from)).collect()
}

// ------------------------------------------------------------ milestones

/// A step of the customer's status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub event: NotificationEvent,
    pub return_id: Option<String>,
    /// The outbox message that announced it (JSON).
    pub notice: String,
    pub at: i64,
}

/// Records a step of the order's (or its return's) status page.
pub async fn add_milestone(
    tx: &mut Tx,
    order_id: &str,
    return_id: Option<&str>,
    event: NotificationEvent,
    notice: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO customer_milestones (order_id, return_id, event, notice, at) VALUES ($1, $2, $3, $4, $5)",
        args![order_id, return_id, event.as_str(), notice, now_ms],
    )
    .await?;
    Ok(())
}

/// An order's steps, oldest first (its returns' too).
pub async fn milestones(tx: &mut Tx, order_id: &str) -> Result<Vec<Milestone>, StoreError> {
    let rows = tx
        .query(
            "SELECT event, return_id, notice, at FROM customer_milestones WHERE order_id = $1 ORDER BY seq",
            args![order_id],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let raw = r.string(0)?;
        let event = NotificationEvent::parse(&raw)
            .ok_or_else(|| StoreError::corrupt(format!("customer milestone: unknown event {raw:?}")))?;
        out.push(Milestone { event, return_id: r.opt_string(1)?, notice: r.string(2)?, at: r.i64(3)? });
    }
    Ok(out)
}

// ----------------------------------------------------------------- links

/// Stores a status-page link by its token's hash.
pub async fn insert_link(
    tx: &mut Tx,
    token_hash: &str,
    order_id: &str,
    return_id: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO status_links (token_hash, order_id, return_id, created_at) VALUES ($1, $2, $3, $4)",
        args![token_hash, order_id, return_id, now_ms],
    )
    .await?;
    Ok(())
}

/// The order (and return) a link's token hash opens, if the link was made
/// at `not_before_ms` or later.
pub async fn find_link(
    tx: &mut Tx,
    token_hash: &str,
    not_before_ms: i64,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let sql = "SELECT order_id, return_id FROM status_links WHERE token_hash = $1 AND created_at >= $2";
    let row = tx.query_opt(sql, args![token_hash, not_before_ms]).await?;
    match row {
        Some(r) => Ok(Some((r.string(0)?, r.opt_string(1)?))),
        None => Ok(None),
    }
}

/// Deletes up to `limit` links made before `before_ms`, oldest first;
/// returns how many.
pub async fn purge_links(tx: &mut Tx, before_ms: i64, limit: i64) -> Result<u64, StoreError> {
    tx.execute(
        "DELETE FROM status_links WHERE token_hash IN (SELECT token_hash FROM status_links WHERE created_at < $1 \
         ORDER BY created_at LIMIT $2)",
        args![before_ms, limit],
    )
    .await
}
