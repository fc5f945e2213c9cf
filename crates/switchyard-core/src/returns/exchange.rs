//! Exchanges: the replacement order an `exchange` return creates when it is
//! authorized, and what becomes of it as the return moves on.
//!
//! The replacement is an ordinary order, taken through the engine's normal
//! order-taking use case (the same routing, reservation and zero-oversell
//! rules), so the replacement cannot sell out while the return travels:
//!
//! - channel [`EXCHANGE_CHANNEL`] (registered as kind `api` on first use:
//!   never told to a marketplace, so the origin platform never sees an order
//!   it did not take), external id the return's RMA number — unique, and a
//!   retry of the same creation finds the same order;
//! - the origin order's ship-to, service level, pickup location and
//!   customer e-mail; the returned SKUs and units at the origin's unit
//!   prices (routing rules that look at an order's value treat it as the
//!   original was treated); no money is taken: the returned units pay for
//!   it;
//! - payment `pending`, with no expiry: its units stay reserved (or
//!   backordered, visibly, when stock is short) but it is not released to
//!   fulfilment until the return is settled as `exchanged`
//!   ([`ReplacementStep::Release`]: marked paid). A return called off before
//!   its units arrive (`cancelled`) cancels it ([`ReplacementStep::Cancel`]),
//!   which gives its reservation back.

use crate::intake::{IntakeError, NewLine, NewOrder};
use crate::notification::EmailAddress;
use crate::{
    ChannelName, Currency, ExternalOrderId, LocationCode, Money, PaymentState, Quantity, ServiceLevel, ShipTo, Sku,
};

use super::policy::RefundMethod;
use super::status::ReturnStatus;

/// The channel replacement orders are taken on.
pub const EXCHANGE_CHANNEL: &str = "exchange";

/// One returned line to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacementLine {
    pub sku: Sku,
    pub quantity: Quantity,
    /// The origin order line's unit price, minor units.
    pub unit_price: i64,
}

/// What the replacement is built from: the return's RMA and lines, and the
/// origin order's facts.
#[derive(Debug, Clone)]
pub struct ReplacementOf {
    pub rma: String,
    pub currency: Currency,
    pub ship_to: ShipTo,
    pub service_level: ServiceLevel,
    pub pickup_location: Option<LocationCode>,
    pub email: Option<EmailAddress>,
    pub lines: Vec<ReplacementLine>,
}

/// Whether a return authorized with this refund method gets a replacement.
pub fn wants_replacement(method: RefundMethod) -> bool {
    method == RefundMethod::Exchange
}

/// The replacement order (see the module doc), or why it cannot be built.
pub fn replacement_order(of: &ReplacementOf) -> Result<NewOrder, IntakeError> {
    if of.lines.is_empty() {
        return Err(IntakeError::NoOrderLines);
    }
    let mut total = Money::zero(of.currency);
    let mut lines = Vec::with_capacity(of.lines.len());
    for (i, l) in of.lines.iter().enumerate() {
        let line = i + 1;
        if l.unit_price < 0 {
            return Err(IntakeError::NegativeUnitPrice { line });
        }
        let amount = Money::new(l.unit_price, of.currency)
            .checked_mul(l.quantity.as_i64())
            .and_then(|m| total.checked_add(m))
            .map_err(|error| IntakeError::LineMoney { line, error })?;
        total = amount;
        lines.push(NewLine { sku: l.sku.clone(), quantity: l.quantity, unit_price: l.unit_price });
    }
    Ok(NewOrder {
        channel: ChannelName::parse(EXCHANGE_CHANNEL)?,
        external_id: ExternalOrderId::parse(&of.rma)?,
        currency: of.currency,
        lines,
        ship_to: of.ship_to.clone(),
        service_level: of.service_level,
        pickup_location: of.pickup_location.clone(),
        payment: PaymentState::Pending,
        total_minor: total.minor(),
        email: of.email.clone(),
    })
}

/// What happens to a replacement when its return moves to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplacementStep {
    /// The returned units were received and the exchange settled: the
    /// replacement goes to fulfilment (marked paid).
    Release,
    /// The return will bring nothing back: the replacement is cancelled and
    /// its reservation released.
    Cancel,
    /// Nothing changes yet.
    Keep,
}

/// The step for a return's new status: `exchanged` releases; a return that
/// ends without its units (`cancelled`, `rejected`) cancels; anything else
/// keeps the replacement waiting.
pub fn replacement_step(to: ReturnStatus) -> ReplacementStep {
    match to {
        ReturnStatus::Exchanged => ReplacementStep::Release,
        ReturnStatus::Cancelled | ReturnStatus::Rejected => ReplacementStep::Cancel,
        _ => ReplacementStep::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(lines: &[(&str, i64, i64)]) -> ReplacementOf {
        ReplacementOf {
            rma: "RMA-261130-0001".into(),
            currency: Currency::parse("USD").expect("usd"),
            ship_to: ShipTo { name: "Ana".into(), postal_code: "97205".into(), ..Default::default() },
            service_level: ServiceLevel::Standard,
            pickup_location: None,
            email: Some(EmailAddress::parse("ana@example.com").expect("email")),
            lines: lines
                .iter()
                .map(|(s, q, p)| ReplacementLine {
                    sku: Sku::parse(s).expect("sku"),
                    quantity: Quantity::new(*q).expect("qty"),
                    unit_price: *p,
                })
                .collect(),
        }
    }

    #[test]
    fn the_replacement_is_an_unpaid_order_of_the_returned_units_on_the_exchange_channel() {
        let o = replacement_order(&of(&[("TEE", 2, 4500), ("MUG", 1, 1200)])).expect("order");
        assert_eq!(o.channel.as_str(), "exchange");
        assert_eq!(o.external_id.as_str(), "RMA-261130-0001");
        assert_eq!(o.payment, PaymentState::Pending);
        assert_eq!(o.total_minor, 2 * 4500 + 1200);
        let lines: Vec<(&str, i64, i64)> =
            o.lines.iter().map(|l| (l.sku.as_str(), l.quantity.as_i64(), l.unit_price)).collect();
        assert_eq!(lines, [("TEE", 2, 4500), ("MUG", 1, 1200)]);
        assert_eq!(o.ship_to.name, "Ana");
        assert_eq!(o.email.as_ref().map(EmailAddress::as_str), Some("ana@example.com"));
    }

    #[test]
    fn no_lines_or_an_overflowing_total_is_refused() {
        assert_eq!(replacement_order(&of(&[])).err(), Some(IntakeError::NoOrderLines));
        let err = replacement_order(&of(&[("TEE", 2, i64::MAX)])).err();
        assert!(matches!(err, Some(IntakeError::LineMoney { line: 1, .. })), "{err:?}");
        assert!(matches!(replacement_order(&of(&[("TEE", 1, -1)])).err(), Some(IntakeError::NegativeUnitPrice { .. })));
    }

    #[test]
    fn only_exchanges_get_a_replacement_and_its_fate_follows_the_return() {
        assert!(wants_replacement(RefundMethod::Exchange));
        assert!(!wants_replacement(RefundMethod::OriginalPayment) && !wants_replacement(RefundMethod::StoreCredit));
        assert_eq!(replacement_step(ReturnStatus::Exchanged), ReplacementStep::Release);
        assert_eq!(replacement_step(ReturnStatus::Cancelled), ReplacementStep::Cancel);
        assert_eq!(replacement_step(ReturnStatus::Rejected), ReplacementStep::Cancel);
        for s in [ReturnStatus::LabelIssued, ReturnStatus::InTransit, ReturnStatus::Received, ReturnStatus::Closed] {
            assert_eq!(replacement_step(s), ReplacementStep::Keep, "{s}");
        }
    }
}
