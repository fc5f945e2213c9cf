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
//! | `pickup` | ready for pickup, picked up (`completed`), a counter sale completed |
//! | `fulfilment` | a location's pick list; picked, packed; delivered; short pick; uncollected pickups |
//! | `allocate` | the allocation step they share (routing policy or override) |
//! | `reroute` | re-route, reject an allocation, cycle counts, adjustments, import |
//! | `exceptions` | open/close with orders, a person's resolution, escalation |
//! | `policies` | save, activate, roll back, shadow, preview |
//! | `returns` | return policy versions; request, review, receive, refund a return |
//! | `return_labels` | issue a return's label (`return_carrier`), in transit, close; label and slip PDFs, ZPL |
//! | `catalog` | locations, SKUs and bundles, channels |
//! | `channel_intake` | a channel's orders in: create, cancel, pay; connections |
//! | `outbox` | stock-level messages, consumers' claim/ack/retry |
//! | `sessions` | dashboard sign-in sessions |
//! | `complaints` | a customer's complaint recorded against an order |
//! | `metrics` | metrics from the records, per period and day; scrape gauges |
//! | `notify`, `notify_render`, `notify_worker` | customer notifications: e-mail, webhooks, templates, status page |
//! | `dropship` | dropship purchase orders: issue, cancel on release, confirm, ship, vendor links, late ones |
//! | `doctor` | catalogue health: findings with their fixes |
//! | `overview` | the dashboard overview: trends, per day, per channel, exception ages |
//! | `replay` | the shop's own recent orders replayed under policies (simulation) |
//! | `workers` | the sweeper |

mod allocate;
mod catalog;
mod channel_check;
mod channel_exceptions;
mod channel_intake;
mod channel_origin;
mod channel_poll;
mod channel_push;
mod channel_sync;
pub mod clock;
mod complaints;
mod doctor;
mod dropship;
mod error;
mod exceptions;
mod exchanges;
mod fulfilment;
pub mod geocode;
mod metrics;
mod metrics_rollups;
mod notify;
mod notify_render;
mod notify_worker;
mod orders;
pub mod outbox;
mod overview;
mod pdf;
mod pickup;
mod policies;
mod policy_cache;
pub(crate) mod reads;
mod replay;
mod reroute;
pub mod return_carrier;
mod return_labels;
mod return_self_service;
mod return_stats;
mod returns;
mod sessions;
mod staff;
mod workers;
mod writer;

use std::sync::Arc;

use futures::future::BoxFuture;

pub use channel_check::ConnectionCheck;
pub use channel_intake::{CredentialChange, Outcome as ChannelOutcome, Received};
pub use channel_poll::{PollRound, DEFAULT_POLL_INTERVAL_SECS};
pub use channel_push::{ChannelSync, Round as SyncRound, SyncOptions};
pub use channel_sync::{FanOut, SyncStatus};
pub use clock::{Clock, IdGen, ManualClock, SystemClock};
pub use doctor::{DEFAULT_DOCTOR_DAYS, MAX_DOCTOR_DAYS};
pub use dropship::{VendorNotice, LINK_TTL_MS as VENDOR_LINK_TTL_MS};
pub use error::{Code, Error};
pub use fulfilment::PICK_LIST_LIMIT;
pub use metrics::{DayMetrics, Gauges, MetricsQuery, UNRECORDED_REASON};
pub use notify::{
    Attempt as DeliveryAttempt, Destinations, PublicReturn, PublicStep, StatusPage, WebhookRoute, STATUS_LINK_TTL_MS,
};
pub use notify_render::{default_template, sample_context, Rendered, TemplateRecord, TemplateText};
pub use notify_worker::{
    signature as webhook_signature, Notifier, NotifyConfig, NotifyRound, Secret, SmtpConfig, SmtpSecurity,
    WebhookConfig,
};
pub use outbox::RetryPolicy;
pub use overview::{Overview, MAX_OVERVIEW_DAYS};
pub use replay::{RecentSimulation, MAX_SIMULATION_DAYS, MAX_SIMULATION_ORDERS};
pub use return_self_service::{CustomerAsk, CustomerLine, CustomerOrder, CustomerReturn, CUSTOMER};
pub use sessions::NewSession;
pub use staff::{token_hash, NewToken, Principal, PrincipalKind, StaffDraft, MAX_LISTED as MAX_STAFF_LISTED};
pub use switchyard_store::channel_sync::{Attempt as SyncAttempt, Level as ChannelLevel, PollState};
pub use switchyard_store::complaints::ComplaintView;
pub use switchyard_store::fulfilment::{PickLine, PickList, PickOrder};
pub use switchyard_store::notifications::{DeliveryFilter, DeliveryView, Milestone};
pub use switchyard_store::outbox::{Backlog, Claimed};
pub use switchyard_store::purchase_orders::{PurchaseOrderLineView, PurchaseOrderView, VendorView};
pub use switchyard_store::return_views::{ReturnFilter, ReturnPolicyRecord, ReturnView};
pub use switchyard_store::sessions::SessionRecord;
pub use switchyard_store::staff::{StaffView, TokenView};
pub use switchyard_store::StoreError;

use switchyard_core::routing::Policy;
use switchyard_core::{
    Channel, ExpiredAction, ImportRow, Location, LocationCode, NewOrder, NewShipment, Position, Resolution, Sku,
    SkuDef, Text, TextRule,
};
use switchyard_store::{Db, DecisionView, ExceptionView, ImportSummary, OrderView, PolicyRecord, Tx};

/// How the engine treats unpaid orders, and how it writes.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How long an unpaid order holds its stock.
    pub reservation_ttl_ms: i64,
    /// What happens when that time runs out.
    pub expired_action: ExpiredAction,
    /// Commands that may wait for the writer; more are refused at once
    /// ([`Error::Overloaded`], 503 with `Retry-After`).
    pub write_queue: usize,
    /// The most commands one SQLite commit carries.
    pub max_batch: usize,
    /// PostgreSQL: commands run at once, each on its own connection.
    pub pg_writers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            reservation_ttl_ms: 15 * 60 * 1000,
            expired_action: ExpiredAction::Cancel,
            write_queue: 4096,
            max_batch: 256,
            pg_writers: 12,
        }
    }
}

/// What every use case may consult besides its transaction.
pub(crate) struct Ctx {
    pub ids: IdGen,
    pub policies: policy_cache::PolicyCache,
    pub catalog: policy_cache::CatalogCache,
    pub config: Config,
}

/// The use cases over one database.
pub struct Engine {
    db: Db,
    clock: Arc<dyn Clock>,
    ctx: Arc<Ctx>,
    writer: writer::Writer,
    sweeps: workers::SweepCounts,
    /// Issues return labels (`return_carrier`).
    carrier: Arc<dyn return_carrier::ReturnCarrier>,
    /// The last catalogue health check, for pages that show it on every
    /// load (`Engine::doctor_recent`).
    health: doctor::HealthCache,
}

/// Who acts (`by`), as logged: the core's rule for names. Text reaching the
/// engine as `&str` (reasons, notes, who acts) is parsed here, at the one
/// door every entry point uses, before anything is queued.
fn actor(by: &str) -> Result<String, Error> {
    Ok(Text::parse("by", by, TextRule::NAME)?.into_string())
}

/// A PostgreSQL deadlock victim is retried this many times before the
/// error reaches the client.
const MAX_RETRIES: usize = 3;

impl Engine {
    /// Opens the database a `--db` value names (migrations applied) and
    /// starts its writer. Call it inside a Tokio runtime.
    pub async fn open(db: &str, config: Config, clock: Arc<dyn Clock>, ids: IdGen) -> Result<Engine, Error> {
        let db = Db::open(db).await?;
        let ctx = Arc::new(Ctx { ids, policies: Default::default(), catalog: Default::default(), config });
        let writer = writer::Writer::start(&db, ctx.clone())?;
        let carrier = Arc::new(return_carrier::SelfPrinted);
        Ok(Engine { db, clock, ctx, writer, sweeps: Default::default(), carrier, health: Default::default() })
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

    /// Runs a use case through the writer (group commit) and returns its
    /// result once committed; a PostgreSQL deadlock victim is run again.
    async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Tx, &'a Ctx) -> BoxFuture<'a, Result<T, Error>> + Clone + Send + 'static,
    {
        let mut tries = 0;
        loop {
            match self.writer.submit(f.clone()).await {
                Err(Error::Store(StoreError::Retryable(e))) if tries < MAX_RETRIES => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "transaction conflict; retrying");
                }
                other => return other,
            }
        }
    }

    async fn read(&self) -> Result<Tx, Error> {
        Ok(self.db.read().await?)
    }

    // ------------------------------------------------------------ catalog

    /// Creates or replaces a location; returns it as stored. One saved
    /// without coordinates gets its postal code's where they are known
    /// offline (US ZIP codes, [`geocode`]), so distance-based routing works.
    pub async fn put_location(&self, l: &Location) -> Result<Location, Error> {
        // What the catalogue health check reads changes.
        self.health.forget();
        let (now, mut l) = (self.now_ms(), l.clone());
        if l.lat.is_none() && l.lon.is_none() {
            if let Some((lat, lon)) = geocode::coordinates(&l.address.country, &l.address.postal_code) {
                (l.lat, l.lon) = (Some(lat), Some(lon));
            }
        }
        let stored = l.clone();
        self.run(move |tx, _| Box::pin(async move { catalog::put_location(tx, &l, now).await })).await?;
        Ok(stored)
    }

    pub async fn put_channel(&self, c: &Channel) -> Result<(), Error> {
        let (now, c) = (self.now_ms(), c.clone());
        self.run(move |tx, _| Box::pin(async move { catalog::put_channel(tx, &c, now).await })).await
    }

    /// Creates or replaces a SKU (see the bundle rules in `catalog`).
    pub async fn put_sku(&self, def: &SkuDef) -> Result<(), Error> {
        // What the catalogue health check reads changes.
        self.health.forget();
        let (now, def) = (self.now_ms(), def.clone());
        self.run(move |tx, _| Box::pin(async move { catalog::put_sku(tx, &def, now).await })).await
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
        let reason = Text::parse("reason", reason, TextRule::REASON)?.into_string();
        let (now, sku, location) = (self.now_ms(), sku.clone(), location.clone());
        self.run(move |tx, ctx| {
            Box::pin(async move { reroute::count(tx, ctx, &sku, &location, on_hand, safety_stock, &reason, now).await })
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
        let reason = Text::parse("reason", reason, TextRule::REASON.required())?.into_string();
        let (now, sku, location) = (self.now_ms(), sku.clone(), location.clone());
        self.run(move |tx, ctx| {
            Box::pin(async move { reroute::adjust(tx, ctx, &sku, &location, delta, &reason, now).await })
        })
        .await
    }

    /// SKUs and counts from a file, all in one transaction. Takes the rows
    /// (a million rows are a few hundred MB: they are not copied).
    pub async fn import_stock(&self, rows: Vec<ImportRow>) -> Result<ImportSummary, Error> {
        // What the catalogue health check reads changes.
        self.health.forget();
        let (now, rows) = (self.now_ms(), Arc::new(rows));
        self.run(move |tx, ctx| Box::pin(async move { reroute::import(tx, ctx, &rows, now).await })).await
    }

    // ------------------------------------------------------------- orders

    /// Takes an order: allocates and reserves in one transaction. Returns
    /// the order (without its routing decisions: `get_order` has them; the
    /// timeline explains each) and whether it was created (false: the same
    /// channel and external id were seen before, and that order is returned
    /// unchanged). A repeat whose lines, currency or payment differ from the
    /// first delivery is refused with [`Error::IdempotencyConflict`] (noted
    /// on the original order's timeline; nothing else changes).
    pub async fn create_order(&self, o: &NewOrder) -> Result<(OrderView, bool), Error> {
        self.take_order(o, false).await
    }

    /// Takes an order from a channel connection: one naming a SKU we do not
    /// know is kept, held with an `unknown_sku` exception, until the
    /// channel's SKU is mapped (which resumes it).
    pub async fn create_channel_order(&self, o: &NewOrder) -> Result<(OrderView, bool), Error> {
        self.take_order(o, true).await
    }

    async fn take_order(&self, o: &NewOrder, keep_unknown: bool) -> Result<(OrderView, bool), Error> {
        let (now, o) = (self.now_ms(), Arc::new(o.clone()));
        self.run(move |tx, ctx| {
            Box::pin(async move {
                let taken = orders::take(tx, ctx, &o, keep_unknown, now).await?;
                // A conflicting repeat commits its timeline note, then fails.
                if let Some(conflict) = taken.conflict {
                    return Ok(Err(Error::IdempotencyConflict(conflict)));
                }
                // A new order is answered from what the take wrote; a repeat, or
                // one that opened exceptions, is read back inside the write
                // transaction, where the writer's connection lives.
                let view = match taken.view {
                    Some(view) => view,
                    None => switchyard_store::views::get_order_brief(tx, &taken.id)
                        .await?
                        .ok_or_else(|| Error::NotFound { what: "order", key: taken.id.clone() })?,
                };
                Ok(Ok((view, taken.created)))
            })
        })
        .await?
    }

    pub async fn cancel_order(&self, id: &str, reason: &str) -> Result<OrderView, Error> {
        self.cancel(id, reason, false).await
    }

    /// Cancels an order its own channel cancelled (the channel is not told
    /// back).
    pub async fn cancel_order_from_channel(&self, id: &str, reason: &str) -> Result<OrderView, Error> {
        self.cancel(id, reason, true).await
    }

    async fn cancel(&self, id: &str, reason: &str, by_channel: bool) -> Result<OrderView, Error> {
        let reason = Text::parse("reason", reason, TextRule::REASON)?.into_string();
        let (now, i) = (self.now_ms(), id.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { orders::cancel(tx, ctx, &i, &reason, by_channel, now).await }))
            .await?;
        self.must_get(id).await
    }

    pub async fn mark_paid(&self, id: &str) -> Result<OrderView, Error> {
        let (now, i) = (self.now_ms(), id.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { orders::pay(tx, ctx, &i, now).await })).await?;
        self.must_get(id).await
    }

    pub async fn ship(&self, id: &str, s: &NewShipment) -> Result<OrderView, Error> {
        let (now, i, s) = (self.now_ms(), id.to_owned(), Arc::new(s.clone()));
        self.run(move |tx, ctx| Box::pin(async move { orders::ship(tx, ctx, &i, &s, now).await })).await?;
        self.must_get(id).await
    }

    /// Staff set the whole order aside at `location`: `ready_for_pickup`.
    pub async fn ready_for_pickup(&self, id: &str, location: &LocationCode) -> Result<OrderView, Error> {
        let (now, i, loc) = (self.now_ms(), id.to_owned(), location.clone());
        self.run(move |tx, _| Box::pin(async move { pickup::ready(tx, &i, &loc, now).await })).await?;
        self.must_get(id).await
    }

    /// The customer collected a `ready_for_pickup` order: `completed`.
    pub async fn picked_up(&self, id: &str) -> Result<OrderView, Error> {
        let (now, i) = (self.now_ms(), id.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { pickup::picked_up(tx, ctx, &i, now).await })).await?;
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
        let actor = Text::parse("by", actor, TextRule::NAME)?.into_string();
        let reason = Text::parse("reason", reason, TextRule::REASON)?.into_string();
        let (now, i) = (self.now_ms(), id.to_owned());
        let reject = reject.map(|(line, loc)| (line, loc.clone()));
        self.run(move |tx, ctx| {
            Box::pin(async move {
                let reject = reject.as_ref().map(|(line, loc)| (*line, loc));
                reroute::reroute(tx, ctx, &i, reject, &actor, &reason, now).await
            })
        })
        .await?;
        self.must_get(id).await
    }

    // --------------------------------------------------------- exceptions

    /// Carries out a person's action on an open exception and logs it.
    pub async fn resolve_exception(&self, id: &str, r: &Resolution) -> Result<ExceptionView, Error> {
        let (now, i, r) = (self.now_ms(), id.to_owned(), Arc::new(r.clone()));
        self.run(move |tx, ctx| Box::pin(async move { exceptions::resolve(tx, ctx, &i, &r, now).await })).await?;
        self.get_exception(id).await?.ok_or_else(|| Error::NotFound { what: "exception", key: id.to_owned() })
    }

    // ----------------------------------------------------------- policies

    /// Saves a policy text (validated) as a new, inactive version.
    pub async fn save_policy(&self, body: &str, note: &str, by: &str) -> Result<PolicyRecord, Error> {
        let note = Text::parse("note", note, TextRule::NOTE)?.into_string();
        let by = actor(by)?;
        let (now, body) = (self.now_ms(), body.to_owned());
        let version =
            self.run(move |tx, _| Box::pin(async move { policies::save(tx, &body, &note, &by, now).await })).await?;
        self.must_get_policy(version).await
    }

    /// Makes a saved version the active policy (validated again first).
    pub async fn activate_policy(&self, version: i64, by: &str) -> Result<PolicyRecord, Error> {
        // What the catalogue health check reads changes.
        self.health.forget();
        let (now, by) = (self.now_ms(), actor(by)?);
        self.run(move |tx, _| Box::pin(async move { policies::activate(tx, version, &by, now).await })).await?;
        self.must_get_policy(version).await
    }

    /// Goes back to the version active before the current one (`None`: the
    /// built-in default).
    pub async fn rollback_policy(&self, by: &str) -> Result<Option<PolicyRecord>, Error> {
        // What the catalogue health check reads changes.
        self.health.forget();
        let (now, by) = (self.now_ms(), actor(by)?);
        let previous = self.run(move |tx, _| Box::pin(async move { policies::rollback(tx, &by, now).await })).await?;
        match previous {
            Some(v) => Ok(Some(self.must_get_policy(v).await?)),
            None => Ok(None),
        }
    }

    /// Runs a version in shadow beside the active one, or stops shadowing.
    pub async fn set_shadow_policy(&self, version: Option<i64>, by: &str) -> Result<(), Error> {
        // What the catalogue health check reads changes.
        self.health.forget();
        let (now, by) = (self.now_ms(), actor(by)?);
        self.run(move |tx, _| Box::pin(async move { policies::shadow(tx, version, &by, now).await })).await
    }

    /// Routes an order without reserving or writing anything.
    pub async fn preview_route(&self, o: &NewOrder, draft: Option<&Policy>) -> Result<DecisionView, Error> {
        let mut tx = self.read().await?;
        let d = policies::preview(&mut tx, &self.ctx, o, draft, self.now_ms()).await?;
        tx.rollback().await?;
        Ok(d)
    }
}
