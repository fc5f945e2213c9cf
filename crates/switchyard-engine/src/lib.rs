//! Switchyard's use cases: everything that changes the shop's state, each
//! as one transaction — load (store) → decide (core) → persist (store) —
//! plus the background workers (the sweeper).
//!
//! [`Engine`] is the one door in: the HTTP server, the dashboard, the CLI
//! and (later) channel adapters call it; none of them holds a rule. Time
//! and identifiers are injected ([`Clock`], [`IdGen`]), so tests advance a
//! [`ManualClock`] instead of sleeping and a run can be replayed.
//!
//! | module | use cases |
//! |---|---|
//! | `orders` | take, pay, ship, cancel, expire unpaid holds, auto-cancel |
//! | `allocate` | the allocation step they share (routing policy or override) |
//! | `reroute` | re-route, reject an allocation, cycle counts, adjustments, import |
//! | `exceptions` | open/close with orders, a person's resolution, escalation |
//! | `policies` | save, activate, roll back, shadow, preview |
//! | `catalog` | locations, SKUs and bundles, channels |
//! | `outbox` | stock-level messages, consumers' claim/ack/retry |
//! | `workers` | the sweeper |

mod allocate;
mod catalog;
pub mod clock;
mod error;
mod exceptions;
mod orders;
pub mod outbox;
mod policies;
mod policy_cache;
mod reads;
mod reroute;
mod workers;

use std::future::Future;
use std::sync::Arc;

pub use clock::{Clock, IdGen, ManualClock, SystemClock};
pub use error::{Code, Error};
pub use outbox::RetryPolicy;
pub use switchyard_store::outbox::{Backlog, Claimed};
pub use switchyard_store::StoreError;

use switchyard_core::routing::Policy;
use switchyard_core::{
    Channel, ExpiredAction, ImportRow, Location, LocationCode, NewOrder, NewShipment, Position, Resolution, Sku, SkuDef,
};
use switchyard_store::{Db, DecisionView, ExceptionView, ImportSummary, OrderView, PolicyRecord, Tx};

/// How the engine treats unpaid orders.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How long an unpaid order holds its stock.
    pub reservation_ttl_ms: i64,
    /// What happens when that time runs out.
    pub expired_action: ExpiredAction,
}

impl Default for Config {
    fn default() -> Self {
        Self { reservation_ttl_ms: 15 * 60 * 1000, expired_action: ExpiredAction::Cancel }
    }
}

/// What every use case may consult besides its transaction.
pub(crate) struct Ctx {
    pub ids: IdGen,
    pub policies: policy_cache::PolicyCache,
    pub config: Config,
}

/// The use cases over one database.
pub struct Engine {
    db: Db,
    clock: Arc<dyn Clock>,
    ctx: Ctx,
}

/// A PostgreSQL deadlock victim is retried this many times before the
/// error reaches the client.
const MAX_RETRIES: usize = 3;

impl Engine {
    /// Opens the database a `--db` value names (migrations applied).
    pub async fn open(db: &str, config: Config, clock: Arc<dyn Clock>, ids: IdGen) -> Result<Engine, Error> {
        Ok(Self::new(Db::open(db).await?, config, clock, ids))
    }

    pub fn new(db: Db, config: Config, clock: Arc<dyn Clock>, ids: IdGen) -> Engine {
        Engine { db, clock, ctx: Ctx { ids, policies: Default::default(), config } }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// The injected time.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn config(&self) -> Config {
        self.ctx.config
    }

    /// Succeeds when the database answers.
    pub async fn ping(&self) -> Result<(), Error> {
        Ok(self.db.ping().await?)
    }

    /// Runs `attempt` (which opens, fills and commits its own transaction),
    /// again when the database chose it as a deadlock victim.
    async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut tries = 0;
        loop {
            match attempt().await {
                Err(Error::Store(StoreError::Retryable(e))) if tries < MAX_RETRIES => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "transaction conflict; retrying");
                }
                other => return other,
            }
        }
    }

    async fn write(&self) -> Result<Tx, Error> {
        Ok(self.db.write().await?)
    }

    async fn read(&self) -> Result<Tx, Error> {
        Ok(self.db.read().await?)
    }

    // ------------------------------------------------------------ catalog

    pub async fn put_location(&self, l: &Location) -> Result<(), Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            catalog::put_location(&mut tx, l, now).await?;
            Ok(tx.commit().await?)
        })
        .await
    }

    pub async fn put_channel(&self, c: &Channel) -> Result<(), Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            catalog::put_channel(&mut tx, c, now).await?;
            Ok(tx.commit().await?)
        })
        .await
    }

    /// Creates or replaces a SKU (see the bundle rules in `catalog`).
    pub async fn put_sku(&self, def: &SkuDef) -> Result<(), Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            catalog::put_sku(&mut tx, def, now).await?;
            Ok(tx.commit().await?)
        })
        .await
    }

    // -------------------------------------------------------------- stock

    /// A cycle count: sets on_hand (and optionally safety stock). Below
    /// what is reserved, units are taken back from the newest orders, which
    /// are routed again.
    pub async fn set_stock(
        &self,
        sku: &Sku,
        location: &LocationCode,
        on_hand: i64,
        safety_stock: Option<i64>,
        reason: &str,
    ) -> Result<Position, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            let p = reroute::count(&mut tx, &self.ctx, sku, location, on_hand, safety_stock, reason, now).await?;
            tx.commit().await?;
            Ok(p)
        })
        .await
    }

    /// A signed correction of on_hand.
    pub async fn adjust_stock(
        &self,
        sku: &Sku,
        location: &LocationCode,
        delta: i64,
        reason: &str,
    ) -> Result<Position, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            let p = reroute::adjust(&mut tx, sku, location, delta, reason, now).await?;
            tx.commit().await?;
            Ok(p)
        })
        .await
    }

    /// SKUs and counts from a file, all in one transaction.
    pub async fn import_stock(&self, rows: &[ImportRow]) -> Result<ImportSummary, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            let s = reroute::import(&mut tx, rows, now).await?;
            tx.commit().await?;
            Ok(s)
        })
        .await
    }

    // ------------------------------------------------------------- orders

    /// Takes an order: allocates and reserves in one transaction. Returns
    /// the order and whether it was created (false: the same channel and
    /// external id were seen before, and that order is returned unchanged).
    pub async fn create_order(&self, o: &NewOrder) -> Result<(OrderView, bool), Error> {
        let now = self.now_ms();
        let taken = self
            .retrying(|| async {
                let mut tx = self.write().await?;
                let t = orders::take(&mut tx, &self.ctx, o, now).await?;
                if t.created {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok(t)
            })
            .await?;
        Ok((self.must_get(&taken.id).await?, taken.created))
    }

    pub async fn cancel_order(&self, id: &str, reason: &str) -> Result<OrderView, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            orders::cancel(&mut tx, &self.ctx, id, reason, now).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        self.must_get(id).await
    }

    pub async fn mark_paid(&self, id: &str) -> Result<OrderView, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            orders::pay(&mut tx, &self.ctx, id, now).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        self.must_get(id).await
    }

    pub async fn ship(&self, id: &str, s: &NewShipment) -> Result<OrderView, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            orders::ship(&mut tx, &self.ctx, id, s, now).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        self.must_get(id).await
    }

    /// Re-routes an order's unshipped units; with `reject`, a store could
    /// not find that line's item at that location (see `reroute`).
    pub async fn reroute(
        &self,
        id: &str,
        reject: Option<(i64, &LocationCode)>,
        actor: &str,
        reason: &str,
    ) -> Result<OrderView, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            reroute::reroute(&mut tx, &self.ctx, id, reject, actor, reason, now).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        self.must_get(id).await
    }

    // --------------------------------------------------------- exceptions

    /// Carries out a person's action on an open exception and logs it.
    pub async fn resolve_exception(&self, id: &str, r: &Resolution) -> Result<ExceptionView, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            exceptions::resolve(&mut tx, &self.ctx, id, r, now).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        self.get_exception(id).await?.ok_or_else(|| Error::NotFound { what: "exception", key: id.to_owned() })
    }

    // ----------------------------------------------------------- policies

    /// Saves a policy text (validated) as a new, inactive version.
    pub async fn save_policy(&self, body: &str, note: &str, by: &str) -> Result<PolicyRecord, Error> {
        let now = self.now_ms();
        let version = self
            .retrying(|| async {
                let mut tx = self.write().await?;
                let v = policies::save(&mut tx, body, note, by, now).await?;
                tx.commit().await?;
                Ok(v)
            })
            .await?;
        self.must_get_policy(version).await
    }

    /// Makes a saved version the active policy (validated again first).
    pub async fn activate_policy(&self, version: i64, by: &str) -> Result<PolicyRecord, Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            policies::activate(&mut tx, version, by, now).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        self.must_get_policy(version).await
    }

    /// Goes back to the version active before the current one (`None`: the
    /// built-in default).
    pub async fn rollback_policy(&self, by: &str) -> Result<Option<PolicyRecord>, Error> {
        let now = self.now_ms();
        let previous = self
            .retrying(|| async {
                let mut tx = self.write().await?;
                let v = policies::rollback(&mut tx, by, now).await?;
                tx.commit().await?;
                Ok(v)
            })
            .await?;
        match previous {
            Some(v) => Ok(Some(self.must_get_policy(v).await?)),
            None => Ok(None),
        }
    }

    /// Runs a version in shadow beside the active one, or stops shadowing.
    pub async fn set_shadow_policy(&self, version: Option<i64>, by: &str) -> Result<(), Error> {
        let now = self.now_ms();
        self.retrying(|| async {
            let mut tx = self.write().await?;
            policies::shadow(&mut tx, version, by, now).await?;
            Ok(tx.commit().await?)
        })
        .await
    }

    /// Routes an order without reserving or writing anything.
    pub async fn preview_route(&self, o: &NewOrder, draft: Option<&Policy>) -> Result<DecisionView, Error> {
        let mut tx = self.read().await?;
        let d = policies::preview(&mut tx, &self.ctx, o, draft, self.now_ms()).await?;
        tx.rollback().await?;
        Ok(d)
    }
}
