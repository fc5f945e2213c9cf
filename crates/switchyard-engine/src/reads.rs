//! Reads: each a short read transaction over the store's read models. They
//! never wait on a writer.

use std::collections::BTreeMap;

use switchyard_core::availability::Availability;
use switchyard_core::lifecycle::{exception_mismatches, ExceptionState};
use switchyard_core::{Channel, Location, LocationCode, Position, Sku, SkuDef};
use switchyard_store::{
    audit, catalog, views, AuditReport, DecisionView, ExceptionFilter, ExceptionView, OrderFilter, OrderPage,
    OrderView, PolicyRecord, ShadowPair, StockPage, StockRow, StockSearch, Tx,
};

use crate::{Engine, Error};

/// One read: open a read transaction, run `$body` on it, close it.
macro_rules! read {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let mut $tx = $self.read().await?;
        let out = $body.await?;
        $tx.rollback().await?;
        Ok(out)
    }};
}

impl Engine {
    pub async fn list_locations(&self) -> Result<Vec<Location>, Error> {
        read!(self, |tx| catalog::list_locations(&mut tx))
    }

    pub async fn list_channels(&self) -> Result<Vec<Channel>, Error> {
        read!(self, |tx| catalog::list_channels(&mut tx))
    }

    pub async fn get_sku(&self, sku: &Sku) -> Result<Option<SkuDef>, Error> {
        read!(self, |tx| catalog::get_sku(&mut tx, sku))
    }

    pub async fn list_skus(&self) -> Result<Vec<SkuDef>, Error> {
        read!(self, |tx| catalog::list_skus(&mut tx))
    }

    /// Every SKU code, in order (no titles or components: the Channels
    /// page's mapping suggestions compare codes only).
    pub async fn sku_codes(&self) -> Result<Vec<String>, Error> {
        read!(self, |tx| catalog::sku_codes(&mut tx))
    }

    /// Positions of one SKU at every location that has a row for it.
    pub async fn sku_positions(&self, sku: &Sku) -> Result<Vec<(LocationCode, Position)>, Error> {
        read!(self, |tx| views::sku_positions(&mut tx, sku))
    }

    /// What a SKU can promise, per location and in total (a bundle: the kits
    /// its components make, see `switchyard_core::availability`); `None`
    /// when there is no such SKU.
    pub async fn availability(&self, sku: &Sku) -> Result<Option<Availability>, Error> {
        let mut tx = self.read().await?;
        let out = availability_in(&mut tx, sku).await?;
        tx.rollback().await?;
        Ok(out)
    }

    /// A page of the inventory: stocked SKUs matching the search, after the
    /// cursor, each with its positions (keyset pagination; see
    /// `switchyard_store::views::stock_page`).
    pub async fn stock_page(&self, search: &StockSearch) -> Result<StockPage, Error> {
        read!(self, |tx| views::stock_page(&mut tx, search))
    }

    pub async fn all_positions(&self) -> Result<Vec<StockRow>, Error> {
        read!(self, |tx| views::all_positions(&mut tx))
    }

    pub async fn get_order(&self, id: &str) -> Result<Option<OrderView>, Error> {
        read!(self, |tx| views::get_order(&mut tx, id))
    }

    pub(crate) async fn must_get(&self, id: &str) -> Result<OrderView, Error> {
        self.get_order(id).await?.ok_or_else(|| Error::NotFound { what: "order", key: id.to_owned() })
    }

    pub async fn list_orders(&self, f: &OrderFilter) -> Result<OrderPage, Error> {
        read!(self, |tx| views::list_orders(&mut tx, f))
    }

    /// The exception queue, oldest first.
    pub async fn list_exceptions(&self, f: &ExceptionFilter) -> Result<Vec<ExceptionView>, Error> {
        read!(self, |tx| views::list_exceptions(&mut tx, f))
    }

    /// One exception with its action log.
    pub async fn get_exception(&self, id: &str) -> Result<Option<ExceptionView>, Error> {
        read!(self, |tx| views::get_exception(&mut tx, id))
    }

    pub async fn open_exception_count(&self) -> Result<i64, Error> {
        read!(self, |tx| views::open_exception_count(&mut tx))
    }

    pub async fn get_policy(&self, version: i64) -> Result<Option<PolicyRecord>, Error> {
        read!(self, |tx| views::get_policy(&mut tx, version))
    }

    pub(crate) async fn must_get_policy(&self, version: i64) -> Result<PolicyRecord, Error> {
        self.get_policy(version).await?.ok_or_else(|| Error::NotFound { what: "policy", key: version.to_string() })
    }

    /// Saved versions, newest first.
    pub async fn list_policies(&self, limit: i64) -> Result<Vec<PolicyRecord>, Error> {
        read!(self, |tx| views::list_policies(&mut tx, limit))
    }

    /// The active version, if any (none: the built-in default applies).
    pub async fn active_policy(&self) -> Result<Option<PolicyRecord>, Error> {
        read!(self, |tx| views::active_policy(&mut tx))
    }

    pub async fn shadow_policy(&self) -> Result<Option<PolicyRecord>, Error> {
        read!(self, |tx| views::shadow_policy(&mut tx))
    }

    /// The latest orders that got a shadow decision, each beside the active
    /// decision (newest first).
    pub async fn shadow_pairs(&self, limit: i64) -> Result<Vec<ShadowPair>, Error> {
        read!(self, |tx| views::shadow_pairs(&mut tx, limit))
    }

    /// The routing decisions recorded for an order, oldest first.
    pub async fn order_decisions(&self, order_id: &str) -> Result<Vec<DecisionView>, Error> {
        read!(self, |tx| views::order_decisions(&mut tx, order_id))
    }

    /// Number of orders in each status.
    pub async fn status_counts(&self) -> Result<Vec<(String, i64)>, Error> {
        read!(self, |tx| views::status_counts(&mut tx))
    }

    /// Recomputes every position from the ledger and every reservation from
    /// the open orders, and checks every order's exceptions against its
    /// state (the core's invariant), inside one snapshot.
    pub async fn audit(&self) -> Result<AuditReport, Error> {
        let mut tx = self.db.snapshot().await?;
        let mut report = audit::audit(&mut tx).await?;
        for o in audit::order_exceptions(&mut tx).await? {
            let state = ExceptionState {
                status: o.status,
                payment: o.payment,
                unfilled: o.unfilled,
                open: &o.open,
                dismissed: &o.dismissed,
            };
            for problem in exception_mismatches(&state) {
                report.drift.push(format!("order {}: {problem}", o.order_id));
            }
        }
        tx.rollback().await?;
        Ok(report)
    }
}

/// A SKU's availability inside `tx` (a bundle: the kits its components
/// make); `None` when there is no such SKU.
pub(crate) async fn availability_in(tx: &mut Tx, sku: &Sku) -> Result<Option<Availability>, Error> {
    Ok(match catalog::get_sku(tx, sku).await? {
        None => None,
        Some(def) if def.components.is_empty() => {
            Some(Availability::of_positions(views::sku_positions(tx, sku).await?))
        }
        Some(def) => {
            let mut positions = BTreeMap::new();
            for c in &def.components {
                for (location, p) in views::sku_positions(tx, &c.sku).await? {
                    positions.insert((c.sku.clone(), location), p);
                }
            }
            let components = def.components.iter().map(|c| (c.sku.clone(), c.quantity.as_i64())).collect();
            Some(Availability::of_bundle(components, &positions))
        }
    })
}
