//! Allocation, the step every use case that places stock shares (taking an
//! order, paying after a lapsed hold, re-routing, a person's retry): read
//! the snapshot routing needs, ask the core (the active routing policy, or
//! the built-in allocator for a person's override), reserve what it
//! decided, record the decision.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use switchyard_core::allocation::{AllocationPlan, AllocationRequest, CandidateLocation, LineRequest};
use switchyard_core::availability::Availability;
use switchyard_core::lifecycle::{Placement, Routed};
use switchyard_core::routing::{
    route, Decision, Destination, Outcome, Policy, RoutingInput, RoutingLine, RoutingLocation,
};
use switchyard_core::{
    allocate, ChannelName, ExceptionKind, Location, LocationCode, Money, PaymentState, ServiceLevel, ShipTo, Sku,
};
use switchyard_store::{catalog, orders, routing, stock, Tx};

use crate::policy_cache::CatalogView;
use crate::{Ctx, Error, StoreError};

/// A line to allocate: `units` of line `line_no`'s SKU.
#[derive(Debug, Clone)]
pub(crate) struct Want {
    pub line_no: i64,
    pub sku: Sku,
    pub units: i64,
}

/// What routing needs to know about the order.
pub(crate) struct Facts<'a> {
    pub channel: ChannelName,
    pub value: Money,
    pub ship_to: &'a ShipTo,
    pub service_level: ServiceLevel,
    pub pickup_location: Option<&'a LocationCode>,
    /// Positions this routing must not draw on (a store could not find the
    /// item there).
    pub avoid: Vec<(Sku, LocationCode)>,
    /// The catalogue as the caller already read it in this command (saves
    /// reading its version again); `None`: read it.
    pub catalog: Option<CatalogView>,
    /// The order is paid: units placed at a dropship vendor get their
    /// purchase order now (an unpaid order's wait for its payment).
    pub paid: bool,
}

impl<'a> Facts<'a> {
    /// The facts of a stored, locked order.
    pub fn of_order(
        stored: &'a orders::OrderFacts,
        order: &'a orders::LockedOrder,
        avoid: Vec<(Sku, LocationCode)>,
    ) -> Facts<'a> {
        Facts {
            channel: stored.channel.clone(),
            value: stored.value,
            ship_to: &stored.ship_to,
            service_level: order.service_level,
            pickup_location: order.pickup_location.as_ref(),
            avoid,
            catalog: None,
            paid: order.payment == PaymentState::Paid,
        }
    }
}

/// Who decides an allocation.
#[derive(Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// The active routing policy (the shadow policy is recorded beside it).
    Policy,
    /// A person's override: the built-in allocator, ignoring the policy's
    /// rules (never availability), optionally at one location only.
    Override(Option<&'a LocationCode>),
}

type Versioned = (Option<i64>, Arc<Policy>);

/// The active policy (the built-in default when none is) and the shadow
/// policy, if one runs.
pub(crate) async fn policies_in_force(tx: &mut Tx, ctx: &Ctx) -> Result<(Versioned, Option<Versioned>), Error> {
    let view = catalog_view(tx, ctx).await?;
    let mut active = (None, ctx.policies.default_policy());
    let mut shadow = None;
    for &(version, is_active) in view.in_force.iter() {
        let policy = match ctx.policies.get(version) {
            Some(p) => p,
            None => {
                let Some(body) = routing::policy_body(tx, version).await? else { continue };
                match Policy::from_toml(&body) {
                    Ok(p) => ctx.policies.put(version, p),
                    Err(e) => {
                        // Activation validates, so only a hand-edited row gets here.
                        tracing::error!(version, error = %e, "stored routing policy does not parse; using the default");
                        continue;
                    }
                }
            }
        };
        if is_active {
            active = (Some(version), policy);
        } else {
            shadow = Some((Some(version), policy));
        }
    }
    Ok((active, shadow))
}

/// The policy versions in force and the locations, as of the catalogue's
/// current version: read again only when that version moved (one tiny row
/// read per allocation instead of every location and policy row).
pub(crate) async fn catalog_view(tx: &mut Tx, ctx: &Ctx) -> Result<CatalogView, Error> {
    let version = catalog::version(tx).await?;
    if let Some(view) = ctx.catalog.get(version) {
        return Ok(view);
    }
    let view = CatalogView::new(
        version,
        routing::in_force(tx).await?,
        catalog::list_locations(tx).await?,
        catalog::list_channels(tx).await?,
    );
    ctx.catalog.put(view.clone());
    Ok(view)
}

/// Reads everything a routing decision needs: the lines' SKUs (bundles
/// expanded, tags), the positions they may draw on — locked in key order
/// when `lock` — the catalogue (locations) and, when asked, today's order
/// counts.
pub(crate) async fn build_input(
    tx: &mut Tx,
    ctx: &Ctx,
    wants: &[Want],
    facts: &Facts<'_>,
    lock: bool,
    with_counts: bool,
    now_ms: i64,
) -> Result<(RoutingInput, CatalogView), Error> {
    let skus: Vec<&str> = wants.iter().map(|w| w.sku.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    let view = match &facts.catalog {
        Some(view) => view.clone(),
        None => catalog_view(tx, ctx).await?,
    };
    let known = match view.sku_facts(&skus) {
        Some(known) => known,
        None => {
            let known = catalog::sku_facts(tx, &skus).await?;
            view.remember_sku_facts(&known);
            known
        }
    };
    if let Some(unknown) = skus.iter().find(|s| !known.contains_key(**s)) {
        return Err(Error::UnknownSku((*unknown).to_owned()));
    }
    let bundles: Vec<&str> = skus.iter().copied().filter(|s| known.get(*s).is_some_and(|k| k.is_bundle)).collect();
    let mut components: BTreeMap<String, Vec<(Sku, i64)>> = BTreeMap::new();
    let mut component_tags: BTreeMap<Sku, Vec<String>> = BTreeMap::new();
    for c in catalog::components_of(tx, &bundles).await? {
        component_tags.insert(c.component.clone(), c.tags);
        components.entry(c.bundle).or_default().push((c.component, c.quantity));
    }
    let lines: Vec<RoutingLine> = wants
        .iter()
        .map(|w| {
            let f = known.get(w.sku.as_str());
            RoutingLine {
                sku: w.sku.clone(),
                quantity: w.units,
                units: components.get(w.sku.as_str()).cloned().unwrap_or_else(|| vec![(w.sku.clone(), 1)]),
                tags: f.map_or_else(Vec::new, |f| f.tags.clone()),
                may_backorder: f.is_some_and(|f| f.allow_backorder),
            }
        })
        .collect();
    let unit_skus: BTreeSet<&str> = lines.iter().flat_map(|l| l.units.iter().map(|(s, _)| s.as_str())).collect();
    let unit_skus: Vec<&str> = unit_skus.into_iter().collect();
    let stock = stock::positions_of(tx, &unit_skus, lock).await?;
    let locations = &view.locations;
    if let Some(p) = facts.pickup_location {
        if !locations.iter().any(|l| &l.code == p) {
            return Err(Error::UnknownLocation(p.to_string()));
        }
    }
    let counts = if with_counts { day_counts(tx, locations, now_ms).await? } else { BTreeMap::new() };
    let input = RoutingInput {
        lines,
        order_value: facts.value,
        channel: facts.channel.clone(),
        service_level: facts.service_level,
        ship_to: Destination {
            lat: facts.ship_to.lat,
            lon: facts.ship_to.lon,
            postal_code: facts.ship_to.postal_code.clone(),
            region: facts.ship_to.region.clone(),
            country: facts.ship_to.country.clone(),
        },
        pickup_location: facts.pickup_location.cloned(),
        locations: locations.iter().map(|l| routing_location(l, &counts)).collect(),
        component_tags,
        stock,
        avoid: facts.avoid.clone(),
    };
    Ok((input, view))
}

fn routing_location(l: &Location, counts: &BTreeMap<LocationCode, u32>) -> RoutingLocation {
    RoutingLocation::from_location(l, counts.get(&l.code).copied().unwrap_or(0))
}

/// Orders routed today (each location's local day) per location.
async fn day_counts(tx: &mut Tx, locations: &[Location], now_ms: i64) -> Result<BTreeMap<LocationCode, u32>, Error> {
    let days: BTreeMap<&LocationCode, String> =
        locations.iter().map(|l| (&l.code, switchyard_store::local_date(&l.timezone, now_ms))).collect();
    let distinct: Vec<&str> = days.values().map(String::as_str).collect::<BTreeSet<_>>().into_iter().collect();
    let mut counts = BTreeMap::new();
    for (location, day, orders) in routing::day_counts(tx, &distinct).await? {
        if let Some((code, _)) = days.iter().find(|(c, d)| c.as_str() == location && **d == day) {
            counts.insert((*code).clone(), u32::try_from(orders).unwrap_or(u32::MAX));
        }
    }
    Ok(counts)
}

/// Decides where `wants` come from and reserves it. The stock rows read are
/// locked until commit.
pub(crate) async fn allocate_and_reserve(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    wants: &[Want],
    facts: &Facts<'_>,
    mode: Mode<'_>,
    now_ms: i64,
) -> Result<Routed, Error> {
    Ok(allocate_measured(tx, ctx, order_id, wants, facts, mode, true, now_ms).await?.0)
}

/// What a line met and got at its first routing (intake records it).
pub(crate) struct LineOutcome {
    /// The line's SKU's available-to-promise over every location (a bundle:
    /// the kits its components make) just before anything was reserved: the
    /// stockout fact.
    pub atp: i64,
    /// Units not allocated.
    pub unfilled: i64,
    /// Units allocated, by location, in the order they were written.
    pub allocations: Vec<(LocationCode, i64)>,
}

/// [`allocate_and_reserve`], also returning each line's [`LineOutcome`] (in
/// the order of `wants`). With `stored_lines` false the order's lines are
/// not written yet (intake inserts them afterwards, with these outcomes),
/// so their unfilled units are not updated here.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn allocate_measured(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    wants: &[Want],
    facts: &Facts<'_>,
    mode: Mode<'_>,
    stored_lines: bool,
    now_ms: i64,
) -> Result<(Routed, Vec<LineOutcome>), Error> {
    let policies = match mode {
        Mode::Policy => Some(policies_in_force(tx, ctx).await?),
        Mode::Override(_) => None,
    };
    let with_counts = policies.as_ref().is_some_and(|(active, shadow)| {
        !active.1.eligibility.daily_capacity.is_empty()
            || shadow.as_ref().is_some_and(|s| !s.1.eligibility.daily_capacity.is_empty())
    });
    let (input, view) = build_input(tx, ctx, wants, facts, true, with_counts, now_ms).await?;
    let locations = view.locations.clone();
    let atp: Vec<i64> =
        input.lines.iter().map(|l| Availability::of_bundle(l.units.clone(), &input.stock).available).collect();
    let snapshot = input.stock.clone();
    let (plan, decided) = match (mode, policies) {
        (Mode::Policy, Some((active, shadow))) => {
            let decision = route(&input, &active.1, now_ms);
            let explanation = decision.explain();
            record(tx, order_id, active.0, false, &decision, &explanation, now_ms).await?;
            if let Some((version, policy)) = &shadow {
                let s = route(&input, policy, now_ms);
                record(tx, order_id, *version, true, &s, &s.explain(), now_ms).await?;
            }
            (decision.plan.clone(), Some((decision, explanation)))
        }
        (mode, _) => {
            let only = match mode {
                Mode::Override(o) => o,
                Mode::Policy => None,
            };
            (override_plan(input, &locations, facts, only)?, None)
        }
    };
    // Per line, the unfilled units the routing held for a person rather than
    // backordered (the timeline must not call those backordered).
    let held_units: Vec<i64> = match &decided {
        Some((decision, _)) => decision.lines.iter().map(|l| l.held_units).collect(),
        None => vec![],
    };
    let held = &held_units;
    let placements =
        reserve(tx, order_id, wants, &plan, held, snapshot, stored_lines, view.pushes_stock(), now_ms).await?;
    count_routed(tx, order_id, &locations, &plan, now_ms).await?;
    // Units placed at a dropship vendor get a purchase order (decided from
    // the locations in memory: no statement when none is a vendor) once the
    // order is paid: a vendor never ships what nobody paid for.
    if facts.paid {
        crate::dropship::issue_for_plan(tx, ctx, order_id, wants, &plan, &locations, now_ms).await?;
    }
    let unfilled: i64 = plan.lines.iter().map(|l| l.backordered).sum();
    let atp: Vec<LineOutcome> = wants
        .iter()
        .enumerate()
        .map(|(i, w)| LineOutcome {
            atp: atp.get(i).copied().unwrap_or(0),
            // The plan has a line per want; none would mean nothing placed.
            unfilled: plan.lines.get(i).map_or(w.units, |l| l.backordered),
            allocations: plan.lines.get(i).map_or_else(Vec::new, |l| l.allocations.clone()),
        })
        .collect();
    let Some((decision, explanation)) = decided else {
        return Ok((Routed { unfilled, backordered: unfilled, held: None, placements, explanation: None }, atp));
    };
    let held = match &decision.outcome {
        Outcome::Held { exception, auto_cancel_at_ms, .. } => {
            if let Some(at) = auto_cancel_at_ms {
                // The sweeper cancels it then, if it is still held.
                orders::set_auto_cancel(tx, order_id, Some(*at)).await?;
            }
            let kind = ExceptionKind::parse(exception.as_str()).unwrap_or(ExceptionKind::Unroutable);
            Some((kind, explanation.clone()))
        }
        _ => None,
    };
    let backordered = decision.lines.iter().map(|l| l.backordered_units).sum();
    Ok((Routed { unfilled, backordered, held, placements, explanation: Some(explanation) }, atp))
}

/// A person's override: the built-in allocator over every location, or
/// one location only.
fn override_plan(
    input: RoutingInput,
    locations: &[Location],
    facts: &Facts<'_>,
    only: Option<&LocationCode>,
) -> Result<AllocationPlan, Error> {
    let candidate = |l: &Location| CandidateLocation {
        code: l.code.clone(),
        priority: l.priority,
        can_ship: l.can_ship,
        can_pickup: l.can_pickup,
        active: l.active,
    };
    let mut refusal = None;
    if let Some(o) = only {
        let Some(l) = locations.iter().find(|l| &l.code == o) else {
            return Err(Error::UnknownLocation(o.to_string()));
        };
        refusal = candidate(l).refusal(facts.service_level, facts.pickup_location);
    }
    let wanted: i64 = input.lines.iter().map(|l| l.quantity).sum();
    let request = AllocationRequest {
        lines: input
            .lines
            .iter()
            .map(|l| LineRequest { sku: l.sku.clone(), quantity: l.quantity, units: l.units.clone() })
            .collect(),
        service_level: facts.service_level,
        pickup_location: facts.pickup_location.cloned(),
        locations: locations.iter().filter(|l| only.is_none_or(|o| o == &l.code)).map(candidate).collect(),
        stock: input.stock.into_iter().filter(|(key, _)| !input.avoid.contains(key)).collect(),
    };
    let plan = allocate(&request);
    let unfilled: i64 = plan.lines.iter().map(|l| l.backordered).sum();
    if let (Some(o), true) = (only, unfilled > 0) {
        // A person chose this location: one that cannot fill what is left is
        // refused with the reason, changing nothing (issue 7: it answered 200
        // and left the exception open).
        let why = refusal.unwrap_or_else(|| {
            format!("it has only {} of the {wanted} unit(s) still to allocate available", wanted - unfilled)
        });
        return Err(Error::Conflict(format!("{o} cannot fill the order: {why}; nothing was changed")));
    }
    Ok(plan)
}

/// Carries out a plan: each reservation through `Position::reserve`, its
/// ledger row and reservation row; each line's allocations and (when its
/// line is stored) unfilled units; one stock-level message per SKU touched
/// when a connection is told stock levels (`pushes_stock`).
#[allow(clippy::too_many_arguments)]
async fn reserve(
    tx: &mut Tx,
    order_id: &str,
    wants: &[Want],
    plan: &AllocationPlan,
    held_units: &[i64],
    mut positions: BTreeMap<(Sku, LocationCode), switchyard_core::Position>,
    stored_lines: bool,
    pushes_stock: bool,
    now_ms: i64,
) -> Result<Vec<Placement>, Error> {
    for r in &plan.reservations {
        let key = (r.sku.clone(), r.location.clone());
        // The plan only draws on positions of the snapshot it was made from.
        let pos = positions.get(&key).copied().ok_or_else(|| {
            StoreError::corrupt(format!("the plan reserves {}@{} outside its snapshot", r.sku, r.location))
        })?;
        let d = pos.reserve(r.quantity)?;
        positions.insert(key, pos.apply(&d));
        let line_no = wants.get(r.line).map_or(0, |w| w.line_no);
        stock::apply_delta(tx, r.sku.as_str(), r.location.as_str(), &d, "order", Some(order_id), now_ms).await?;
        orders::add_reservation(tx, order_id, line_no, r.sku.as_str(), r.location.as_str(), r.per_unit, r.quantity)
            .await?;
    }
    let mut placements = Vec::new();
    for (i, (line, w)) in plan.lines.iter().zip(wants).enumerate() {
        for (loc, n) in &line.allocations {
            orders::add_allocation(tx, order_id, w.line_no, loc.as_str(), *n).await?;
            placements.push(Placement::Placed { units: *n, sku: w.sku.to_string(), location: loc.to_string() });
        }
        if stored_lines {
            orders::set_unfilled(tx, order_id, w.line_no, line.backordered).await?;
        }
        let held = held_units.get(i).copied().unwrap_or(0).clamp(0, line.backordered.max(0));
        if line.backordered - held > 0 {
            placements.push(Placement::Short { units: line.backordered - held, sku: w.sku.to_string() });
        }
        if held > 0 {
            placements.push(Placement::Held { units: held, sku: w.sku.to_string() });
        }
    }
    if pushes_stock {
        crate::outbox::enqueue_atp_changed(tx, plan.reservations.iter().map(|r| r.sku.as_str()), now_ms).await?;
    }
    Ok(placements)
}

/// Counts the order once at each location it was routed to (daily capacity).
/// The counter is sharded by the order's id, so concurrent orders to one
/// location rarely wait on each other's row lock (PostgreSQL).
async fn count_routed(
    tx: &mut Tx,
    order_id: &str,
    locations: &[Location],
    plan: &AllocationPlan,
    now_ms: i64,
) -> Result<(), Error> {
    let used: BTreeSet<&LocationCode> = plan.lines.iter().flat_map(|l| l.allocations.iter().map(|(c, _)| c)).collect();
    let shard = order_id.bytes().fold(0_i64, |h, b| (h * 31 + i64::from(b)) % 1_000_003);
    for code in used {
        let tz = locations.iter().find(|l| &l.code == code).map_or("UTC", |l| l.timezone.as_str());
        routing::count_routed(tx, code.as_str(), &switchyard_store::local_date(tz, now_ms), shard).await?;
    }
    Ok(())
}

/// Records a decision with its policy version, outcome, explanation and trace.
async fn record(
    tx: &mut Tx,
    order_id: &str,
    version: Option<i64>,
    shadow: bool,
    decision: &Decision,
    explanation: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let trace = serde_json::to_string(decision).map_err(|e| Error::Store(StoreError::corrupt(e)))?;
    routing::insert_decision(tx, order_id, version, shadow, decision.outcome.as_str(), explanation, &trace, now_ms)
        .await?;
    Ok(())
}
