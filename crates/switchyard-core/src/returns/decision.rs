//! The return decision: [`decide`] is a pure function of the order facts, the
//! request, the policy and the time, returning approved / rejected /
//! needs_review with the rules behind it and the money.
//!
//! A request that cannot be right — more units than were shipped and not yet
//! returned, a line priced in another currency than the order, no lines —
//! is an `Err` ([`ReturnRequestError`]): a client's mistake, not a decision.
//! Everything else is a [`ReturnDecision`], out of policy included.

use serde::{Deserialize, Serialize};

use super::explain::{Finding, FindingEffect};
use super::policy::{
    ItemCondition, RefundMethod, ReturnPolicy, ReturnReason, ShippingPayer, Window, WindowSource, DAY_MS,
};
use crate::ids::{ChannelName, Quantity, Sku};
use crate::money::{Currency, Money};

/// What the decision needs to know about the order and the return asked
/// for. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRequest {
    /// The order's channel (its window and vocabulary).
    pub channel: ChannelName,
    /// The order's currency; every line's price is in it.
    pub currency: Currency,
    pub delivered_at_ms: Option<i64>,
    pub shipped_at_ms: Option<i64>,
    pub lines: Vec<ReturnLine>,
    pub reason: ReturnReason,
    /// What the customer says; optional (the API's `condition?`).
    pub condition: Option<ItemCondition>,
}

/// One order line and how many of its units come back. Each entry is a
/// distinct order line (an order may carry one SKU on two lines at two
/// prices); the caller must not list one order line twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub sku: Sku,
    /// The SKU's tags (windows and final sale by tag).
    pub tags: Vec<String>,
    pub quantity_ordered: i64,
    pub quantity_shipped: i64,
    /// Units of this line already returned by earlier returns.
    pub quantity_returned: i64,
    pub unit_price: Money,
    /// Units to return now.
    pub quantity: Quantity,
}

impl ReturnLine {
    /// Units that may still come back: shipped (never more than ordered)
    /// less those already returned, never below 0.
    pub fn returnable(&self) -> i64 {
        self.quantity_shipped.min(self.quantity_ordered).saturating_sub(self.quantity_returned).max(0)
    }
}

/// A request no decision can be made on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRequestError {
    #[error("a return needs at least one line")]
    NoLines,
    #[error("cannot return {requested} of {sku}: {returnable} shipped and not yet returned")]
    TooMany { sku: Sku, requested: i64, returnable: i64 },
    #[error("line {sku} is priced in {found}, but the order is in {expected}")]
    LineCurrency { sku: Sku, expected: Currency, found: Currency },
    #[error("line {sku} has a negative price")]
    NegativePrice { sku: Sku },
    #[error("the amounts are too large to compute")]
    Overflow,
}

/// The outcome; stored as its snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnOutcome {
    Approved,
    Rejected,
    NeedsReview,
}

impl ReturnOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnOutcome::Approved => "approved",
            ReturnOutcome::Rejected => "rejected",
            ReturnOutcome::NeedsReview => "needs_review",
        }
    }

    /// How the explanation starts.
    pub fn label(self) -> &'static str {
        match self {
            ReturnOutcome::Approved => "Approved",
            ReturnOutcome::Rejected => "Rejected",
            ReturnOutcome::NeedsReview => "Needs review",
        }
    }
}

/// A decision and its money. The amounts are what the return pays out if
/// it goes ahead — now when approved, or after a person's review or
/// override — so they are computed whatever the outcome:
/// `refund = subtotal − restocking_fee − shipping_fee`, never negative,
/// never more than `subtotal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnDecision {
    pub outcome: ReturnOutcome,
    /// Every rule applied, in a fixed order; [`ReturnDecision::explain`]
    /// renders those that decided the outcome.
    pub findings: Vec<Finding>,
    pub reason: ReturnReason,
    /// Σ unit price × quantity over the returned lines.
    pub subtotal: Money,
    pub restocking_fee: Money,
    /// The label fee kept when the customer pays return shipping.
    pub shipping_fee: Money,
    pub shipping_paid_by: ShippingPayer,
    pub refund: Money,
    pub refund_method: RefundMethod,
}

/// Decides a return. Pure: the time comes in as `now_ms`.
///
/// The request is decided as a whole: one line out of policy rejects it
/// (the explanation names the line) rather than approving a part the
/// customer did not ask for; they may ask again without that line.
///
/// Rules, each a [`Finding`]; any rejecting finding rejects, else any
/// review finding sends it to review, else it is approved:
/// - **reason** — not in the policy's `reasons`: rejected. Its money then
///   follows the default (no fee; the shop pays shipping when at fault).
/// - **condition** — the reason lists `accepted_conditions` and the stated
///   one is not among them: rejected; none stated: review.
/// - **final sale** — a line's SKU or a tag is final sale and the reason is
///   not in `except_reasons`: rejected.
/// - **window** — counted from delivery: within a window of N days means at
///   most N × 86,400,000 ms after delivery, so the whole 30th day is inside
///   a 30-day window and a millisecond later is not. A delivery time after
///   `now_ms` (clock skew between systems) counts as just delivered. With
///   only the shipment time, the count starts there: within the window →
///   within (delivery came later still); past it → review, since the
///   delivery may have been late enough. Neither time → review ("no
///   shipment or delivery date yet").
/// - **currency** — a flat fee, label fee or auto-approve limit in another
///   currency than the order cannot be applied: review (the fee counts as
///   nothing until a person decides).
/// - **auto-approve** — a refund above `auto_approve_up_to`: review;
///   exactly at the limit is approved.
///
/// Money: the restocking fee as [`RestockingFee::amount_on`] (percentages
/// rounded down), then the label fee when the customer pays shipping,
/// clamped to what is left, so the refund is never negative.
///
/// [`RestockingFee::amount_on`]: super::RestockingFee::amount_on
pub fn decide(
    request: &ReturnRequest,
    policy: &ReturnPolicy,
    now_ms: i64,
) -> Result<ReturnDecision, ReturnRequestError> {
    let subtotal = subtotal(request)?;
    let currency = request.currency;
    let reason = request.reason;
    let rule = policy.reasons.get(&reason);
    let mut findings = Vec::new();

    // Reason and condition.
    match rule {
        None => findings.push(Finding::ReasonNotAccepted { reason }),
        Some(rule) => match (&rule.accepted_conditions, request.condition) {
            (Some(accepted), Some(condition)) if !accepted.contains(&condition) => {
                findings.push(Finding::ConditionNotAccepted { reason, condition, accepted: accepted.clone() });
            }
            (Some(accepted), None) => findings.push(Finding::ConditionMissing { reason, accepted: accepted.clone() }),
            _ => {}
        },
    }

    // Final sale.
    let mut excepted = Vec::new();
    for line in &request.lines {
        if let Some(by) = policy.final_sale.matches(&line.sku, &line.tags) {
            if policy.final_sale.except_reasons.contains(&reason) {
                excepted.push(Finding::FinalSaleExcepted { sku: line.sku.clone(), reason });
            } else {
                let tag = match by {
                    super::policy::FinalSaleBy::Sku => None,
                    super::policy::FinalSaleBy::Tag { tag } => Some(tag),
                };
                findings.push(Finding::FinalSale { sku: line.sku.clone(), tag });
            }
        }
    }

    // Window.
    let windows: Vec<Window> =
        request.lines.iter().map(|line| policy.window.window_for(&request.channel, &line.sku, &line.tags)).collect();
    let within_note = window_findings(request, &windows, now_ms, &mut findings);

    // Money.
    let shipping_paid_by = match rule {
        Some(rule) => rule.shipping_paid_by,
        None if reason.shop_at_fault() => ShippingPayer::Merchant,
        None => ShippingPayer::Customer,
    };
    let refund_method = rule.and_then(|r| r.refund_method).unwrap_or(policy.refund.method);
    let mut foreign = None;
    let fee_rule = rule.and_then(|r| r.restocking_fee);
    let restocking_fee = match fee_rule.map(|fee| fee.amount_on(subtotal)) {
        None => Money::zero(currency),
        Some(Ok(fee)) => fee,
        Some(Err(other)) => {
            foreign = Some(other);
            Money::zero(currency)
        }
    };
    let left = subtotal.minor() - restocking_fee.minor();
    let shipping_fee = match (shipping_paid_by, policy.refund.customer_shipping_fee) {
        (ShippingPayer::Customer, Some(fee)) if fee.currency() == currency => {
            Money::new(fee.minor().clamp(0, left), currency)
        }
        (ShippingPayer::Customer, Some(fee)) => {
            foreign = foreign.or(Some(fee.currency()));
            Money::zero(currency)
        }
        _ => Money::zero(currency),
    };
    let refund = Money::new(left - shipping_fee.minor(), currency);

    // Auto-approve limit.
    if let Some(limit) = policy.refund.auto_approve_up_to {
        if limit.currency() != currency {
            foreign = foreign.or(Some(limit.currency()));
        } else if refund.minor() > limit.minor() {
            findings.push(Finding::AboveAutoApprove { refund, limit });
        }
    }
    if let Some(policy_currency) = foreign {
        findings.push(Finding::PolicyCurrency { order: currency, policy: policy_currency });
    }

    // Notes, said when approved.
    findings.extend(within_note);
    findings.extend(excepted);
    findings.push(Finding::ShippingPaidBy { payer: shipping_paid_by, reason });
    if let Some(rule) = fee_rule.filter(|_| restocking_fee.minor() > 0) {
        findings.push(Finding::RestockingFee { fee: restocking_fee, rule });
    }
    if shipping_fee.minor() > 0 {
        findings.push(Finding::ShippingFee { fee: shipping_fee });
    }

    let outcome = match findings.iter().map(Finding::effect).max() {
        Some(FindingEffect::Reject) => ReturnOutcome::Rejected,
        Some(FindingEffect::Review) => ReturnOutcome::NeedsReview,
        Some(FindingEffect::Note) | None => ReturnOutcome::Approved,
    };
    Ok(ReturnDecision {
        outcome,
        findings,
        reason,
        subtotal,
        restocking_fee,
        shipping_fee,
        shipping_paid_by,
        refund,
        refund_method,
    })
}

/// Checks the lines and adds up what they are worth.
fn subtotal(request: &ReturnRequest) -> Result<Money, ReturnRequestError> {
    if request.lines.is_empty() {
        return Err(ReturnRequestError::NoLines);
    }
    let mut total = Money::zero(request.currency);
    for line in &request.lines {
        let requested = line.quantity.as_i64();
        let returnable = line.returnable();
        if requested > returnable {
            return Err(ReturnRequestError::TooMany { sku: line.sku.clone(), requested, returnable });
        }
        if line.unit_price.currency() != request.currency {
            return Err(ReturnRequestError::LineCurrency {
                sku: line.sku.clone(),
                expected: request.currency,
                found: line.unit_price.currency(),
            });
        }
        if line.unit_price.minor() < 0 {
            return Err(ReturnRequestError::NegativePrice { sku: line.sku.clone() });
        }
        let amount = line.unit_price.checked_mul(requested).map_err(|_| ReturnRequestError::Overflow)?;
        total = total.checked_add(amount).map_err(|_| ReturnRequestError::Overflow)?;
    }
    Ok(total)
}

/// Adds the window's rejecting or review findings; returns the note to give
/// when every line is within its window.
fn window_findings(
    request: &ReturnRequest,
    windows: &[Window],
    now_ms: i64,
    findings: &mut Vec<Finding>,
) -> Option<Finding> {
    let (since_ms, delivered) = match (request.delivered_at_ms, request.shipped_at_ms) {
        (Some(at), _) => (at, true),
        (None, Some(at)) => (at, false),
        (None, None) => {
            findings.push(Finding::NotShipped);
            return None;
        }
    };
    // i128: any two i64 times have a difference that fits; the stored
    // value saturates, which only ever makes "long ago" longer.
    let elapsed = (i128::from(now_ms) - i128::from(since_ms)).max(0);
    let elapsed_ms = i64::try_from(elapsed).unwrap_or(i64::MAX);
    let mut broken: Vec<&Window> = Vec::new();
    for window in windows {
        let inside = elapsed <= i128::from(window.days) * i128::from(DAY_MS);
        if !inside && !broken.iter().any(|seen| seen.source == window.source) {
            broken.push(window);
        }
    }
    if broken.is_empty() {
        let days = windows.iter().map(|w| w.days).min().unwrap_or(0);
        return Some(Finding::WithinWindow { days });
    }
    // Shortest window first: the rule the customer missed by most.
    broken.sort_by_key(|w| (w.days, source_rank(&w.source)));
    for window in broken {
        let window = window.clone();
        findings.push(if delivered {
            Finding::OutsideWindow { elapsed_ms, window }
        } else {
            Finding::DeliveryUnknown { elapsed_ms, window }
        });
    }
    None
}

fn source_rank(source: &WindowSource) -> u8 {
    match source {
        WindowSource::Sku { .. } => 0,
        WindowSource::Tag { .. } => 1,
        WindowSource::Channel { .. } => 2,
        WindowSource::Default => 3,
    }
}
