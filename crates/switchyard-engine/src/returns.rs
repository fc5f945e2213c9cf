//! Returns: return policy versions, and a return's way through the
//! workflow — requested (decided by the policy), a person's override,
//! received and graded (resellable units restocked), refunded. Each use
//! case runs in the transaction its caller opened; every status change goes
//! through the core's state machine (`ReturnStatus::transition`) and is an
//! entry on the return's timeline.
//!
//! The request is built from the stored order: its channel and currency,
//! each line's units shipped (its allocations' `shipped`) and those held by
//! earlier returns, the SKUs' catalogue tags, and the time of the order's
//! latest shipment. **There is no delivery tracking yet**: an order handed
//! over in person (`completed`: picked up at the counter, a counter sale)
//! was delivered when its last units were handed over; for any other the
//! decision is given the shipment time only — within the window from
//! shipment it is within; past it, the core sends the request to review
//! (the delivery may have been late enough) instead of rejecting it.
//!
//! A return the policy does not approve (rejected, or needing review) opens
//! a `return_out_of_policy` exception on its order, which a person resolves
//! by approving or rejecting the return (who and why logged). The return
//! goes to the location that shipped it (`returns::destination`); its
//! resellable units are restocked there with a `return_restock` ledger
//! entry and an `atp_changed` message for the channels.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchyard_core::returns::{
    assign_receipt, choose_destination, decide, looks_like_rma, rma, rma_day, DestinationChoice, DestinationFacts,
    ExpectedLine, NewReturn, OrderForReturn, Receipt, ReturnDecision, ReturnDestination, ReturnPolicy, ReturnReason,
    ReturnRequestError, ReturnStatus, ReturnableLine,
};
use switchyard_core::routing::geo::Coordinates;
use switchyard_core::{
    ChannelName, Currency, ExceptionKind, ExceptionStatus, LocationCode, Money, OrderStatus, Resolution,
    ResolutionAction, ShipTo, Sku, Text, TextRule,
};
use switchyard_store::return_views::{self, ReturnFilter, ReturnPolicyRecord, ReturnView};
use switchyard_store::returns::{self, LockedReturn, NewReceipt, NewReturnRow};
use switchyard_store::{catalog, exceptions, orders, stock, Tx};

use crate::{Ctx, Engine, Error, StoreError};

/// Who acts for the policy's own steps.
const SYSTEM: &str = "system";

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::corrupt(what.to_string()))
}

// ------------------------------------------------------- policy versions

/// Saves a return policy text (validated) as a new, inactive version.
pub(crate) async fn save_policy(tx: &mut Tx, body: &str, note: &str, by: &str, now_ms: i64) -> Result<i64, Error> {
    checked_policy(tx, body).await?;
    Ok(returns::insert_policy(tx, body, note, by, now_ms).await?)
}

/// Makes a saved version the one in force, after validating it again.
pub(crate) async fn activate_policy(tx: &mut Tx, version: i64, by: &str, now_ms: i64) -> Result<(), Error> {
    let body = returns::lock_policy_body(tx, version)
        .await?
        .ok_or_else(|| Error::NotFound { what: "return policy", key: version.to_string() })?;
    checked_policy(tx, &body).await?;
    returns::set_active(tx, version, by, now_ms).await?;
    Ok(())
}

/// A policy text parsed and checked, the catalogue included: a returns hub
/// must be a location it knows (a line-numbered `invalid_policy` error).
async fn checked_policy(tx: &mut Tx, body: &str) -> Result<ReturnPolicy, Error> {
    let policy = ReturnPolicy::from_toml(body)?;
    if let ReturnDestination::Hub(hub) = &policy.destination {
        let known = catalog::location_exists(tx, hub).await?;
        policy.check_locations(|_| known, Some(body))?;
    }
    Ok(policy)
}

/// The policy in force: the active version (checked when it was
/// activated), or `ReturnPolicy::default()` when none is.
async fn policy_in_force(tx: &mut Tx) -> Result<(Option<i64>, ReturnPolicy), Error> {
    match returns::active_policy_body(tx).await? {
        None => Ok((None, ReturnPolicy::default())),
        Some((version, body)) => {
            let policy = ReturnPolicy::from_toml(&body)
                .map_err(|e| corrupt(format!("the active return policy {version} no longer parses: {e}")))?;
            Ok((Some(version), policy))
        }
    }
}

// --------------------------------------------------------------- request

/// Finds a return by id or RMA number and locks it.
async fn locate(tx: &mut Tx, key: &str) -> Result<LockedReturn, Error> {
    let not_found = || Error::NotFound { what: "return", key: key.to_owned() };
    let id = if looks_like_rma(key) {
        returns::id_by_rma(tx, &key.trim().to_ascii_uppercase()).await?.ok_or_else(not_found)?
    } else {
        key.to_owned()
    };
    returns::lock(tx, &id).await?.ok_or_else(not_found)
}

/// What the decision needs from the stored order: lines with units shipped
/// and units held by its other returns (all but `except`), tags, times.
pub(crate) async fn order_for_return(
    tx: &mut Tx,
    order_id: &str,
    status: OrderStatus,
    channel: ChannelName,
    currency: Currency,
    except: Option<&str>,
) -> Result<OrderForReturn, Error> {
    let shipped = returns::shipped_lines(tx, order_id).await?;
    let mut held: BTreeMap<i64, i64> = BTreeMap::new();
    for l in returns::lines_of_order_returns(tx, order_id).await? {
        if Some(l.return_id.as_str()) != except && l.status.holds_units(l.authorized) {
            *held.entry(l.line_no).or_default() += l.quantity;
        }
    }
    let skus: Vec<&str> = shipped.iter().map(|l| l.sku.as_str()).collect();
    let facts = catalog::sku_facts(tx, &skus).await?;
    let mut lines = Vec::with_capacity(shipped.len());
    for l in &shipped {
        lines.push(ReturnableLine {
            line_no: l.line_no,
            sku: Sku::parse(&l.sku).map_err(|e| corrupt(format!("order {order_id} line {}: {e}", l.line_no)))?,
            // A SKU no longer in the catalogue has no tags to match.
            tags: facts.get(&l.sku).map_or_else(Vec::new, |f| f.tags.clone()),
            quantity_ordered: l.quantity,
            quantity_shipped: l.shipped,
            quantity_returned: held.get(&l.line_no).copied().unwrap_or(0),
            unit_price: Money::new(l.unit_price, currency),
        });
    }
    let shipped_at_ms = returns::last_shipped_at(tx, order_id).await?;
    // No delivery tracking yet: only a completed order (handed over in
    // person) has a known delivery time, its last hand-over.
    let delivered_at_ms = shipped_at_ms.filter(|_| status == OrderStatus::Completed);
    Ok(OrderForReturn { channel, currency, shipped_at_ms, delivered_at_ms, lines })
}

/// The canonical reason for what the customer or channel said, with the
/// channel's own vocabulary (by its name, then its kind).
async fn mapped_reason(
    tx: &mut Tx,
    policy: &ReturnPolicy,
    channel: &ChannelName,
    raw: &str,
) -> Result<ReturnReason, Error> {
    Ok(match catalog::get_channel(tx, channel).await? {
        Some(c) => policy.map_channel_reason(channel, c.kind, raw),
        None => policy.map_reason(channel.as_str(), raw),
    })
}

/// Where the return goes under the policy's `destination` rule (see
/// `switchyard_core::returns::choose_destination`): the origin, the nearest
/// location holding every returned SKU (a bundle: its components) on hand
/// by the ship-to's coordinates (or its US ZIP code's centre), or a hub.
async fn destination_of(
    tx: &mut Tx,
    policy: &ReturnPolicy,
    order_id: &str,
    ship_to: &ShipTo,
    lines: &[(i64, &Sku)],
) -> Result<DestinationChoice, Error> {
    let line_nos: Vec<i64> = lines.iter().map(|(n, _)| *n).collect();
    let mut shipped = Vec::new();
    for (code, units) in returns::shipped_from(tx, order_id, &line_nos).await? {
        shipped.push((LocationCode::parse(&code).map_err(corrupt)?, units));
    }
    let locations = catalog::list_locations(tx).await?;
    let mut stocking = Vec::new();
    if policy.destination == ReturnDestination::NearestStocking {
        let mut parts = Vec::new();
        for (_, sku) in lines {
            parts.extend(stocked_parts(tx, sku).await?.into_iter().map(|(part, _)| part));
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let positions = stock::positions_of(tx, &refs, false).await?;
        stocking = (locations.iter().map(|l| &l.code))
            .filter(|code| {
                parts.iter().all(|part| {
                    positions.iter().any(|((sku, at), p)| sku.as_str() == part.as_str() && at == *code && p.on_hand > 0)
                })
            })
            .cloned()
            .collect();
    }
    let customer = Coordinates::from_pair(ship_to.lat, ship_to.lon).or_else(|| {
        let (lat, lon) = crate::geocode::coordinates(&ship_to.country, &ship_to.postal_code)?;
        Coordinates::from_pair(Some(lat), Some(lon))
    });
    let facts =
        DestinationFacts { shipped_from: &shipped, locations: &locations, stocking: &stocking, ship_to: customer };
    choose_destination(&policy.destination, &facts)
        .ok_or_else(|| Error::Conflict("no active location can receive the return; activate one first".into()))
}

/// "2 × TEE, 1 × MUG".
fn units_text<'a>(lines: impl IntoIterator<Item = (&'a str, i64)>) -> String {
    lines.into_iter().map(|(sku, n)| format!("{n} × {sku}")).collect::<Vec<_>>().join(", ")
}

/// Takes a return request: builds the decision's request from the order,
/// decides it with the policy in force and stores the return with its
/// decision. Approved → `authorized` with an RMA; rejected → `rejected`;
/// needs review → stays `requested`; either of the last two opens a
/// `return_out_of_policy` exception. Returns the return's id.
pub(crate) async fn request(tx: &mut Tx, ctx: &Ctx, ask: &NewReturn, now_ms: i64) -> Result<String, Error> {
    let order_id = ask.order_id.as_str();
    // The order row first: two requests for one order never take the same units.
    let locked =
        orders::lock(tx, order_id).await?.ok_or_else(|| Error::NotFound { what: "order", key: order_id.to_owned() })?;
    let facts = orders::facts(tx, order_id).await?;
    let currency = facts.value.currency();
    let order = order_for_return(tx, order_id, locked.status, facts.channel.clone(), currency, None).await?;
    let (version, policy) = policy_in_force(tx).await?;
    let reason = mapped_reason(tx, &policy, &facts.channel, &ask.reason_text).await?;
    let (request, line_nos) = order.request(ask, reason)?;
    let decision = decide(&request, &policy, now_ms)?;
    let status = ReturnStatus::after_decision(decision.outcome);
    let returned: Vec<(i64, &Sku)> = line_nos.iter().copied().zip(request.lines.iter().map(|l| &l.sku)).collect();
    let choice = destination_of(tx, &policy, order_id, &facts.ship_to, &returned).await?;
    let place = choice.location.clone();
    let id = ctx.ids.next(now_ms);
    let explanation = decision.explain();
    let json = serde_json::to_string(&decision).map_err(corrupt)?;
    let row = NewReturnRow {
        id: &id,
        order_id,
        status,
        reason: reason.as_str(),
        reason_text: &ask.reason_text,
        condition: ask.condition.map(|c| c.as_str()),
        outcome: decision.outcome.as_str(),
        explanation: &explanation,
        decision: &json,
        policy_version: version,
        currency: currency.as_str(),
        money: money_of(&decision),
        refund_method: decision.refund_method.as_str(),
        shipping_paid_by: decision.shipping_paid_by.as_str(),
        destination: place.as_str(),
        created_by: &ask.by,
    };
    returns::insert(tx, &row, now_ms).await?;
    for (line, line_no) in request.lines.iter().zip(&line_nos) {
        let (units, price) = (line.quantity.as_i64(), line.unit_price.minor());
        returns::insert_line(tx, &id, *line_no, line.sku.as_str(), units, price).await?;
    }
    let what = units_text(request.lines.iter().map(|l| (l.sku.as_str(), l.quantity.as_i64())));
    let note = if ask.note.trim().is_empty() { String::new() } else { format!("; note: {}", ask.note.trim()) };
    let asked = format!("Return of {what} requested ({reason}: {:?}){note}", ask.reason_text);
    returns::event(tx, &id, now_ms, "requested", &ask.by, &asked).await?;
    let policy_name = version.map_or_else(|| "the default policy".to_owned(), |v| format!("policy version {v}"));
    let decided = format!("{explanation} ({policy_name}). {}", choice.explain());
    returns::event(tx, &id, now_ms, "decided", SYSTEM, &decided).await?;
    let label = match status {
        ReturnStatus::Authorized => {
            let rma = authorize(tx, &id, place.as_str(), SYSTEM, now_ms).await?;
            crate::exchanges::on_authorized(tx, ctx, &id, order_id, &rma, decision.refund_method, now_ms).await?;
            tell_customer(tx, Notice::ReturnAuthorized, order_id, &id, now_ms).await?;
            rma
        }
        _ => {
            ask_a_person(tx, ctx, &id, order_id, &explanation, now_ms).await?;
            id.clone()
        }
    };
    let message = format!("Return {label} requested: {what}; {explanation}");
    orders::event(tx, order_id, now_ms, "return_requested", &message).await?;
    Ok(id)
}

/// (subtotal, restocking fee, shipping fee, refund) in minor units.
fn money_of(d: &ReturnDecision) -> (i64, i64, i64, i64) {
    (d.subtotal.minor(), d.restocking_fee.minor(), d.shipping_fee.minor(), d.refund.minor())
}

/// Gives an authorized return its RMA number and notes it; returns it.
async fn authorize(tx: &mut Tx, id: &str, place: &str, actor: &str, now_ms: i64) -> Result<String, Error> {
    let seq = returns::next_rma_seq(tx, &rma_day(now_ms)).await?;
    let code = rma(now_ms, seq);
    returns::set_rma(tx, id, &code).await?;
    let message = format!("Authorized as {code}; send it to {place}");
    returns::event(tx, id, now_ms, ReturnStatus::Authorized.as_str(), actor, &message).await?;
    Ok(code)
}

/// Opens the `return_out_of_policy` exception a person answers.
async fn ask_a_person(
    tx: &mut Tx,
    ctx: &Ctx,
    id: &str,
    order_id: &str,
    explanation: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let message = format!(
        "Return {id} needs a person: {explanation}. Approve or reject it (approve_return or reject_return, \
         with who and why)."
    );
    let exception_id =
        crate::exceptions::open(tx, ctx, order_id, ExceptionKind::ReturnOutOfPolicy, &message, now_ms).await?;
    returns::set_exception(tx, id, &exception_id).await?;
    let (kind, waiting) = ("exception", format!("Waiting for a person: exception {exception_id}"));
    returns::event(tx, id, now_ms, kind, SYSTEM, &waiting).await?;
    Ok(())
}

// ---------------------------------------------------------------- review

/// A person's decision on a return the policy did not approve: approving
/// authorizes it (an override of a rejection too), rejecting rejects it or
/// upholds the rejection. Closes its exception; who and why are logged.
pub(crate) async fn review(
    tx: &mut Tx,
    ctx: &Ctx,
    key: &str,
    approve: bool,
    actor: &str,
    note: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let next = r.status.review(approve)?;
    if approve {
        still_returnable(tx, &r).await?;
    }
    let action = if approve { ResolutionAction::ApproveReturn } else { ResolutionAction::RejectReturn };
    let verb = if approve { "approved" } else { "rejected" };
    if next != r.status {
        returns::set_status(tx, &r.id, next, now_ms).await?;
    }
    let kind = if next == r.status { "rejection_upheld" } else { next.as_str() };
    returns::event(tx, &r.id, now_ms, kind, actor, &format!("{actor} {verb} the return: {note}")).await?;
    let mut label = r.rma.clone().unwrap_or_else(|| r.id.clone());
    if next == ReturnStatus::Authorized && r.rma.is_none() {
        label = authorize(tx, &r.id, &r.destination, actor, now_ms).await?;
        let method = decision_of(&r)?.refund_method;
        crate::exchanges::on_authorized(tx, ctx, &r.id, &r.order_id, &label, method, now_ms).await?;
        tell_customer(tx, Notice::ReturnAuthorized, &r.order_id, &r.id, now_ms).await?;
    }
    if let Some(exception_id) = &r.exception_id {
        let open = exceptions::lock(tx, exception_id).await?.is_some_and(|e| e.status == ExceptionStatus::Open);
        if open {
            exceptions::close(tx, exception_id, ExceptionStatus::Resolved, actor, action.as_str(), note, now_ms)
                .await?;
            exceptions::log(tx, exception_id, actor, action.as_str(), note, now_ms).await?;
        }
    }
    let message = format!("{actor} {verb} return {label} (status {next}): {note}");
    orders::event(tx, &r.order_id, now_ms, "return_reviewed", &message).await?;
    Ok(())
}

/// An approval must still fit what the order shipped: a rejected return
/// held no units, and another return may have taken them meanwhile.
async fn still_returnable(tx: &mut Tx, r: &LockedReturn) -> Result<(), Error> {
    let locked = orders::lock(tx, &r.order_id)
        .await?
        .ok_or_else(|| corrupt(format!("return {} names no order {}", r.id, r.order_id)))?;
    let facts = orders::facts(tx, &r.order_id).await?;
    let currency = facts.value.currency();
    let order = order_for_return(tx, &r.order_id, locked.status, facts.channel, currency, Some(&r.id)).await?;
    for line in returns::lines(tx, &r.id).await? {
        let room = order.returnable(line.line_no);
        if line.quantity > room {
            let sku = Sku::parse(&line.sku).map_err(corrupt)?;
            return Err(ReturnRequestError::TooMany { sku, requested: line.quantity, returnable: room }.into());
        }
    }
    Ok(())
}

/// A person's resolution of a `return_out_of_policy` exception: the
/// return's review, with the resolution's reason required.
pub(crate) async fn resolve_exception(
    tx: &mut Tx,
    ctx: &Ctx,
    exception_id: &str,
    r: &Resolution,
    actor: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let approve = match r.action {
        ResolutionAction::ApproveReturn => true,
        ResolutionAction::RejectReturn => false,
        other => return Err(Error::Conflict(format!("{} does not apply to a return", other.as_str()))),
    };
    let note = r.note.trim();
    if note.is_empty() {
        return Err(Error::Conflict("overriding a return decision needs a reason (who and why are logged)".into()));
    }
    let id = returns::id_by_exception(tx, exception_id)
        .await?
        .ok_or_else(|| corrupt(format!("exception {exception_id} is about no return")))?;
    review(tx, ctx, &id, approve, actor, note, now_ms).await
}

/// The decision stored with a return.
fn decision_of(r: &LockedReturn) -> Result<ReturnDecision, Error> {
    serde_json::from_str(&r.decision).map_err(|e| corrupt(format!("decision of return {}: {e}", r.id)))
}

// ------------------------------------------------------- receive, refund

/// Records what arrived and its grade, in one step: received → inspected
/// → dispositioned. Resellable units go back to on_hand at the return's
/// destination (a bundle: its components), each with a ledger entry, and
/// the channels are told; other grades are recorded and stay off sale.
/// Nothing is received that the return did not authorize, and a return is
/// received once.
pub(crate) async fn receive(tx: &mut Tx, ctx: &Ctx, key: &str, receipt: &Receipt, now_ms: i64) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let mut at = r.status;
    for step in ReturnStatus::RECEIPT_STEPS {
        at = at.transition(step)?;
    }
    let mut expected = Vec::new();
    for l in returns::lines(tx, &r.id).await? {
        let sku = Sku::parse(&l.sku).map_err(corrupt)?;
        expected.push(ExpectedLine { line_no: l.line_no, sku, expected: l.quantity - l.received });
    }
    let units = assign_receipt(&expected, receipt)?;
    let place = r.destination.as_str();
    // What goes back on sale, per stocked SKU, in (sku, location) lock order.
    let mut restock: BTreeMap<String, i64> = BTreeMap::new();
    for u in units.iter().filter(|u| u.grade.disposition().restocks()) {
        for (sku, per_unit) in stocked_parts(tx, &u.sku).await? {
            let n = per_unit.checked_mul(u.units).ok_or_else(|| Error::Invalid("too many units".into()))?;
            *restock.entry(sku).or_default() += n;
        }
    }
    for (sku, n) in &restock {
        stock::ensure_position(tx, sku, place, now_ms).await?;
        let pos = stock::lock_existing(tx, sku, place).await?;
        let d = pos.return_restock(*n)?;
        stock::apply_delta(tx, sku, place, &d, "return", Some(&r.order_id), now_ms).await?;
    }
    crate::outbox::atp_changed(tx, ctx, restock.keys().map(String::as_str), now_ms).await?;
    let mut graded = Vec::new();
    let mut fates = Vec::new();
    for u in &units {
        let disposition = u.grade.disposition();
        let row = NewReceipt {
            line_no: u.line_no,
            sku: u.sku.as_str(),
            grade: u.grade.as_str(),
            disposition: disposition.as_str(),
            quantity: u.units,
            location: place,
        };
        returns::receive(tx, &r.id, &row, now_ms).await?;
        graded.push(format!("{} × {} {}", u.units, u.sku, u.grade.as_str()));
        fates.push(format!("{} × {} {}", u.units, u.sku, disposition.describe(place)));
    }
    let note = if receipt.note.trim().is_empty() { String::new() } else { format!("; note: {}", receipt.note.trim()) };
    let arrived = units_text(receipt.lines.iter().map(|(sku, q, _)| (sku.as_str(), q.as_i64())));
    let steps = [
        format!("Received at {place}: {arrived}{note}"),
        format!("Graded: {}", graded.join(", ")),
        format!("Dispositioned: {}", fates.join("; ")),
    ];
    for (step, message) in ReturnStatus::RECEIPT_STEPS.iter().zip(&steps) {
        returns::event(tx, &r.id, now_ms, step.as_str(), &receipt.by, message).await?;
    }
    returns::set_status(tx, &r.id, at, now_ms).await?;
    let restocked: i64 = restock.values().sum();
    let label = r.rma.as_deref().unwrap_or(&r.id);
    let message = format!("Return {label} received at {place}: {arrived}; {restocked} unit(s) back on sale");
    orders::event(tx, &r.order_id, now_ms, "return_received", &message).await?;
    tell_customer(tx, Notice::ReturnReceived, &r.order_id, &r.id, now_ms).await?;
    Ok(())
}

/// The stocked SKUs one unit of `sku` is made of, with units per unit: a
/// bundle's components, or the SKU itself.
async fn stocked_parts(tx: &mut Tx, sku: &Sku) -> Result<Vec<(String, i64)>, Error> {
    let def = catalog::get_sku(tx, sku).await?.ok_or_else(|| Error::UnknownSku(sku.to_string()))?;
    if def.components.is_empty() {
        return Ok(vec![(sku.to_string(), 1)]);
    }
    Ok(def.components.iter().map(|c| (c.sku.to_string(), c.quantity.as_i64())).collect())
}

/// Records the refund for what came back (the decision's refund, in
/// proportion when fewer units arrived): `refunded`, or `exchanged` when
/// the refund method is an exchange. No payment provider is connected: the
/// amount is recorded for a person to pay at the channel.
pub(crate) async fn refund(
    tx: &mut Tx,
    ctx: &Ctx,
    key: &str,
    actor: &str,
    note: &str,
    now_ms: i64,
) -> Result<(), Error> {
    let r = locate(tx, key).await?;
    let decision = decision_of(&r)?;
    let next = r.status.transition(ReturnStatus::settled(decision.refund_method))?;
    if r.refunded.is_some() {
        return Err(Error::Conflict(format!("return {} was refunded already", r.id)));
    }
    let currency = decision.refund.currency();
    if currency.as_str() != r.currency {
        return Err(corrupt(format!("return {} is in {} but its decision in {currency}", r.id, r.currency)));
    }
    let mut received = Money::zero(currency);
    for l in returns::lines(tx, &r.id).await? {
        received = received.checked_add(Money::new(l.unit_price, currency).checked_mul(l.received)?)?;
    }
    let amount = decision.refund_for_received(received);
    returns::set_refunded(tx, &r.id, amount.minor(), now_ms).await?;
    returns::set_status(tx, &r.id, next, now_ms).await?;
    let method = decision.refund_method.as_str();
    let how = match next {
        ReturnStatus::Exchanged => crate::exchanges::follow_return(tx, ctx, &r, next, now_ms)
            .await?
            .unwrap_or_else(|| "no replacement order was created: create it by hand".to_owned()),
        _ => "no payment provider is connected: pay it at the channel or in your payment system".to_owned(),
    };
    let note = if note.trim().is_empty() { String::new() } else { format!("; note: {}", note.trim()) };
    let message = format!("Refund of {amount} recorded ({method}); {how}{note}");
    returns::event(tx, &r.id, now_ms, next.as_str(), actor, &message).await?;
    let label = r.rma.as_deref().unwrap_or(&r.id);
    let message = format!("Return {label} {next}: {amount} ({method}) recorded by {actor}");
    orders::event(tx, &r.order_id, now_ms, "return_refunded", &message).await?;
    tell_customer(tx, Notice::RefundIssued, &r.order_id, &r.id, now_ms).await?;
    Ok(())
}

/// What a return's customer is told of.
enum Notice {
    ReturnAuthorized,
    ReturnReceived,
    RefundIssued,
}

/// Queues the customer's notification about a return (with the change).
async fn tell_customer(tx: &mut Tx, n: Notice, order_id: &str, id: &str, now_ms: i64) -> Result<(), Error> {
    use switchyard_core::outbox::Message;
    let (order_id, return_id) = (order_id.to_owned(), id.to_owned());
    let m = match n {
        Notice::ReturnAuthorized => Message::ReturnAuthorized { order_id, return_id },
        Notice::ReturnReceived => Message::ReturnReceived { order_id, return_id },
        Notice::RefundIssued => Message::RefundIssued { order_id, return_id },
    };
    crate::notify::notice(tx, m, now_ms).await
}

// ----------------------------------------------------------------- doors

/// The return use cases and reads, as [`Engine`] methods. Text that
/// arrives as `&str` (who acts, why) is parsed here, before anything is
/// queued; a return may be named by its id or its RMA number.
impl Engine {
    /// Saves a return policy text (validated) as a new, inactive version.
    pub async fn save_return_policy(&self, body: &str, note: &str, by: &str) -> Result<ReturnPolicyRecord, Error> {
        let note = Text::parse("note", note, TextRule::NOTE)?.into_string();
        let by = crate::actor(by)?;
        let (now, body) = (self.now_ms(), body.to_owned());
        let version =
            self.run(move |tx, _| Box::pin(async move { save_policy(tx, &body, &note, &by, now).await })).await?;
        self.must_get_return_policy(version).await
    }

    /// Makes a saved version the return policy in force (validated again).
    pub async fn activate_return_policy(&self, version: i64, by: &str) -> Result<ReturnPolicyRecord, Error> {
        let (now, by) = (self.now_ms(), crate::actor(by)?);
        self.run(move |tx, _| Box::pin(async move { activate_policy(tx, version, &by, now).await })).await?;
        self.must_get_return_policy(version).await
    }

    /// Takes a return request and decides it with the policy in force.
    pub async fn request_return(&self, ask: &NewReturn) -> Result<ReturnView, Error> {
        let (now, ask) = (self.now_ms(), Arc::new(ask.clone()));
        let id = self.run(move |tx, ctx| Box::pin(async move { request(tx, ctx, &ask, now).await })).await?;
        self.must_get_return(&id).await
    }

    /// A person approves or rejects a return the policy did not approve
    /// (resolving its exception); `note` (why) is required.
    pub async fn review_return(&self, key: &str, approve: bool, by: &str, note: &str) -> Result<ReturnView, Error> {
        let by = Text::parse("by", by, TextRule::NAME.required())?.into_string();
        let note = Text::parse("reason", note, TextRule::REASON.required())?.into_string();
        let (now, k) = (self.now_ms(), key.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { review(tx, ctx, &k, approve, &by, &note, now).await })).await?;
        self.must_get_return(key).await
    }

    /// Records what arrived, graded; restocks the resellable units.
    pub async fn receive_return(&self, key: &str, receipt: &Receipt) -> Result<ReturnView, Error> {
        let (now, k, receipt) = (self.now_ms(), key.to_owned(), Arc::new(receipt.clone()));
        self.run(move |tx, ctx| Box::pin(async move { receive(tx, ctx, &k, &receipt, now).await })).await?;
        self.must_get_return(key).await
    }

    /// Records the refund (or exchange) of a dispositioned return.
    pub async fn refund_return(&self, key: &str, by: &str, note: &str) -> Result<ReturnView, Error> {
        let by = crate::actor(by)?;
        let note = Text::parse("note", note, TextRule::NOTE)?.into_string();
        let (now, k) = (self.now_ms(), key.to_owned());
        self.run(move |tx, ctx| Box::pin(async move { refund(tx, ctx, &k, &by, &note, now).await })).await?;
        self.must_get_return(key).await
    }

    /// One return (by id or RMA number) with its lines and timeline.
    pub async fn get_return(&self, key: &str) -> Result<Option<ReturnView>, Error> {
        let mut tx = self.read().await?;
        let id = if looks_like_rma(key) {
            returns::id_by_rma(&mut tx, &key.trim().to_ascii_uppercase()).await?
        } else {
            Some(key.to_owned())
        };
        let view = match id {
            Some(id) => return_views::get_return(&mut tx, &id).await?,
            None => None,
        };
        tx.rollback().await?;
        Ok(view)
    }

    async fn must_get_return(&self, key: &str) -> Result<ReturnView, Error> {
        self.get_return(key).await?.ok_or_else(|| Error::NotFound { what: "return", key: key.to_owned() })
    }

    /// Returns, newest first.
    pub async fn list_returns(&self, filter: &ReturnFilter) -> Result<Vec<ReturnView>, Error> {
        let mut tx = self.read().await?;
        let out = return_views::list_returns(&mut tx, filter).await?;
        tx.rollback().await?;
        Ok(out)
    }

    pub async fn get_return_policy(&self, version: i64) -> Result<Option<ReturnPolicyRecord>, Error> {
        let mut tx = self.read().await?;
        let out = return_views::get_policy(&mut tx, version).await?;
        tx.rollback().await?;
        Ok(out)
    }

    async fn must_get_return_policy(&self, version: i64) -> Result<ReturnPolicyRecord, Error> {
        let found = self.get_return_policy(version).await?;
        found.ok_or_else(|| Error::NotFound { what: "return policy", key: version.to_string() })
    }

    /// Saved return policy versions, newest first.
    pub async fn list_return_policies(&self, limit: i64) -> Result<Vec<ReturnPolicyRecord>, Error> {
        let mut tx = self.read().await?;
        let out = return_views::list_policies(&mut tx, limit).await?;
        tx.rollback().await?;
        Ok(out)
    }

    /// The active return policy version; `None`: `ReturnPolicy::default()`.
    pub async fn active_return_policy(&self) -> Result<Option<ReturnPolicyRecord>, Error> {
        let mut tx = self.read().await?;
        let out = return_views::active_policy(&mut tx).await?;
        tx.rollback().await?;
        Ok(out)
    }
}
