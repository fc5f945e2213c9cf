//! The rules behind a return decision, typed ([`Finding`]) and in plain
//! English ([`ReturnDecision::explain`]), e.g. "Rejected: delivered 47 days
//! ago; the window for etsy orders is 30 days".
//!
//! The explanation starts with the outcome and gives the findings that
//! decided it, joined by "; ": for a rejection every rule broken, for a
//! review every reason a person must look, for an approval the window, who
//! pays return shipping and any fee kept. Amounts are shown with their
//! currency code (`180.00 USD`), never a symbol that could mislead.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::decision::{ReturnDecision, ReturnOutcome};
use super::policy::{
    ItemCondition, RestockingFee, ReturnReason, ShippingPayer, Window, WindowSource, BASIS_POINTS, DAY_MS,
};
use crate::ids::Sku;
use crate::money::{Currency, Money};

/// One rule the decision applied, with the facts it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Rejects: the policy has no rule for the reason.
    ReasonNotAccepted { reason: ReturnReason },
    /// Rejects: the stated condition is not one the reason is accepted in.
    ConditionNotAccepted { reason: ReturnReason, condition: ItemCondition, accepted: Vec<ItemCondition> },
    /// Rejects: a line is final sale and the reason is not an exception.
    FinalSale { sku: Sku, tag: Option<String> },
    /// Rejects: delivered longer ago than a line's window allows.
    OutsideWindow { elapsed_ms: i64, window: Window },
    /// Review: the reason has condition rules but no condition was stated.
    ConditionMissing { reason: ReturnReason, accepted: Vec<ItemCondition> },
    /// Review: nothing says the order was shipped or delivered.
    NotShipped,
    /// Review: only the shipment time is known and it is older than a
    /// line's window (the delivery may still be within it).
    DeliveryUnknown { elapsed_ms: i64, window: Window },
    /// Review: an amount of the policy is in another currency than the order.
    PolicyCurrency { order: Currency, policy: Currency },
    /// Review: the refund is above the auto-approve limit.
    AboveAutoApprove { refund: Money, limit: Money },
    /// Note: within every line's window (the shortest is `days`).
    WithinWindow { days: i64 },
    /// Note: a final-sale line taken back for an excepted reason.
    FinalSaleExcepted { sku: Sku, reason: ReturnReason },
    /// Note: who pays return shipping for the reason.
    ShippingPaidBy { payer: ShippingPayer, reason: ReturnReason },
    /// Note: the restocking fee kept from the refund.
    RestockingFee { fee: Money, rule: RestockingFee },
    /// Note: the label fee kept because the customer pays return shipping.
    ShippingFee { fee: Money },
}

/// What a finding does to the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingEffect {
    Note,
    Review,
    Reject,
}

impl Finding {
    pub fn effect(&self) -> FindingEffect {
        match self {
            Finding::ReasonNotAccepted { .. }
            | Finding::ConditionNotAccepted { .. }
            | Finding::FinalSale { .. }
            | Finding::OutsideWindow { .. } => FindingEffect::Reject,
            Finding::ConditionMissing { .. }
            | Finding::NotShipped
            | Finding::DeliveryUnknown { .. }
            | Finding::PolicyCurrency { .. }
            | Finding::AboveAutoApprove { .. } => FindingEffect::Review,
            Finding::WithinWindow { .. }
            | Finding::FinalSaleExcepted { .. }
            | Finding::ShippingPaidBy { .. }
            | Finding::RestockingFee { .. }
            | Finding::ShippingFee { .. } => FindingEffect::Note,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::ReasonNotAccepted { reason } => write!(f, "{reason} is not an accepted return reason"),
            Finding::ConditionNotAccepted { reason, condition, accepted } => {
                write!(f, "{reason} returns are accepted only {} (stated: {condition})", either(accepted))
            }
            Finding::FinalSale { sku, tag: None } => write!(f, "{sku} is final sale"),
            Finding::FinalSale { sku, tag: Some(tag) } => write!(f, "{sku} is final sale (tagged {tag})"),
            Finding::OutsideWindow { elapsed_ms, window } => {
                write!(f, "delivered {}; {}", ago(*elapsed_ms, window.days), window_rule(window))
            }
            Finding::ConditionMissing { reason, accepted } => {
                write!(f, "no condition was stated; {reason} returns are accepted only {}", either(accepted))
            }
            Finding::NotShipped => f.write_str("the order has no shipment or delivery date yet"),
            Finding::DeliveryUnknown { elapsed_ms, window } => write!(
                f,
                "shipped {} and the delivery date is unknown; {} from delivery",
                ago(*elapsed_ms, window.days),
                window_rule(window)
            ),
            Finding::PolicyCurrency { order, policy } => {
                write!(f, "the order is in {order} but the policy's amounts are in {policy}")
            }
            Finding::AboveAutoApprove { refund, limit } => {
                write!(f, "refund {refund} is above the auto-approve limit of {limit}")
            }
            Finding::WithinWindow { days } => write!(f, "within the {days}-day window"),
            Finding::FinalSaleExcepted { sku, reason } => {
                write!(f, "{sku} is final sale, but {reason} returns are accepted")
            }
            Finding::ShippingPaidBy { payer, reason } => {
                write!(f, "the {} pays return shipping for {reason}", payer.as_str())
            }
            Finding::RestockingFee { fee, rule: RestockingFee::PercentBp(bp) } => {
                write!(f, "a restocking fee of {} ({fee}) applies", percent(*bp))
            }
            Finding::RestockingFee { fee, rule: RestockingFee::Flat(_) } => {
                write!(f, "a restocking fee of {fee} applies")
            }
            Finding::ShippingFee { fee } => write!(f, "the return label fee of {fee} is kept from the refund"),
        }
    }
}

impl ReturnDecision {
    /// The decision in one line: the outcome, then the rules behind it.
    pub fn explain(&self) -> String {
        let wanted = match self.outcome {
            ReturnOutcome::Approved => FindingEffect::Note,
            ReturnOutcome::NeedsReview => FindingEffect::Review,
            ReturnOutcome::Rejected => FindingEffect::Reject,
        };
        let sentences: Vec<String> =
            self.findings.iter().filter(|f| f.effect() == wanted).map(ToString::to_string).collect();
        if sentences.is_empty() {
            return self.outcome.label().to_owned();
        }
        format!("{}: {}", self.outcome.label(), sentences.join("; "))
    }
}

/// "delivered 47 days ago"; a time just past a window's last day reads
/// "more than 30 days ago" rather than a misleading "30 days ago".
fn ago(elapsed_ms: i64, window_days: i64) -> String {
    let days = elapsed_ms.max(0) / DAY_MS;
    let past_window = i128::from(elapsed_ms) > i128::from(window_days) * i128::from(DAY_MS);
    if past_window && days == window_days && days > 0 {
        return format!("more than {} ago", plural_days(days));
    }
    if days == 0 {
        return "less than a day ago".to_owned();
    }
    format!("{} ago", plural_days(days))
}

fn plural_days(days: i64) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

fn window_rule(window: &Window) -> String {
    let days = plural_days(window.days);
    match &window.source {
        WindowSource::Sku { sku } => format!("the window for {sku} is {days}"),
        WindowSource::Tag { tag } => format!("the window for items tagged {tag} is {days}"),
        WindowSource::Channel { channel } => format!("the window for {channel} orders is {days}"),
        WindowSource::Default => format!("the return window is {days}"),
    }
}

/// "unopened or like_new", "unopened, like_new or used".
fn either(conditions: &[ItemCondition]) -> String {
    let names: Vec<&str> = conditions.iter().map(|c| c.as_str()).collect();
    match names.split_last() {
        None => "in no condition".to_owned(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Basis points as a percentage without trailing zeros: 1500 → "15%",
/// 1250 → "12.5%", 5 → "0.05%".
fn percent(bp: i64) -> String {
    let bp = bp.clamp(0, BASIS_POINTS);
    let (whole, hundredths) = (bp / 100, bp % 100);
    match hundredths {
        0 => format!("{whole}%"),
        h if h % 10 == 0 => format!("{whole}.{}%", h / 10),
        h => format!("{whole}.{h:02}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_words() {
        let cases: &[(i64, &str)] = &[(1500, "15%"), (1250, "12.5%"), (5, "0.05%"), (10_000, "100%"), (1234, "12.34%")];
        for (bp, expected) in cases {
            assert_eq!(percent(*bp), *expected);
        }
        let cases: &[(i64, i64, &str)] = &[
            (0, 30, "less than a day ago"),
            (DAY_MS, 30, "1 day ago"),
            (47 * DAY_MS + 5, 30, "47 days ago"),
            (30 * DAY_MS, 30, "30 days ago"),
            (30 * DAY_MS + 1, 30, "more than 30 days ago"),
            (-5, 30, "less than a day ago"),
        ];
        for (elapsed, window, expected) in cases {
            assert_eq!(ago(*elapsed, *window), *expected, "{elapsed}");
        }
        use ItemCondition::*;
        assert_eq!(either(&[Unopened]), "unopened");
        assert_eq!(either(&[Unopened, LikeNew]), "unopened or like_new");
        assert_eq!(either(&[Unopened, LikeNew, Used]), "unopened, like_new or used");
    }
}
