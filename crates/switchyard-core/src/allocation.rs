//! The first allocation decision: fill each order from the fewest locations,
//! trying locations in priority order. Bundle lines reserve their components.
//!
//! The routing-rules engine will replace [`FewestLocations`]; everything that
//! allocates goes through the [`Allocator`] trait so that swap stays local.

use std::collections::BTreeMap;

use crate::ids::{LocationCode, Sku};
use crate::order::ServiceLevel;
use crate::stock::Position;

/// One order line as allocation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    pub sku: Sku,
    pub quantity: i64,
    /// The stock-holding SKUs one unit of the line consumes (itself, or a
    /// bundle's components) with the count of each.
    pub units: Vec<(Sku, i64)>,
}

/// A location as allocation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateLocation {
    pub code: LocationCode,
    pub priority: i32,
    pub can_ship: bool,
    pub can_pickup: bool,
    pub active: bool,
}

impl CandidateLocation {
    /// Why this location cannot serve an order at all (`None`: it can, stock
    /// permitting): the rule the allocator filters candidates by.
    pub fn refusal(&self, level: ServiceLevel, pickup_location: Option<&LocationCode>) -> Option<String> {
        if !self.active {
            return Some(format!("{} is inactive", self.code));
        }
        match level {
            ServiceLevel::Pickup if pickup_location != Some(&self.code) => Some(match pickup_location {
                Some(p) => format!("a pickup order is handed over at its pickup store {p}, not at {}", self.code),
                None => "a pickup order needs its pickup store".to_owned(),
            }),
            ServiceLevel::Pickup if !self.can_pickup => Some(format!("{} does not offer pickup", self.code)),
            ServiceLevel::Pickup => None,
            _ if !self.can_ship => Some(format!("{} does not ship orders", self.code)),
            _ => None,
        }
    }
}

/// Everything a decision needs: the order, the locations and a snapshot of
/// the positions of every stock-holding SKU the order touches.
#[derive(Debug, Clone)]
pub struct AllocationRequest {
    pub lines: Vec<LineRequest>,
    pub service_level: ServiceLevel,
    pub pickup_location: Option<LocationCode>,
    pub locations: Vec<CandidateLocation>,
    pub stock: BTreeMap<(Sku, LocationCode), Position>,
}

/// Where one line's units come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinePlan {
    /// (location, line units) in the order the locations were chosen.
    pub allocations: Vec<(LocationCode, i64)>,
    /// Line units nothing could fill.
    pub backordered: i64,
}

/// Stock to hold for one line at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub line: usize,
    pub sku: Sku,
    pub location: LocationCode,
    /// Units of `sku` per unit of the line (1 unless a bundle component).
    pub per_unit: i64,
    /// Units of `sku` to hold.
    pub quantity: i64,
}

/// The decision: per line, where from and what is backordered; and the
/// reservations that carry it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocationPlan {
    pub lines: Vec<LinePlan>,
    pub reservations: Vec<Reservation>,
}

impl AllocationPlan {
    pub fn any_backordered(&self) -> bool {
        self.lines.iter().any(|l| l.backordered > 0)
    }
    pub fn locations_used(&self) -> usize {
        let mut codes: Vec<&LocationCode> =
            self.lines.iter().flat_map(|l| l.allocations.iter().map(|(c, _)| c)).collect();
        codes.sort();
        codes.dedup();
        codes.len()
    }
}

/// A pure allocation decision.
pub trait Allocator {
    fn allocate(&self, request: &AllocationRequest) -> AllocationPlan;
}

/// Fill from one location if any can fill the whole order (the first by
/// priority); otherwise greedily take the location that fills the most
/// units, then the next, until nothing more can be filled.
#[derive(Debug, Clone, Copy, Default)]
pub struct FewestLocations;

/// Allocates with the default allocator.
pub fn allocate(request: &AllocationRequest) -> AllocationPlan {
    FewestLocations.allocate(request)
}

type Avail = BTreeMap<(Sku, LocationCode), i64>;

impl Allocator for FewestLocations {
    fn allocate(&self, req: &AllocationRequest) -> AllocationPlan {
        let mut eligible: Vec<&CandidateLocation> = req
            .locations
            .iter()
            .filter(|l| l.refusal(req.service_level, req.pickup_location.as_ref()).is_none())
            .collect();
        eligible.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.code.cmp(&b.code)));

        let mut avail: Avail = req.stock.iter().map(|(k, p)| (k.clone(), p.available())).collect();
        let mut need: Vec<i64> = req.lines.iter().map(|l| l.quantity.max(0)).collect();
        let mut plan = AllocationPlan { lines: vec![LinePlan::default(); req.lines.len()], reservations: vec![] };

        // One location for the whole order, if any can.
        let total: i64 = need.iter().sum();
        let whole = eligible.iter().position(|loc| {
            let mut trial = avail.clone();
            fill_at(&req.lines, &mut need.clone(), &mut trial, &loc.code).iter().sum::<i64>() == total
        });
        let mut unused: Vec<&CandidateLocation> = eligible.clone();
        if let Some(i) = whole {
            let loc = unused.remove(i);
            let took = fill_at(&req.lines, &mut need, &mut avail, &loc.code);
            record(&mut plan, &req.lines, &loc.code, &took);
        }
        // Otherwise the location that fills the most units, repeatedly.
        while need.iter().any(|n| *n > 0) && !unused.is_empty() {
            let mut best: Option<(usize, i64)> = None;
            for (i, loc) in unused.iter().enumerate() {
                let filled: i64 = fill_at(&req.lines, &mut need.clone(), &mut avail.clone(), &loc.code).iter().sum();
                if filled > best.map_or(0, |(_, f)| f) {
                    best = Some((i, filled));
                }
            }
            let Some((i, _)) = best else { break };
            let loc = unused.remove(i);
            let took = fill_at(&req.lines, &mut need, &mut avail, &loc.code);
            record(&mut plan, &req.lines, &loc.code, &took);
        }
        for (line, n) in plan.lines.iter_mut().zip(need) {
            line.backordered = n;
        }
        plan
    }
}

/// Fills what it can of each line at `loc`, in line order, consuming `avail`
/// and `need`. Returns the line units taken per line.
fn fill_at(lines: &[LineRequest], need: &mut [i64], avail: &mut Avail, loc: &LocationCode) -> Vec<i64> {
    let mut took = vec![0; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if need[i] == 0 || line.units.is_empty() {
            continue;
        }
        let fillable = line
            .units
            .iter()
            .map(|(sku, per)| {
                let a = avail.get(&(sku.clone(), loc.clone())).copied().unwrap_or(0);
                if *per <= 0 {
                    0
                } else {
                    a / per
                }
            })
            .min()
            .unwrap_or(0);
        let take = fillable.min(need[i]);
        if take == 0 {
            continue;
        }
        for (sku, per) in &line.units {
            if let Some(a) = avail.get_mut(&(sku.clone(), loc.clone())) {
                *a -= take * per;
            }
        }
        need[i] -= take;
        took[i] = take;
    }
    took
}

fn record(plan: &mut AllocationPlan, lines: &[LineRequest], loc: &LocationCode, took: &[i64]) {
    for (i, &n) in took.iter().enumerate() {
        if n == 0 {
            continue;
        }
        plan.lines[i].allocations.push((loc.clone(), n));
        for (sku, per) in &lines[i].units {
            plan.reservations.push(Reservation {
                line: i,
                sku: sku.clone(),
                location: loc.clone(),
                per_unit: *per,
                quantity: n * per,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }
    fn loc(s: &str) -> LocationCode {
        LocationCode::parse(s).expect("loc")
    }
    fn location(code: &str, priority: i32) -> CandidateLocation {
        CandidateLocation { code: loc(code), priority, can_ship: true, can_pickup: true, active: true }
    }
    fn line(s: &str, q: i64) -> LineRequest {
        LineRequest { sku: sku(s), quantity: q, units: vec![(sku(s), 1)] }
    }
    fn request(lines: Vec<LineRequest>, stock: &[(&str, &str, i64)]) -> AllocationRequest {
        AllocationRequest {
            lines,
            service_level: ServiceLevel::Standard,
            pickup_location: None,
            locations: vec![location("A", 1), location("B", 2), location("C", 3)],
            stock: stock
                .iter()
                .map(|(s, l, n)| ((sku(s), loc(l)), Position { on_hand: *n, reserved: 0, safety_stock: 0 }))
                .collect(),
        }
    }
    fn allocations(plan: &AllocationPlan) -> Vec<Vec<(String, i64)>> {
        plan.lines.iter().map(|l| l.allocations.iter().map(|(c, n)| (c.to_string(), *n)).collect()).collect()
    }

    #[test]
    fn prefers_one_location_that_fills_everything() {
        // A has X but not Y; C has both: one shipment from C beats a split.
        let req = request(vec![line("X", 1), line("Y", 1)], &[("X", "A", 5), ("X", "C", 1), ("Y", "C", 1)]);
        let plan = allocate(&req);
        assert_eq!(allocations(&plan), vec![vec![("C".into(), 1)], vec![("C".into(), 1)]]);
        assert!(!plan.any_backordered());
    }

    #[test]
    fn priority_breaks_ties() {
        let req = request(vec![line("X", 2)], &[("X", "B", 5), ("X", "A", 5)]);
        assert_eq!(allocations(&allocate(&req)), vec![vec![("A".into(), 2)]]);
    }

    #[test]
    fn splits_greedily_and_backorders_the_rest() {
        let req = request(vec![line("X", 10)], &[("X", "A", 2), ("X", "B", 5), ("X", "C", 1)]);
        let plan = allocate(&req);
        assert_eq!(allocations(&plan), vec![vec![("B".into(), 5), ("A".into(), 2), ("C".into(), 1)]]);
        assert_eq!(plan.lines[0].backordered, 2);
        assert_eq!(plan.locations_used(), 3);
    }

    #[test]
    fn safety_stock_and_reservations_are_respected() {
        let mut req = request(vec![line("X", 3)], &[]);
        req.stock.insert((sku("X"), loc("A")), Position { on_hand: 5, reserved: 2, safety_stock: 1 });
        let plan = allocate(&req);
        assert_eq!(allocations(&plan), vec![vec![("A".into(), 2)]]);
        assert_eq!(plan.lines[0].backordered, 1);
    }

    #[test]
    fn bundles_reserve_components_and_share_them_with_direct_lines() {
        let kit = LineRequest { sku: sku("KIT"), quantity: 2, units: vec![(sku("X"), 2), (sku("Y"), 1)] };
        let req = request(vec![kit, line("X", 1)], &[("X", "A", 4), ("Y", "A", 5)]);
        let plan = allocate(&req);
        // Two kits take all four X; the direct X line is backordered.
        assert_eq!(allocations(&plan), vec![vec![("A".into(), 2)], vec![]]);
        assert_eq!(plan.lines[1].backordered, 1);
        let held: i64 = plan.reservations.iter().filter(|r| r.sku == sku("X")).map(|r| r.quantity).sum();
        assert_eq!(held, 4);
    }

    #[test]
    fn pickup_only_from_the_chosen_store() {
        let mut req = request(vec![line("X", 1)], &[("X", "A", 5), ("X", "B", 5)]);
        req.service_level = ServiceLevel::Pickup;
        req.pickup_location = Some(loc("B"));
        assert_eq!(allocations(&allocate(&req)), vec![vec![("B".into(), 1)]]);
        req.pickup_location = Some(loc("C"));
        assert_eq!(allocate(&req).lines[0].backordered, 1);
    }

    #[test]
    fn inactive_and_non_shipping_locations_are_skipped() {
        let mut req = request(vec![line("X", 1)], &[("X", "A", 5), ("X", "B", 5), ("X", "C", 5)]);
        req.locations[0].active = false;
        req.locations[1].can_ship = false;
        assert_eq!(allocations(&allocate(&req)), vec![vec![("C".into(), 1)]]);
    }
}
