//! An in-memory stock book: positions, ledger and open reservations, changed
//! only through [`Position`]'s rules and the allocator.
//!
//! The store crate applies the same rules inside database transactions; this
//! book is what the property tests (and later the simulator) run against.

use std::collections::BTreeMap;

use crate::allocation::{allocate, AllocationRequest, CandidateLocation, LineRequest, Reservation};
use crate::ids::{LocationCode, Sku};
use crate::order::ServiceLevel;
use crate::stock::{Position, StockDelta, StockError};

type Key = (Sku, LocationCode);

/// A ledger row of the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookEntry {
    pub key: Key,
    pub delta: StockDelta,
    pub order: Option<u64>,
}

/// Positions, the ledger that explains them, and who holds what.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub positions: BTreeMap<Key, Position>,
    pub ledger: Vec<BookEntry>,
    /// Open reservations per order id.
    pub holds: BTreeMap<u64, Vec<Reservation>>,
    pub locations: Vec<CandidateLocation>,
}

impl Inventory {
    fn apply(&mut self, key: Key, delta: StockDelta, order: Option<u64>) {
        let p = self.positions.entry(key.clone()).or_default();
        *p = p.apply(&delta);
        self.ledger.push(BookEntry { key, delta, order });
    }

    fn position(&self, key: &Key) -> Position {
        self.positions.get(key).copied().unwrap_or_default()
    }

    pub fn receive(&mut self, key: Key, qty: i64) -> Result<(), StockError> {
        let d = self.position(&key).receive(qty)?;
        self.apply(key, d, None);
        Ok(())
    }

    pub fn count(&mut self, key: Key, counted: i64) -> Result<(), StockError> {
        let d = self.position(&key).count(counted)?;
        self.apply(key, d, None);
        Ok(())
    }

    /// Allocates and reserves an order's lines; returns the units backordered.
    pub fn place(&mut self, order: u64, lines: Vec<LineRequest>) -> i64 {
        let req = AllocationRequest {
            lines,
            service_level: ServiceLevel::Standard,
            pickup_location: None,
            locations: self.locations.clone(),
            stock: self.positions.clone(),
        };
        let plan = allocate(&req);
        for r in &plan.reservations {
            let key = (r.sku.clone(), r.location.clone());
            // The plan never exceeds availability, so this cannot fail; if it
            // ever did, the invariant checks below would catch the drift.
            if let Ok(d) = self.position(&key).reserve(r.quantity) {
                self.apply(key, d, Some(order));
            }
        }
        self.holds.insert(order, plan.reservations.clone());
        plan.lines.iter().map(|l| l.backordered).sum()
    }

    /// Cancel or expiry: everything the order holds goes back.
    pub fn release(&mut self, order: u64) {
        for r in self.holds.remove(&order).unwrap_or_default() {
            let key = (r.sku.clone(), r.location.clone());
            if let Ok(d) = self.position(&key).release(r.quantity) {
                self.apply(key, d, Some(order));
            }
        }
    }

    /// Ships everything the order holds.
    pub fn ship(&mut self, order: u64) {
        for r in self.holds.remove(&order).unwrap_or_default() {
            let key = (r.sku.clone(), r.location.clone());
            if let Ok(d) = self.position(&key).ship(r.quantity) {
                self.apply(key, d, Some(order));
            }
        }
    }

    /// Checks the invariants; returns a description of each violation.
    pub fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut from_ledger: BTreeMap<&Key, Position> = BTreeMap::new();
        for e in &self.ledger {
            let p = from_ledger.entry(&e.key).or_default();
            *p = p.apply(&e.delta);
        }
        let mut held: BTreeMap<Key, i64> = BTreeMap::new();
        for r in self.holds.values().flatten() {
            *held.entry((r.sku.clone(), r.location.clone())).or_default() += r.quantity;
        }
        for (key, p) in &self.positions {
            if !p.is_sound() {
                out.push(format!("{key:?}: unsound position {p:?}"));
            }
            if from_ledger.get(key).copied().unwrap_or_default() != *p {
                out.push(format!("{key:?}: ledger disagrees with position {p:?}"));
            }
            if held.get(key).copied().unwrap_or(0) != p.reserved {
                out.push(format!("{key:?}: holds disagree with reserved {}", p.reserved));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Receive { sku: usize, loc: usize, qty: i64 },
        Count { sku: usize, loc: usize, counted: i64 },
        Place { lines: Vec<(usize, i64)> },
        Cancel { pick: usize },
        Expire { pick: usize },
        Ship { pick: usize },
    }

    const SKUS: [&str; 3] = ["A", "B", "KIT"];
    const LOCS: [&str; 3] = ["S1", "S2", "WH"];

    fn key(sku: usize, loc: usize) -> Key {
        (Sku::parse(SKUS[sku % 2]).expect("sku"), LocationCode::parse(LOCS[loc]).expect("loc"))
    }

    fn line(sku: usize, qty: i64) -> LineRequest {
        let s = |x: &str| Sku::parse(x).expect("sku");
        let units = if sku == 2 { vec![(s("A"), 2), (s("B"), 1)] } else { vec![(s(SKUS[sku]), 1)] };
        LineRequest { sku: s(SKUS[sku]), quantity: qty, units }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..3usize, -2..20i64).prop_map(|(sku, loc, qty)| Op::Receive { sku, loc, qty }),
            (0..2usize, 0..3usize, -2..15i64).prop_map(|(sku, loc, counted)| Op::Count { sku, loc, counted }),
            proptest::collection::vec((0..3usize, 1..6i64), 1..4).prop_map(|lines| Op::Place { lines }),
            any::<usize>().prop_map(|pick| Op::Cancel { pick }),
            any::<usize>().prop_map(|pick| Op::Expire { pick }),
            any::<usize>().prop_map(|pick| Op::Ship { pick }),
        ]
    }

    fn nth_open(inv: &Inventory, pick: usize) -> Option<u64> {
        let n = inv.holds.len();
        (n > 0).then(|| *inv.holds.keys().nth(pick % n).expect("in range"))
    }

    proptest! {
        #[test]
        fn random_operations_keep_the_invariants(ops in proptest::collection::vec(op(), 1..80)) {
            let mut inv = Inventory {
                locations: LOCS
                    .iter()
                    .enumerate()
                    .map(|(i, c)| CandidateLocation {
                        code: LocationCode::parse(c).expect("loc"),
                        priority: i as i32,
                        can_ship: true,
                        can_pickup: true,
                        active: true,
                    })
                    .collect(),
                ..Inventory::default()
            };
            let mut next = 0u64;
            for op in ops {
                match op {
                    Op::Receive { sku, loc, qty } => { let _ = inv.receive(key(sku, loc), qty); }
                    Op::Count { sku, loc, counted } => { let _ = inv.count(key(sku, loc), counted); }
                    Op::Place { lines } => {
                        next += 1;
                        let wanted: i64 = lines.iter().map(|(_, q)| q).sum();
                        let back = inv.place(next, lines.into_iter().map(|(s, q)| line(s, q)).collect());
                        prop_assert!(back >= 0 && back <= wanted);
                    }
                    Op::Cancel { pick } | Op::Expire { pick } => {
                        if let Some(id) = nth_open(&inv, pick) { inv.release(id); }
                    }
                    Op::Ship { pick } => {
                        if let Some(id) = nth_open(&inv, pick) { inv.ship(id); }
                    }
                }
                let v = inv.violations();
                prop_assert!(v.is_empty(), "violations: {v:?}");
            }
        }
    }
}
