//! Orders arriving from a channel connection (a webhook delivery, or a
//! poller's page): each canonical order is created, or applied to the
//! order taken before — a cancellation releases its reservation, a payment
//! marks it paid. A delivery id already handled is not applied again. Lines
//! go through the connection's SKU map first.

use std::collections::{BTreeMap, BTreeSet};
use switchyard_channels::{ChannelOrder, FulfilledBy};

use switchyard_core::{Channel, ChannelName, NewOrder, OrderStatus, Sku};
use switchyard_store::{catalog, deliveries, sku_map, views};

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

/// How [`Engine::put_connection_with`] changes a connection's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialChange {
    /// Leave them as they are.
    Keep,
    /// Replace them all (an empty map removes them).
    Replace(BTreeMap<String, String>),
    /// Set these, remove those names, keep the others.
    Update { set: BTreeMap<String, String>, remove: BTreeSet<String> },
}

/// Credentials are named, one line each, and few.
fn check_credentials(creds: &BTreeMap<String, String>) -> Result<(), Error> {
    let bad = creds.iter().find(|(k, v)| {
        k.is_empty() || k.len() > 100 || v.len() > 4_000 || k.chars().chain(v.chars()).any(char::is_control)
    });
    if let Some((k, _)) = bad {
        return Err(Error::Invalid(format!(
            "credential {:?} must have a name of 1 to 100 characters and a value of at most 4000, one line",
            k.chars().take(100).collect::<String>()
        )));
    }
    if creds.len() > 20 {
        return Err(Error::Invalid("at most 20 credentials".into()));
    }
    Ok(())
}

/// The carrier of a counter sale's handover (the customer left with the
/// units): such a sale had no handling, and the metrics leave it out.
pub(crate) const COUNTER_CARRIER: &str = "counter";

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
    /// secret when given (`Some("")` removes it), else keeps it; so do
    /// `credentials` (an empty map removes them). New credentials drop the
    /// access token got with the old ones.
    pub async fn put_connection(
        &self,
        c: &Channel,
        secret: Option<String>,
        credentials: Option<BTreeMap<String, String>>,
    ) -> Result<(), Error> {
        let change = match credentials {
            Some(all) => CredentialChange::Replace(all),
            None => CredentialChange::Keep,
        };
        self.put_connection_with(c, secret, change).await
    }

    /// [`Engine::put_connection`] with a finer change of the credentials:
    /// the dashboard's form sets the fields typed in, removes the ones
    /// ticked, and keeps the rest, whose values it never sees.
    pub async fn put_connection_with(
        &self,
        c: &Channel,
        secret: Option<String>,
        change: CredentialChange,
    ) -> Result<(), Error> {
        let given = match &change {
            CredentialChange::Keep => None,
            CredentialChange::Replace(all) => Some(all),
            CredentialChange::Update { set, .. } => Some(set),
        };
        if let Some(creds) = given {
            check_credentials(creds)?;
        }
        let (now, c) = (self.now_ms(), c.clone());
        self.run(move |tx, _| {
            Box::pin(async move {
                let before = catalog::get_channel(tx, &c.name).await?;
                catalog::upsert_channel(tx, &c, now).await?;
                // Going live (or widening what is live): every level goes out.
                let was = before.filter(crate::channel_sync::pushes_stock).map(|b| b.sku_scope);
                if crate::channel_sync::pushes_stock(&c) && was.as_ref() != Some(&c.sku_scope) {
                    crate::channel_sync::resync_in(tx, &c, now).await?;
                }
                if let Some(s) = &secret {
                    let s = Some(s.as_str()).filter(|s| !s.is_empty());
                    catalog::set_webhook_secret(tx, &c.name, s).await?;
                }
                let creds = match change {
                    CredentialChange::Keep => None,
                    CredentialChange::Replace(all) => Some(all),
                    CredentialChange::Update { set, remove } if set.is_empty() && remove.is_empty() => None,
                    CredentialChange::Update { set, remove } => {
                        let mut all = catalog::credentials(tx, &c.name).await?;
                        all.retain(|k, _| !remove.contains(k));
                        all.extend(set);
                        check_credentials(&all)?;
                        Some(all)
                    }
                };
                if let Some(creds) = &creds {
                    catalog::set_credentials(tx, &c.name, Some(creds).filter(|c| !c.is_empty())).await?;
                    switchyard_store::channel_sync::drop_token(tx, &c.name).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The names of a connection's credentials (never their values).
    pub async fn credential_names(&self, name: &ChannelName) -> Result<Vec<String>, Error> {
        let mut tx = self.read().await?;
        let out = catalog::credential_names(&mut tx, name).await?;
        tx.rollback().await?;
        Ok(out)
    }

    /// What `channel` is told it may sell of `sku`: what is available (a
    /// bundle: the kits its components make) less the channel's buffer.
    pub async fn channel_atp(&self, channel: &ChannelName, sku: &Sku) -> Result<i64, Error> {
        let c = {
            let mut tx = self.read().await?;
            let c = catalog::get_channel(&mut tx, channel).await?;
            tx.rollback().await?;
            c.ok_or_else(|| Error::NotFound { what: "channel", key: channel.to_string() })?
        };
        let a = self.availability(sku).await?.ok_or_else(|| Error::NotFound { what: "sku", key: sku.to_string() })?;
        Ok(c.buffer.atp(a.available))
    }

    /// Whether this delivery of the channel was handled already.
    pub async fn delivery_seen(&self, channel: &ChannelName, delivery_id: &str) -> Result<bool, Error> {
        let mut tx = self.read().await?;
        let seen = deliveries::seen(&mut tx, channel, delivery_id).await?;
        tx.rollback().await?;
        Ok(seen)
    }

    /// Maps the channel's `channel_sku` (its SKU, or `variant:<id>` and the
    /// like when it has none) to our `sku`, which must exist.
    pub async fn map_channel_sku(
        &self,
        channel: &ChannelName,
        channel_sku: &str,
        sku: &Sku,
        listing: Option<&str>,
    ) -> Result<(), Error> {
        let channel_sku = channel_sku.trim();
        if channel_sku.is_empty() || channel_sku.chars().count() > 200 || channel_sku.chars().any(char::is_control) {
            return Err(Error::Invalid("a channel SKU is 1 to 200 characters on one line".into()));
        }
        let listing = listing.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
        if listing.as_ref().is_some_and(|l| l.chars().count() > 200 || l.chars().any(char::is_control)) {
            return Err(Error::Invalid("a listing id is at most 200 characters on one line".into()));
        }
        let (now, channel, channel_sku, sku) = (self.now_ms(), channel.clone(), channel_sku.to_owned(), sku.clone());
        self.run(move |tx, ctx| {
            Box::pin(async move {
                let Some(connection) = catalog::get_channel(tx, &channel).await? else {
                    return Err(Error::NotFound { what: "channel", key: channel.to_string() });
                };
                if catalog::sku_is_bundle(tx, &sku).await?.is_none() {
                    return Err(Error::UnknownSku(sku.to_string()));
                }
                sku_map::put(tx, &channel, &channel_sku, &sku, listing.as_deref(), now).await?;
                // Orders held for this unknown SKU go on (held under its own
                // name, or under a stand-in when ours could never be it).
                crate::orders::resume_mapped(tx, ctx, channel.as_str(), &channel_sku, sku.as_str(), now).await?;
                if let Some(held) =
                    switchyard_core::channel::held_sku(&channel_sku).filter(|h| h.as_str() != channel_sku)
                {
                    crate::orders::resume_mapped(tx, ctx, channel.as_str(), held.as_str(), sku.as_str(), now).await?;
                }
                // The channel now sells it under this name: its level goes out
                // again, even one dead-lettered for want of this mapping.
                crate::channel_sync::resend_in(tx, &connection, sku.as_str(), now).await?;
                Ok(())
            })
        })
        .await
    }

    /// Removes a mapping; whether there was one.
    pub async fn unmap_channel_sku(&self, channel: &ChannelName, channel_sku: &str) -> Result<bool, Error> {
        let (channel, channel_sku) = (channel.clone(), channel_sku.trim().to_owned());
        self.run(move |tx, _| Box::pin(async move { Ok(sku_map::delete(tx, &channel, &channel_sku).await?) })).await
    }

    /// A channel's SKU map, by channel SKU.
    pub async fn channel_sku_map(&self, channel: &ChannelName) -> Result<BTreeMap<String, Sku>, Error> {
        Ok(self.channel_sku_entries(channel).await?.into_iter().map(|e| (e.channel_sku, e.sku)).collect())
    }

    /// A channel's SKU map with listing ids, by channel SKU.
    pub async fn channel_sku_entries(&self, channel: &ChannelName) -> Result<Vec<sku_map::Entry>, Error> {
        let mut tx = self.read().await?;
        let map = sku_map::entries(&mut tx, channel).await?;
        tx.rollback().await?;
        Ok(map)
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
        // The connection's SKU map first: the channel's SKUs become ours.
        let map = self.channel_sku_map(channel).await?;
        let mut orders = orders.to_vec();
        for line in orders.iter_mut().flat_map(|o| o.lines.iter_mut()) {
            if let Some(ours) = map.get(line.sku.trim()) {
                line.sku = ours.to_string();
            } else if Sku::parse(&line.sku).is_err() {
                // A SKU ours could never be (a space, an accent): the order is
                // kept, held under a stand-in SKU until the channel's is mapped.
                if let Some(held) = switchyard_core::channel::held_sku(&line.sku) {
                    line.sku = held.to_string();
                }
            }
        }
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
                _ if o.fulfilled_by == FulfilledBy::Marketplace => {
                    self.record_marketplace_order(channel, o).await?;
                    (None, Outcome::FulfilledByMarketplace)
                }
                (None, OrderStatus::Cancelled) => (None, Outcome::CancelledBeforeTaken),
                (None, _) => {
                    let (view, created) = self.create_channel_order(&new).await?;
                    // A counter sale (POS `sale`) left the store with the customer.
                    if created && o.status == OrderStatus::Completed {
                        if let Some(at) = &o.pickup_location {
                            self.hand_over_at_counter(&view, at).await?;
                        }
                    }
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

    /// Ships, from the store `at`, what a counter sale reserved there: the
    /// stock leaves on hand at once. Units routed elsewhere (the store had
    /// too few) stay allocated for staff to deal with.
    async fn hand_over_at_counter(&self, view: &switchyard_store::OrderView, at: &str) -> Result<(), Error> {
        let location = switchyard_core::LocationCode::parse(at)?;
        let mut lines = Vec::new();
        for l in &view.lines {
            let units: i64 = l
                .allocations
                .iter()
                .filter(|a| a.location == location.as_str())
                .map(|a| a.quantity - a.shipped - a.released)
                .sum();
            if units > 0 {
                lines.push((Sku::parse(&l.sku)?, switchyard_core::Quantity::new(units)?));
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let s = switchyard_core::NewShipment {
            location,
            lines,
            carrier: Some(COUNTER_CARRIER.into()),
            tracking: None,
            tracking_url: None,
        };
        match self.ship(&view.id, &s).await {
            // The customer left with it: nothing more will happen to it.
            Ok(shipped) if shipped.status == "shipped" => {
                let (now, id) = (self.now_ms(), view.id.clone());
                let note = "Sold at the counter; status completed";
                self.run(move |tx, _| {
                    Box::pin(async move { crate::pickup::complete_shipped(tx, &id, note, now).await })
                })
                .await
            }
            Ok(_) => Ok(()),
            // Held (an exception): the order is kept for staff; the sale
            // is answered as taken, never refused after it was stored.
            Err(Error::Transition(e)) => {
                tracing::warn!(order_id = %view.id, error = %e, "counter sale not handed over");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Records an order the marketplace fulfils itself (for reporting;
    /// nothing is routed or reserved).
    async fn record_marketplace_order(&self, channel: &ChannelName, o: &ChannelOrder) -> Result<(), Error> {
        let mut total = o.shipping;
        let mut units = 0_i64;
        for l in &o.lines {
            total = total.saturating_add(l.quantity.saturating_mul(l.unit_price)).saturating_sub(l.discount);
            units = units.saturating_add(l.quantity);
        }
        let lines: Vec<serde_json::Value> = o
            .lines
            .iter()
            .map(|l| serde_json::json!({"sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price}))
            .collect();
        let record = switchyard_store::marketplace::MarketplaceOrder {
            external_id: o.external_id.clone(),
            status: o.status.as_str().to_owned(),
            currency: o.currency.clone(),
            total,
            units,
            lines: serde_json::Value::Array(lines).to_string(),
        };
        let (now, channel) = (self.now_ms(), channel.clone());
        self.run(move |tx, _| {
            Box::pin(async move { Ok(switchyard_store::marketplace::record(tx, &channel, &record, now).await?) })
        })
        .await
    }

    /// What the channel now says about an order we hold.
    async fn apply_channel_status(
        &self,
        id: &str,
        channel: &ChannelName,
        status: OrderStatus,
        payment: &str,
    ) -> Result<Outcome, Error> {
        let ours = {
            let mut tx = self.read().await?;
            let brief = views::get_order_brief(&mut tx, id).await?;
            tx.rollback().await?;
            match brief.and_then(|o| OrderStatus::parse(&o.status)) {
                Some(s) => s,
                None => return Ok(Outcome::Unchanged),
            }
        };
        // The checks below only skip needless writes; the use cases decide
        // under the order's lock, and a delivery racing another (the state
        // moved in between) is simply unchanged, never an error to the sender.
        let settled = |r: Result<_, Error>, done: Outcome| match r {
            Ok(_) => Ok(done),
            Err(Error::Transition(_) | Error::Conflict(_)) => Ok(Outcome::Unchanged),
            Err(e) => Err(e),
        };
        if status == OrderStatus::Cancelled {
            if ours.transition(OrderStatus::Cancelled).is_err() {
                return Ok(Outcome::Unchanged);
            }
            return settled(
                self.cancel_order_from_channel(id, &format!("cancelled on {channel}")).await,
                Outcome::Cancelled,
            );
        }
        if ours == OrderStatus::PendingPayment && payment == "paid" {
            return settled(self.mark_paid(id).await, Outcome::Paid);
        }
        Ok(Outcome::Unchanged)
    }
}
