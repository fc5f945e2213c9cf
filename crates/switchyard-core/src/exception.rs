//! The exception queue's vocabulary: what can need a human, how urgent it
//! is, who owns it, and how it escalates when nobody acts within its SLA.

use serde::{Deserialize, Serialize};

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

code_enum!(
    /// What went wrong with an order.
    ExceptionKind {
        AddressInvalid = "address_invalid",
        Unroutable = "unroutable",
        Backordered = "backordered",
        PickupUnavailable = "pickup_unavailable",
        SplitOverLimit = "split_over_limit",
        PaymentTimeout = "payment_timeout",
        SyncFailed = "sync_failed",
        UnknownSku = "unknown_sku",
        ReturnOutOfPolicy = "return_out_of_policy",
        NotificationFailed = "notification_failed",
        PickupUncollected = "pickup_uncollected",
        DropshipUnconfirmed = "dropship_unconfirmed",
    }
);

code_enum!(
    /// How urgent an exception is; escalation raises it.
    Severity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
);

code_enum!(
    /// Who is expected to act.
    OwnerRole { Ops = "ops", Store = "store", Owner = "owner" }
);

code_enum!(
    /// Where an exception stands.
    ExceptionStatus { Open = "open", Resolved = "resolved", Dismissed = "dismissed" }
);

code_enum!(
    /// What a human can do about an exception.
    ResolutionAction {
        Retry = "retry",
        OverrideLocation = "override_location",
        ApproveSplit = "approve_split",
        EditAddress = "edit_address",
        Cancel = "cancel",
        Dismiss = "dismiss",
        ApproveReturn = "approve_return",
        RejectReturn = "reject_return",
    }
);

const HOUR_MS: i64 = 3_600_000;

/// The highest escalation level.
pub const MAX_LEVEL: i64 = 3;

impl ExceptionKind {
    pub fn severity(self) -> Severity {
        match self {
            Self::AddressInvalid | Self::Unroutable | Self::PickupUnavailable | Self::UnknownSku => Severity::High,
            Self::Backordered
            | Self::SplitOverLimit
            | Self::SyncFailed
            | Self::ReturnOutOfPolicy
            | Self::PickupUncollected
            | Self::DropshipUnconfirmed => Severity::Medium,
            Self::PaymentTimeout | Self::NotificationFailed => Severity::Low,
        }
    }

    pub fn owner(self) -> OwnerRole {
        match self {
            // The store calls the customer whose order waits at its counter.
            Self::PickupUnavailable | Self::PickupUncollected => OwnerRole::Store,
            _ => OwnerRole::Ops,
        }
    }

    /// How long a human has before it escalates.
    pub fn sla_ms(self) -> i64 {
        match self {
            Self::PickupUnavailable => HOUR_MS,
            Self::Unroutable => 2 * HOUR_MS,
            Self::AddressInvalid | Self::SplitOverLimit | Self::SyncFailed | Self::UnknownSku => 4 * HOUR_MS,
            // A customer waits for the answer on a return, but nothing is
            // held or oversold meanwhile.
            // A customer who was not told can still look at the status page.
            // An uncollected pickup has waited days already; a day to call.
            Self::Backordered
            | Self::PaymentTimeout
            | Self::ReturnOutOfPolicy
            | Self::NotificationFailed
            | Self::PickupUncollected => 24 * HOUR_MS,
            // The vendor is already late: someone should call it today.
            Self::DropshipUnconfirmed => 8 * HOUR_MS,
        }
    }

    /// Whether an open exception of this kind keeps the order from shipping
    /// (it is `on_hold` while one is open). A pickup store that cannot hand
    /// the order over holds it too, as it does when the order is taken.
    pub fn blocks_fulfilment(self) -> bool {
        matches!(
            self,
            Self::AddressInvalid
                | Self::PaymentTimeout
                | Self::Unroutable
                | Self::SplitOverLimit
                | Self::PickupUnavailable
                | Self::UnknownSku
        )
    }

    /// The actions that make sense for this kind.
    pub fn actions(self) -> &'static [ResolutionAction] {
        use ResolutionAction::*;
        match self {
            Self::AddressInvalid => &[EditAddress, Dismiss, Cancel],
            Self::SplitOverLimit => &[ApproveSplit, Retry, OverrideLocation, Cancel, Dismiss],
            Self::Backordered | Self::Unroutable | Self::PickupUnavailable => {
                &[Retry, OverrideLocation, Cancel, Dismiss]
            }
            Self::PaymentTimeout => &[Cancel, Dismiss],
            // Retry sends again what the channel refused (the order's news,
            // or a connection's stock levels) once the cause is fixed.
            Self::SyncFailed => &[Retry, Dismiss],
            // Mapping the channel's SKU resumes the order by itself.
            Self::UnknownSku => &[Retry, Cancel],
            // A person overrides the policy either way (who and why logged);
            // rejecting a rejected return upholds it.
            Self::ReturnOutOfPolicy => &[ApproveReturn, RejectReturn],
            // Retry sends the dead-lettered notifications of the order again
            // (once the mail server or webhook is fixed).
            Self::NotificationFailed => &[Retry, Dismiss],
            // The customer is called (then dismissed with what they said:
            // the order stays ready) or the order is cancelled (the stock
            // goes back on sale). Collecting it settles it by itself.
            Self::PickupUncollected => &[Dismiss, Cancel],
            // The vendor's confirmation closes it by itself; a person may
            // cancel the order (the purchase order is cancelled with it) or
            // dismiss it after calling the vendor.
            Self::DropshipUnconfirmed => &[Cancel, Dismiss],
        }
    }

    /// Whether it is about the order's news reaching its channel (a
    /// shipment or cancellation the channel refused) rather than about the
    /// order itself: such an exception may stay open after the order closed.
    pub fn concerns_channel(self) -> bool {
        matches!(self, Self::SyncFailed)
    }

    /// Whether it may stay open after its order closed: it is about the
    /// order's news reaching its channel or its customer, about a return
    /// of the order (which comes after the order shipped), or about a
    /// dropship vendor's confirmation (a person may ship the order by hand
    /// meanwhile), not about the order itself.
    pub fn outlives_order(self) -> bool {
        self.concerns_channel()
            || matches!(self, Self::ReturnOutOfPolicy | Self::NotificationFailed | Self::DropshipUnconfirmed)
    }
}

/// Escalation level at `now_ms`: 0 within the SLA, then one more level for
/// each further SLA period, up to [`MAX_LEVEL`].
pub fn escalation_level(created_ms: i64, now_ms: i64, sla_ms: i64) -> i64 {
    let sla = sla_ms.max(1);
    let overdue = now_ms.saturating_sub(created_ms.saturating_add(sla));
    if overdue < 0 {
        0
    } else {
        (1 + overdue / sla).min(MAX_LEVEL)
    }
}

/// The severity after `level` escalations.
pub fn escalated(base: Severity, level: i64) -> Severity {
    let i = Severity::ALL.iter().position(|s| *s == base).unwrap_or(0) as i64;
    let j = (i + level.max(0)).min(Severity::ALL.len() as i64 - 1) as usize;
    Severity::ALL[j]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_of_policy_return_is_overridden_either_way_and_outlives_its_order() {
        let k = ExceptionKind::ReturnOutOfPolicy;
        assert_eq!(k.actions(), &[ResolutionAction::ApproveReturn, ResolutionAction::RejectReturn]);
        assert!(k.outlives_order() && !k.concerns_channel() && !k.blocks_fulfilment());
        assert_eq!((k.severity(), k.owner(), k.sla_ms()), (Severity::Medium, OwnerRole::Ops, 24 * HOUR_MS));
        assert!(ExceptionKind::SyncFailed.outlives_order() && !ExceptionKind::Backordered.outlives_order());
    }

    #[test]
    fn a_failed_notification_is_retried_or_dismissed_and_never_holds_the_order() {
        let k = ExceptionKind::NotificationFailed;
        assert_eq!(k.actions(), &[ResolutionAction::Retry, ResolutionAction::Dismiss]);
        assert!(k.outlives_order() && !k.concerns_channel() && !k.blocks_fulfilment());
        assert_eq!(ExceptionKind::parse("notification_failed"), Some(k));
    }

    #[test]
    fn an_uncollected_pickup_is_the_stores_to_call_and_never_holds_the_order() {
        let k = ExceptionKind::PickupUncollected;
        assert_eq!(k.actions(), &[ResolutionAction::Dismiss, ResolutionAction::Cancel]);
        assert!(!k.outlives_order() && !k.blocks_fulfilment());
        assert_eq!((k.severity(), k.owner(), k.sla_ms()), (Severity::Medium, OwnerRole::Store, 24 * HOUR_MS));
    }

    #[test]
    fn an_unconfirmed_purchase_order_is_cancelled_or_dismissed_and_never_holds_the_order() {
        let k = ExceptionKind::DropshipUnconfirmed;
        assert_eq!(k.actions(), &[ResolutionAction::Cancel, ResolutionAction::Dismiss]);
        assert!(k.outlives_order() && !k.concerns_channel() && !k.blocks_fulfilment());
        assert_eq!((k.severity(), k.owner(), k.sla_ms()), (Severity::Medium, OwnerRole::Ops, 8 * HOUR_MS));
        assert_eq!(ExceptionKind::parse("dropship_unconfirmed"), Some(k));
    }

    #[test]
    fn codes_round_trip() {
        for k in ExceptionKind::ALL {
            assert_eq!(ExceptionKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(ResolutionAction::parse("dismiss"), Some(ResolutionAction::Dismiss));
        assert_eq!(ResolutionAction::parse("approve_return"), Some(ResolutionAction::ApproveReturn));
        assert_eq!(ExceptionStatus::parse("nope"), None);
    }

    #[test]
    fn escalation_by_sla_periods() {
        let sla = HOUR_MS;
        assert_eq!(escalation_level(0, sla - 1, sla), 0);
        assert_eq!(escalation_level(0, sla, sla), 1);
        assert_eq!(escalation_level(0, 2 * sla, sla), 2);
        assert_eq!(escalation_level(0, 100 * sla, sla), MAX_LEVEL);
        assert_eq!(escalated(Severity::Medium, 1), Severity::High);
        assert_eq!(escalated(Severity::High, 3), Severity::Critical);
        assert_eq!(escalated(Severity::Low, 0), Severity::Low);
    }
}
