//! The exception queue's use cases: opening and closing exceptions as
//! orders change, a person's resolution, and escalation past the SLA.

use switchyard_core::exception::{escalated, escalation_level};
use switchyard_core::lifecycle::{after_resolution, Effects, SETTLED_BY_ALLOCATION};
use switchyard_core::outbox::Message;
use switchyard_core::{address, ExceptionKind, ExceptionStatus, Resolution, ResolutionAction};
use switchyard_store::{exceptions, orders, Tx};

use crate::allocate::{allocate_and_reserve, Facts, Mode};
use crate::{Ctx, Error, StoreError};

/// Opens an exception on an order, logs it and notes it on the timeline.
pub(crate) async fn open(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    kind: ExceptionKind,
    message: &str,
    now_ms: i64,
) -> Result<String, Error> {
    let id = ctx.ids.next(now_ms);
    exceptions::insert(tx, &id, order_id, kind, message, now_ms).await?;
    exceptions::log(tx, &id, "system", "opened", message, now_ms).await?;
    orders::event(tx, order_id, now_ms, "exception", &format!("Exception {}: {message}", kind.as_str())).await?;
    Ok(id)
}

/// Resolves an order's open exceptions of one kind (or all, with `None`).
pub(crate) async fn close(
    tx: &mut Tx,
    order_id: &str,
    kind: Option<ExceptionKind>,
    resolution: &str,
    actor: &str,
    note: &str,
    now_ms: i64,
) -> Result<(), Error> {
    for (id, k) in exceptions::open_of_order(tx, order_id).await? {
        if kind.is_some_and(|want| want != k) {
            continue;
        }
        exceptions::close(tx, &id, ExceptionStatus::Resolved, actor, resolution, note, now_ms).await?;
        exceptions::log(tx, &id, actor, resolution, note, now_ms).await?;
    }
    Ok(())
}

/// Closes the order's open shortage exceptions other than `except`, once
/// every unit is allocated.
async fn close_settled(tx: &mut Tx, order_id: &str, except: &str, actor: &str, now_ms: i64) -> Result<(), Error> {
    for (id, kind) in exceptions::open_of_order(tx, order_id).await? {
        if id != except && SETTLED_BY_ALLOCATION.contains(&kind) {
            let note = "every unit is allocated";
            exceptions::close(tx, &id, ExceptionStatus::Resolved, actor, "allocated", note, now_ms).await?;
            exceptions::log(tx, &id, actor, "allocated", note, now_ms).await?;
        }
    }
    Ok(())
}

/// The kinds of an order's open exceptions.
pub(crate) async fn open_kinds(tx: &mut Tx, order_id: &str) -> Result<Vec<ExceptionKind>, Error> {
    Ok(exceptions::open_of_order(tx, order_id).await?.into_iter().map(|(_, k)| k).collect())
}

/// Writes a lifecycle decision's effects (all but the status).
pub(crate) async fn apply(tx: &mut Tx, ctx: &Ctx, order_id: &str, fx: &Effects, now_ms: i64) -> Result<(), Error> {
    for (kind, resolution, note) in &fx.close {
        close(tx, order_id, Some(*kind), resolution, "system", note, now_ms).await?;
    }
    for (kind, message) in &fx.open {
        open(tx, ctx, order_id, *kind, message, now_ms).await?;
    }
    orders::events(tx, order_id, now_ms, &fx.events).await?;
    Ok(())
}

/// Carries out a person's action on an open exception and logs who did
/// what and why. Returns the exception's id.
pub(crate) async fn resolve(tx: &mut Tx, ctx: &Ctx, id: &str, r: &Resolution, now_ms: i64) -> Result<(), Error> {
    let e = exceptions::lock(tx, id).await?.ok_or_else(|| Error::NotFound { what: "exception", key: id.to_owned() })?;
    if e.status != ExceptionStatus::Open {
        return Err(Error::Conflict(format!("exception {id} is already {}", e.status.as_str())));
    }
    if !e.kind.actions().contains(&r.action) {
        let allowed: Vec<&str> = e.kind.actions().iter().map(|a| a.as_str()).collect();
        return Err(Error::Conflict(format!(
            "{} does not apply to a {} exception (use one of: {})",
            r.action.as_str(),
            e.kind.as_str(),
            allowed.join(", ")
        )));
    }
    let actor = if r.actor.trim().is_empty() { "unknown" } else { r.actor.trim() };
    // About a return of the order, not the order: the return's review.
    if e.kind == ExceptionKind::ReturnOutOfPolicy {
        return crate::returns::resolve_exception(tx, ctx, id, r, actor, now_ms).await;
    }
    // About the customer being told, not the order: the notifications.
    if e.kind == ExceptionKind::NotificationFailed {
        return crate::notify::resolve_exception(tx, id, e.order_id.as_deref(), r, actor, now_ms).await;
    }
    let Some(order_id) = e.order_id.clone() else {
        return crate::channel_exceptions::resolve(tx, id, e.channel.as_deref(), r, actor, now_ms).await;
    };
    let order =
        orders::lock(tx, &order_id).await?.ok_or_else(|| Error::NotFound { what: "order", key: order_id.clone() })?;
    let mut note = r.note.trim().to_owned();
    let mut final_status = ExceptionStatus::Resolved;
    let mut resolved = true;
    match r.action {
        // The order's news the channel refused goes out again.
        ResolutionAction::Retry if e.kind == ExceptionKind::SyncFailed => {
            let n = switchyard_store::outbox::revive(tx, "origin", &order_id, now_ms).await?;
            if n == 0 {
                return Err(Error::Conflict(format!("nothing of order {order_id} is waiting to be sent again")));
            }
            let sent = format!("{n} message(s) to the channel sent again");
            note = if note.is_empty() { sent } else { format!("{note} ({sent})") };
        }
        ResolutionAction::Retry | ResolutionAction::OverrideLocation | ResolutionAction::ApproveSplit => {
            if r.action == ResolutionAction::OverrideLocation && r.location.is_none() {
                return Err(Error::Conflict("override_location needs a location".into()));
            }
            if !order.status.is_open() {
                return Err(Error::Conflict(format!("order is {}: nothing to allocate", order.status.as_str())));
            }
            let left = retry(tx, ctx, &order_id, &order, r, actor, &mut note, now_ms).await?;
            resolved = left == 0;
            if resolved {
                // Every unit is allocated: the order's other shortage
                // exceptions are settled too (exceptions match the state).
                close_settled(tx, &order_id, id, actor, now_ms).await?;
            }
        }
        ResolutionAction::EditAddress => {
            let a = r.address.as_ref().ok_or_else(|| Error::Conflict("edit_address needs an address".into()))?;
            let problems = address::check(a);
            if !problems.is_empty() {
                let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Err(Error::InvalidAddress(text.join("; ")));
            }
            let json = serde_json::to_string(a).map_err(|e| Error::Store(StoreError::corrupt(e)))?;
            orders::set_ship_to(tx, &order_id, &json, now_ms).await?;
            orders::event(tx, &order_id, now_ms, "address_updated", &format!("{actor} corrected the address")).await?;
        }
        ResolutionAction::Cancel => {
            let message = format!("Cancelled by {actor} ({} exception)", e.kind.as_str());
            crate::orders::cancel_locked(tx, ctx, &order_id, order.status, &message, e.kind.as_str(), now_ms).await?;
            crate::orders::tell_origin_cancelled(tx, &order_id, e.kind.as_str(), now_ms).await?;
        }
        ResolutionAction::ApproveReturn | ResolutionAction::RejectReturn => {
            return Err(Error::Conflict(format!("{} applies to returns only", r.action.as_str())));
        }
        ResolutionAction::Dismiss => {
            if note.is_empty() {
                return Err(Error::Conflict("dismissing an exception needs a reason".into()));
            }
            final_status = ExceptionStatus::Dismissed;
        }
    }
    if resolved {
        exceptions::close(tx, id, final_status, actor, r.action.as_str(), &note, now_ms).await?;
        if r.action == ResolutionAction::Cancel {
            close(tx, &order_id, None, "cancel", actor, "order cancelled", now_ms).await?;
        }
        release_if_clear(tx, ctx, &order_id, e.kind, now_ms).await?;
    }
    exceptions::log(tx, id, actor, r.action.as_str(), &note, now_ms).await?;
    let outcome = if resolved { final_status.as_str() } else { "still open" };
    let suffix = if note.is_empty() { String::new() } else { format!(": {note}") };
    let message = format!("{actor}: {} on {} exception ({outcome}){suffix}", r.action.as_str(), e.kind.as_str());
    orders::event(tx, &order_id, now_ms, "exception_action", &message).await?;
    Ok(())
}

/// Allocates an order's unfilled units again (retry, a location override,
/// an approved split); returns the units still unfilled.
#[allow(clippy::too_many_arguments)]
async fn retry(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    order: &orders::LockedOrder,
    r: &Resolution,
    actor: &str,
    note: &mut String,
    now_ms: i64,
) -> Result<i64, Error> {
    let wants = crate::orders::unfilled_wants(tx, order_id).await?;
    if wants.is_empty() {
        return Ok(0);
    }
    let of = orders::facts(tx, order_id).await?;
    let facts = Facts::of_order(&of, order, vec![]);
    let mode = match r.action {
        ResolutionAction::OverrideLocation => Mode::Override(r.location.as_ref()),
        ResolutionAction::ApproveSplit => Mode::Override(None),
        _ => Mode::Policy,
    };
    let routed = allocate_and_reserve(tx, ctx, order_id, &wants, &facts, mode, now_ms).await?;
    let placed: Vec<String> = routed
        .placements
        .iter()
        .filter(|p| matches!(p, switchyard_core::lifecycle::Placement::Placed { .. }))
        .map(ToString::to_string)
        .collect();
    let what = if placed.is_empty() {
        "nothing more could be allocated".to_owned()
    } else {
        format!("allocated {}", placed.join("; "))
    };
    orders::event(tx, order_id, now_ms, "allocated", &format!("{actor} retried: {what}")).await?;
    *note = if note.is_empty() { what } else { format!("{note} ({what})") };
    Ok(routed.unfilled)
}

/// With nothing left blocking, a held or backordered order moves on.
async fn release_if_clear(
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    resolved: ExceptionKind,
    now_ms: i64,
) -> Result<(), Error> {
    let order =
        orders::lock(tx, order_id).await?.ok_or_else(|| Error::NotFound { what: "order", key: order_id.into() })?;
    let open = open_kinds(tx, order_id).await?;
    let unfilled = orders::unfilled_units(tx, order_id).await?;
    let fx = after_resolution(order.status, order.payment, resolved, &open, unfilled)?;
    if let Some(next) = fx.status {
        orders::set_status(tx, order_id, next, now_ms).await?;
        orders::event(tx, order_id, now_ms, "status", &format!("Released from hold; status {}", next.as_str())).await?;
        crate::notify::status_changed(tx, order_id, order.status, next, now_ms).await?;
    }
    apply(tx, ctx, order_id, &fx, now_ms).await
}

/// Raises the level of open exceptions past their SLA, with a
/// notification each; returns (exception id, new level). Each exception is
/// its own transaction, idempotent across processes.
pub(crate) async fn escalate_one(
    tx: &mut Tx,
    e: &exceptions::OpenException,
    level: i64,
    now_ms: i64,
) -> Result<bool, Error> {
    let severity = escalated(e.kind.severity(), level);
    if !exceptions::raise_level(tx, &e.id, level, severity).await? {
        return Ok(false);
    }
    let note = format!("past its SLA: escalated to level {level} ({})", severity.as_str());
    exceptions::log(tx, &e.id, "system", "escalated", &note, now_ms).await?;
    if let Some(order_id) = &e.order_id {
        let message = format!("{} exception {note}", e.kind.as_str());
        orders::event(tx, order_id, now_ms, "exception_escalated", &message).await?;
    }
    let m = Message::ExceptionEscalated {
        order_id: e.order_id.clone(),
        channel: e.channel.clone(),
        exception_id: e.id.clone(),
        exception_kind: e.kind.as_str().to_owned(),
        level,
        severity: severity.as_str().to_owned(),
        owner_role: e.kind.owner().as_str().to_owned(),
    };
    switchyard_store::outbox::enqueue(tx, &m, now_ms).await?;
    Ok(true)
}

/// The level an open exception should be at now, when above its current one.
pub(crate) fn due_level(e: &exceptions::OpenException, now_ms: i64) -> Option<i64> {
    let due = escalation_level(e.created_at, now_ms, e.sla_ms);
    (due > e.level).then_some(due)
}
