//! An order's news back to the channel it came from: a shipment (carrier,
//! tracking, the lines shipped) and a cancellation made here. The engine
//! queues `shipped` / `cancel_at_origin` messages (topic `origin`) in the
//! same transaction as the change; the sync worker claims them and sends
//! each in the platform's shape (`Remote::fulfilment_request`,
//! `cancel_request`), within the connection's rate limit. A live connection
//! with an API is told; others (POS, wholesale, `api`, `import_only`, or a
//! connection with the setting `tell_origin: off`) are not, and the message
//! is acknowledged. A 429 waits for `Retry-After`, a
//! transient failure backs off; a refusal, or too many failures, dead-letters
//! the message and opens a `sync_failed` exception on the order, so a human
//! can mark it shipped on the platform by hand.

use std::collections::BTreeMap;

use switchyard_channels::remote::{remote, Conn, FulfilledLine, Fulfilment, Outcome, Step};
use switchyard_core::outbox::Message;
use switchyard_core::{ChannelName, ExceptionKind, SyncMode};
use switchyard_store::outbox::Claimed;
use switchyard_store::{catalog, channel_sync, orders, sku_map, views};

use crate::channel_push::{connection_settings, ChannelSync, Round};
use crate::Error;

/// The consumer name `origin` messages are claimed under.
const CONSUMER: &str = "channel-origin";
/// How long a claim is held while its requests are out.
const LEASE_MS: i64 = 120_000;

/// What one message asks for, once read.
enum News {
    Shipped(Fulfilment),
    Cancelled { external_id: String, reason: String },
}

impl ChannelSync {
    /// Sends the due `origin` messages (see the module doc).
    pub(crate) async fn tell_origins(&mut self, round: &mut Round) -> Result<(), Error> {
        let claimed = self.engine().claim_outbox("origin", CONSUMER, 50, LEASE_MS).await?;
        for c in claimed {
            self.tell_origin(c, round).await?;
        }
        Ok(())
    }

    async fn tell_origin(&mut self, claimed: Claimed, round: &mut Round) -> Result<(), Error> {
        let engine = self.engine().clone();
        let order_id = match &claimed.message {
            Message::Shipped { order_id, .. } | Message::CancelAtOrigin { order_id, .. } => order_id.clone(),
            _ => {
                engine.ack_outbox(claimed.id, CONSUMER).await?;
                return Ok(());
            }
        };
        let mut tx = engine.read().await?;
        let order = views::get_order_brief(&mut tx, &order_id).await?;
        let channel = match &order {
            Some(o) => match ChannelName::parse(&o.channel) {
                Ok(name) => catalog::get_channel(&mut tx, &name).await?,
                Err(_) => None,
            },
            None => None,
        };
        let (Some(order), Some(channel)) = (order, channel) else {
            tx.rollback().await?;
            engine.ack_outbox(claimed.id, CONSUMER).await?;
            return Ok(());
        };
        // `tell_origin: off`: the shop updates orders on the platform itself.
        let told = channel.settings.get("tell_origin").is_none_or(|v| v.trim() != "off");
        let api = remote(channel.kind).filter(|_| told && channel.active && channel.mode == SyncMode::Live);
        let Some(api) = api else {
            // Nothing to tell: a channel without an API, or not live yet.
            tx.rollback().await?;
            engine.ack_outbox(claimed.id, CONSUMER).await?;
            return Ok(());
        };
        let mut credentials = catalog::credentials(&mut tx, &channel.name).await?;
        let stored = channel_sync::token(&mut tx, &channel.name).await?;
        // Our SKU → the channel's SKU it was sold as (the first mapping).
        let mut theirs: BTreeMap<String, String> = BTreeMap::new();
        for e in sku_map::entries(&mut tx, &channel.name).await? {
            theirs.entry(e.sku.to_string()).or_insert(e.channel_sku);
        }
        let news = match &claimed.message {
            Message::Shipped { shipment_id, .. } => orders::shipment(&mut tx, shipment_id.as_str()).await?.map(|s| {
                News::Shipped(Fulfilment {
                    external_id: order.external_id.clone(),
                    lines: s
                        .lines
                        .iter()
                        .map(|(sku, q)| FulfilledLine {
                            channel_sku: theirs.get(sku).cloned().unwrap_or_else(|| sku.clone()),
                            quantity: *q,
                        })
                        .collect(),
                    carrier: s.carrier.clone().unwrap_or_else(|| "Other".into()),
                    // No tracking number recorded (NULL, not unreadable): none is sent.
                    tracking: s.tracking.clone().unwrap_or_else(String::new),
                    tracking_url: s.tracking_url.clone(),
                    shipped_at_ms: s.created_at,
                })
            }),
            Message::CancelAtOrigin { reason, .. } => {
                Some(News::Cancelled { external_id: order.external_id.clone(), reason: reason.clone() })
            }
            _ => None,
        };
        tx.rollback().await?;
        let Some(news) = news else {
            engine.ack_outbox(claimed.id, CONSUMER).await?;
            return Ok(());
        };
        if let Some(rotated) = stored.as_ref().and_then(|t| t.refresh_token.clone()) {
            credentials.insert("refresh_token".into(), rotated);
        }
        let settings = connection_settings(&channel);
        let conn = Conn { settings: &settings, credentials: &credentials };
        let (purpose, step) = match &news {
            News::Shipped(f) => ("fulfilment", api.fulfilment_request(conn, f)),
            News::Cancelled { external_id, reason } => {
                ("cancel", api.cancel_request(conn, external_id, reason).map(Step::Send))
            }
        };
        let (outcome, status) = match step {
            Err(e) => (Outcome::Rejected(format!("cannot build the request: {e}")), None),
            Ok(step) => match self.access_token(&channel, api, conn, stored.as_ref()).await? {
                Err(o) => (o, None),
                Ok(access) => match self.run_step(&channel, api, conn, access.as_deref(), step, round).await {
                    // No rate-limit token now: the message waits for the next round.
                    None => (Outcome::Throttled { retry_after_secs: Some(1) }, None),
                    Some(r) => r,
                },
            },
        };
        self.log(&channel, purpose, 1, &outcome, status).await?;
        let now = engine.now_ms();
        let options = self.options();
        match outcome {
            Outcome::Accepted => {
                engine.ack_outbox(claimed.id, CONSUMER).await?;
                round.accepted += 1;
            }
            Outcome::Throttled { retry_after_secs } => {
                let wait = retry_after_secs.map_or(options.default_retry_after_ms, |s| s.clamp(0, 3_600) * 1_000);
                self.pause(&channel.name, now.saturating_add(wait));
                engine.fail_outbox_at(claimed.id, CONSUMER, "rate limited", Some(now.saturating_add(wait))).await?;
                round.throttled += 1;
            }
            Outcome::Transient(e) => {
                let retry = options.backoff.delay_ms(claimed.attempts, rand::random()).map(|d| now.saturating_add(d));
                engine.fail_outbox_at(claimed.id, CONSUMER, &e, retry).await?;
                if retry.is_none() {
                    self.open_sync_failed(&order_id, &channel.name, purpose, &e).await?;
                }
                round.failed += 1;
            }
            Outcome::Rejected(e) => {
                engine.fail_outbox_at(claimed.id, CONSUMER, &e, None).await?;
                self.open_sync_failed(&order_id, &channel.name, purpose, &e).await?;
                round.failed += 1;
            }
        }
        Ok(())
    }

    async fn open_sync_failed(
        &self,
        order_id: &str,
        channel: &ChannelName,
        purpose: &str,
        why: &str,
    ) -> Result<(), Error> {
        let what = if purpose == "fulfilment" { "the shipment" } else { "the cancellation" };
        let message = format!("{channel} was not told of {what}: {why}. Update the order on {channel} by hand.");
        let (now, id) = (self.engine().now_ms(), order_id.to_owned());
        self.engine()
            .run(move |tx, ctx| {
                Box::pin(async move {
                    crate::exceptions::open(tx, ctx, &id, ExceptionKind::SyncFailed, &message, now).await?;
                    Ok(())
                })
            })
            .await
    }
}
