//! The canonical order: statuses, the state machine, service levels.

use serde::{Deserialize, Serialize};

/// The canonical order statuses (CONTRACT.md). Stored as snake_case codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Accepted,
    Backordered,
    OnHold,
    PartiallyShipped,
    Shipped,
    ReadyForPickup,
    Completed,
    Cancelled,
}

/// A status change the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {} cannot become {}", from.as_str(), to.as_str())]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        Self::PendingPayment,
        Self::Accepted,
        Self::Backordered,
        Self::OnHold,
        Self::PartiallyShipped,
        Self::Shipped,
        Self::ReadyForPickup,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Accepted => "accepted",
            Self::Backordered => "backordered",
            Self::OnHold => "on_hold",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the order may still hold reserved stock.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Shipped | Self::Completed | Self::Cancelled)
    }

    /// Whether units may be shipped (or handed over) in this status.
    pub fn can_ship(self) -> bool {
        matches!(self, Self::Accepted | Self::Backordered | Self::PartiallyShipped | Self::ReadyForPickup)
    }

    /// The state machine. Returns the new status or a typed rejection; a
    /// transition to the same status is allowed only where it means something
    /// (another partial shipment, say).
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, IllegalTransition> {
        use OrderStatus::*;
        let ok = matches!(
            (self, to),
            (PendingPayment, Accepted | Backordered | OnHold | Cancelled)
                | (Accepted, PartiallyShipped | Shipped | ReadyForPickup | OnHold | Cancelled | Backordered)
                | (Backordered, Accepted | PartiallyShipped | Shipped | OnHold | Cancelled | ReadyForPickup)
                | (OnHold, Accepted | Backordered | Cancelled | PendingPayment)
                | (PartiallyShipped, PartiallyShipped | Shipped | OnHold)
                | (Shipped, Completed)
                | (ReadyForPickup, Completed | Cancelled)
        );
        if ok {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

/// How fast and how the customer gets the goods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevel {
    #[default]
    Standard,
    Expedited,
    SameDay,
    Pickup,
}

impl ServiceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Expedited => "expedited",
            Self::SameDay => "same_day",
            Self::Pickup => "pickup",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "standard" => Self::Standard,
            "expedited" => Self::Expedited,
            "same_day" => Self::SameDay,
            "pickup" => Self::Pickup,
            _ => return None,
        })
    }
}

/// Whether the customer has paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    #[default]
    Paid,
    Pending,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Pending => "pending",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "paid" => Some(Self::Paid),
            "pending" => Some(Self::Pending),
            _ => None,
        }
    }
}

/// What happens to an unpaid order whose reservation expired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiredAction {
    /// Cancel the order (the default).
    #[default]
    Cancel,
    /// Keep the order on hold without stock; paying later re-allocates it.
    Hold,
}

impl ExpiredAction {
    pub fn status(self) -> OrderStatus {
        match self {
            Self::Cancel => OrderStatus::Cancelled,
            Self::Hold => OrderStatus::OnHold,
        }
    }
}

/// Where the order goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShipTo {
    pub name: String,
    pub line1: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

/// The status an order gets after allocation.
pub fn status_after_allocation(payment: PaymentState, any_backordered: bool) -> OrderStatus {
    match (payment, any_backordered) {
        (PaymentState::Pending, _) => OrderStatus::PendingPayment,
        (PaymentState::Paid, true) => OrderStatus::Backordered,
        (PaymentState::Paid, false) => OrderStatus::Accepted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn illegal_transitions_are_errors() {
        use OrderStatus::*;
        assert_eq!(Cancelled.transition(Shipped), Err(IllegalTransition { from: Cancelled, to: Shipped }));
        assert!(Shipped.transition(Cancelled).is_err());
        assert!(Completed.transition(Accepted).is_err());
        assert!(Accepted.transition(Accepted).is_err());
        assert_eq!(PendingPayment.transition(Accepted), Ok(Accepted));
        assert_eq!(PartiallyShipped.transition(PartiallyShipped), Ok(PartiallyShipped));
    }

    #[test]
    fn terminal_states_stay_terminal() {
        for to in OrderStatus::ALL {
            assert!(OrderStatus::Cancelled.transition(to).is_err());
            assert!(OrderStatus::Completed.transition(to).is_err());
        }
    }
}
