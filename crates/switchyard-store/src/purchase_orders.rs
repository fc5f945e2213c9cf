//! Dropship purchase orders' rows: the vendors' settings
//! (`dropship_vendors`, the webhook secret written and read only for
//! sending), purchase orders and their lines, and the vendors' links
//! (`purchase_order_links`, SHA-256 of each token only). Primitives only:
//! when a purchase order is made, confirmed, shipped or cancelled is the
//! engine's decision, through the core's `PoStatus`.

use serde::{Deserialize, Serialize};
use switchyard_core::dropship::{PoLine, PoStatus, Vendor};
use switchyard_core::EmailAddress;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::db::{Row, Tx};
use crate::{args, rfc3339, ShipToView, StoreError};

/// The most purchase orders one list answers.
const MAX_PAGE: i64 = 500;

// --------------------------------------------------------------- vendors

/// A vendor's settings; `None` when none were saved.
pub async fn vendor(tx: &mut Tx, location: &str) -> Result<Option<Vendor>, StoreError> {
    let row = tx
        .query_opt(
            "SELECT email, webhook_url, webhook_secret FROM dropship_vendors WHERE location = $1",
            args![location],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let email = r.opt_string(0)?.map(|e| EmailAddress::parse(&e).map_err(StoreError::corrupt)).transpose()?;
    Ok(Some(Vendor { email, webhook_url: r.opt_string(1)?, webhook_secret: r.opt_string(2)? }))
}

/// Creates or replaces a vendor's settings.
pub async fn put_vendor(tx: &mut Tx, location: &str, v: &Vendor, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO dropship_vendors (location, email, webhook_url, webhook_secret, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (location) DO UPDATE SET email = excluded.email, \
         webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret, \
         updated_at = excluded.updated_at",
        args![
            location,
            v.email.as_ref().map(EmailAddress::as_str),
            v.webhook_url.as_deref(),
            v.webhook_secret.as_deref(),
            now_ms
        ],
    )
    .await?;
    Ok(())
}

/// What `PUT /locations/{code}/vendor` answers: the settings without the
/// secret (write-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VendorView {
    pub location: String,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    /// Whether a webhook secret is stored (it is never returned).
    pub has_webhook_secret: bool,
}

// -------------------------------------------------------- purchase orders

/// A purchase order as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PurchaseOrderView {
    pub id: String,
    /// `PO-…`: what the vendor sees.
    pub number: String,
    pub order_id: String,
    /// The order's number as the customer knows it.
    pub order_number: String,
    /// The dropship location (the vendor).
    pub location: String,
    /// `sent`, `confirmed`, `shipped` or `cancelled`.
    pub status: String,
    pub lines: Vec<PurchaseOrderLineView>,
    pub ship_to: ShipToView,
    /// When the vendor must have confirmed (now + its lead time when made).
    pub due_at: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// The `dropship_unconfirmed` exception opened when it was late.
    pub exception_id: Option<String>,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub shipped_at: Option<String>,
    pub cancelled_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PurchaseOrderLineView {
    /// The order line it ships.
    pub line_no: i64,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
}

/// A purchase order row, typed, with its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseOrder {
    pub id: String,
    pub number: String,
    pub order_id: String,
    pub order_number: String,
    pub location: String,
    pub status: PoStatus,
    /// JSON of the core's `ShipTo`.
    pub ship_to: String,
    pub due_at: i64,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub exception_id: Option<String>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub shipped_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub lines: Vec<PoLine>,
}

impl PurchaseOrder {
    pub fn view(&self) -> Result<PurchaseOrderView, StoreError> {
        let s: switchyard_core::ShipTo = serde_json::from_str(&self.ship_to).map_err(StoreError::corrupt)?;
        Ok(PurchaseOrderView {
            id: self.id.clone(),
            number: self.number.clone(),
            order_id: self.order_id.clone(),
            order_number: self.order_number.clone(),
            location: self.location.clone(),
            status: self.status.as_str().to_owned(),
            lines: self
                .lines
                .iter()
                .map(|l| PurchaseOrderLineView {
                    line_no: l.line_no,
                    sku: l.sku.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            ship_to: ShipToView {
                name: s.name,
                line1: s.line1,
                city: s.city,
                region: s.region,
                postal_code: s.postal_code,
                country: s.country,
                lat: s.lat,
                lon: s.lon,
            },
            due_at: rfc3339(self.due_at),
            carrier: self.carrier.clone(),
            tracking: self.tracking.clone(),
            exception_id: self.exception_id.clone(),
            created_at: rfc3339(self.created_at),
            confirmed_at: self.confirmed_at.map(rfc3339),
            shipped_at: self.shipped_at.map(rfc3339),
            cancelled_at: self.cancelled_at.map(rfc3339),
        })
    }
}

/// A new purchase order.
pub struct NewPurchaseOrder<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub order_id: &'a str,
    pub location: &'a str,
    pub ship_to: &'a str,
    pub due_at: i64,
    pub lines: &'a [PoLine],
}

/// The order's number and ship-to (JSON), for a purchase order of it.
pub async fn order_ref(tx: &mut Tx, order_id: &str) -> Result<(String, String), StoreError> {
    let r = tx.query_one("SELECT external_id, ship_to FROM orders WHERE id = $1", args![order_id]).await?;
    Ok((r.string(0)?, r.string(1)?))
}

/// Titles of `skus` (a SKU not found is left out).
pub async fn titles(tx: &mut Tx, skus: &[&str]) -> Result<Vec<(String, String)>, StoreError> {
    if skus.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!("SELECT sku, title FROM skus WHERE sku IN ({})", crate::db::placeholders(1, skus.len()));
    let args: Vec<crate::Value> = skus.iter().map(|s| crate::Value::from(*s)).collect();
    tx.query(&sql, &args).await?.iter().map(|r| Ok((r.string(0)?, r.string(1)?))).collect()
}

pub async fn insert(tx: &mut Tx, p: &NewPurchaseOrder<'_>, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO purchase_orders (id, number, order_id, location, status, ship_to, due_at, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        args![p.id, p.number, p.order_id, p.location, PoStatus::Sent.as_str(), p.ship_to, p.due_at, now_ms],
    )
    .await?;
    for l in p.lines {
        tx.execute(
            "INSERT INTO purchase_order_lines (po_id, line_no, sku, title, quantity) VALUES ($1, $2, $3, $4, $5)",
            args![p.id, l.line_no, l.sku.as_str(), l.title.as_str(), l.quantity],
        )
        .await?;
    }
    Ok(())
}

const COLUMNS: &str = "p.id, p.number, p.order_id, o.external_id, p.location, p.status, p.ship_to, p.due_at, \
                       p.carrier, p.tracking, p.exception_id, p.created_at, p.confirmed_at, p.shipped_at, \
                       p.cancelled_at";

fn row(r: &Row) -> Result<PurchaseOrder, StoreError> {
    let status = r.string(5)?;
    Ok(PurchaseOrder {
        id: r.string(0)?,
        number: r.string(1)?,
        order_id: r.string(2)?,
        order_number: r.string(3)?,
        location: r.string(4)?,
        status: PoStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("purchase order status {status:?}")))?,
        ship_to: r.string(6)?,
        due_at: r.i64(7)?,
        carrier: r.opt_string(8)?,
        tracking: r.opt_string(9)?,
        exception_id: r.opt_string(10)?,
        created_at: r.i64(11)?,
        confirmed_at: r.opt_i64(12)?,
        shipped_at: r.opt_i64(13)?,
        cancelled_at: r.opt_i64(14)?,
        lines: Vec::new(),
    })
}

async fn with_lines(tx: &mut Tx, mut pos: Vec<PurchaseOrder>) -> Result<Vec<PurchaseOrder>, StoreError> {
    for p in &mut pos {
        p.lines = tx
            .query(
                "SELECT line_no, sku, title, quantity FROM purchase_order_lines WHERE po_id = $1 ORDER BY line_no",
                args![p.id.as_str()],
            )
            .await?
            .iter()
            .map(|r| Ok(PoLine { line_no: r.i64(0)?, sku: r.string(1)?, title: r.string(2)?, quantity: r.i64(3)? }))
            .collect::<Result<_, StoreError>>()?;
    }
    Ok(pos)
}

/// One purchase order with its lines; `lock` takes its row lock.
pub async fn get(tx: &mut Tx, id: &str, lock: bool) -> Result<Option<PurchaseOrder>, StoreError> {
    let suffix = if lock && tx.is_postgres() { " FOR UPDATE OF p" } else { "" };
    let sql =
        format!("SELECT {COLUMNS} FROM purchase_orders p JOIN orders o ON o.id = p.order_id WHERE p.id = $1{suffix}");
    let Some(r) = tx.query_opt(&sql, args![id]).await? else { return Ok(None) };
    Ok(with_lines(tx, vec![row(&r)?]).await?.pop())
}

/// The order's purchase orders still waiting for their vendor, oldest first.
pub async fn open_of_order(tx: &mut Tx, order_id: &str) -> Result<Vec<PurchaseOrder>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM purchase_orders p JOIN orders o ON o.id = p.order_id \
         WHERE p.order_id = $1 AND p.status IN ($2, $3) ORDER BY p.created_at, p.id"
    );
    let rows = tx.query(&sql, args![order_id, PoStatus::Sent.as_str(), PoStatus::Confirmed.as_str()]).await?;
    let pos = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
    with_lines(tx, pos).await
}

/// Purchase orders, newest first, optionally of one status or one order.
pub async fn list(
    tx: &mut Tx,
    status: Option<PoStatus>,
    order_id: Option<&str>,
    limit: i64,
) -> Result<Vec<PurchaseOrder>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM purchase_orders p JOIN orders o ON o.id = p.order_id \
         WHERE ($1 = '' OR p.status = $1) AND ($2 = '' OR p.order_id = $2) \
         ORDER BY p.created_at DESC, p.id DESC LIMIT $3"
    );
    let status = status.map_or("", PoStatus::as_str);
    let rows = tx.query(&sql, args![status, order_id.unwrap_or(""), limit.clamp(1, MAX_PAGE)]).await?;
    let pos = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
    with_lines(tx, pos).await
}

/// Sent purchase orders past their due time with no exception yet.
pub async fn unconfirmed_due(tx: &mut Tx, now_ms: i64, limit: i64) -> Result<Vec<String>, StoreError> {
    tx.query(
        "SELECT id FROM purchase_orders WHERE status = $1 AND due_at <= $2 AND exception_id IS NULL \
         ORDER BY due_at, id LIMIT $3",
        args![PoStatus::Sent.as_str(), now_ms, limit],
    )
    .await?
    .iter()
    .map(|r| r.string(0))
    .collect()
}

/// Moves a purchase order to `status`, stamping its time.
pub async fn set_status(tx: &mut Tx, id: &str, status: PoStatus, now_ms: i64) -> Result<(), StoreError> {
    let stamp = match status {
        PoStatus::Confirmed => "confirmed_at",
        PoStatus::Shipped => "shipped_at",
        PoStatus::Cancelled => "cancelled_at",
        PoStatus::Sent => "updated_at",
    };
    let sql = format!("UPDATE purchase_orders SET status = $1, updated_at = $2, {stamp} = $2 WHERE id = $3");
    tx.execute(&sql, args![status.as_str(), now_ms, id]).await?;
    Ok(())
}

/// Records how a shipped purchase order travels.
pub async fn set_tracking(
    tx: &mut Tx,
    id: &str,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute("UPDATE purchase_orders SET carrier = $1, tracking = $2 WHERE id = $3", args![carrier, tracking, id])
        .await?;
    Ok(())
}

/// Notes the `dropship_unconfirmed` exception opened for it.
pub async fn set_exception(tx: &mut Tx, id: &str, exception_id: &str) -> Result<(), StoreError> {
    tx.execute("UPDATE purchase_orders SET exception_id = $1 WHERE id = $2", args![exception_id, id]).await?;
    Ok(())
}

// ----------------------------------------------------------------- links

/// Stores a vendor link's token hash.
pub async fn insert_link(
    tx: &mut Tx,
    token_hash: &str,
    po_id: &str,
    now_ms: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO purchase_order_links (token_hash, po_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        args![token_hash, po_id, now_ms, expires_at],
    )
    .await?;
    Ok(())
}

/// The purchase order a link opens, unless it expired by `now_ms`.
pub async fn find_link(tx: &mut Tx, token_hash: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
    tx.query_opt(
        "SELECT po_id FROM purchase_order_links WHERE token_hash = $1 AND expires_at > $2",
        args![token_hash, now_ms],
    )
    .await?
    .map(|r| r.string(0))
    .transpose()
}
