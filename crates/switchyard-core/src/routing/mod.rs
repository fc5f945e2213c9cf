//! The routing engine: a retailer's rules, as data, decide where each order
//! ships from — and every decision explains itself.
//!
//! [`route`] is a pure function of `(RoutingInput, Policy, now_ms)`; it does
//! no IO and reads no clock. It runs five stages:
//!
//! 1. **Eligibility** removes locations: inactive, without the capability the
//!    service level needs (ship / pickup), channel restrictions, SKU or tag
//!    restrictions (per line), the maximum distance for the service level,
//!    the same-day radius, and the daily capacity (the caller passes the
//!    orders already routed today; the engine only compares).
//! 2. **Stock protection** keeps units back for walk-in customers; an order
//!    may use them only when it qualifies (value, service level or channel).
//!    `Position::available()` — which already honours safety stock — is the
//!    starting point, and protection comes on top of it.
//! 3. **Ranking** orders the eligible locations, lexicographically or by a
//!    weighted sum of normalised criteria; expedited orders go by distance
//!    first.
//! 4. **Split strategy**: the best-ranked location that fills the whole order
//!    wins (unless a nearer split beats it beyond the policy's tolerance);
//!    otherwise the order is split when the policy allows it, up to the
//!    maximum number of shipments, else the best single location ships what
//!    it has. Pickup orders use the chosen store only.
//! 5. **Fallback chain** for whatever is left: dropship vendors, backorder,
//!    hold as an exception, auto-cancel. Units left after the chain are held.
//!
//! The [`Decision`] carries the same plan shape as `allocation::Allocator`
//! (so the store applies it unchanged), an [`Outcome`] hint for the order's
//! status, per-line results, and a structured [`Trace`] that
//! [`Decision::explain`] renders as plain English. [`PolicyAllocator`] puts
//! the engine behind the `Allocator` trait; with `Policy::default()` it
//! plans exactly what `FewestLocations` plans.
//!
//! Invariants, property-tested: a decision never plans more than available
//! at any (SKU, location) (lines sharing a bundle component share one pool),
//! never gives protected units to an order that does not qualify, and never
//! uses more locations than the split rules allow.
//!
//! # Distances
//!
//! Great-circle km when the ship-to address and the location both have
//! coordinates; otherwise an estimate from the addresses — same postal-code
//! prefix, same region, same country, elsewhere — each worth the nominal km
//! set under `[distance]`. Every candidate in the trace records which source
//! was used, and the explanation says when distances were estimated.
//!
//! # The policy format
//!
//! A policy is TOML (or the same structure as JSON). Every table is
//! optional; unknown tables, fields and rule kinds are errors, as are
//! negative thresholds, `max_shipments = 0`, a fallback step that repeats or
//! can never run, and — with [`Policy::validate`] — unknown locations or
//! tags. Errors name the field path and the TOML line:
//!
//! ```text
//! the routing policy has 2 errors
//!   line 12, column 1: protection[0].keep_units: must not be negative (got -2)
//!   line 30, column 3: fallback.chain[2]: fallback step `dropship` appears more than once: ...
//! ```
//!
//! `Policy::default()` is priority ranking, splits without limit, one
//! location for the whole order whenever one can fill it, and
//! `chain = ["backorder", "hold"]` with every line allowed to backorder by
//! the `Allocator` adapter — the behaviour of `FewestLocations`.
//!
//! A complete example, with every rule kind:
//!
#![doc = concat!("```toml\n", include_str!("example_policy.toml"), "```")]

pub mod compare;
mod decision;
mod engine;
mod explain;
pub mod geo;
mod input;
mod policy;
mod validate;

pub use decision::{
    CandidateTrace, DecidingFactor, DecidingStep, Decision, DistanceSummary, ExceptionKind, Exclusion, FallbackResult,
    FallbackTrace, LineExclusion, LineOutcome, Outcome, ProtectionTrace, ProtectionVerdict, RefusalReason,
    ReleaseReason, Selection, Shortage, ShortageCause, SkipReason, SplitComparison, SplitPermission, SplitTrace, Trace,
};
pub use engine::{route, PolicyAllocator};
pub use input::{Destination, RoutingInput, RoutingLine, RoutingLocation};
pub use policy::{
    ChannelRule, Criterion, CriterionKind, DistanceEstimates, Eligibility, FallbackRules, FallbackStep, MaxDistance,
    Policy, ProtectionRule, Ranking, RankingMode, RateBand, RateTable, ReleaseConditions, ServiceLevelRules, SkuRule,
    SplitFillOrder, SplitRules, SplitStrategy,
};
pub use validate::{FieldPath, PathSegment, PolicyError, PolicyErrors, PolicyProblem};

#[cfg(test)]
mod tests;
