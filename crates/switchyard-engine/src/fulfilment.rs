//! Fulfilment by store staff (issue 9, item 0): a location's pick list,
//! the steps recorded per (order, location) — picked, packed — with the
//! core's rules (`switchyard_core::fulfilment`), a shipped order delivered
//! (`completed`), a short pick (the existing reject path, reason
//! `short_pick`), and the sweeper's uncollected pickups. Shipping, ready for
//! pickup and picked up are the existing use cases (`orders::ship`,
//! `pickup`), which keep the recorded step in line.

use std::collections::BTreeMap;

use switchyard_core::fulfilment::{
    advance, may_ship, offered, pick_order, uncollected as is_uncollected, PickStep, StepAction, StepFacts, PICK_GROUPS,
};
use switchyard_core::lifecycle;
use switchyard_core::{ExceptionKind, LocationCode, NewShipment, OrderStatus, ShipmentDraft, Text, TextRule};
use switchyard_store::fulfilment::{self as store, PickList, PickOrder};
use switchyard_store::{catalog, exceptions as stored_exceptions, orders, rfc3339, Tx};

use crate::{exceptions, Ctx, Engine, Error};

/// The most orders one pick list shows.
pub const PICK_LIST_LIMIT: usize = 200;
/// How many uncollected pickups one sweep flags.
const SWEEP_LIMIT: i64 = 500;

fn not_found(id: &str) -> Error {
    Error::NotFound { what: "order", key: id.to_owned() }
}

/// Records a step (`Pick` or `Pack`) of an order at a location, when the
/// core's rules allow it, with a timeline event naming who did it.
pub(crate) async fn step(
    tx: &mut Tx,
    id: &str,
    location: &LocationCode,
    action: StepAction,
    actor: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    if !catalog::location_exists(tx, location).await? {
        return Err(Error::UnknownLocation(location.to_string()));
    }
    let loc = location.as_str();
    let open_units: i64 = orders::open_at(tx, id, loc).await?.iter().map(|(_, _, _, units)| units).sum();
    let recorded = store::step_at(tx, id, loc).await?.map(|(s, _)| s);
    let facts = StepFacts { status: order.status, level: order.service_level, recorded, open_units, location: loc };
    let next = advance(&facts, action)?;
    store::set_step(tx, id, loc, next, now_ms).await?;
    let what = if next == PickStep::Packed { "Packed" } else { "Picked" };
    orders::event(tx, id, now_ms, next.as_str(), &format!("{what} at {loc} by {actor}")).await?;
    Ok(())
}

/// Ships everything open at the draft's location, once the order was
/// packed there (the Store page's one-tap ship): the lines are read in the
/// transaction, then the existing shipment use case runs.
pub(crate) async fn ship_at(tx: &mut Tx, ctx: &Ctx, id: &str, draft: &ShipmentDraft, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let location = LocationCode::parse(&draft.location)?;
    if !catalog::location_exists(tx, &location).await? {
        return Err(Error::UnknownLocation(location.to_string()));
    }
    let loc = location.as_str();
    let open: Vec<(i64, i64, String, i64)> =
        orders::open_at(tx, id, loc).await?.into_iter().filter(|(_, _, _, units)| *units > 0).collect();
    let open_units = open.iter().map(|(_, _, _, units)| units).sum();
    let recorded = store::step_at(tx, id, loc).await?.map(|(s, _)| s);
    may_ship(&StepFacts { status: order.status, level: order.service_level, recorded, open_units, location: loc })?;
    let mut units: BTreeMap<String, i64> = BTreeMap::new();
    for (_, _, sku, n) in open {
        *units.entry(sku).or_default() += n;
    }
    let shipment = NewShipment::parse(ShipmentDraft { lines: units.into_iter().collect(), ..draft.clone() })?;
    crate::orders::ship(tx, ctx, id, &shipment, now_ms).await
}

/// The carrier delivered a shipped order: `completed` (the core's
/// `on_delivered` decides; a partial shipment is refused).
pub(crate) async fn delivered(tx: &mut Tx, ctx: &Ctx, id: &str, now_ms: i64) -> Result<(), Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let fx = lifecycle::on_delivered(order.status)?;
    if let Some(next) = fx.status {
        orders::set_status(tx, id, next, now_ms).await?;
    }
    exceptions::apply(tx, ctx, id, &fx, now_ms).await
}

/// Opens the `pickup_uncollected` exception of an order ready at
/// `location` for `days` days or more (once: a dismissed one is not opened
/// again); false when it was collected, cancelled or flagged meanwhile.
pub(crate) async fn flag_uncollected(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    location: &str,
    days: i64,
    now_ms: i64,
) -> Result<bool, Error> {
    let order = orders::lock(tx, id).await?.ok_or_else(|| not_found(id))?;
    let Some((PickStep::ReadyForPickup, ready_at)) = store::step_at(tx, id, location).await? else {
        return Ok(false);
    };
    if !is_uncollected(order.status, ready_at, now_ms, days) {
        return Ok(false);
    }
    let already = stored_exceptions::ever_of_kind(tx, id, ExceptionKind::PickupUncollected).await?;
    let fx = lifecycle::on_uncollected(location, days, already);
    if fx.open.is_empty() {
        return Ok(false);
    }
    exceptions::apply(tx, ctx, id, &fx, now_ms).await?;
    Ok(true)
}

/// A location's pick list: orders that may be fulfilled now with units
/// open there, in the core's order (same-day and pickup, expedited,
/// standard; oldest first), each with its step and what may follow.
pub(crate) async fn pick_list(tx: &mut Tx, location: &LocationCode, limit: usize) -> Result<PickList, Error> {
    let loc = location.as_str();
    let statuses: Vec<OrderStatus> = OrderStatus::ALL.into_iter().filter(|s| s.can_ship()).collect();
    // One bounded read per group, most urgent first: a long list of
    // standard orders never pushes a same-day order off the page.
    let mut found = Vec::new();
    for group in PICK_GROUPS {
        let left = (limit + 1).saturating_sub(found.len());
        if left == 0 {
            break;
        }
        found.extend(store::candidates(tx, loc, &statuses, group, left as i64).await?);
    }
    found.sort_by(|a, b| {
        pick_order((a.service_level, a.created_at, &a.order_id), (b.service_level, b.created_at, &b.order_id))
    });
    let more = found.len() > limit;
    found.truncate(limit);
    let ids: Vec<String> = found.iter().map(|c| c.order_id.clone()).collect();
    let mut lines: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (order_id, line) in store::open_lines(tx, loc, &ids).await? {
        lines.entry(order_id).or_default().push(line);
    }
    let orders = found
        .into_iter()
        .map(|c| {
            let step = PickStep::current(c.status, c.step);
            PickOrder {
                lines: lines.remove(&c.order_id).unwrap_or_else(Vec::new),
                actions: offered(c.status, c.service_level, step).iter().map(|a| a.as_str().to_owned()).collect(),
                step: step.as_str().to_owned(),
                status: c.status.as_str().to_owned(),
                service_level: c.service_level.as_str().to_owned(),
                created_at: rfc3339(c.created_at),
                id: c.order_id,
                external_id: c.external_id,
                channel: c.channel,
            }
        })
        .collect();
    Ok(PickList { location: loc.to_owned(), orders, more })
}

impl Engine {
    /// A location's pick list (at most [`PICK_LIST_LIMIT`] orders).
    pub async fn pick_list(&self, location: &LocationCode) -> Result<PickList, Error> {
        let mut tx = self.read().await?;
        if !catalog::location_exists(&mut tx, location).await? {
            return Err(Error::NotFound { what: "location", key: location.to_string() });
        }
        let list = pick_list(&mut tx, location, PICK_LIST_LIMIT).await?;
        tx.rollback().await?;
        Ok(list)
    }

    /// Staff picked the order's units at `location`.
    pub async fn mark_picked(
        &self,
        id: &str,
        location: &LocationCode,
        by: &str,
    ) -> Result<switchyard_store::OrderView, Error> {
        self.step(id, location, StepAction::Pick, by).await
    }

    /// Staff packed the order's units at `location` (after picking them).
    pub async fn mark_packed(
        &self,
        id: &str,
        location: &LocationCode,
        by: &str,
    ) -> Result<switchyard_store::OrderView, Error> {
        self.step(id, location, StepAction::Pack, by).await
    }

    async fn step(
        &self,
        id: &str,
        location: &LocationCode,
        action: StepAction,
        by: &str,
    ) -> Result<switchyard_store::OrderView, Error> {
        let by = Text::parse("by", by, TextRule::NAME)?.into_string();
        let (now, i, loc) = (self.now_ms(), id.to_owned(), location.clone());
        self.run(move |tx, _| Box::pin(async move { step(tx, &i, &loc, action, &by, now).await })).await?;
        self.must_get(id).await
    }

    /// Ships everything open at `draft.location` (its `lines` are ignored:
    /// they are read in the transaction) once the order was packed there;
    /// carrier, tracking and tracking URL as the draft says.
    pub async fn ship_packed(&self, id: &str, draft: &ShipmentDraft) -> Result<switchyard_store::OrderView, Error> {
        let (now, i, d) = (self.now_ms(), id.to_owned(), draft.clone());
        self.run(move |tx, ctx| Box::pin(async move { ship_at(tx, ctx, &i, &d, now).await })).await?;
        self.must_get(id).await
    }

    /// The carrier delivered a shipped order: `completed`.
    pub async fn mark_delivered(&self, id: &str) -> Result<switchyard_store::OrderView, Error> {
        let (now, i) = (self.now_ms(), id.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { delivered(tx, ctx, &i, now).await })).await?;
        self.must_get(id).await
    }

    /// "Can't find it" on a pick list: the line's allocation at `location`
    /// is rejected and re-routed through the reject path, reason
    /// `short_pick`.
    pub async fn short_pick(
        &self,
        id: &str,
        line: i64,
        location: &LocationCode,
        by: &str,
    ) -> Result<switchyard_store::OrderView, Error> {
        self.reroute(id, Some((line, location)), by, "short_pick").await
    }

    /// Opens a `pickup_uncollected` exception on orders ready for pickup
    /// longer than the active routing policy's
    /// `service_levels.pickup_uncollected_days` (each its own transaction);
    /// returns their ids.
    pub async fn flag_uncollected_pickups(&self) -> Result<Vec<String>, Error> {
        let now = self.now_ms();
        let mut tx = self.read().await?;
        let ((_, policy), _) = crate::allocate::policies_in_force(&mut tx, &self.ctx).await?;
        let days = policy.service_levels.pickup_uncollected_days;
        let before = now.saturating_sub(days.saturating_mul(switchyard_core::fulfilment::DAY_MS));
        let (step, status, kind) =
            (PickStep::ReadyForPickup, OrderStatus::ReadyForPickup, ExceptionKind::PickupUncollected);
        let due = store::reached_before(&mut tx, step, status, before, kind, SWEEP_LIMIT).await?;
        tx.rollback().await?;
        let mut flagged = Vec::new();
        for (id, location, _) in due {
            let i = id.clone();
            let changed = self
                .run(move |tx, ctx| Box::pin(async move { flag_uncollected(tx, ctx, &i, &location, days, now).await }))
                .await?;
            if changed {
                flagged.push(id);
            }
        }
        Ok(flagged)
    }
}
