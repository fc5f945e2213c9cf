//! Customer notifications, the use cases: queueing them with the change
//! they announce, fanning each out into deliveries, finishing a delivery
//! (sent, retried, dead-lettered with a `notification_failed` exception),
//! templates, and the customer's status page behind an unguessable link.
//!
//! Two stages, both through the durable outbox:
//!
//! 1. A use case that changes what a customer is told of (take, ship,
//!    ready for pickup, cancel, a return authorized, received, refunded)
//!    calls [`notice`] in its own transaction: one `notification` message
//!    and one milestone of the status page (`customer_milestones`).
//! 2. The notifier ([`crate::notify_worker::Notifier`]) claims those and,
//!    in one transaction per batch ([`Engine::fan_out_notifications`]),
//!    records one delivery per recipient — the order's customer by e-mail
//!    when it has an address and SMTP is configured, each webhook that
//!    wants the event — each with a `notification_delivery` message, and
//!    acknowledges the notice. Each delivery is then claimed, rendered,
//!    sent and finished on its own ([`Engine::finish_delivery`]): acked,
//!    retried with backoff, or dead-lettered after `max_attempts` (or at
//!    once when the mail server refuses the address for good), which opens
//!    one `notification_failed` exception on the order.
//!
//! **Status links.** Each e-mail or webhook call carries a fresh link
//! `/status/{token}`: 32 random bytes from the OS (hex), of which only the
//! SHA-256 is stored (`status_links`), minted right before the send. The
//! token exists only in the message sent: a copy of the database opens no
//! page, and a link is found by its hash (an attacker cannot steer a
//! lookup, so there is no timing oracle). Every link of an order opens the
//! same page, for [`STATUS_LINK_TTL_MS`] after it was made; the sweeper
//! deletes older links.

use rand::RngCore;
use sha2::{Digest, Sha256};
use switchyard_core::notification::{DeliveryChannel, DeliveryStatus, NotificationEvent};
use switchyard_core::outbox::Message;
use switchyard_core::{ExceptionKind, ExceptionStatus, OrderStatus, Resolution, ResolutionAction};
use switchyard_store::notifications::{self, Delivery, DeliveryFilter, DeliveryView, Milestone, NewDelivery};
use switchyard_store::outbox::{self, Claimed};
use switchyard_store::return_views::ReturnView;
use switchyard_store::{exceptions, OrderView, Tx};

use crate::outbox::RetryPolicy;
use crate::{Ctx, Engine, Error, StoreError};

/// How long a status link opens its page (a year: long after any return
/// window); the sweeper deletes older links.
pub const STATUS_LINK_TTL_MS: i64 = 365 * 86_400_000;

/// The consumer that turns notices into deliveries.
const FAN_OUT: &str = "notify-fan-out";
/// How long a fan-out claim is held (it runs inside one transaction).
const FAN_OUT_LEASE_MS: i64 = 60_000;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::corrupt(e.to_string()))
}

// ------------------------------------------------------------- queueing

/// Queues a customer notification and records it on the status page, in
/// the caller's transaction (the change it announces commits with it).
pub(crate) async fn notice(tx: &mut Tx, m: Message, now_ms: i64) -> Result<(), Error> {
    let Some(event) = m.notification_event() else {
        return Err(corrupt(format!("{m:?} is not a customer notification")));
    };
    let json = serde_json::to_string(&m).map_err(corrupt)?;
    notifications::add_milestone(tx, m.subject(), m.return_id(), event, &json, now_ms).await?;
    outbox::enqueue(tx, &m, now_ms).await?;
    Ok(())
}

/// A new order (its customer's address was written with the order row):
/// the customer hears it was received, or that part of it waits for stock.
pub(crate) async fn taken(tx: &mut Tx, id: &str, status: OrderStatus, now_ms: i64) -> Result<(), Error> {
    let order_id = id.to_owned();
    let m = if status == OrderStatus::Backordered {
        Message::OrderDelayed { order_id }
    } else {
        Message::OrderAccepted { order_id }
    };
    notice(tx, m, now_ms).await
}

/// A status change after intake: becoming backordered tells the customer.
pub(crate) async fn status_changed(
    tx: &mut Tx,
    id: &str,
    from: OrderStatus,
    to: OrderStatus,
    now_ms: i64,
) -> Result<(), Error> {
    if to == OrderStatus::Backordered && from != OrderStatus::Backordered {
        notice(tx, Message::OrderDelayed { order_id: id.to_owned() }, now_ms).await?;
    }
    Ok(())
}

// -------------------------------------------------------------- fan-out

/// Where notifications go, as configured.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    /// SMTP is configured: customers with an address get e-mail.
    pub email: bool,
    /// Where staff events (an exception escalated) are e-mailed, when SMTP
    /// is configured.
    pub staff_email: Option<String>,
    pub webhooks: Vec<WebhookRoute>,
}

/// A webhook's name and the events it wants (empty: all).
#[derive(Debug, Clone)]
pub struct WebhookRoute {
    pub name: String,
    pub events: Vec<NotificationEvent>,
}

impl WebhookRoute {
    /// A customer event when it lists it or lists none; a staff event only
    /// when it lists it (a webhook set up for customers' news is not sent
    /// staff's).
    pub fn wants(&self, event: NotificationEvent) -> bool {
        self.events.contains(&event) || (self.events.is_empty() && !event.is_for_staff())
    }
}

async fn fan_out(tx: &mut Tx, ctx: &Ctx, dest: &Destinations, limit: i64, now_ms: i64) -> Result<usize, Error> {
    let claimed = outbox::claim(tx, "notification", FAN_OUT, limit, now_ms, FAN_OUT_LEASE_MS).await?;
    let mut made = 0;
    for c in &claimed {
        // An escalation goes to staff (never the customer); one about a
        // channel connection, with no order, is shown by the exception queue
        // only (a delivery belongs to an order).
        let order_id = match &c.message {
            Message::ExceptionEscalated { order_id, .. } => order_id.clone(),
            m => Some(m.subject().to_owned()),
        };
        if let (Some(event), Some(order_id)) = (c.message.notification_event(), order_id) {
            let notice = serde_json::to_string(&c.message).map_err(corrupt)?;
            let mut to: Vec<(DeliveryChannel, String)> = Vec::new();
            if dest.email && event.is_for_staff() {
                if let Some(address) = &dest.staff_email {
                    to.push((DeliveryChannel::Email, address.clone()));
                }
            } else if dest.email {
                if let Some(address) = notifications::customer_email(tx, &order_id).await? {
                    to.push((DeliveryChannel::Email, address));
                }
            }
            for w in dest.webhooks.iter().filter(|w| w.wants(event)) {
                to.push((DeliveryChannel::Webhook, w.name.clone()));
            }
            for (channel, recipient) in to {
                let id = ctx.ids.next(now_ms);
                let d = NewDelivery {
                    id: &id,
                    event,
                    channel,
                    recipient: &recipient,
                    order_id: &order_id,
                    return_id: c.message.return_id(),
                    notice: &notice,
                };
                notifications::insert_delivery(tx, &d, now_ms).await?;
                let m = Message::NotificationDelivery { delivery_id: id, order_id: order_id.clone() };
                outbox::enqueue(tx, &m, now_ms).await?;
                made += 1;
            }
        }
        outbox::ack(tx, c.id, FAN_OUT, now_ms).await?;
    }
    Ok(made)
}

// ------------------------------------------------------------ finishing

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Worth trying again later (a timeout, a 4xx/5xx answer, a busy server).
    Failed(String),
    /// Will never work as it is (the address refused for good, a template
    /// that does not render): dead at once.
    Refused(String),
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    tx: &mut Tx,
    ctx: &Ctx,
    claimed: &Claimed,
    consumer: &str,
    delivery: &Delivery,
    attempt: &Attempt,
    policy: &RetryPolicy,
    now_ms: i64,
) -> Result<DeliveryStatus, Error> {
    let (status, error) = match attempt {
        Attempt::Sent => {
            outbox::ack(tx, claimed.id, consumer, now_ms).await?;
            (DeliveryStatus::Sent, None)
        }
        Attempt::Failed(e) | Attempt::Refused(e) => {
            let retry_at = match attempt {
                Attempt::Failed(_) => policy.next_attempt(claimed.attempts, now_ms),
                _ => None,
            };
            let e: String = e.chars().take(500).collect();
            outbox::fail(tx, claimed.id, consumer, &e, retry_at, now_ms).await?;
            let status = if retry_at.is_some() { DeliveryStatus::Retrying } else { DeliveryStatus::Dead };
            (status, Some(e))
        }
    };
    notifications::record_attempt(tx, &delivery.id, status, error.as_deref(), now_ms).await?;
    let ev = delivery.event.as_str();
    let to = format!("{} {}", delivery.channel.as_str(), delivery.recipient);
    match &error {
        None => tracing::info!(delivery = %delivery.id, event = ev, %to, "notification delivered"),
        Some(e) => tracing::warn!(delivery = %delivery.id, event = ev, %to, error = %e, status = status.as_str(),
            "notification delivery failed"),
    }
    if status == DeliveryStatus::Dead {
        open_failed(tx, ctx, delivery, error.as_deref().unwrap_or("failed"), now_ms).await?;
    }
    Ok(status)
}

/// Opens the order's `notification_failed` exception unless one is open.
async fn open_failed(tx: &mut Tx, ctx: &Ctx, d: &Delivery, why: &str, now_ms: i64) -> Result<(), Error> {
    let open = exceptions::open_of_order(tx, &d.order_id).await?;
    if open.iter().any(|(_, k)| *k == ExceptionKind::NotificationFailed) {
        return Ok(());
    }
    let message = format!(
        "The {} notification to {} {} was not delivered: {why}. Fix the cause and retry, or dismiss \
         (the customer's status page is up to date either way).",
        d.event.as_str(),
        d.channel.as_str(),
        d.recipient
    );
    crate::exceptions::open(tx, ctx, &d.order_id, ExceptionKind::NotificationFailed, &message, now_ms).await?;
    Ok(())
}

/// A person's action on a `notification_failed` exception (locked, open,
/// and an action its kind allows): retry makes the order's dead deliveries
/// due again; dismiss (with a reason) leaves them.
pub(crate) async fn resolve_exception(
    tx: &mut Tx,
    id: &str,
    order_id: Option<&str>,
    r: &Resolution,
    actor: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let order_id = order_id.ok_or_else(|| corrupt(format!("exception {id} names no order")))?;
    let mut note = r.note.trim().to_owned();
    let status = match r.action {
        ResolutionAction::Retry => {
            let n = outbox::revive(tx, "notification_delivery", order_id, now_ms).await?
                + outbox::revive(tx, "vendor_notice", order_id, now_ms).await?;
            notifications::revive_dead(tx, order_id, now_ms).await?;
            if n == 0 {
                return Err(Error::Conflict(format!("no notification of order {order_id} is waiting to be sent")));
            }
            let sent = format!("{n} notification(s) sent again");
            note = if note.is_empty() { sent } else { format!("{note} ({sent})") };
            ExceptionStatus::Resolved
        }
        ResolutionAction::Dismiss if note.is_empty() => {
            return Err(Error::Conflict("dismissing an exception needs a reason".into()));
        }
        _ => ExceptionStatus::Dismissed,
    };
    exceptions::close(tx, id, status, actor, r.action.as_str(), &note, now_ms).await?;
    exceptions::log(tx, id, actor, r.action.as_str(), &note, now_ms).await?;
    let message = format!("{actor}: {} on notification_failed exception: {note}", r.action.as_str());
    switchyard_store::orders::event(tx, order_id, now_ms, "exception_action", &message).await?;
    Ok(())
}

// --------------------------------------------------------- status links

/// SHA-256 of a token, hex: what `status_links` keeps.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape of one we hand out (64 lower-case hex).
pub(crate) fn token_shaped(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What the customer's status page shows — built here so that nothing
/// private can reach it: the order's number, items and status in plain
/// words, the customer-facing milestones (never the internal timeline,
/// notes, costs or other orders), and the return the link is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPage {
    /// The channel's order number (what the customer knows).
    pub number: String,
    pub placed_at: String,
    pub status: String,
    /// (SKU, units).
    pub lines: Vec<(String, i64)>,
    /// Oldest first.
    pub steps: Vec<PublicStep>,
    pub ret: Option<PublicReturn>,
}

/// One milestone in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicStep {
    pub at: String,
    pub title: String,
    /// Carrier and tracking, the pickup place, an RMA number, a refund.
    pub detail: Option<String>,
    /// A carrier's tracking number, shown on its own.
    pub tracking: Option<String>,
    /// Where to follow the parcel: only ever an `http://` or `https://`
    /// address (`switchyard_core::web_link`), so a page may link to it.
    pub tracking_url: Option<String>,
}

/// The return a link is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicReturn {
    pub rma: String,
    pub status: String,
    /// What is refunded (or will be), e.g. `45.00 USD`.
    pub refund: String,
    pub lines: Vec<(String, i64)>,
    /// It was authorized (it has an RMA number): its label can be printed
    /// from the link (`/status/{token}/label.pdf`).
    pub has_label: bool,
}

/// `2026-11-30 12:00 UTC` of a stored time.
fn when(ms: i64) -> String {
    let s = switchyard_store::rfc3339(ms);
    match (s.get(0..10), s.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => s,
    }
}

/// `12.50 USD` of minor units.
fn money(minor: i64, currency: &str) -> String {
    switchyard_core::Currency::parse(currency)
        .map(|c| switchyard_core::Money::new(minor, c).to_string())
        .unwrap_or_else(|_| format!("{minor} {currency}"))
}

/// The page, from what was read (pure).
fn public_page(
    order: &OrderView,
    ret: Option<&ReturnView>,
    returns: &[ReturnView],
    milestones: &[Milestone],
    places: &std::collections::BTreeMap<String, String>,
) -> StatusPage {
    let rma_of =
        |id: &str| returns.iter().find(|r| r.id == id).map(|r| r.rma.clone().unwrap_or_else(|| "your return".into()));
    let steps = milestones
        .iter()
        .map(|m| {
            let notice: Option<Message> = serde_json::from_str(&m.notice).ok();
            let mut step = PublicStep {
                at: when(m.at),
                title: m.event.headline().to_owned(),
                detail: None,
                tracking: None,
                tracking_url: None,
            };
            match notice {
                Some(Message::OrderShipped { shipment_id, .. }) => {
                    if let Some(s) = order.shipments.iter().flatten().find(|s| s.id == shipment_id) {
                        let units: i64 = s.lines.iter().map(|l| l.quantity).sum();
                        let via = s.carrier.as_deref().map(|c| format!(" with {c}")).unwrap_or_else(String::new);
                        step.detail = Some(format!("{units} item(s){via}"));
                        step.tracking = s.tracking.clone();
                        step.tracking_url =
                            s.tracking_url.as_deref().and_then(switchyard_core::web_link).map(str::to_owned);
                    }
                }
                Some(Message::ReadyForPickup { location, .. }) => {
                    let name = places.get(&location).cloned().unwrap_or(location);
                    step.detail = Some(format!("at {name}"));
                }
                Some(Message::ReturnAuthorized { return_id, .. }) | Some(Message::ReturnReceived { return_id, .. }) => {
                    step.detail = rma_of(&return_id)
                }
                Some(Message::RefundIssued { return_id, .. }) => {
                    let r = returns.iter().find(|r| r.id == return_id);
                    step.detail = r.map(|r| {
                        let rma = r.rma.clone().unwrap_or_else(|| "your return".into());
                        format!("{} for {rma}", money(r.refunded.unwrap_or(r.refund), &r.currency))
                    });
                }
                _ => {}
            }
            step
        })
        .collect();
    let status = switchyard_core::OrderStatus::parse(&order.status)
        .map(switchyard_core::notification::status_words)
        .unwrap_or("In progress");
    StatusPage {
        number: order.external_id.clone(),
        placed_at: order.created_at.get(0..10).unwrap_or(&order.created_at).to_owned(),
        status: status.to_owned(),
        lines: order.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect(),
        steps,
        ret: ret.map(|r| PublicReturn {
            rma: r.rma.clone().unwrap_or_else(|| "not yet assigned".into()),
            status: switchyard_core::notification::return_status_words(&r.status).to_owned(),
            refund: money(r.refunded.unwrap_or(r.refund), &r.currency),
            lines: r.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect(),
            has_label: r.rma.is_some(),
        }),
    }
}

/// Everything one delivery needs to be rendered and sent.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub delivery: Delivery,
    pub notice: Message,
    pub order: OrderView,
    pub ret: Option<ReturnView>,
    /// A pickup's location: (name, one-line address).
    pub pickup: Option<(String, String)>,
    pub template: Option<notifications::TemplateRow>,
}

impl Engine {
    /// Turns up to `limit` queued notices into deliveries (one transaction);
    /// how many deliveries were made.
    pub async fn fan_out_notifications(&self, dest: &Destinations, limit: i64) -> Result<usize, Error> {
        let (now, dest, limit) = (self.now_ms(), std::sync::Arc::new(dest.clone()), limit.clamp(1, 1000));
        self.run(move |tx, ctx| Box::pin(async move { fan_out(tx, ctx, &dest, limit, now).await })).await
    }

    /// Reads what a delivery needs; `None` when the delivery or its order
    /// is gone (the message is acknowledged and dropped).
    pub async fn prepare_delivery(&self, delivery_id: &str) -> Result<Option<Prepared>, Error> {
        let mut tx = self.read().await?;
        let Some(delivery) = notifications::get_delivery(&mut tx, delivery_id).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let notice: Message = serde_json::from_str(&delivery.notice).map_err(corrupt)?;
        let template = notifications::get_template(&mut tx, delivery.event).await?;
        let pickup = match &notice {
            Message::ReadyForPickup { location, .. } => match switchyard_core::LocationCode::parse(location) {
                Ok(code) => switchyard_store::catalog::get_location(&mut tx, &code).await?.map(|l| {
                    let a = &l.address;
                    (l.name.clone(), format!("{}, {} {} {}", a.line1, a.city, a.region, a.postal_code))
                }),
                Err(_) => None,
            },
            _ => None,
        };
        tx.rollback().await?;
        let Some(order) = self.get_order(&delivery.order_id).await? else { return Ok(None) };
        let ret = match &delivery.return_id {
            Some(id) => self.get_return(id).await?,
            None => None,
        };
        Ok(Some(Prepared { delivery, notice, order, ret, pickup, template }))
    }

    /// Mints a fresh status-page link for an order (or its return) and
    /// returns the token; only its hash is stored.
    pub async fn mint_status_link(&self, order_id: &str, return_id: Option<&str>) -> Result<String, Error> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let (now, hash) = (self.now_ms(), token_hash(&token));
        let (order_id, return_id) = (order_id.to_owned(), return_id.map(str::to_owned));
        self.run(move |tx, _| {
            Box::pin(
                async move { Ok(notifications::insert_link(tx, &hash, &order_id, return_id.as_deref(), now).await?) },
            )
        })
        .await?;
        Ok(token)
    }

    /// The page a status link opens; `None` for a token we never handed
    /// out (or malformed).
    pub async fn status_page(&self, token: &str) -> Result<Option<StatusPage>, Error> {
        if !token_shaped(token) {
            return Ok(None);
        }
        let not_before = self.now_ms().saturating_sub(STATUS_LINK_TTL_MS);
        let mut tx = self.read().await?;
        let link = notifications::find_link(&mut tx, &token_hash(token), not_before).await?;
        let Some((order_id, return_id)) = link else {
            tx.rollback().await?;
            return Ok(None);
        };
        let milestones = notifications::milestones(&mut tx, &order_id).await?;
        let mut places = std::collections::BTreeMap::new();
        for m in &milestones {
            if let Ok(Message::ReadyForPickup { location, .. }) = serde_json::from_str(&m.notice) {
                if let Ok(code) = switchyard_core::LocationCode::parse(&location) {
                    if let Some(l) = switchyard_store::catalog::get_location(&mut tx, &code).await? {
                        places.insert(location, l.name);
                    }
                }
            }
        }
        tx.rollback().await?;
        let Some(order) = self.get_order(&order_id).await? else { return Ok(None) };
        let filter = switchyard_store::return_views::ReturnFilter {
            order_id: Some(order_id.clone()),
            status: None,
            destination: None,
            limit: 100,
        };
        let returns = self.list_returns(&filter).await?;
        let ret = match return_id {
            Some(id) => self.get_return(&id).await?,
            None => None,
        };
        Ok(Some(public_page(&order, ret.as_ref(), &returns, &milestones, &places)))
    }

    /// Records how a delivery attempt ended (see the module doc); returns
    /// the delivery's status after it.
    pub async fn finish_delivery(
        &self,
        claimed: &Claimed,
        consumer: &str,
        delivery: &Delivery,
        attempt: Attempt,
        policy: &RetryPolicy,
    ) -> Result<DeliveryStatus, Error> {
        let now = self.now_ms();
        let (c, consumer, d, policy) = (claimed.clone(), consumer.to_owned(), delivery.clone(), *policy);
        let attempt = std::sync::Arc::new(attempt);
        self.run(move |tx, ctx| {
            Box::pin(async move { finish(tx, ctx, &c, &consumer, &d, &attempt, &policy, now).await })
        })
        .await
    }

    /// Deliveries, newest first.
    pub async fn list_deliveries(&self, f: &DeliveryFilter) -> Result<Vec<DeliveryView>, Error> {
        let mut tx = self.read().await?;
        let out = notifications::list_deliveries(&mut tx, f).await?;
        tx.rollback().await?;
        Ok(out)
    }

    /// Whether an order has dead deliveries (for tests and the dashboard).
    pub async fn dead_deliveries(&self, order_id: &str) -> Result<i64, Error> {
        let mut tx = self.read().await?;
        let n = notifications::dead_of_order(&mut tx, order_id).await?;
        tx.rollback().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_for_shape_and_stored_as_hashes() {
        let t = "ab".repeat(32);
        assert!(token_shaped(&t));
        assert!(!token_shaped(&t[1..]) && !token_shaped(&"AB".repeat(32)) && !token_shaped(&"zz".repeat(32)));
        let h = token_hash(&t);
        assert_eq!(h.len(), 64);
        assert_ne!(h, t);
        assert_eq!(h, token_hash(&t));
    }
}
