//! The order lifecycle as decisions: given what happened (an order was
//! taken, re-routed, paid, shipped, released from an exception), which
//! status it moves to, which exceptions open or close and which timeline
//! events are written. Pure functions of their inputs; the engine applies
//! the [`Effects`] in one transaction.

use std::fmt;

use crate::exception::ExceptionKind;
use crate::order::{status_after_allocation, IllegalTransition, OrderStatus, PaymentState};

/// One piece of an allocation, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// `units` of `sku` reserved at `location`.
    Placed { units: i64, sku: String, location: String },
    /// `units` of `sku` nothing could fill, waiting for a restock.
    Short { units: i64, sku: String },
    /// `units` of `sku` nothing could fill, held for a person (the routing
    /// decision did not backorder them: a pickup store that is short, a
    /// split that needs approval, a SKU that may not be backordered).
    Held { units: i64, sku: String },
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::Placed { units, sku, location } => write!(f, "{units} × {sku} at {location}"),
            Placement::Short { units, sku } => write!(f, "{units} × {sku} backordered"),
            Placement::Held { units, sku } => write!(f, "{units} × {sku} not allocated (held for a person)"),
        }
    }
}

/// What one allocation achieved, in line units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routed {
    /// Units of the order not reserved after it (backordered or held).
    pub unfilled: i64,
    /// Units waiting for a restock.
    pub backordered: i64,
    /// The exception a held decision raises, with its explanation.
    pub held: Option<(ExceptionKind, String)>,
    pub placements: Vec<Placement>,
    /// The routing decision's explanation (none for a person's override).
    pub explanation: Option<String>,
}

impl Routed {
    fn placed(&self) -> Vec<String> {
        self.placements.iter().filter(|p| matches!(p, Placement::Placed { .. })).map(ToString::to_string).collect()
    }
    fn short(&self) -> Vec<String> {
        self.placements.iter().filter(|p| matches!(p, Placement::Short { .. })).map(ToString::to_string).collect()
    }
}

/// What to write after a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// The status to set, when it changes.
    pub status: Option<OrderStatus>,
    /// Exceptions to open: (kind, message).
    pub open: Vec<(ExceptionKind, String)>,
    /// Open exceptions of these kinds to close, with the resolution and note.
    pub close: Vec<(ExceptionKind, &'static str, String)>,
    /// Timeline entries: (kind, message).
    pub events: Vec<(&'static str, String)>,
}

/// A new order was allocated. `address_problems` are the ship-to checks
/// that failed. The order keeps the stock it got, but a problem holds it.
pub fn on_taken(
    payment: PaymentState,
    received: String,
    routed: &Routed,
    address_problems: &[String],
) -> (OrderStatus, Effects) {
    let mut fx = Effects::default();
    let mut status = status_after_allocation(payment, routed.unfilled > 0);
    fx.events.push(("received", received));
    let all: Vec<String> = routed.placements.iter().map(ToString::to_string).collect();
    let allocated = if all.is_empty() { "Nothing could be allocated".to_owned() } else { all.join("; ") };
    fx.events.push(("allocated", allocated));
    if let Some(why) = &routed.explanation {
        fx.events.push(("routed", why.clone()));
    }
    let mut hold = false;
    if !address_problems.is_empty() {
        fx.open.push((ExceptionKind::AddressInvalid, address_problems.join("; ")));
        hold = true;
    }
    if let Some((kind, why)) = &routed.held {
        fx.open.push((*kind, why.clone()));
        hold = true;
    }
    if routed.backordered > 0 {
        let short = routed.short();
        let what = if short.is_empty() { format!("{} unit(s)", routed.backordered) } else { short.join(", ") };
        fx.open.push((ExceptionKind::Backordered, format!("No location can fill {what}")));
    }
    if hold && status != OrderStatus::PendingPayment {
        status = OrderStatus::OnHold;
    }
    fx.events.push(("status", format!("Status {}", status.as_str())));
    (status, fx)
}

/// The exceptions a full allocation settles.
pub const SETTLED_BY_ALLOCATION: [ExceptionKind; 4] = [
    ExceptionKind::Backordered,
    ExceptionKind::Unroutable,
    ExceptionKind::PickupUnavailable,
    ExceptionKind::SplitOverLimit,
];

/// Whether any of these open kinds keeps an order from shipping.
pub fn blocks(open: &[ExceptionKind]) -> bool {
    open.iter().any(|k| k.blocks_fulfilment())
}

/// An order's unfilled units were routed again (a re-route, a rejected
/// allocation, a count that took units back). `open` are its open
/// exception kinds before; `unfilled` its unfilled units after.
pub struct Reroute<'a> {
    pub status: OrderStatus,
    pub payment: PaymentState,
    pub open: &'a [ExceptionKind],
    pub unfilled: i64,
    pub released_units: i64,
    /// "`actor`: `what` (`reason`)" on the timeline.
    pub actor: &'a str,
    pub what: &'a str,
    pub reason: &'a str,
}

pub fn on_rerouted(r: &Reroute<'_>, routed: &Routed) -> Result<Effects, IllegalTransition> {
    let mut fx = Effects::default();
    let placed = routed.placed();
    let placed =
        if placed.is_empty() { "nothing could be allocated".to_owned() } else { format!("now {}", placed.join("; ")) };
    let why = if r.reason.is_empty() { String::new() } else { format!(" ({})", r.reason) };
    let message = format!("{}: {}{why}; released {} unit(s); {placed}", r.actor, r.what, r.released_units);
    fx.events.push(("rerouted", message));
    if let Some(explanation) = &routed.explanation {
        fx.events.push(("routed", explanation.clone()));
    }
    let mut open_after: Vec<ExceptionKind> = r.open.to_vec();
    if r.unfilled == 0 {
        for k in SETTLED_BY_ALLOCATION {
            fx.close.push((k, "rerouted", "every unit is allocated after a re-route".to_owned()));
        }
        open_after.retain(|k| !SETTLED_BY_ALLOCATION.contains(k));
    } else {
        if let Some((kind, why)) = &routed.held {
            if !r.open.contains(kind) {
                fx.open.push((*kind, why.clone()));
                open_after.push(*kind);
            }
        }
        if routed.backordered > 0 && !r.open.contains(&ExceptionKind::Backordered) {
            let msg = format!("{} unit(s) short after a re-route", routed.backordered);
            fx.open.push((ExceptionKind::Backordered, msg));
            open_after.push(ExceptionKind::Backordered);
        }
    }
    let target = match r.status {
        OrderStatus::PendingPayment | OrderStatus::PartiallyShipped => r.status,
        _ if blocks(&open_after) => OrderStatus::OnHold,
        _ => status_after_allocation(r.payment, r.unfilled > 0),
    };
    if target != r.status {
        fx.status = Some(r.status.transition(target)?);
    }
    Ok(fx)
}

/// Payment arrived. `open` are the open exception kinds (a payment timeout
/// among them closes now); `unfilled` the units still unfilled after any
/// re-allocation; `routed` what that re-allocation (after a lapsed hold)
/// achieved. Like a re-route, the exceptions follow the result: a full
/// allocation settles the shortage kinds, a short one opens what explains
/// it (issue 7: a paid order was `backordered` with no open `backordered`
/// exception, or `accepted` with a stale one).
pub fn on_paid(
    status: OrderStatus,
    open: &[ExceptionKind],
    unfilled: i64,
    routed: Option<&Routed>,
) -> Result<Effects, IllegalTransition> {
    let mut fx = Effects::default();
    fx.close.push((ExceptionKind::PaymentTimeout, "paid", "payment received".to_owned()));
    let mut open_after: Vec<ExceptionKind> =
        open.iter().copied().filter(|k| *k != ExceptionKind::PaymentTimeout).collect();
    settle_shortages(&mut fx, &mut open_after, unfilled, routed, "allocated again after payment");
    let target = if blocks(&open_after) {
        OrderStatus::OnHold
    } else {
        status_after_allocation(PaymentState::Paid, unfilled > 0)
    };
    let next = if target == status { status } else { status.transition(target)? };
    fx.status = Some(next);
    let placements = routed.map_or(&[][..], |r| r.placements.as_slice());
    let message = if placements.is_empty() {
        "Payment received".to_owned()
    } else {
        let all: Vec<String> = placements.iter().map(ToString::to_string).collect();
        format!("Payment received; allocated again: {}", all.join("; "))
    };
    fx.events.push(("paid", message));
    Ok(fx)
}

/// Makes the shortage exceptions follow an allocation's result: with
/// nothing unfilled every shortage kind closes; otherwise what the routing
/// held or backordered opens, unless one of that kind is already open.
/// `open_after` is updated to the kinds open afterwards.
fn settle_shortages(
    fx: &mut Effects,
    open_after: &mut Vec<ExceptionKind>,
    unfilled: i64,
    routed: Option<&Routed>,
    when: &str,
) {
    if unfilled == 0 {
        for k in SETTLED_BY_ALLOCATION {
            if open_after.contains(&k) {
                fx.close.push((k, "allocated", format!("every unit is allocated ({when})")));
            }
        }
        open_after.retain(|k| !SETTLED_BY_ALLOCATION.contains(k));
        return;
    }
    let Some(routed) = routed else { return };
    if let Some((kind, why)) = &routed.held {
        if !open_after.contains(kind) {
            fx.open.push((*kind, why.clone()));
            open_after.push(*kind);
        }
    }
    if routed.backordered > 0 && !open_after.contains(&ExceptionKind::Backordered) {
        let short = routed.short();
        let what = if short.is_empty() { format!("{} unit(s)", routed.backordered) } else { short.join(", ") };
        fx.open.push((ExceptionKind::Backordered, format!("No location can fill {what} ({when})")));
        open_after.push(ExceptionKind::Backordered);
    }
}

/// The status after a shipment: shipped when nothing is left open or
/// unfilled, partially shipped otherwise.
pub fn after_shipment(status: OrderStatus, open_units: i64, unfilled: i64) -> Result<OrderStatus, IllegalTransition> {
    let target = if open_units == 0 && unfilled == 0 { OrderStatus::Shipped } else { OrderStatus::PartiallyShipped };
    status.transition(target)
}

/// The carrier delivered a shipped order: it is `completed`. Only a fully
/// shipped order is delivered (a partial shipment leaves units to send).
pub fn on_delivered(status: OrderStatus) -> Result<Effects, IllegalTransition> {
    if status != OrderStatus::Shipped {
        return Err(IllegalTransition { from: status, to: OrderStatus::Completed });
    }
    let next = status.transition(OrderStatus::Completed)?;
    let fx = Effects {
        status: Some(next),
        events: vec![("delivered", "Delivered to the customer; status completed".to_owned())],
        ..Effects::default()
    };
    Ok(fx)
}

/// The customer collected a pickup order: an uncollected-pickup exception
/// is settled.
pub fn on_picked_up() -> Effects {
    let note = "the customer collected the order".to_owned();
    Effects { close: vec![(ExceptionKind::PickupUncollected, "picked_up", note)], ..Effects::default() }
}

/// A pickup order waited at `location` for `days` day(s) or more without
/// being collected (`fulfilment::uncollected` said so): a person calls the
/// customer, or cancels. `already` says whether the order ever had such an
/// exception (a dismissed one is not opened again).
pub fn on_uncollected(location: &str, days: i64, already: bool) -> Effects {
    if already {
        return Effects::default();
    }
    let message = format!("Ready for pickup at {location} for {days} day(s) or more and not collected");
    Effects { open: vec![(ExceptionKind::PickupUncollected, message)], ..Effects::default() }
}

/// After an exception is resolved: a held or backordered order with nothing
/// left blocking moves on (accepted once everything is reserved). A payment
/// timeout is settled only by paying. An order that moves on to
/// `backordered` gets the `backordered` exception that status needs, unless
/// one is open (exceptions match the state).
pub fn after_resolution(
    status: OrderStatus,
    payment: PaymentState,
    resolved: ExceptionKind,
    open: &[ExceptionKind],
    unfilled: i64,
) -> Result<Effects, IllegalTransition> {
    let mut fx = Effects::default();
    if !matches!(status, OrderStatus::OnHold | OrderStatus::Backordered)
        || resolved == ExceptionKind::PaymentTimeout
        || blocks(open)
    {
        return Ok(fx);
    }
    let target = status_after_allocation(payment, unfilled > 0);
    if target == status {
        return Ok(fx);
    }
    fx.status = Some(status.transition(target)?);
    if target == OrderStatus::Backordered && !open.contains(&ExceptionKind::Backordered) {
        let why = format!("{unfilled} unit(s) still unfilled after the {} exception was settled", resolved.as_str());
        fx.open.push((ExceptionKind::Backordered, why));
    }
    Ok(fx)
}

/// An order's state as the exception invariant sees it: its status and
/// payment, its line units not allocated anywhere, and the kinds of its
/// open exceptions and of those a person dismissed (accepted as they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionState<'a> {
    pub status: OrderStatus,
    pub payment: PaymentState,
    pub unfilled: i64,
    pub open: &'a [ExceptionKind],
    pub dismissed: &'a [ExceptionKind],
}

/// **Invariant: an order's exceptions always match its state.** Returns
/// every way `s` breaks it (empty: it holds); `switchyard audit` reports
/// them. The rules:
///
/// - a closed order (shipped, completed, cancelled) has no open exception
///   about itself (a `sync_failed` or `return_out_of_policy` one may stay:
///   [`ExceptionKind::outlives_order`]);
/// - an open shortage exception (`backordered`, `unroutable`,
///   `pickup_unavailable`, `split_over_limit`) means units are unfilled;
/// - a `backordered` order has a `backordered` exception, open (or
///   dismissed by a person who accepted the wait);
/// - an `on_hold` order has an exception that holds it, open (or dismissed);
/// - an open `payment_timeout` means the order is unpaid;
/// - an open `pickup_uncollected` means the order is `ready_for_pickup`.
pub fn exception_mismatches(s: &ExceptionState<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let listed = |kinds: &[ExceptionKind]| kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
    let about_order: Vec<ExceptionKind> = s.open.iter().copied().filter(|k| !k.outlives_order()).collect();
    if !s.status.is_open() && !about_order.is_empty() {
        out.push(format!("is {} but has open exceptions ({})", s.status.as_str(), listed(&about_order)));
        return out;
    }
    let stale: Vec<ExceptionKind> = s.open.iter().copied().filter(|k| SETTLED_BY_ALLOCATION.contains(k)).collect();
    if s.unfilled == 0 && !stale.is_empty() {
        out.push(format!("has every unit allocated but open shortage exceptions ({})", listed(&stale)));
    }
    let has = |kind: ExceptionKind| s.open.contains(&kind) || s.dismissed.contains(&kind);
    if s.status == OrderStatus::Backordered && !has(ExceptionKind::Backordered) {
        out.push("is backordered but has no backordered exception".to_owned());
    }
    if s.status == OrderStatus::OnHold && !s.open.iter().chain(s.dismissed).any(|k| k.blocks_fulfilment()) {
        out.push("is on_hold but no exception holds it".to_owned());
    }
    if s.payment == PaymentState::Paid && s.open.contains(&ExceptionKind::PaymentTimeout) {
        out.push("is paid but has an open payment_timeout exception".to_owned());
    }
    if s.status != OrderStatus::ReadyForPickup && s.open.contains(&ExceptionKind::PickupUncollected) {
        out.push(format!("is {} but has an open pickup_uncollected exception", s.status.as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExceptionKind::*;

    fn placed(units: i64) -> Placement {
        Placement::Placed { units, sku: "TEE".into(), location: "WH".into() }
    }

    #[test]
    fn a_taken_order_with_a_bad_address_is_held_with_its_stock() {
        let routed = Routed { placements: vec![placed(2)], ..Routed::default() };
        let (status, fx) = on_taken(PaymentState::Paid, "Received".into(), &routed, &["postal code".into()]);
        assert_eq!(status, OrderStatus::OnHold);
        assert_eq!(fx.open, vec![(AddressInvalid, "postal code".to_owned())]);
        assert_eq!(fx.events[1], ("allocated", "2 × TEE at WH".to_owned()));
        assert_eq!(fx.events.last(), Some(&("status", "Status on_hold".to_owned())));
    }

    #[test]
    fn a_short_order_is_backordered_and_says_what_is_short() {
        let routed = Routed {
            unfilled: 3,
            backordered: 3,
            placements: vec![Placement::Short { units: 3, sku: "MUG".into() }],
            ..Routed::default()
        };
        let (status, fx) = on_taken(PaymentState::Paid, "r".into(), &routed, &[]);
        assert_eq!(status, OrderStatus::Backordered);
        assert_eq!(fx.open, vec![(Backordered, "No location can fill 3 × MUG backordered".to_owned())]);
        let (pending, _) = on_taken(PaymentState::Pending, "r".into(), &routed, &["x".into()]);
        assert_eq!(pending, OrderStatus::PendingPayment, "an unpaid order keeps waiting for payment");
    }

    #[test]
    fn a_reroute_that_fills_everything_closes_shortage_exceptions_and_accepts() {
        let r = Reroute {
            status: OrderStatus::Backordered,
            payment: PaymentState::Paid,
            open: &[Backordered],
            unfilled: 0,
            released_units: 1,
            actor: "ops",
            what: "re-route requested",
            reason: "",
        };
        let fx = on_rerouted(&r, &Routed { placements: vec![placed(1)], ..Routed::default() }).expect("legal");
        assert_eq!(fx.status, Some(OrderStatus::Accepted));
        assert_eq!(fx.close.len(), 4);
        assert_eq!(fx.events[0].1, "ops: re-route requested; released 1 unit(s); now 1 × TEE at WH");
    }

    #[test]
    fn a_reroute_that_leaves_a_held_order_blocked_keeps_it_on_hold() {
        let r = Reroute {
            status: OrderStatus::Accepted,
            payment: PaymentState::Paid,
            open: &[],
            unfilled: 2,
            released_units: 2,
            actor: "system",
            what: "count",
            reason: "damaged",
        };
        let routed = Routed { unfilled: 2, held: Some((Unroutable, "no store".into())), ..Routed::default() };
        let fx = on_rerouted(&r, &routed).expect("legal");
        assert_eq!(fx.open, vec![(Unroutable, "no store".to_owned())]);
        assert_eq!(fx.status, Some(OrderStatus::OnHold));
    }

    #[test]
    fn paying_closes_the_timeout_and_a_shipment_finishes_the_order() {
        let routed = Routed { placements: vec![placed(1)], ..Routed::default() };
        let fx = on_paid(OrderStatus::OnHold, &[PaymentTimeout], 0, Some(&routed)).expect("legal");
        assert_eq!(fx.status, Some(OrderStatus::Accepted));
        assert_eq!(fx.events[0].1, "Payment received; allocated again: 1 × TEE at WH");
        assert_eq!(after_shipment(OrderStatus::Accepted, 0, 0), Ok(OrderStatus::Shipped));
        assert_eq!(after_shipment(OrderStatus::Accepted, 1, 0), Ok(OrderStatus::PartiallyShipped));
        assert!(after_shipment(OrderStatus::Cancelled, 0, 0).is_err());
    }

    #[test]
    fn resolving_the_last_blocker_releases_a_hold() {
        let next = after_resolution(OrderStatus::OnHold, PaymentState::Paid, AddressInvalid, &[], 0).expect("legal");
        assert_eq!((next.status, next.open), (Some(OrderStatus::Accepted), vec![]));
        let blocked = after_resolution(OrderStatus::OnHold, PaymentState::Paid, Backordered, &[AddressInvalid], 0);
        assert_eq!(blocked, Ok(Effects::default()));
        let timeout = after_resolution(OrderStatus::OnHold, PaymentState::Pending, PaymentTimeout, &[], 0);
        assert_eq!(timeout, Ok(Effects::default()));
    }

    /// Dismissing the exception that held a short order makes it
    /// `backordered`: the `backordered` exception comes with the status.
    #[test]
    fn a_hold_dismissed_with_units_unfilled_opens_the_backordered_exception() {
        let fx = after_resolution(OrderStatus::OnHold, PaymentState::Paid, Unroutable, &[], 2).expect("legal");
        assert_eq!(fx.status, Some(OrderStatus::Backordered));
        assert_eq!(
            fx.open,
            vec![(Backordered, "2 unit(s) still unfilled after the unroutable exception was settled".to_owned())]
        );
    }

    fn state<'a>(status: OrderStatus, unfilled: i64, open: &'a [ExceptionKind]) -> ExceptionState<'a> {
        ExceptionState { status, payment: PaymentState::Paid, unfilled, open, dismissed: &[] }
    }

    /// Issue 7 (a): paying an order whose lapsed hold finds no stock any more
    /// opens the `backordered` exception its new status needs.
    #[test]
    fn paying_after_a_lapsed_hold_that_finds_no_stock_opens_a_backordered_exception() {
        let routed = Routed {
            unfilled: 1,
            backordered: 1,
            placements: vec![Placement::Short { units: 1, sku: "TEE".into() }],
            ..Routed::default()
        };
        let fx = on_paid(OrderStatus::OnHold, &[PaymentTimeout], 1, Some(&routed)).expect("legal");
        assert_eq!(fx.status, Some(OrderStatus::Backordered));
        assert_eq!(fx.close, vec![(PaymentTimeout, "paid", "payment received".to_owned())]);
        assert_eq!(
            fx.open,
            vec![(Backordered, "No location can fill 1 × TEE backordered (allocated again after payment)".to_owned())]
        );
        assert_eq!(exception_mismatches(&state(OrderStatus::Backordered, 1, &[Backordered])), Vec::<String>::new());
    }

    /// Issue 7 (b): paying an order whose lapsed hold is filled again closes
    /// the `backordered` exception opened when it was taken short.
    #[test]
    fn paying_after_a_lapsed_hold_that_fills_everything_closes_the_stale_backordered_exception() {
        let routed = Routed { placements: vec![placed(1)], ..Routed::default() };
        let fx = on_paid(OrderStatus::OnHold, &[Backordered, PaymentTimeout], 0, Some(&routed)).expect("legal");
        assert_eq!(fx.status, Some(OrderStatus::Accepted));
        let closed: Vec<ExceptionKind> = fx.close.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(closed, vec![PaymentTimeout, Backordered]);
        assert!(fx.open.is_empty(), "{:?}", fx.open);
    }

    #[test]
    fn an_order_whose_exceptions_do_not_match_its_state_is_reported() {
        use OrderStatus::*;
        assert_eq!(
            exception_mismatches(&state(Backordered, 1, &[])),
            vec!["is backordered but has no backordered exception".to_owned()]
        );
        assert_eq!(
            exception_mismatches(&state(Accepted, 0, &[ExceptionKind::Backordered])),
            vec!["has every unit allocated but open shortage exceptions (backordered)".to_owned()]
        );
        assert_eq!(
            exception_mismatches(&state(Cancelled, 0, &[AddressInvalid])),
            vec!["is cancelled but has open exceptions (address_invalid)".to_owned()]
        );
        assert_eq!(exception_mismatches(&state(OnHold, 0, &[])), vec!["is on_hold but no exception holds it"]);
        assert_eq!(
            exception_mismatches(&state(OnHold, 1, &[PaymentTimeout])),
            vec!["is paid but has an open payment_timeout exception"]
        );
        // What matches: a dismissed backorder (the customer waits), a held
        // pickup, an unpaid order waiting with its stock short.
        let waiting = ExceptionState { dismissed: &[ExceptionKind::Backordered], ..state(Backordered, 2, &[]) };
        assert!(exception_mismatches(&waiting).is_empty());
        assert!(exception_mismatches(&state(OnHold, 1, &[PickupUnavailable])).is_empty());
        let unpaid = ExceptionState {
            payment: PaymentState::Pending,
            ..state(PendingPayment, 1, &[ExceptionKind::Backordered])
        };
        assert!(exception_mismatches(&unpaid).is_empty());
        assert!(exception_mismatches(&state(Shipped, 0, &[])).is_empty());
        // A return of a shipped order waiting for a person is about the
        // return, not the order.
        assert!(exception_mismatches(&state(Shipped, 0, &[ReturnOutOfPolicy])).is_empty());
        assert!(exception_mismatches(&state(Completed, 0, &[ReturnOutOfPolicy, SyncFailed])).is_empty());
    }

    #[test]
    fn a_shipped_order_is_delivered_and_nothing_else_is() {
        let fx = on_delivered(OrderStatus::Shipped).expect("legal");
        assert_eq!(fx.status, Some(OrderStatus::Completed));
        assert_eq!(fx.events, vec![("delivered", "Delivered to the customer; status completed".to_owned())]);
        for s in [OrderStatus::PartiallyShipped, OrderStatus::Accepted, OrderStatus::Completed, OrderStatus::Cancelled]
        {
            assert_eq!(on_delivered(s), Err(IllegalTransition { from: s, to: OrderStatus::Completed }));
        }
    }

    #[test]
    fn an_uncollected_pickup_opens_once_and_collection_settles_it() {
        let fx = on_uncollected("STORE", 3, false);
        assert_eq!(
            fx.open,
            vec![(PickupUncollected, "Ready for pickup at STORE for 3 day(s) or more and not collected".to_owned())]
        );
        assert_eq!(on_uncollected("STORE", 3, true), Effects::default());
        assert_eq!(on_picked_up().close[0].0, PickupUncollected);
        assert!(exception_mismatches(&state(OrderStatus::ReadyForPickup, 0, &[PickupUncollected])).is_empty());
        assert_eq!(
            exception_mismatches(&state(OrderStatus::Accepted, 0, &[PickupUncollected])),
            vec!["is accepted but has an open pickup_uncollected exception"]
        );
    }

    /// Issue 7: a pickup order's timeline said a gift set was backordered,
    /// and then its explanation that a backorder is not possible.
    #[test]
    fn a_held_pickup_line_is_not_called_backordered_on_the_timeline() {
        let routed = Routed {
            unfilled: 1,
            backordered: 0,
            held: Some((PickupUnavailable, "Pickup at Flagship is short".into())),
            placements: vec![Placement::Held { units: 1, sku: "GIFT".into() }],
            explanation: Some("Backorder and dropship are not possible for pickup orders.".into()),
        };
        let (status, fx) = on_taken(PaymentState::Paid, "r".into(), &routed, &[]);
        assert_eq!(status, OrderStatus::OnHold);
        assert_eq!(fx.events[1], ("allocated", "1 × GIFT not allocated (held for a person)".to_owned()));
        assert!(fx.events.iter().all(|(_, m)| !m.contains("GIFT backordered")), "{:?}", fx.events);
        assert_eq!(fx.open, vec![(PickupUnavailable, "Pickup at Flagship is short".to_owned())]);
    }
}
