//! A repeat delivery of an order — the same `(channel, external_id)` posted
//! again — compared with what was first received under that id.
//!
//! Intake is idempotent: an identical repeat gets the original order back
//! and changes nothing. A repeat whose content differs (lines, currency,
//! payment) is a conflict the sender must hear about, as Stripe answers a
//! reused idempotency key with different parameters; it changes nothing
//! either, but is recorded on the original order.

use crate::ids::Sku;
use crate::intake::NewOrder;
use crate::money::Currency;
use crate::order::PaymentState;

/// What an order was received with, as far as a repeat is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub currency: Currency,
    /// The payment state the first delivery said; `None` when it is not
    /// known (orders taken before it was recorded): then it is not compared.
    pub payment: Option<PaymentState>,
    /// (sku, quantity, unit price) per line, in line order.
    pub lines: Vec<(Sku, i64, i64)>,
}

impl Received {
    /// What `o` says.
    pub fn of(o: &NewOrder) -> Received {
        Received {
            currency: o.currency,
            payment: Some(o.payment),
            lines: o.lines.iter().map(|l| (l.sku.clone(), l.quantity.as_i64(), l.unit_price)).collect(),
        }
    }
}

/// How a repeat delivery differs from the first (empty: it is the same
/// order). Lines are compared as a set, whatever their order.
pub fn differences(first: &Received, again: &Received) -> Vec<String> {
    let mut out = Vec::new();
    let sorted = |r: &Received| {
        let mut lines = r.lines.clone();
        lines.sort();
        lines
    };
    let (a, b) = (sorted(first), sorted(again));
    if a != b {
        out.push(format!("lines {} instead of {}", lines_text(&b), lines_text(&a)));
    }
    if first.currency != again.currency {
        out.push(format!("currency {} instead of {}", again.currency, first.currency));
    }
    if let (Some(p), Some(q)) = (first.payment, again.payment) {
        if p != q {
            out.push(format!("payment {} instead of {}", q.as_str(), p.as_str()));
        }
    }
    out
}

/// "2 × TEE at 1500, 1 × MUG at 900".
fn lines_text(lines: &[(Sku, i64, i64)]) -> String {
    lines.iter().map(|(sku, q, price)| format!("{q} × {sku} at {price}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(lines: &[(&str, i64, i64)], currency: &str, payment: PaymentState) -> Received {
        Received {
            currency: Currency::parse(currency).expect("currency"),
            payment: Some(payment),
            lines: lines.iter().map(|(s, q, p)| (Sku::parse(s).expect("sku"), *q, *p)).collect(),
        }
    }

    #[test]
    fn a_repeat_with_different_content_is_a_conflict_and_an_identical_one_is_not() {
        let first = received(&[("TEE", 2, 1500), ("MUG", 1, 900)], "USD", PaymentState::Paid);
        let reordered = received(&[("MUG", 1, 900), ("TEE", 2, 1500)], "USD", PaymentState::Paid);
        assert!(differences(&first, &reordered).is_empty());
        let other = received(&[("TEE", 3, 1500), ("MUG", 1, 900)], "EUR", PaymentState::Pending);
        assert_eq!(
            differences(&first, &other),
            vec![
                "lines 1 × MUG at 900, 3 × TEE at 1500 instead of 1 × MUG at 900, 2 × TEE at 1500".to_owned(),
                "currency EUR instead of USD".to_owned(),
                "payment pending instead of paid".to_owned(),
            ]
        );
        let unknown = Received { payment: None, ..first.clone() };
        assert!(differences(&unknown, &Received { payment: Some(PaymentState::Pending), ..first }).is_empty());
    }
}
