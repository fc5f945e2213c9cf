//! Comparing two routing decisions: where they ship from, how many
//! shipments, how far, how many protected units they use, what they leave
//! unfilled. The shadow report and previews of a draft on recent orders
//! compare the decision an order got with another policy's.
//!
//! Both sides are typed: a [`Decision`] made now, or a [`RecordedDecision`]
//! read back from the JSON a decision was recorded as (its `Serialize`
//! shape; a record that does not have that shape fails to deserialize
//! instead of comparing as "nothing").

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::decision::Decision;
use crate::ids::LocationCode;

/// The comparable facts of one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionSummary {
    /// The outcome's status: `allocated`, `dropship`, `partially_allocated`,
    /// `backordered` or `held`.
    pub outcome: String,
    /// Locations units are reserved at, sorted.
    pub locations: Vec<LocationCode>,
    pub shipments: usize,
    /// The farthest location used, in km to one decimal (0 when none).
    pub max_distance_km: f64,
    /// Protected (walk-in) units the order took.
    pub protected_units_used: i64,
    /// Line units left unfilled.
    pub unfilled_units: i64,
}

impl DecisionSummary {
    /// The facts of a decision made now.
    pub fn of(d: &Decision) -> DecisionSummary {
        let locations = d.plan.lines.iter().flat_map(|l| l.allocations.iter().map(|(c, _)| c.clone()));
        let used = d.trace.candidates.iter().filter(|c| c.planned_units > 0).map(|c| c.distance_km);
        summary(
            d.outcome.as_str().to_owned(),
            locations.collect(),
            used.collect(),
            d.trace.protection.iter().map(|p| p.protected_units_used).sum(),
            d.plan.lines.iter().map(|l| l.backordered).sum(),
        )
    }

    /// "FLAGSHIP + WH-EAST", or "nowhere".
    pub fn places(&self) -> String {
        places(&self.locations)
    }

    /// The facts of a recorded decision.
    pub fn of_recorded(d: &RecordedDecision) -> DecisionSummary {
        let locations = d.plan.lines.iter().flat_map(|l| l.allocations.iter().map(|a| a.location.clone()));
        let used = d.trace.candidates.iter().filter(|c| c.planned_units > 0).map(|c| c.distance_km);
        summary(
            d.outcome.status.clone(),
            locations.collect(),
            used.collect(),
            d.trace.protection.iter().map(|p| p.protected_units_used).sum(),
            d.plan.lines.iter().map(|l| l.backordered).sum(),
        )
    }
}

fn summary(
    outcome: String,
    locations: BTreeSet<LocationCode>,
    distances: Vec<f64>,
    protected_units_used: i64,
    unfilled_units: i64,
) -> DecisionSummary {
    let max = distances.into_iter().filter(|d| d.is_finite()).fold(0.0_f64, f64::max);
    DecisionSummary {
        outcome,
        shipments: locations.len(),
        locations: locations.into_iter().collect(),
        max_distance_km: (max * 10.0).round() / 10.0,
        protected_units_used,
        unfilled_units,
    }
}

/// A recorded decision: the part of [`Decision`]'s serialized shape a
/// comparison reads (other fields are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedDecision {
    pub plan: RecordedPlan,
    pub outcome: RecordedOutcome,
    pub trace: RecordedTrace,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedPlan {
    pub lines: Vec<RecordedLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedLine {
    pub allocations: Vec<RecordedAllocation>,
    pub backordered: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedAllocation {
    pub location: LocationCode,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedOutcome {
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedTrace {
    pub candidates: Vec<RecordedCandidate>,
    pub protection: Vec<RecordedProtection>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedCandidate {
    pub distance_km: f64,
    pub planned_units: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedProtection {
    pub protected_units_used: i64,
}

/// One way a candidate decision differs from the current one.
#[derive(Debug, Clone, PartialEq)]
pub enum Difference {
    Locations {
        current: Vec<LocationCode>,
        candidate: Vec<LocationCode>,
    },
    Shipments {
        current: usize,
        candidate: usize,
    },
    /// The farthest location used differs by a kilometre or more.
    Distance {
        current_km: f64,
        candidate_km: f64,
    },
    ProtectedUnits {
        current: i64,
        candidate: i64,
    },
    Unfilled {
        current: i64,
        candidate: i64,
    },
    Outcome {
        current: String,
        candidate: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Locations { current, candidate } => {
                write!(f, "ships from {} instead of {}", places(candidate), places(current))
            }
            Self::Shipments { current, candidate } => write!(f, "{candidate} shipment(s) instead of {current}"),
            Self::Distance { current_km, candidate_km } => {
                write!(f, "farthest location {candidate_km:.0} km instead of {current_km:.0} km")
            }
            Self::ProtectedUnits { current, candidate } => {
                write!(f, "uses {candidate} protected unit(s) instead of {current}")
            }
            Self::Unfilled { current, candidate } => {
                write!(f, "leaves {candidate} unit(s) unfilled instead of {current}")
            }
            Self::Outcome { current, candidate } => write!(f, "outcome {candidate} instead of {current}"),
        }
    }
}

fn places(locations: &[LocationCode]) -> String {
    if locations.is_empty() {
        "nowhere".to_owned()
    } else {
        locations.iter().map(LocationCode::as_str).collect::<Vec<_>>().join(" + ")
    }
}

/// How `candidate` differs from `current`, in a fixed order (empty: they
/// agree).
pub fn differences(current: &DecisionSummary, candidate: &DecisionSummary) -> Vec<Difference> {
    let (a, b) = (current, candidate);
    let mut out = Vec::new();
    if a.locations != b.locations {
        out.push(Difference::Locations { current: a.locations.clone(), candidate: b.locations.clone() });
    }
    if a.shipments != b.shipments {
        out.push(Difference::Shipments { current: a.shipments, candidate: b.shipments });
    }
    if (a.max_distance_km - b.max_distance_km).abs() >= 1.0 {
        out.push(Difference::Distance { current_km: a.max_distance_km, candidate_km: b.max_distance_km });
    }
    if a.protected_units_used != b.protected_units_used {
        out.push(Difference::ProtectedUnits { current: a.protected_units_used, candidate: b.protected_units_used });
    }
    if a.unfilled_units != b.unfilled_units {
        out.push(Difference::Unfilled { current: a.unfilled_units, candidate: b.unfilled_units });
    }
    if a.outcome != b.outcome {
        out.push(Difference::Outcome { current: a.outcome.clone(), candidate: b.outcome.clone() });
    }
    out
}

/// Totals over many (current, candidate) comparisons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComparisonTotals {
    pub orders_compared: usize,
    pub orders_different: usize,
    pub more_shipments: usize,
    pub fewer_shipments: usize,
    /// The candidate's farthest location is over a kilometre farther.
    pub farther: usize,
    pub nearer: usize,
    /// Protected units used by the candidate minus by the current policy.
    pub protected_units_delta: i64,
}

impl ComparisonTotals {
    /// Counts one order's comparison.
    pub fn add(&mut self, current: &DecisionSummary, candidate: &DecisionSummary) {
        self.orders_compared += 1;
        self.orders_different += usize::from(!differences(current, candidate).is_empty());
        self.more_shipments += usize::from(candidate.shipments > current.shipments);
        self.fewer_shipments += usize::from(candidate.shipments < current.shipments);
        self.farther += usize::from(candidate.max_distance_km > current.max_distance_km + 1.0);
        self.nearer += usize::from(candidate.max_distance_km + 1.0 < current.max_distance_km);
        self.protected_units_delta += candidate.protected_units_used - current.protected_units_used;
    }
}
