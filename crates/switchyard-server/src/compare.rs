//! Comparing two routing decisions (as recorded JSON): where they ship
//! from, how many shipments, how far, how many protected units they use.
//! Used by the shadow report and by previews of a draft on recent orders.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The comparable facts of one decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionSummary {
    pub outcome: String,
    /// Locations units are reserved at, sorted.
    pub locations: Vec<String>,
    pub shipments: usize,
    /// The farthest location used, in km (0 when none).
    pub max_distance_km: f64,
    /// Protected (walk-in) units the order took.
    pub protected_units_used: i64,
    /// Line units left unfilled.
    pub unfilled_units: i64,
}

pub fn summarize(decision: &Value) -> DecisionSummary {
    let lines = decision["plan"]["lines"].as_array().cloned().unwrap_or_default();
    let locations: BTreeSet<String> = lines
        .iter()
        .flat_map(|l| l["allocations"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a["location"].as_str().map(str::to_owned))
        .collect();
    let max_distance_km = decision["trace"]["candidates"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["planned_units"].as_i64().unwrap_or(0) > 0)
                .filter_map(|c| c["distance_km"].as_f64())
                .fold(0.0_f64, f64::max)
        })
        .unwrap_or(0.0);
    let protected_units_used = decision["trace"]["protection"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["protected_units_used"].as_i64()).sum())
        .unwrap_or(0);
    DecisionSummary {
        outcome: decision["outcome"]["status"].as_str().unwrap_or("unknown").to_owned(),
        shipments: locations.len(),
        locations: locations.into_iter().collect(),
        max_distance_km: (max_distance_km * 10.0).round() / 10.0,
        protected_units_used,
        unfilled_units: lines.iter().filter_map(|l| l["backordered"].as_i64()).sum(),
    }
}

/// One order under two policies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comparison {
    pub order_id: String,
    pub external_id: String,
    /// The decision in force (recorded).
    pub current: DecisionSummary,
    /// The shadow or draft policy's decision.
    pub candidate: DecisionSummary,
    pub candidate_explanation: String,
    /// Plain-English differences; empty when both agree.
    pub differences: Vec<String>,
}

pub fn compare(
    order_id: String,
    external_id: String,
    current: &Value,
    candidate: &Value,
    explanation: String,
) -> Comparison {
    let (a, b) = (summarize(current), summarize(candidate));
    let mut differences = Vec::new();
    if a.locations != b.locations {
        differences.push(format!("ships from {} instead of {}", list(&b.locations), list(&a.locations)));
    }
    if a.shipments != b.shipments {
        differences.push(format!("{} shipment(s) instead of {}", b.shipments, a.shipments));
    }
    if (a.max_distance_km - b.max_distance_km).abs() >= 1.0 {
        differences
            .push(format!("farthest location {:.0} km instead of {:.0} km", b.max_distance_km, a.max_distance_km));
    }
    if a.protected_units_used != b.protected_units_used {
        differences
            .push(format!("uses {} protected unit(s) instead of {}", b.protected_units_used, a.protected_units_used));
    }
    if a.unfilled_units != b.unfilled_units {
        differences.push(format!("leaves {} unit(s) unfilled instead of {}", b.unfilled_units, a.unfilled_units));
    }
    if a.outcome != b.outcome {
        differences.push(format!("outcome {} instead of {}", b.outcome, a.outcome));
    }
    Comparison { order_id, external_id, current: a, candidate: b, candidate_explanation: explanation, differences }
}

fn list(locations: &[String]) -> String {
    if locations.is_empty() {
        "nowhere".to_owned()
    } else {
        locations.join(" + ")
    }
}

/// Totals over many comparisons.
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
    let mut r = ComparisonReport { orders_compared: orders.len(), ..ComparisonReport::default() };
    for c in &orders {
        r.orders_different += usize::from(!c.differences.is_empty());
        r.more_shipments += usize::from(c.candidate.shipments > c.current.shipments);
        r.fewer_shipments += usize::from(c.candidate.shipments < c.current.shipments);
        r.farther += usize::from(c.candidate.max_distance_km > c.current.max_distance_km + 1.0);
        r.nearer += usize::from(c.candidate.max_distance_km + 1.0 < c.current.max_distance_km);
        r.protected_units_delta += c.candidate.protected_units_used - c.current.protected_units_used;
    }
    r.orders = orders;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decision(locations: &[(&str, f64)], protected: i64) -> Value {
        json!({
            "plan": {"lines": [{
                "allocations": locations.iter().map(|(l, _)| json!({"location": l, "quantity": 1})).collect::<Vec<_>>(),
                "backordered": 0
            }]},
            "outcome": {"status": "allocated"},
            "trace": {
                "candidates": locations
                    .iter()
                    .map(|(l, d)| json!({"location": l, "distance_km": d, "planned_units": 1}))
                    .collect::<Vec<_>>(),
                "protection": [{"protected_units_used": protected}]
            }
        })
    }

    #[test]
    fn differences_are_named() {
        let a = decision(&[("WH", 700.0)], 0);
        let b = decision(&[("FLAGSHIP", 3.0), ("WH", 700.0)], 1);
        let c = compare("o".into(), "e".into(), &a, &b, String::new());
        assert_eq!(c.current.shipments, 1);
        assert_eq!(c.candidate.shipments, 2);
        assert!(c.differences.iter().any(|d| d == "ships from FLAGSHIP + WH instead of WH"));
        assert!(c.differences.iter().any(|d| d.starts_with("uses 1 protected unit")));
        let same = compare("o".into(), "e".into(), &a, &a, String::new());
        assert!(same.differences.is_empty());
        let r = report(vec![c, same]);
        assert_eq!((r.orders_compared, r.orders_different, r.more_shipments, r.protected_units_delta), (2, 1, 1, 1));
    }
}
