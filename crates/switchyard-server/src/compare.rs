//! The shadow report and draft previews as the API and the Rules page show
//! them: the core's typed comparison of two routing decisions
//! (`switchyard_core::routing::compare`), read from the decisions' recorded
//! JSON. Nothing is decided here.

use serde::Serialize;
use serde_json::Value;
use switchyard_core::routing::compare::{differences, ComparisonTotals, DecisionSummary, RecordedDecision};
use switchyard_engine::Code;
use utoipa::ToSchema;

use crate::ApiError;

/// One order under two policies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comparison {
    pub order_id: String,
    pub external_id: String,
    /// The decision in force (recorded): outcome, locations, shipments,
    /// max_distance_km, protected_units_used, unfilled_units.
    #[schema(value_type = Object)]
    pub current: DecisionSummary,
    /// The shadow or draft policy's decision, in the same shape.
    #[schema(value_type = Object)]
    pub candidate: DecisionSummary,
    pub candidate_explanation: String,
    /// Plain-English differences; empty when both agree.
    pub differences: Vec<String>,
}

/// Reads a recorded decision; one that is not a decision is our fault.
fn recorded(trace: &Value) -> Result<DecisionSummary, ApiError> {
    let d: RecordedDecision = serde_json::from_value(trace.clone()).map_err(|e| {
        tracing::error!(error = %e, "a recorded routing decision does not read back");
        ApiError::new(Code::Internal, "internal error; see the server log")
    })?;
    Ok(DecisionSummary::of_recorded(&d))
}

pub fn compare(
    order_id: String,
    external_id: String,
    current: &Value,
    candidate: &Value,
    explanation: String,
) -> Result<Comparison, ApiError> {
    let (current, candidate) = (recorded(current)?, recorded(candidate)?);
    let differences = differences(&current, &candidate).iter().map(ToString::to_string).collect();
    Ok(Comparison { order_id, external_id, current, candidate, candidate_explanation: explanation, differences })
}

/// Totals over many comparisons, and the comparisons.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ComparisonReport {
    pub orders_compared: usize,
    pub orders_different: usize,
    pub more_shipments: usize,
    pub fewer_shipments: usize,
    pub farther: usize,
    pub nearer: usize,
    /// Protected units used by the candidate minus by the current policy.
    pub protected_units_delta: i64,
    pub orders: Vec<Comparison>,
}

pub fn report(orders: Vec<Comparison>) -> ComparisonReport {
    let mut t = ComparisonTotals::default();
    for c in &orders {
        t.add(&c.current, &c.candidate);
    }
    ComparisonReport {
        orders_compared: t.orders_compared,
        orders_different: t.orders_different,
        more_shipments: t.more_shipments,
        fewer_shipments: t.fewer_shipments,
        farther: t.farther,
        nearer: t.nearer,
        protected_units_delta: t.protected_units_delta,
        orders,
    }
}
