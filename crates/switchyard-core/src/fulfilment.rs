//! Fulfilment by the people who do it (issue 9, item 0): the order of a
//! location's pick list, and the steps of one order at one location —
//! picked → packed → shipped, or for a pickup order picked → ready for
//! pickup → picked up — as pure rules. The engine reads the facts (the
//! order's status and service level, the step recorded at the location, the
//! units still open there) and applies what these functions decide.

use std::cmp::Ordering;
use std::fmt;

use crate::order::{OrderStatus, ServiceLevel};

/// Where one order stands at one location. `ToPick` is never stored: it is
/// the absence of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PickStep {
    ToPick,
    Picked,
    Packed,
    ReadyForPickup,
}

impl PickStep {
    pub const ALL: [PickStep; 4] = [Self::ToPick, Self::Picked, Self::Packed, Self::ReadyForPickup];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToPick => "to_pick",
            Self::Picked => "picked",
            Self::Packed => "packed",
            Self::ReadyForPickup => "ready_for_pickup",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The step an order is at: a `ready_for_pickup` order is ready at its
    /// store whatever was recorded (it may have been marked ready before
    /// anyone recorded picking it).
    pub fn current(status: OrderStatus, recorded: Option<PickStep>) -> PickStep {
        if status == OrderStatus::ReadyForPickup {
            return PickStep::ReadyForPickup;
        }
        recorded.unwrap_or(PickStep::ToPick)
    }
}

/// What staff do at a location: the two steps recorded here, the ones other
/// use cases carry out (ship, ready for pickup, picked up) and a short pick
/// (the item cannot be found: the allocation is rejected and re-routed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepAction {
    Pick,
    Pack,
    Ship,
    ReadyForPickup,
    PickedUp,
    ShortPick,
}

impl StepAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pick => "picked",
            Self::Pack => "packed",
            Self::Ship => "ship",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::PickedUp => "picked_up",
            Self::ShortPick => "short_pick",
        }
    }

    /// The action done, for messages ("it cannot be packed now").
    pub fn done(self) -> &'static str {
        match self {
            Self::Pick => "picked",
            Self::Pack => "packed",
            Self::Ship => "shipped",
            Self::ReadyForPickup => "made ready for pickup",
            Self::PickedUp => "picked up",
            Self::ShortPick => "reported missing",
        }
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepRefused {
    /// The order has no unshipped units at the location.
    #[error("the order has nothing to pick at {location}")]
    NothingHere { location: String },
    /// The order's status does not let it be fulfilled now.
    #[error("the order is {}: it cannot be {} now", status.as_str(), action.done())]
    NotNow { status: OrderStatus, action: StepAction },
    /// The step was done already (or a later one was).
    #[error("the order is already {} at {location}", step.as_str())]
    AlreadyDone { step: PickStep, location: String },
    /// A step before its predecessor: packed before picked.
    #[error("the order is {} at {location}: mark it {} first", now.as_str(), needs.done())]
    TooEarly { now: PickStep, needs: StepAction, location: String },
    /// A pickup order is not packed for a carrier: it is made ready for pickup.
    #[error("a pickup order is not packed: mark it ready for pickup")]
    PickupNotPacked,
    /// A pickup order is handed over, not shipped.
    #[error("a pickup order is not shipped: mark it ready for pickup, then picked up")]
    PickupNotShipped,
}

impl StepRefused {
    /// Whether the refusal is about the location holding nothing of the
    /// order (rather than the order of the steps).
    pub fn is_nothing_here(&self) -> bool {
        matches!(self, Self::NothingHere { .. })
    }
}

/// The facts a step is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFacts<'a> {
    pub status: OrderStatus,
    pub level: ServiceLevel,
    /// The step recorded at the location, if any.
    pub recorded: Option<PickStep>,
    /// Units allocated at the location and neither shipped nor released.
    pub open_units: i64,
    pub location: &'a str,
}

/// Decides a recorded step (`Pick` or `Pack`): the step the order is at
/// afterwards, or why not. Picking comes first, once; packing follows it,
/// once, and only for orders that a carrier takes (a pickup order goes from
/// picked to ready for pickup instead).
pub fn advance(f: &StepFacts<'_>, action: StepAction) -> Result<PickStep, StepRefused> {
    let location = f.location.to_owned();
    if f.open_units <= 0 {
        return Err(StepRefused::NothingHere { location });
    }
    let now = PickStep::current(f.status, f.recorded);
    if !f.status.can_ship() {
        return Err(StepRefused::NotNow { status: f.status, action });
    }
    match (action, now) {
        (StepAction::Pick, PickStep::ToPick) => Ok(PickStep::Picked),
        (StepAction::Pick, step) => Err(StepRefused::AlreadyDone { step, location }),
        (StepAction::Pack, _) if f.level == ServiceLevel::Pickup => Err(StepRefused::PickupNotPacked),
        (StepAction::Pack, PickStep::Picked) => Ok(PickStep::Packed),
        (StepAction::Pack, PickStep::ToPick) => Err(StepRefused::TooEarly { now, needs: StepAction::Pick, location }),
        (StepAction::Pack, step) => Err(StepRefused::AlreadyDone { step, location }),
        (other, _) => Err(StepRefused::NotNow { status: f.status, action: other }),
    }
}

/// Whether the Store page may ship everything open at the location: the
/// order was packed there (picked, then packed), and a carrier takes it (a
/// pickup order is handed over at the counter instead).
pub fn may_ship(f: &StepFacts<'_>) -> Result<(), StepRefused> {
    let location = f.location.to_owned();
    if f.open_units <= 0 {
        return Err(StepRefused::NothingHere { location });
    }
    if !f.status.can_ship() {
        return Err(StepRefused::NotNow { status: f.status, action: StepAction::Ship });
    }
    if f.level == ServiceLevel::Pickup {
        return Err(StepRefused::PickupNotShipped);
    }
    match PickStep::current(f.status, f.recorded) {
        PickStep::Packed => Ok(()),
        PickStep::ToPick => Err(StepRefused::TooEarly { now: PickStep::ToPick, needs: StepAction::Pick, location }),
        now => Err(StepRefused::TooEarly { now, needs: StepAction::Pack, location }),
    }
}

/// What the Store page offers at a step, in the order it shows them. A short
/// pick is offered until the order is packed or set aside.
pub fn offered(status: OrderStatus, level: ServiceLevel, step: PickStep) -> Vec<StepAction> {
    if !status.can_ship() {
        return vec![];
    }
    let pickup = level == ServiceLevel::Pickup;
    match step {
        PickStep::ToPick => vec![StepAction::Pick, StepAction::ShortPick],
        PickStep::Picked if pickup => vec![StepAction::ReadyForPickup, StepAction::ShortPick],
        PickStep::Picked => vec![StepAction::Pack, StepAction::ShortPick],
        PickStep::Packed => vec![StepAction::Ship],
        PickStep::ReadyForPickup => vec![StepAction::PickedUp],
    }
}

/// The pick list's groups, most urgent first: same-day and pickup orders
/// (a customer is waiting today), then expedited, then standard. Within a
/// group the oldest order comes first.
pub const PICK_GROUPS: [&[ServiceLevel]; 3] =
    [&[ServiceLevel::SameDay, ServiceLevel::Pickup], &[ServiceLevel::Expedited], &[ServiceLevel::Standard]];

/// The group of a service level in [`PICK_GROUPS`] (0 is picked first).
pub fn pick_rank(level: ServiceLevel) -> usize {
    PICK_GROUPS.iter().position(|g| g.contains(&level)).unwrap_or(PICK_GROUPS.len())
}

/// The pick list's order: by group, then oldest first, then by id (a stable
/// order for orders taken in the same millisecond).
pub fn pick_order(a: (ServiceLevel, i64, &str), b: (ServiceLevel, i64, &str)) -> Ordering {
    (pick_rank(a.0), a.1, a.2).cmp(&(pick_rank(b.0), b.1, b.2))
}

/// A day, for the uncollected-pickup rule.
pub const DAY_MS: i64 = 86_400_000;

/// Whether an order made ready for pickup at `ready_at_ms` is uncollected
/// at `now_ms` after `days` days (it is still `ready_for_pickup`).
pub fn uncollected(status: OrderStatus, ready_at_ms: i64, now_ms: i64, days: i64) -> bool {
    status == OrderStatus::ReadyForPickup && now_ms.saturating_sub(ready_at_ms) >= days.saturating_mul(DAY_MS)
}

/// An hour, for the pickup promise.
pub const HOUR_MS: i64 = 3_600_000;

/// Whether a pickup order taken at `taken_ms` and made ready at
/// `ready_at_ms` kept the promise of being ready within `within_hours`
/// (`service_levels.pickup_ready_within_hours`): ready at the promised
/// moment itself is on time.
pub fn ready_on_time(taken_ms: i64, ready_at_ms: i64, within_hours: i64) -> bool {
    ready_at_ms.saturating_sub(taken_ms) <= within_hours.saturating_mul(HOUR_MS)
}

impl fmt::Display for PickStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use PickStep::{Packed, Picked, ToPick};
    use ServiceLevel::*;

    fn facts(status: OrderStatus, level: ServiceLevel, recorded: Option<PickStep>, open: i64) -> StepFacts<'static> {
        StepFacts { status, level, recorded, open_units: open, location: "STORE" }
    }

    #[test]
    fn steps_go_picked_then_packed_and_each_once() {
        let cases: [(StepFacts<'_>, StepAction, Result<PickStep, &str>); 10] = [
            (facts(Accepted, Standard, None, 2), StepAction::Pick, Ok(Picked)),
            (facts(Backordered, Expedited, None, 1), StepAction::Pick, Ok(Picked)),
            (facts(PartiallyShipped, Standard, Some(Picked), 1), StepAction::Pack, Ok(Packed)),
            (
                facts(Accepted, Standard, None, 2),
                StepAction::Pack,
                Err("the order is to_pick at STORE: mark it picked first"),
            ),
            (facts(Accepted, Standard, Some(Picked), 2), StepAction::Pick, Err("the order is already picked at STORE")),
            (facts(Accepted, Standard, Some(Packed), 2), StepAction::Pack, Err("the order is already packed at STORE")),
            (
                facts(Accepted, Pickup, Some(Picked), 2),
                StepAction::Pack,
                Err("a pickup order is not packed: mark it ready for pickup"),
            ),
            (facts(Accepted, Standard, None, 0), StepAction::Pick, Err("the order has nothing to pick at STORE")),
            (facts(OnHold, Standard, None, 2), StepAction::Pick, Err("the order is on_hold: it cannot be picked now")),
            (
                facts(ReadyForPickup, Pickup, None, 2),
                StepAction::Pick,
                Err("the order is already ready_for_pickup at STORE"),
            ),
        ];
        for (i, (f, action, want)) in cases.into_iter().enumerate() {
            let got = advance(&f, action).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_owned), "case {i}");
        }
        assert!(advance(&facts(PendingPayment, Standard, None, 1), StepAction::Pick).is_err());
        assert!(advance(&facts(Accepted, Standard, None, 0), StepAction::Pick).is_err_and(|e| e.is_nothing_here()));
        assert!(advance(&facts(Accepted, Standard, None, 1), StepAction::Ship).is_err(), "shipping is not a step here");
    }

    #[test]
    fn the_store_page_ships_only_what_was_packed() {
        assert_eq!(may_ship(&facts(Accepted, Standard, Some(Packed), 2)), Ok(()));
        let refused = |f: StepFacts<'_>| may_ship(&f).map_err(|e| e.to_string());
        assert_eq!(
            refused(facts(Accepted, Standard, None, 2)),
            Err("the order is to_pick at STORE: mark it picked first".into())
        );
        assert_eq!(
            refused(facts(Accepted, Expedited, Some(Picked), 2)),
            Err("the order is picked at STORE: mark it packed first".into())
        );
        assert!(
            refused(facts(Accepted, Pickup, Some(Picked), 2)).is_err_and(|e| e.contains("pickup order is not shipped"))
        );
        assert!(refused(facts(Cancelled, Standard, Some(Packed), 2)).is_err());
        assert!(may_ship(&facts(Accepted, Standard, Some(Packed), 0)).is_err_and(|e| e.is_nothing_here()));
        assert_eq!(crate::routing::Policy::default().service_levels.pickup_uncollected_days, 7);
    }

    #[test]
    fn the_store_page_offers_the_next_step_and_a_short_pick_until_packed() {
        use StepAction as A;
        assert_eq!(offered(Accepted, Standard, ToPick), vec![A::Pick, A::ShortPick]);
        assert_eq!(offered(Accepted, Standard, Picked), vec![A::Pack, A::ShortPick]);
        assert_eq!(offered(Accepted, Standard, Packed), vec![A::Ship]);
        assert_eq!(offered(Accepted, Pickup, Picked), vec![A::ReadyForPickup, A::ShortPick]);
        assert_eq!(offered(ReadyForPickup, Pickup, PickStep::current(ReadyForPickup, None)), vec![A::PickedUp]);
        assert!(offered(OnHold, Standard, ToPick).is_empty());
    }

    #[test]
    fn the_pick_list_puts_waiting_customers_first_then_oldest() {
        let mut list = [
            (Standard, 1, "a"),
            (Expedited, 5, "b"),
            (Pickup, 9, "c"),
            (SameDay, 7, "d"),
            (Standard, 0, "e"),
            (SameDay, 7, "c2"),
        ];
        list.sort_by(|a, b| pick_order(*a, *b));
        let ids: Vec<&str> = list.iter().map(|x| x.2).collect();
        assert_eq!(ids, vec!["c2", "d", "c", "b", "e", "a"]);
        assert_eq!((pick_rank(SameDay), pick_rank(Pickup), pick_rank(Expedited), pick_rank(Standard)), (0, 0, 1, 2));
    }

    #[test]
    fn a_pickup_is_uncollected_once_its_days_have_passed() {
        assert!(!uncollected(ReadyForPickup, 0, 3 * DAY_MS - 1, 3));
        assert!(uncollected(ReadyForPickup, 0, 3 * DAY_MS, 3));
        // Ready within the promise (2 h by default): on time up to the promised moment itself.
        let within = crate::routing::Policy::default().service_levels.pickup_ready_within_hours;
        assert_eq!(within, 2);
        assert!(ready_on_time(10 * HOUR_MS, 11 * HOUR_MS, within));
        assert!(ready_on_time(10 * HOUR_MS, 12 * HOUR_MS, within), "at the promise itself");
        assert!(!ready_on_time(10 * HOUR_MS, 12 * HOUR_MS + 1, within), "a millisecond late");
        assert!(ready_on_time(10 * HOUR_MS, 10 * HOUR_MS, 1));
        assert!(!ready_on_time(0, 3 * HOUR_MS, 2));
        assert!(ready_on_time(0, 3 * HOUR_MS, 3));
        assert!(!uncollected(Completed, 0, 30 * DAY_MS, 3), "collected");
        assert!(!uncollected(Cancelled, 0, 30 * DAY_MS, 3));
        for s in PickStep::ALL {
            assert_eq!(PickStep::parse(s.as_str()), Some(s));
        }
    }
}
