//! Persistence for Switchyard: the [`Store`] trait and its two backends,
//! SQLite (the embedded default) and PostgreSQL, both through sqlx.
//!
//! Only this crate knows SQL. Every stock change goes through the rules in
//! `switchyard_core::stock::Position` inside one transaction that also appends
//! the ledger row, the order event and the outbox row, so the ledger always
//! explains the positions and nothing acknowledged is lost.

mod error;
mod model;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::StoreError;
pub use model::*;
pub use sql::{PostgresStore, SqliteStore};

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_core::{Channel, ExpiredAction, Location, LocationCode, Position, Sku, SkuDef};

/// Everything the rest of Switchyard may ask of the database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn put_location(&self, location: &Location, now_ms: i64) -> Result<(), StoreError>;
    async fn list_locations(&self) -> Result<Vec<Location>, StoreError>;

    /// Creates or replaces a channel's settings.
    async fn put_channel(&self, channel: &Channel, now_ms: i64) -> Result<(), StoreError>;
    /// Every channel, configured or registered by an arriving order.
    async fn list_channels(&self) -> Result<Vec<Channel>, StoreError>;

    /// Creates or replaces a SKU. A bundle's components must exist and must
    /// not be bundles; a SKU holding stock cannot become a bundle.
    async fn put_sku(&self, sku: &SkuDef, now_ms: i64) -> Result<(), StoreError>;
    async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuDef>, StoreError>;
    async fn list_skus(&self) -> Result<Vec<SkuDef>, StoreError>;

    /// A cycle count: sets on_hand (and optionally safety stock).
    async fn set_stock(
        &self,
        sku: &Sku,
        location: &LocationCode,
        on_hand: i64,
        safety_stock: Option<i64>,
        reason: &str,
        now_ms: i64,
    ) -> Result<Position, StoreError>;
    /// A signed correction of on_hand.
    async fn adjust_stock(
        &self,
        sku: &Sku,
        location: &LocationCode,
        delta: i64,
        reason: &str,
        now_ms: i64,
    ) -> Result<Position, StoreError>;
    /// SKUs and counts from a file, all in one transaction: a bad row
    /// changes nothing and is reported with its index.
    async fn import_stock(&self, rows: &[ImportRow], now_ms: i64) -> Result<ImportSummary, StoreError>;
    /// Positions of one SKU at every location that has a row for it.
    async fn sku_positions(&self, sku: &Sku) -> Result<Vec<(LocationCode, Position)>, StoreError>;
    async fn all_positions(&self) -> Result<Vec<StockRow>, StoreError>;

    /// Takes an order: allocates and reserves in ONE transaction. Returns the
    /// order and whether it was created (false: the same channel and
    /// external id were seen before, and that order is returned unchanged).
    async fn create_order(&self, order: &NewOrder, now_ms: i64, ttl_ms: i64) -> Result<(OrderView, bool), StoreError>;
    async fn get_order(&self, id: &str) -> Result<Option<OrderView>, StoreError>;
    async fn list_orders(&self, filter: &OrderFilter) -> Result<OrderPage, StoreError>;
    async fn cancel_order(&self, id: &str, reason: &str, now_ms: i64) -> Result<OrderView, StoreError>;
    async fn mark_paid(&self, id: &str, now_ms: i64) -> Result<OrderView, StoreError>;
    async fn ship(&self, id: &str, shipment: &NewShipment, now_ms: i64) -> Result<OrderView, StoreError>;
    /// Re-routes an order's unshipped units with the active policy, in one
    /// transaction: everything it holds is released and allocated again.
    /// With `reject = (line_no, location)`, a store could not find that
    /// line's item: its units there are released, the location's on_hand is
    /// corrected down by what is missing (never below other orders'
    /// reservations), and the item is not taken from there again.
    async fn reroute(
        &self,
        id: &str,
        reject: Option<(i64, &LocationCode)>,
        actor: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<OrderView, StoreError>;
    /// Releases the reservations of unpaid orders whose hold expired at or
    /// before `now_ms` (at most `limit`), returning their ids.
    async fn expire_reservations(
        &self,
        now_ms: i64,
        action: ExpiredAction,
        limit: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Cancels orders still held when the routing policy's auto-cancel time
    /// has come (with a notification); returns their ids.
    async fn auto_cancel_held(&self, now_ms: i64, limit: i64) -> Result<Vec<String>, StoreError>;
    /// Recomputes every position from the ledger and every reservation from
    /// the open orders.
    async fn audit(&self) -> Result<AuditReport, StoreError>;
    /// The exception queue, oldest first.
    async fn list_exceptions(&self, filter: &ExceptionFilter) -> Result<Vec<ExceptionView>, StoreError>;
    /// One exception with its action log.
    async fn get_exception(&self, id: &str) -> Result<Option<ExceptionView>, StoreError>;
    /// Carries out a human's action on an open exception, in one
    /// transaction, and logs who did what and why.
    async fn resolve_exception(&self, id: &str, r: &Resolution, now_ms: i64) -> Result<ExceptionView, StoreError>;
    /// Raises the level of open exceptions past their SLA, emitting a
    /// notification for each; returns (exception id, new level).
    async fn escalate_exceptions(&self, now_ms: i64) -> Result<Vec<(String, i64)>, StoreError>;
    /// Number of open exceptions.
    async fn open_exception_count(&self) -> Result<i64, StoreError>;
    /// Saves a policy version (the caller has validated it); not active yet.
    async fn save_policy(&self, body: &str, note: &str, by: &str, now_ms: i64) -> Result<PolicyRecord, StoreError>;
    async fn get_policy(&self, version: i64) -> Result<Option<PolicyRecord>, StoreError>;
    /// Saved versions, newest first.
    async fn list_policies(&self, limit: i64) -> Result<Vec<PolicyRecord>, StoreError>;
    /// The active version, if any (none: the built-in default applies).
    async fn active_policy(&self) -> Result<Option<PolicyRecord>, StoreError>;
    /// Makes `version` the one active policy (the caller has validated it).
    async fn activate_policy(&self, version: i64, by: &str, now_ms: i64) -> Result<PolicyRecord, StoreError>;
    /// Re-activates the version that was active before the current one
    /// (or the built-in default when there was none); returns it.
    async fn rollback_policy(&self, by: &str, now_ms: i64) -> Result<Option<PolicyRecord>, StoreError>;
    /// Runs `version` in shadow beside the active one, or stops shadowing.
    async fn set_shadow_policy(&self, version: Option<i64>, by: &str, now_ms: i64) -> Result<(), StoreError>;
    async fn shadow_policy(&self) -> Result<Option<PolicyRecord>, StoreError>;
    /// Routes an order without reserving or writing anything, with a draft
    /// policy or (when `None`) the active one.
    async fn preview_route(
        &self,
        order: &NewOrder,
        draft: Option<&switchyard_core::routing::Policy>,
        now_ms: i64,
    ) -> Result<DecisionView, StoreError>;
    /// The latest orders that got a shadow decision, each with the active
    /// decision it was compared with (newest first).
    async fn shadow_pairs(&self, limit: i64) -> Result<Vec<ShadowPair>, StoreError>;
    /// The routing decisions recorded for an order, oldest first.
    async fn order_decisions(&self, order_id: &str) -> Result<Vec<DecisionView>, StoreError>;

    /// Number of orders in each status.
    async fn status_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;
}

/// Whether `name` is an IANA time zone (e.g. `America/Los_Angeles`, `UTC`).
pub fn is_timezone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

/// The local calendar date (`YYYY-MM-DD`) at `now_ms` in time zone `tz`.
pub fn local_date(tz: &str, now_ms: i64) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|t| t.with_timezone(&tz).date_naive().to_string())
        .unwrap_or_default()
}

/// Opens the store a `--db` value names: a `postgres://` URL or a SQLite
/// file path (created with its migrations if missing).
pub async fn open(db: &str) -> Result<Arc<dyn Store>, StoreError> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(db).await?))
    } else {
        Ok(Arc::new(SqliteStore::open(db).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).expect("time")
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        assert!(is_timezone("America/Denver") && !is_timezone("Mars/Olympus"));
        assert_eq!(local_date("America/Los_Angeles", ms("2026-11-27T07:59:00Z")), "2026-11-26");
        assert_eq!(local_date("America/Los_Angeles", ms("2026-11-27T08:00:00Z")), "2026-11-27");
    }
}
