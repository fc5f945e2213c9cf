//! The return workflow as a state machine: which status a return may move
//! to, and a typed rejection ([`IllegalReturnTransition`]) for every move it
//! may not make.
//!
//! ```text
//! requested ──► authorized ──► label_issued ──► in_transit ──► received
//!     │             ▲  └──────────────┴───────────────┴──────────► received
//!     └─► rejected ─┘ (a person's override)
//! received ──► inspected ──► dispositioned ──► refunded | exchanged ──► closed
//! rejected ──► closed
//! authorized | label_issued | in_transit ──► cancelled (final)
//! ```
//!
//! A request the policy sends to review stays `requested` (its decision's
//! outcome is `needs_review`) until a person approves or rejects it
//! ([`ReturnStatus::review`]). A rejection can be overridden by a person
//! (`rejected → authorized`). A parcel may arrive without a label or
//! tracking (a customer walks it into a store), so `authorized` and
//! `label_issued` may move straight to `received`. An authorized return
//! whose units never arrive is called off by a person (`cancelled`, final):
//! it gives the units back, and an exchange's replacement order is
//! cancelled with it.

use serde::{Deserialize, Serialize};

use super::decision::ReturnOutcome;
use super::policy::RefundMethod;

/// Where a return stands. Stored as its snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Authorized,
    Rejected,
    LabelIssued,
    InTransit,
    Received,
    Inspected,
    Dispositioned,
    Refunded,
    Exchanged,
    Closed,
    Cancelled,
}

/// A status change the return workflow does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a return that is {} cannot become {}", from.as_str(), to.as_str())]
pub struct IllegalReturnTransition {
    pub from: ReturnStatus,
    pub to: ReturnStatus,
}

impl ReturnStatus {
    pub const ALL: [ReturnStatus; 12] = [
        Self::Requested,
        Self::Authorized,
        Self::Rejected,
        Self::LabelIssued,
        Self::InTransit,
        Self::Received,
        Self::Inspected,
        Self::Dispositioned,
        Self::Refunded,
        Self::Exchanged,
        Self::Closed,
        Self::Cancelled,
    ];

    /// The statuses a receipt walks through, in order, when staff record
    /// what arrived and its grade in one step.
    pub const RECEIPT_STEPS: [ReturnStatus; 3] = [Self::Received, Self::Inspected, Self::Dispositioned];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Authorized => "authorized",
            Self::Rejected => "rejected",
            Self::LabelIssued => "label_issued",
            Self::InTransit => "in_transit",
            Self::Received => "received",
            Self::Inspected => "inspected",
            Self::Dispositioned => "dispositioned",
            Self::Refunded => "refunded",
            Self::Exchanged => "exchanged",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the workflow allows moving from `self` to `to`.
    pub fn can_move_to(self, to: ReturnStatus) -> bool {
        use ReturnStatus::*;
        matches!(
            (self, to),
            (Requested, Authorized | Rejected)
                | (Rejected, Authorized | Closed)
                | (Authorized, LabelIssued | InTransit | Received)
                | (LabelIssued, InTransit | Received)
                | (InTransit, Received)
                | (Received, Inspected)
                | (Inspected, Dispositioned)
                | (Dispositioned, Refunded | Exchanged)
                | (Refunded | Exchanged, Closed)
                | (Authorized | LabelIssued | InTransit, Cancelled)
        )
    }

    /// The move, or a typed rejection.
    pub fn transition(self, to: ReturnStatus) -> Result<ReturnStatus, IllegalReturnTransition> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalReturnTransition { from: self, to })
        }
    }

    /// The status a new request takes from its decision: approved →
    /// `authorized`, rejected → `rejected`, needs review → stays
    /// `requested` until a person decides.
    pub fn after_decision(outcome: ReturnOutcome) -> ReturnStatus {
        match outcome {
            ReturnOutcome::Approved => Self::Authorized,
            ReturnOutcome::Rejected => Self::Rejected,
            ReturnOutcome::NeedsReview => Self::Requested,
        }
    }

    /// A person's decision on a request waiting for review or on a
    /// rejection (an override). Approving authorizes it; rejecting a
    /// request rejects it, and rejecting a rejected return upholds it (the
    /// status stays). Anything past those two states is refused.
    pub fn review(self, approve: bool) -> Result<ReturnStatus, IllegalReturnTransition> {
        match (self, approve) {
            (_, true) => self.transition(Self::Authorized),
            (Self::Rejected, false) => Ok(Self::Rejected),
            (_, false) => self.transition(Self::Rejected),
        }
    }

    /// Where a return goes once its money is settled: an exchange is
    /// `exchanged`, any other refund method `refunded`.
    pub fn settled(method: RefundMethod) -> ReturnStatus {
        match method {
            RefundMethod::Exchange => Self::Exchanged,
            RefundMethod::OriginalPayment | RefundMethod::StoreCredit => Self::Refunded,
        }
    }

    /// Whether a return in this status keeps its units from being asked
    /// for again: while it waits for a person (`requested`) and once it was
    /// ever `authorized` (it has an RMA), whatever happened since. A
    /// rejection, a closed rejection, or a cancelled return gives them back.
    pub fn holds_units(self, authorized: bool) -> bool {
        self == Self::Requested || (authorized && self != Self::Cancelled)
    }

    /// Whether units may still be received.
    pub fn awaits_goods(self) -> bool {
        self.can_move_to(Self::Received)
    }
}

impl std::fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReturnStatus::*;

    #[test]
    fn codes_round_trip() {
        for s in ReturnStatus::ALL {
            assert_eq!(ReturnStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReturnStatus::parse("needs_review"), None);
        assert_eq!(LabelIssued.to_string(), "label_issued");
    }

    #[test]
    fn the_happy_path_is_allowed_step_by_step() {
        let path =
            [Requested, Authorized, LabelIssued, InTransit, Received, Inspected, Dispositioned, Refunded, Closed];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]), Ok(pair[1]), "{} → {}", pair[0], pair[1]);
        }
        assert_eq!(Dispositioned.transition(Exchanged), Ok(Exchanged));
        assert_eq!(Exchanged.transition(Closed), Ok(Closed));
    }

    #[test]
    fn illegal_moves_are_typed_rejections() {
        assert_eq!(Requested.transition(Received), Err(IllegalReturnTransition { from: Requested, to: Received }));
        assert_eq!(
            Dispositioned.transition(Received).map_err(|e| e.to_string()),
            Err("a return that is dispositioned cannot become received".to_owned())
        );
        assert!(Refunded.transition(Refunded).is_err(), "refunded twice");
        assert!(Received.transition(Received).is_err(), "received twice");
        assert!(Rejected.transition(Received).is_err(), "nothing is received on a rejected return");
        assert!(Authorized.transition(Refunded).is_err(), "no refund before the goods are dispositioned");
        for to in ReturnStatus::ALL {
            assert!(Closed.transition(to).is_err(), "closed is final ({to})");
            assert!(!to.can_move_to(to), "{to} → {to} is no move");
        }
    }

    #[test]
    fn the_receipt_steps_chain() {
        let mut at = Authorized;
        for step in ReturnStatus::RECEIPT_STEPS {
            at = at.transition(step).expect("each receipt step follows the one before");
        }
        assert_eq!(at, Dispositioned);
        assert!(Authorized.awaits_goods() && InTransit.awaits_goods() && LabelIssued.awaits_goods());
        assert!(!Requested.awaits_goods() && !Rejected.awaits_goods() && !Received.awaits_goods());
    }

    #[test]
    fn a_decision_sets_the_first_status_and_review_holds_as_requested() {
        assert_eq!(ReturnStatus::after_decision(ReturnOutcome::Approved), Authorized);
        assert_eq!(ReturnStatus::after_decision(ReturnOutcome::Rejected), Rejected);
        assert_eq!(ReturnStatus::after_decision(ReturnOutcome::NeedsReview), Requested);
    }

    #[test]
    fn a_person_approves_rejects_or_overrides() {
        assert_eq!(Requested.review(true), Ok(Authorized));
        assert_eq!(Requested.review(false), Ok(Rejected));
        assert_eq!(Rejected.review(true), Ok(Authorized), "an override of a rejection");
        assert_eq!(Rejected.review(false), Ok(Rejected), "upholding a rejection changes nothing");
        assert_eq!(Authorized.review(true), Err(IllegalReturnTransition { from: Authorized, to: Authorized }));
        assert_eq!(Received.review(false), Err(IllegalReturnTransition { from: Received, to: Rejected }));
    }

    #[test]
    fn only_pending_and_authorized_returns_hold_units() {
        assert!(Requested.holds_units(false));
        assert!(Refunded.holds_units(true) && Authorized.holds_units(true) && Closed.holds_units(true));
        assert!(!Rejected.holds_units(false) && !Closed.holds_units(false));
    }

    #[test]
    fn only_a_return_still_awaiting_its_units_is_cancelled() {
        for from in [Authorized, LabelIssued, InTransit] {
            assert_eq!(from.transition(Cancelled), Ok(Cancelled), "{from}");
        }
        for from in [Requested, Rejected, Received, Inspected, Dispositioned, Refunded, Exchanged, Closed] {
            assert!(from.transition(Cancelled).is_err(), "{from} → cancelled");
        }
        for to in ReturnStatus::ALL {
            assert!(Cancelled.transition(to).is_err(), "cancelled is final ({to})");
        }
        assert!(!Cancelled.holds_units(true), "a cancelled return gives its units back");
        assert_eq!(ReturnStatus::parse("cancelled"), Some(Cancelled));
    }

    #[test]
    fn exchanges_settle_as_exchanged() {
        assert_eq!(ReturnStatus::settled(RefundMethod::Exchange), Exchanged);
        assert_eq!(ReturnStatus::settled(RefundMethod::OriginalPayment), Refunded);
        assert_eq!(ReturnStatus::settled(RefundMethod::StoreCredit), Refunded);
    }
}
