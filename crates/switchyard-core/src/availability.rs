//! What a SKU can promise, per location and in total: a plain SKU's
//! positions, or — for a bundle, which holds no stock of its own — the kits
//! its components make at each location.
//!
//! A kit is reserved at one location (its components come from the same
//! place), so a bundle's availability at a location is the least, over its
//! components, of the component's `Position::available()` divided by the
//! units one kit takes; the total is the sum over locations.

use std::collections::BTreeMap;

use crate::ids::{LocationCode, Sku};
use crate::stock::Position;

/// One location's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationAvailability {
    pub location: LocationCode,
    /// The SKU's own position; `None` for a bundle.
    pub position: Option<Position>,
    /// Units (kits, for a bundle) that may still be promised here.
    pub available: i64,
}

/// A SKU's availability.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Availability {
    /// A bundle's components and the units of each one kit takes; empty for
    /// a plain SKU.
    pub components: Vec<(Sku, i64)>,
    /// In location order.
    pub locations: Vec<LocationAvailability>,
    /// The sum over locations.
    pub available: i64,
}

impl Availability {
    /// A plain SKU's positions.
    pub fn of_positions(positions: Vec<(LocationCode, Position)>) -> Availability {
        let mut locations: Vec<LocationAvailability> = positions
            .into_iter()
            .map(|(location, p)| LocationAvailability { location, position: Some(p), available: p.available() })
            .collect();
        locations.sort_by(|a, b| a.location.cmp(&b.location));
        Availability { components: vec![], available: total(&locations), locations }
    }

    /// A bundle of `components` (sku, units per kit) over the components'
    /// positions: every location where each component has a position.
    pub fn of_bundle(components: Vec<(Sku, i64)>, positions: &BTreeMap<(Sku, LocationCode), Position>) -> Availability {
        let mut per_location: BTreeMap<&LocationCode, (usize, i64)> = BTreeMap::new();
        for (sku, per_kit) in &components {
            for ((s, location), p) in positions {
                if s != sku {
                    continue;
                }
                let kits = if *per_kit > 0 { p.available() / per_kit } else { 0 };
                let entry = per_location.entry(location).or_insert((0, i64::MAX));
                entry.0 += 1;
                entry.1 = entry.1.min(kits);
            }
        }
        let locations: Vec<LocationAvailability> = per_location
            .into_iter()
            .filter(|(_, (seen, _))| *seen == components.len() && !components.is_empty())
            .map(|(location, (_, kits))| LocationAvailability {
                location: location.clone(),
                position: None,
                available: kits.max(0),
            })
            .collect();
        Availability { available: total(&locations), components, locations }
    }
}

fn total(locations: &[LocationAvailability]) -> i64 {
    locations.iter().map(|l| l.available).fold(0, i64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str, l: &str) -> (Sku, LocationCode) {
        (Sku::parse(s).expect("sku"), LocationCode::parse(l).expect("location"))
    }

    fn pos(on_hand: i64, reserved: i64, safety_stock: i64) -> Position {
        Position { on_hand, reserved, safety_stock }
    }

    /// Issue 7: a bundle answered `available: 0, locations: []` while its
    /// components covered 5 kits.
    #[test]
    fn a_bundles_availability_is_the_kits_its_components_make_per_location() {
        let positions = BTreeMap::from([
            (key("MUG", "FLAG"), pos(6, 0, 0)),
            (key("CANDLE", "FLAG"), pos(10, 2, 0)),
            (key("MUG", "WH"), pos(5, 1, 1)),
            (key("CANDLE", "WH"), pos(2, 0, 0)),
            // Only one component here: no kit can be made.
            (key("MUG", "STORE"), pos(9, 0, 0)),
        ]);
        let kit = vec![(Sku::parse("MUG").expect("sku"), 1), (Sku::parse("CANDLE").expect("sku"), 2)];
        let a = Availability::of_bundle(kit, &positions);
        let per: Vec<(&str, i64)> = a.locations.iter().map(|l| (l.location.as_str(), l.available)).collect();
        // FLAG: min(6 / 1, 8 / 2) = 4; WH: min(3 / 1, 2 / 2) = 1.
        assert_eq!(per, vec![("FLAG", 4), ("WH", 1)]);
        assert_eq!(a.available, 5);
        assert!(a.locations.iter().all(|l| l.position.is_none()));
    }

    #[test]
    fn a_plain_skus_availability_is_its_positions() {
        let a = Availability::of_positions(vec![(key("X", "WH").1, pos(5, 2, 1)), (key("X", "A").1, pos(1, 1, 0))]);
        let per: Vec<(&str, i64)> = a.locations.iter().map(|l| (l.location.as_str(), l.available)).collect();
        assert_eq!(per, vec![("A", 0), ("WH", 2)]);
        assert_eq!(a.available, 2);
    }
}
