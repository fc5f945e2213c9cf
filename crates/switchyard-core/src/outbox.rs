//! Messages the engine leaves for the world outside, written in the same
//! transaction as the change they announce (the transactional outbox):
//! stock levels for the channels, notifications for people.

use serde::{Deserialize, Serialize};

/// One outbox message. Stored as JSON tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// A SKU's available-to-promise may have changed: channels are told
    /// the newest level (older unsent ones for the same SKU are dropped).
    AtpChanged { sku: String },
    /// An order was cancelled (by a person, a timeout or auto-cancel).
    OrderCancelled { order_id: String, reason: String },
    /// An order shipped: the channel it came from is told (carrier,
    /// tracking).
    Shipped { order_id: String, shipment_id: String },
    /// An order was cancelled here (not by its channel): the channel it
    /// came from is told.
    CancelAtOrigin { order_id: String, reason: String },
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
}

impl Message {
    /// The consumer family: `atp_changed` for channels' stock levels,
    /// `origin` for news to an order's own channel, `notification` for the
    /// notifier.
    pub fn topic(&self) -> &'static str {
        match self {
            Message::AtpChanged { .. } => "atp_changed",
            Message::OrderCancelled { .. } | Message::ExceptionEscalated { .. } => "notification",
            Message::Shipped { .. } | Message::CancelAtOrigin { .. } => "origin",
        }
    }

    /// What the message is about (a SKU, an order).
    pub fn subject(&self) -> &str {
        match self {
            Message::AtpChanged { sku } => sku,
            Message::OrderCancelled { order_id, .. }
            | Message::Shipped { order_id, .. }
            | Message::CancelAtOrigin { order_id, .. } => order_id,
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
}
