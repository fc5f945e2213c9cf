//! Messages the engine leaves for the world outside, written in the same
//! transaction as the change they announce (the transactional outbox):
//! stock levels for the channels, notifications for people.

use serde::{Deserialize, Serialize};

use crate::dropship::PoEvent;
use crate::notification::{DeliveryChannel, NotificationEvent};

/// One outbox message. Stored as JSON tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// A SKU's available-to-promise may have changed: channels are told
    /// the newest level (older unsent ones for the same SKU are dropped).
    AtpChanged {
        sku: String,
    },
    /// An order was cancelled (by a person, a timeout or auto-cancel).
    OrderCancelled {
        order_id: String,
        reason: String,
    },
    /// An order shipped: the channel it came from is told (carrier,
    /// tracking).
    Shipped {
        order_id: String,
        shipment_id: String,
    },
    /// An order was cancelled here (not by its channel): the channel it
    /// came from is told.
    CancelAtOrigin {
        order_id: String,
        reason: String,
    },
    /// An exception went past its SLA and moved up a level.
    ExceptionEscalated {
        /// The order it is about (`None` for a connection's exception).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_id: Option<String>,
        /// The connection it is about, for a connection's exception.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
        exception_id: String,
        exception_kind: String,
        level: i64,
        severity: String,
        owner_role: String,
    },
    /// A customer notification: the order was taken.
    OrderAccepted {
        order_id: String,
    },
    /// A customer notification: part of the order waits for stock.
    OrderDelayed {
        order_id: String,
    },
    /// A customer notification: a parcel left (the shipment names carrier
    /// and tracking).
    OrderShipped {
        order_id: String,
        shipment_id: String,
    },
    /// A customer notification: the order waits at `location`.
    ReadyForPickup {
        order_id: String,
        location: String,
    },
    /// A customer notification about a return of the order.
    ReturnAuthorized {
        order_id: String,
        return_id: String,
    },
    ReturnReceived {
        order_id: String,
        return_id: String,
    },
    RefundIssued {
        order_id: String,
        return_id: String,
    },
    /// One delivery of a notification (an e-mail, a webhook call) the
    /// notifier sends, retries and dead-letters; the delivery row says what.
    NotificationDelivery {
        delivery_id: String,
        order_id: String,
    },
    /// A purchase order's news for its dropship vendor, one message per way
    /// of telling it (e-mail, webhook): the notifier sends, retries and
    /// dead-letters each on its own.
    VendorNotice {
        po_id: String,
        order_id: String,
        event: PoEvent,
        channel: DeliveryChannel,
    },
}

impl Message {
    /// The consumer family: `atp_changed` for channels' stock levels,
    /// `origin` for news to an order's own channel, `notification` for the
    /// notifier (`vendor_notice` for dropship vendors).
    pub fn topic(&self) -> &'static str {
        match self {
            Message::AtpChanged { .. } => "atp_changed",
            Message::OrderCancelled { .. }
            | Message::ExceptionEscalated { .. }
            | Message::OrderAccepted { .. }
            | Message::OrderDelayed { .. }
            | Message::OrderShipped { .. }
            | Message::ReadyForPickup { .. }
            | Message::ReturnAuthorized { .. }
            | Message::ReturnReceived { .. }
            | Message::RefundIssued { .. } => "notification",
            Message::Shipped { .. } | Message::CancelAtOrigin { .. } => "origin",
            Message::NotificationDelivery { .. } => "notification_delivery",
            Message::VendorNotice { .. } => "vendor_notice",
        }
    }

    /// The customer notification this message is, if it is one.
    pub fn notification_event(&self) -> Option<NotificationEvent> {
        Some(match self {
            Message::OrderAccepted { .. } => NotificationEvent::OrderAccepted,
            Message::OrderDelayed { .. } => NotificationEvent::OrderDelayed,
            Message::OrderShipped { .. } => NotificationEvent::OrderShipped,
            Message::ReadyForPickup { .. } => NotificationEvent::ReadyForPickup,
            Message::OrderCancelled { .. } => NotificationEvent::OrderCancelled,
            Message::ReturnAuthorized { .. } => NotificationEvent::ReturnAuthorized,
            Message::ReturnReceived { .. } => NotificationEvent::ReturnReceived,
            Message::RefundIssued { .. } => NotificationEvent::RefundIssued,
            Message::ExceptionEscalated { .. } => NotificationEvent::ExceptionEscalated,
            _ => return None,
        })
    }

    /// The return a notification is about, if any.
    pub fn return_id(&self) -> Option<&str> {
        match self {
            Message::ReturnAuthorized { return_id, .. }
            | Message::ReturnReceived { return_id, .. }
            | Message::RefundIssued { return_id, .. } => Some(return_id),
            _ => None,
        }
    }

    /// What the message is about (a SKU, an order).
    pub fn subject(&self) -> &str {
        match self {
            Message::AtpChanged { sku } => sku,
            Message::OrderCancelled { order_id, .. }
            | Message::Shipped { order_id, .. }
            | Message::CancelAtOrigin { order_id, .. }
            | Message::OrderAccepted { order_id }
            | Message::OrderDelayed { order_id }
            | Message::OrderShipped { order_id, .. }
            | Message::ReadyForPickup { order_id, .. }
            | Message::ReturnAuthorized { order_id, .. }
            | Message::ReturnReceived { order_id, .. }
            | Message::RefundIssued { order_id, .. }
            | Message::NotificationDelivery { order_id, .. }
            | Message::VendorNotice { order_id, .. } => order_id,
            Message::ExceptionEscalated { order_id, channel, exception_id, .. } => {
                order_id.as_deref().or(channel.as_deref()).unwrap_or(exception_id)
            }
        }
    }

    /// Messages with the same key replace each other: only the newest
    /// unsent one is delivered. Notifications never coalesce.
    pub fn coalesce_key(&self) -> Option<String> {
        match self {
            Message::AtpChanged { sku } => Some(format!("atp_changed:{sku}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let m = Message::OrderCancelled { order_id: "o1".into(), reason: "payment_timeout".into() };
        let json = serde_json::to_string(&m).expect("serialise");
        assert_eq!(json, r#"{"kind":"order_cancelled","order_id":"o1","reason":"payment_timeout"}"#);
        assert_eq!(serde_json::from_str::<Message>(&json).expect("parse"), m);
        let atp = Message::AtpChanged { sku: "TEE".into() };
        assert_eq!((atp.topic(), atp.subject()), ("atp_changed", "TEE"));
        assert_eq!(atp.coalesce_key().as_deref(), Some("atp_changed:TEE"));
        assert_eq!(m.coalesce_key(), None);
    }

    #[test]
    fn customer_notifications_go_to_the_notifier_and_name_their_order() {
        let shipped = Message::OrderShipped { order_id: "o1".into(), shipment_id: "s1".into() };
        assert_eq!((shipped.topic(), shipped.subject()), ("notification", "o1"));
        assert_eq!(shipped.notification_event(), Some(NotificationEvent::OrderShipped));
        let refund = Message::RefundIssued { order_id: "o1".into(), return_id: "r1".into() };
        assert_eq!(
            (refund.notification_event(), refund.return_id()),
            (Some(NotificationEvent::RefundIssued), Some("r1"))
        );
        let cancelled = Message::OrderCancelled { order_id: "o1".into(), reason: "x".into() };
        assert_eq!(cancelled.notification_event(), Some(NotificationEvent::OrderCancelled));
        let d = Message::NotificationDelivery { delivery_id: "d1".into(), order_id: "o1".into() };
        assert_eq!((d.topic(), d.subject(), d.notification_event()), ("notification_delivery", "o1", None));
        assert_eq!(Message::Shipped { order_id: "o1".into(), shipment_id: "s".into() }.notification_event(), None);
    }

    #[test]
    fn vendor_notices_are_their_own_topic_and_never_reach_the_customer() {
        let m = Message::VendorNotice {
            po_id: "p1".into(),
            order_id: "o1".into(),
            event: PoEvent::Cancelled,
            channel: DeliveryChannel::Webhook,
        };
        assert_eq!((m.topic(), m.subject(), m.notification_event()), ("vendor_notice", "o1", None));
        let json = serde_json::to_string(&m).expect("serialise");
        assert_eq!(
            json,
            r#"{"kind":"vendor_notice","po_id":"p1","order_id":"o1","event":"cancelled","channel":"webhook"}"#
        );
        assert_eq!(serde_json::from_str::<Message>(&json).expect("parse"), m);
    }
}
