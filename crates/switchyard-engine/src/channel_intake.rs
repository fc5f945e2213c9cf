//! Orders arriving from a channel connection (a webhook delivery, later a
//! poller's page): each canonical order is created, or applied to the
//! order taken before — a cancellation releases its reservation, a payment
//! marks it paid. A delivery id already handled is not applied again.

use switchyard_channels::{ChannelOrder, FulfilledBy};
use switchyard_core::{Channel, ChannelName, NewOrder, OrderStatus};
use switchyard_store::{catalog, deliveries, views};

use crate::{Engine, Error};

/// What happened to one order of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub external_id: String,
    /// Our order's id, when there is one.
    pub order_id: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new order, allocated and reserved.
    Created,
    /// Seen before and unchanged by this delivery.
    Unchanged,
    /// The channel cancelled it: cancelled here, its stock released.
    Cancelled,
    /// The channel says it is paid now.
    Paid,
    /// Cancelled on the channel before we ever took it: nothing to do.
    CancelledBeforeTaken,
    /// Fulfilled by the marketplace (e.g. Amazon FBA): not ours to route.
    FulfilledByMarketplace,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Unchanged => "unchanged",
            Outcome::Cancelled => "cancelled",
            Outcome::Paid => "paid",
            Outcome::CancelledBeforeTaken => "cancelled_before_taken",
            Outcome::FulfilledByMarketplace => "fulfilled_by_marketplace",
        }
    }
}

impl Engine {
    /// A channel connection with its webhook secret (never shown to anyone;
    /// the server checks signatures with it).
    pub async fn channel_connection(&self, name: &ChannelName) -> Result<Option<(Channel, Option<String>)>, Error> {
        let mut tx = self.read().await?;
        let channel = catalog::get_channel(&mut tx, name).await?;
        let secret = catalog::webhook_secret(&mut tx, name).await?;
        tx.rollback().await?;
        Ok(channel.map(|c| (c, secret)))
    }

    /// Creates or replaces a connection; `secret` replaces its webhook
    /// secret when given (`Some("")` removes it), else keeps it.
    pub async fn put_connection(&self, c: &Channel, secret: Option<String>) -> Result<(), Error> {
        let (now, c) = (self.now_ms(), c.clone());
        self.run(move |tx, _| {
            Box::pin(async move {
                catalog::upsert_channel(tx, &c, now).await?;
                if let Some(s) = &secret {
                    let s = Some(s.as_str()).filter(|s| !s.is_empty());
                    catalog::set_webhook_secret(tx, &c.name, s).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Whether this delivery of the channel was handled already.
    pub async fn delivery_seen(&self, channel: &ChannelName, delivery_id: &str) -> Result<bool, Error> {
        let mut tx = self.read().await?;
        let seen = deliveries::seen(&mut tx, channel, delivery_id).await?;
        tx.rollback().await?;
        Ok(seen)
    }

    /// Applies the orders of one delivery from `channel`, in order, then
    /// records the delivery id. Every order is checked by the core's intake
    /// before anything is written; each create, cancel or payment is its
    /// own transaction, and each is idempotent, so a delivery that fails
    /// half-way is safe to send again.
    pub async fn receive_channel_orders(
        &self,
        channel: &ChannelName,
        delivery_id: Option<&str>,
        orders: &[ChannelOrder],
    ) -> Result<Vec<Received>, Error> {
        let drafts = orders
            .iter()
            .map(|o| NewOrder::parse(o.to_draft(channel.as_str())).map_err(Error::from))
            .collect::<Result<Vec<_>, _>>()?;
        let mut received = Vec::with_capacity(orders.len());
        for (o, new) in orders.iter().zip(drafts) {
            let existing = {
                let mut tx = self.read().await?;
                let id = views::find_order_id(&mut tx, channel.as_str(), &o.external_id).await?;
                tx.rollback().await?;
                id
            };
            let (order_id, outcome) = match (existing, o.status) {
                _ if o.fulfilled_by == FulfilledBy::Marketplace => (None, Outcome::FulfilledByMarketplace),
                (None, OrderStatus::Cancelled) => (None, Outcome::CancelledBeforeTaken),
                (None, _) => {
                    let (view, created) = self.create_order(&new).await?;
                    (Some(view.id), if created { Outcome::Created } else { Outcome::Unchanged })
                }
                (Some(id), status) => {
                    let outcome = self.apply_channel_status(&id, channel, status, &o.payment).await?;
                    (Some(id), outcome)
                }
            };
            received.push(Received { external_id: o.external_id.clone(), order_id, outcome });
        }
        if let Some(d) = delivery_id {
            let (now, channel, d) = (self.now_ms(), channel.clone(), d.to_owned());
            self.run(move |tx, _| Box::pin(async move { Ok(deliveries::record(tx, &channel, &d, now).await?) }))
                .await?;
        }
        Ok(received)
    }

    /// What the channel now says about an order we hold.
    async fn apply_channel_status(
        &self,
        id: &str,
        channel: &ChannelName,
        status: OrderStatus,
        payment: &str,
    ) -> Result<Outcome, Error> {
        let Some(ours) = self.get_order(id).await? else { return Ok(Outcome::Unchanged) };
        let ours = OrderStatus::parse(&ours.status).ok_or_else(|| Error::Invalid(format!("order {id} status")))?;
        if status == OrderStatus::Cancelled {
            if ours.transition(OrderStatus::Cancelled).is_err() {
                return Ok(Outcome::Unchanged);
            }
            self.cancel_order(id, &format!("cancelled on {channel}")).await?;
            return Ok(Outcome::Cancelled);
        }
        if ours == OrderStatus::PendingPayment && payment == "paid" {
            self.mark_paid(id).await?;
            return Ok(Outcome::Paid);
        }
        Ok(Outcome::Unchanged)
    }
}
