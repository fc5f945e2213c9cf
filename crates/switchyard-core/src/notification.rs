//! Notifications: the events a customer (or, for an escalation, staff) is told of, the e-mail
//! address an order may carry, and the plain words the customer's status
//! page uses. The engine queues one outbox message per event in the same
//! transaction as the change ([`crate::outbox::Message::notification_event`]);
//! the notifier renders and delivers it.

use serde::{Deserialize, Serialize};

use crate::order::OrderStatus;

/// What a customer is told of. Stored and named by its snake_case code
/// (templates are keyed by it, webhooks carry it as `event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// The order was taken (and not short of stock).
    OrderAccepted,
    /// Some of the order waits for stock (backordered).
    OrderDelayed,
    /// A parcel left (carrier and tracking when known).
    OrderShipped,
    /// The whole order waits at a store for the customer.
    ReadyForPickup,
    OrderCancelled,
    /// A return was approved (an RMA number; where to send it).
    ReturnAuthorized,
    /// The returned items arrived.
    ReturnReceived,
    /// The refund for a return was recorded.
    RefundIssued,
    /// For staff, not the customer: an exception on the order went past its
    /// SLA and moved up a level (to the staff address and the webhooks that
    /// list this event).
    ExceptionEscalated,
}

impl NotificationEvent {
    pub const ALL: [NotificationEvent; 9] = [
        Self::OrderAccepted,
        Self::OrderDelayed,
        Self::OrderShipped,
        Self::ReadyForPickup,
        Self::OrderCancelled,
        Self::ReturnAuthorized,
        Self::ReturnReceived,
        Self::RefundIssued,
        Self::ExceptionEscalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderAccepted => "order_accepted",
            Self::OrderDelayed => "order_delayed",
            Self::OrderShipped => "order_shipped",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::OrderCancelled => "order_cancelled",
            Self::ReturnAuthorized => "return_authorized",
            Self::ReturnReceived => "return_received",
            Self::RefundIssued => "refund_issued",
            Self::ExceptionEscalated => "exception_escalated",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw)
    }

    /// Whether it is about a return of the order (its status page is the
    /// return's).
    pub fn is_about_return(self) -> bool {
        matches!(self, Self::ReturnAuthorized | Self::ReturnReceived | Self::RefundIssued)
    }

    /// Whether it is for staff (never the customer, never on the status
    /// page): sent to the staff address, and only to webhooks that list it.
    pub fn is_for_staff(self) -> bool {
        self == Self::ExceptionEscalated
    }

    /// The step's title on the customer's status page, in plain words.
    pub fn headline(self) -> &'static str {
        match self {
            Self::OrderAccepted => "Order received",
            Self::OrderDelayed => "Delayed: part of the order is waiting for stock",
            Self::OrderShipped => "Shipped",
            Self::ReadyForPickup => "Ready for pickup",
            Self::OrderCancelled => "Cancelled",
            Self::ReturnAuthorized => "Return authorized",
            Self::ReturnReceived => "Return received",
            Self::RefundIssued => "Refund issued",
            Self::ExceptionEscalated => "Being checked by our team",
        }
    }
}

/// How a notification is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChannel {
    /// To the order's customer, over SMTP.
    Email,
    /// A signed POST to a URL the merchant configured.
    Webhook,
}

impl DeliveryChannel {
    pub const ALL: [DeliveryChannel; 2] = [Self::Email, Self::Webhook];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not tried yet.
    Pending,
    /// Failed; tried again later.
    Retrying,
    Sent,
    /// Failed too often (or refused for good): a `notification_failed`
    /// exception asks a person.
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [Self::Pending, Self::Retrying, Self::Sent, Self::Dead];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Retrying => "retrying",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// Where an order stands, in the words its customer reads.
pub fn status_words(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::PendingPayment => "Waiting for payment",
        OrderStatus::Accepted => "Received, being prepared",
        OrderStatus::Backordered => "Delayed: part of the order is waiting for stock",
        OrderStatus::OnHold => "Being checked by our team",
        OrderStatus::PartiallyShipped => "Partly shipped",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::ReadyForPickup => "Ready for pickup",
        OrderStatus::Completed => "Completed",
        OrderStatus::Cancelled => "Cancelled",
    }
}

/// Where a return stands (its status code), in the customer's words.
pub fn return_status_words(status: &str) -> &'static str {
    match status {
        "requested" => "Requested, waiting for a decision",
        "authorized" | "label_issued" => "Authorized: send the items back",
        "rejected" => "Not accepted",
        "in_transit" => "On its way back to us",
        "received" | "inspected" | "dispositioned" => "Received",
        "refunded" => "Refunded",
        "exchanged" => "Exchanged",
        "closed" => "Closed",
        "cancelled" => "Cancelled",
        _ => "In progress",
    }
}

/// The longest e-mail address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why an e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email must be one address like name@example.com (at most {MAX_EMAIL_CHARS} characters)")]
pub struct EmailError;

/// One e-mail address, checked once: a local part and a domain of dotted
/// labels, no spaces, quotes, brackets or display names. Stricter than RFC
/// 5322 on purpose: what passes here is an address every SMTP server takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, EmailError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailError);
        }
        let (local, domain) = raw.split_once('@').ok_or(EmailError)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(EmailAddress(raw.to_owned()))
        } else {
            Err(EmailError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(raw: String) -> Result<Self, EmailError> {
        EmailAddress::parse(&raw)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_say_what_they_are_about() {
        for e in NotificationEvent::ALL {
            assert_eq!(NotificationEvent::parse(e.as_str()), Some(e));
            let json = serde_json::to_string(&e).expect("json");
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
        assert_eq!(NotificationEvent::parse("order_exploded"), None);
        assert!(NotificationEvent::RefundIssued.is_about_return());
        assert!(!NotificationEvent::OrderShipped.is_about_return());
        let staff: Vec<_> = NotificationEvent::ALL.into_iter().filter(|e| e.is_for_staff()).collect();
        assert_eq!(staff, [NotificationEvent::ExceptionEscalated]);
    }

    #[test]
    fn addresses_are_checked_once() {
        for good in ["ann@example.com", "a.b+tag@mail.example.co.uk", "  x_y@ex-ample.org  "] {
            let a = EmailAddress::parse(good).expect(good);
            assert_eq!(a.as_str(), good.trim());
        }
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "ann@@example.com",
            "Ann <ann@example.com>",
            "ann smith@example.com",
            "ann@exa mple.com",
            "ann@example..com",
            ".ann@example.com",
            "ann@-example.com",
            "ann\n@example.com",
            "ann@example.com,bob@example.com",
            long.as_str(),
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailError), "{bad:?}");
        }
        assert!(serde_json::from_str::<EmailAddress>("\"no-at-sign\"").is_err());
    }

    #[test]
    fn every_status_has_plain_words() {
        for s in OrderStatus::ALL {
            assert!(!status_words(s).contains('_'), "{s:?}");
        }
        assert_eq!(return_status_words("refunded"), "Refunded");
        assert_eq!(return_status_words("something_new"), "In progress");
    }
}
