//! Background work: the sweeper (expired unpaid holds, auto-cancel of
//! orders held too long, exception escalation, uncollected pickups,
//! unconfirmed dropship purchase orders, outbox retention, expired
//! sessions and status links) and the
//! outbox consumers' claim / acknowledge / fail cycle. Every step takes the
//! time from the injected clock, so tests advance a `ManualClock` and call
//! [`Engine::sweep`] instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_store::outbox;

use crate::outbox::RetryPolicy;
use crate::{exceptions, orders, Backlog, Claimed, Engine, Error};

/// How many orders one sweep handles of each kind.
const SWEEP_LIMIT: i64 = 500;
/// Delivered outbox rows are kept this long (for debugging), then deleted.
const OUTBOX_RETENTION_MS: i64 = 7 * 24 * 3_600_000;

/// Sweeps this process ran, and how many failed (process-local counters:
/// a Prometheus counter starts again at 0 with the process).
#[derive(Debug, Default)]
pub(crate) struct SweepCounts {
    pub runs: AtomicU64,
    pub failures: AtomicU64,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    pub expired: Vec<String>,
    pub auto_cancelled: Vec<String>,
    pub escalated: Vec<(String, i64)>,
    /// Pickup orders found uncollected (a `pickup_uncollected` exception each).
    pub uncollected: Vec<String>,
    /// Purchase orders past their due time unconfirmed: a
    /// `dropship_unconfirmed` exception each.
    pub dropship_unconfirmed: Vec<String>,
    pub outbox_purged: u64,
    pub sessions_purged: u64,
    /// Status-page links older than a year, deleted.
    pub status_links_purged: u64,
    /// Closed days whose metrics were rolled up (see `roll_up_metrics`).
    pub metrics_days_rolled_up: i64,
}

impl Engine {
    /// Releases the stock of unpaid orders whose hold lapsed (each its own
    /// transaction); returns their ids.
    pub async fn expire_reservations(&self, limit: i64) -> Result<Vec<String>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let due =
            switchyard_store::orders::expired_holds(&mut tx, switchyard_core::OrderStatus::PendingPayment, now, limit)
                .await?;
        tx.rollback().await?;
        let action = self.ctx.config.expired_action;
        let mut done = Vec::new();
        for id in due {
            let i = id.clone();
            let changed = self
                .run(move |tx, ctx| Box::pin(async move { orders::expire(tx, ctx, &i, action, now).await }))
                .await?;
            if changed {
                done.push(id);
            }
        }
        Ok(done)
    }

    /// Cancels orders still held when the routing policy's auto-cancel time
    /// came (with a notification); returns their ids.
    pub async fn auto_cancel_held(&self, limit: i64) -> Result<Vec<String>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let due = switchyard_store::orders::auto_cancel_due(&mut tx, now, limit).await?;
        tx.rollback().await?;
        let mut done = Vec::new();
        for id in due {
            let i = id.clone();
            let changed =
                self.run(move |tx, ctx| Box::pin(async move { orders::auto_cancel(tx, ctx, &i, now).await })).await?;
            if changed {
                done.push(id);
            }
        }
        Ok(done)
    }

    /// Raises open exceptions past their SLA one level each, with a
    /// notification; returns (exception id, new level).
    pub async fn escalate_exceptions(&self) -> Result<Vec<(String, i64)>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let open = switchyard_store::exceptions::open(&mut tx, 1000).await?;
        tx.rollback().await?;
        let mut raised = Vec::new();
        for e in open {
            let Some(level) = exceptions::due_level(&e, now) else { continue };
            let ex = Arc::new(e.clone());
            let changed = self
                .run(move |tx, _| Box::pin(async move { exceptions::escalate_one(tx, &ex, level, now).await }))
                .await?;
            if changed {
                raised.push((e.id.clone(), level));
            }
        }
        Ok(raised)
    }

    /// One pass of every background job, at the injected time (counted for
    /// `/metrics`, failed or not).
    pub async fn sweep(&self) -> Result<Sweep, Error> {
        let result = self.sweep_once().await;
        self.sweeps.runs.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.sweeps.failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    async fn sweep_once(&self) -> Result<Sweep, Error> {
        Ok(Sweep {
            expired: self.expire_reservations(SWEEP_LIMIT).await?,
            auto_cancelled: self.auto_cancel_held(SWEEP_LIMIT).await?,
            escalated: self.escalate_exceptions().await?,
            uncollected: self.flag_uncollected_pickups().await?,
            dropship_unconfirmed: self.flag_unconfirmed_purchase_orders().await?,
            outbox_purged: self.purge_outbox(self.now_ms().saturating_sub(OUTBOX_RETENTION_MS)).await?,
            sessions_purged: self.purge_sessions().await?,
            status_links_purged: self.purge_status_links().await?,
            metrics_days_rolled_up: self.roll_up_metrics(crate::metrics_rollups::DAYS_PER_SWEEP).await?,
        })
    }

    /// Runs [`Engine::sweep`] every `interval` (the first one interval after
    /// the start) until the runtime stops.
    pub fn spawn_sweeper(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate; the first sweep comes one interval
            // after start, not in the middle of whatever starts with it.
            tick.tick().await;
            loop {
                tick.tick().await;
                match self.sweep().await {
                    Ok(s) => {
                        if !(s.expired.is_empty()
                            && s.auto_cancelled.is_empty()
                            && s.escalated.is_empty()
                            && s.uncollected.is_empty())
                        {
                            tracing::info!(
                                expired = s.expired.len(),
                                auto_cancelled = s.auto_cancelled.len(),
                                escalated = s.escalated.len(),
                                uncollected = s.uncollected.len(),
                                "sweep"
                            );
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "sweep failed"),
                }
            }
        })
    }

    // ------------------------------------------------------------- outbox

    /// Claims up to `limit` due messages of `topic` ("atp_changed",
    /// "notification") for `consumer`, leased for `lease_ms`. Older unsent
    /// stock levels that a newer one replaces are dropped first.
    pub async fn claim_outbox(
        &self,
        topic: &str,
        consumer: &str,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<Claimed>, Error> {
        let now = self.now_ms();
        let (topic, consumer, limit) = (topic.to_owned(), consumer.to_owned(), limit.clamp(1, 1000));
        self.run(move |tx, _| {
            Box::pin(async move {
                outbox::supersede(tx, &topic, now).await?;
                Ok(outbox::claim(tx, &topic, &consumer, limit, now, lease_ms).await?)
            })
        })
        .await
    }

    /// Acknowledges a delivered message; false when the lease was lost.
    pub async fn ack_outbox(&self, id: i64, consumer: &str) -> Result<bool, Error> {
        let now = self.now_ms();
        let consumer = consumer.to_owned();
        self.run(move |tx, _| Box::pin(async move { Ok(outbox::ack(tx, id, &consumer, now).await?) })).await
    }

    /// Records a failed delivery of a claimed message: retried later per
    /// `policy`, or dead-lettered once it has been tried too often. Returns
    /// when it will be tried again (`None`: dead).
    pub async fn fail_outbox(
        &self,
        claimed: &Claimed,
        consumer: &str,
        error: &str,
        policy: &RetryPolicy,
    ) -> Result<Option<i64>, Error> {
        let now = self.now_ms();
        let retry_at = policy.next_attempt(claimed.attempts, now);
        self.fail_outbox_at(claimed.id, consumer, error, retry_at).await?;
        Ok(retry_at)
    }

    /// Records a failed delivery to be tried again at `retry_at` (`None`:
    /// dead-lettered).
    pub(crate) async fn fail_outbox_at(
        &self,
        id: i64,
        consumer: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), Error> {
        let now = self.now_ms();
        let (consumer, error) = (consumer.to_owned(), error.chars().take(500).collect::<String>());
        self.run(move |tx, _| {
            Box::pin(async move { Ok(outbox::fail(tx, id, &consumer, &error, retry_at, now).await.map(|_| ())?) })
        })
        .await
    }

    /// Deletes delivered messages older than `before_ms`.
    /// Deletes status links past [`crate::notify::STATUS_LINK_TTL_MS`].
    async fn purge_status_links(&self) -> Result<u64, Error> {
        let before = self.now_ms().saturating_sub(crate::notify::STATUS_LINK_TTL_MS);
        self.run(move |tx, _| {
            Box::pin(async move { Ok(switchyard_store::notifications::purge_links(tx, before, SWEEP_LIMIT).await?) })
        })
        .await
    }

    pub async fn purge_outbox(&self, before_ms: i64) -> Result<u64, Error> {
        self.run(move |tx, _| Box::pin(async move { Ok(outbox::purge_delivered(tx, before_ms, 10_000).await?) })).await
    }

    /// Messages pending, delivered and dead.
    pub async fn outbox_backlog(&self) -> Result<Backlog, Error> {
        let mut tx = self.read().await?;
        let b = outbox::backlog(&mut tx).await?;
        tx.rollback().await?;
        Ok(b)
    }
}
