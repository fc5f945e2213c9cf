//! Returns: a shop's return policy as data, and the pure decision on each
//! return request — approved, rejected or needs_review, with the rules
//! behind it in plain English and the money it pays out.
//!
//! [`decide`] is a pure function of `(ReturnRequest, ReturnPolicy, now_ms)`;
//! it does no IO and reads no clock. Its rules, their order and the
//! rounding are documented on [`decide`]; the window and the explanation
//! strings on [`WindowRules`] and [`ReturnDecision::explain`]. In short:
//!
//! - **Window** in whole days after delivery, most specific rule first:
//!   SKU, then tag (the shortest of a line's tags), then channel, then the
//!   default. Day 30 is inside a 30-day window: at most 30 × 86,400,000 ms
//!   after delivery. Never shipped → needs_review.
//! - **Final sale** by SKU or tag, except for listed reasons.
//! - **Reasons**: a closed list ([`ReturnReason`]); the policy names the
//!   accepted ones and, per reason, who pays return shipping, a restocking
//!   fee (basis points, rounded down, or flat), a refund method and the
//!   conditions ([`ItemCondition`]) it is accepted in. Each channel's own
//!   codes and words map onto the list ([`ReturnPolicy::map_reason`]).
//! - **Auto-approve** up to a refund value (inclusive); above → review.
//! - More units than shipped and not yet returned is an `Err`
//!   ([`ReturnRequestError`]), not a decision.
//!
//! After the decision: the workflow's statuses ([`ReturnStatus`], a state
//! machine), requests and receipts as they arrive ([`NewReturn`],
//! [`Receipt`]) matched to the order's lines ([`OrderForReturn::request`],
//! [`assign_receipt`]), each grade's disposition ([`ReturnGrade`]), the
//! destination, the RMA number and the refund for what came back
//! (`disposition.rs`); what a customer starting a return alone reads and
//! must prove (`self_service.rs`: each reason's plain words,
//! [`contact_matches`]); and the return data of a period ([`stats`]).
//!
//! Invariants, property-tested: `decide` never panics, and
//! `0 ≤ refund ≤ subtotal` whatever the policy and request.
//!
//! # The policy format
//!
//! TOML (or the same structure as JSON). Unknown fields are errors, as are
//! unknown reason codes, negative or over-long windows, percentages over
//! 100 %, negative amounts and amounts in more than one currency. Errors
//! name the field path and the TOML line:
//!
//! ```text
//! the return policy has 2 errors
//!   line 3, column 1: window.default_days: must not be negative (got -5)
//!   line 9, column 1: reasons.broken: unknown return reason "broken" (expected one of wrong_size, ...)
//! ```
//!
//! A complete example:
//!
#![doc = concat!("```toml\n", include_str!("example_return_policy.toml"), "```")]

pub mod code128;
mod decision;
mod destination;
mod disposition;
mod exchange;
mod explain;
mod intake;
pub mod label;
mod policy;
mod self_service;
pub mod stats;
mod status;
mod validate;

pub use decision::{decide, ReturnDecision, ReturnLine, ReturnOutcome, ReturnRequest, ReturnRequestError};
pub use destination::{choose_destination, DestinationChoice, DestinationFacts, DestinationReason, ReturnDestination};
pub use disposition::{destination, looks_like_rma, rma, rma_day, Disposition, ReturnGrade};
pub use exchange::{
    replacement_order, replacement_step, wants_replacement, ReplacementLine, ReplacementOf, ReplacementStep,
    EXCHANGE_CHANNEL,
};
pub use explain::{Finding, FindingEffect};
pub use intake::{
    assign_receipt, ExpectedLine, NewReturn, OrderForReturn, Receipt, ReceiptDraft, ReceivedUnits, ReturnDraft,
    ReturnInputError, ReturnableLine, MAX_RETURN_LINES,
};
pub use policy::{
    FinalSale, FinalSaleBy, ItemCondition, ReasonMapping, ReasonRule, RefundMethod, RefundRules, RestockingFee,
    ReturnPolicy, ReturnReason, ShippingPayer, Window, WindowRules, WindowSource, BASIS_POINTS, DAY_MS,
    MAX_REASON_TEXT_CHARS, MAX_WINDOW_DAYS,
};
pub use self_service::{contact_matches, order_number_candidates, MAX_PROOF_CHARS};
pub use stats::{ReasonCount, ReturnStats, SkuRate, StatsInput, Turnaround};
pub use status::{IllegalReturnTransition, ReturnStatus};
pub use validate::{ReturnPolicyError, ReturnPolicyErrors, ReturnPolicyProblem};

#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod tests;
