//! Where a return is sent, by the policy's `destination` rule
//! ([`ReturnDestination`]): the location that shipped it (`origin`, the
//! default), the nearest active location that stocks what comes back
//! (`nearest_stocking`), or a returns hub (`{ hub = "CODE" }`).
//! [`choose_destination`] is pure: the engine hands it the shipments, the
//! locations, which of them stock the returned SKUs and the ship-to
//! coordinates, and records the [`DestinationChoice`]'s sentence on the
//! return's timeline.
//!
//! Fallbacks, so a request is never refused over its destination: a hub
//! that is switched off (or was removed after the policy was saved), or no
//! stocking location with coordinates when the ship-to has them (or a
//! ship-to without coordinates), sends the return to its origin; an origin
//! that is switched off sends it to the first active location in
//! allocation order (today's rule, [`super::destination`]). A hub the
//! catalogue does not know is refused when the policy is saved or
//! activated ([`ReturnPolicy::check_locations`]).

use serde::{Deserialize, Serialize};

use super::policy::ReturnPolicy;
use super::validate::{ReturnPolicyError, ReturnPolicyErrors, ReturnPolicyProblem};
use crate::field_path::FieldPath;
use crate::location::{Location, LocationKind};
use crate::routing::geo::{haversine_km, Coordinates};
use crate::LocationCode;

/// The policy's rule for where returns go. In TOML: `destination =
/// "origin"`, `destination = "nearest_stocking"` or `destination = { hub =
/// "RET-HUB" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDestination {
    /// The location that shipped most of the returned units.
    #[default]
    Origin,
    /// The nearest active location (not a drop-shipper) holding every
    /// returned SKU on hand, by the ship-to coordinates.
    NearestStocking,
    /// One returns hub for every return.
    Hub(LocationCode),
}

impl ReturnDestination {
    pub fn is_origin(&self) -> bool {
        *self == Self::Origin
    }
}

/// What the choice is made from.
#[derive(Debug, Clone, Copy)]
pub struct DestinationFacts<'a> {
    /// (location, units of the returned lines shipped from it).
    pub shipped_from: &'a [(LocationCode, i64)],
    /// Every location, in allocation order (priority, then code).
    pub locations: &'a [Location],
    /// The locations holding every returned SKU on hand.
    pub stocking: &'a [LocationCode],
    /// Where the customer is, when known.
    pub ship_to: Option<Coordinates>,
}

/// Why the destination is the one it is.
#[derive(Debug, Clone, PartialEq)]
pub enum DestinationReason {
    /// The location that shipped it (the `origin` rule).
    Origin,
    /// The origin is switched off: the first active location.
    FirstActive,
    /// The nearest stocking location, this far from the ship-to.
    Nearest { km: f64 },
    /// The policy's hub.
    Hub,
    /// The hub is not active (or no longer exists): the origin instead.
    HubUnavailable { hub: LocationCode },
    /// `nearest_stocking` found no candidate (no ship-to coordinates, or no
    /// active location with coordinates holds the SKUs): the origin instead.
    NoStockingNearby,
}

/// A destination and why.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationChoice {
    pub location: LocationCode,
    pub reason: DestinationReason,
}

impl DestinationChoice {
    /// For the timeline: "Sent to WEST: the nearest active location
    /// stocking the items (12 km from the customer)".
    pub fn explain(&self) -> String {
        let at = &self.location;
        match &self.reason {
            DestinationReason::Origin => format!("Sent to {at}: the location that shipped it"),
            DestinationReason::FirstActive => {
                format!("Sent to {at}: the location that shipped it is inactive, so the first active location")
            }
            DestinationReason::Nearest { km } => {
                format!("Sent to {at}: the nearest active location stocking the items ({km:.0} km from the customer)")
            }
            DestinationReason::Hub => format!("Sent to {at}: the policy's returns hub"),
            DestinationReason::HubUnavailable { hub } => {
                format!("Sent to {at}: the policy's returns hub {hub} is not active, so where it came from")
            }
            DestinationReason::NoStockingNearby => format!(
                "Sent to {at}: no active location with coordinates stocks the items near the customer, so where it \
                 came from"
            ),
        }
    }
}

/// Where a return goes under `rule` (fallbacks in the module docs);
/// `None` only when no location is active.
pub fn choose_destination(rule: &ReturnDestination, facts: &DestinationFacts<'_>) -> Option<DestinationChoice> {
    let active = |code: &LocationCode| facts.locations.iter().find(|l| &l.code == code && l.active);
    let origin = |fallback: Option<DestinationReason>| {
        let location = super::destination(facts.shipped_from, facts.locations)?;
        let shipped_it = most_shipped(facts.shipped_from).is_some_and(|c| c == &location);
        let reason = match fallback {
            Some(reason) => reason,
            None if shipped_it => DestinationReason::Origin,
            None => DestinationReason::FirstActive,
        };
        Some(DestinationChoice { location, reason })
    };
    match rule {
        ReturnDestination::Origin => origin(None),
        ReturnDestination::Hub(hub) => match active(hub) {
            Some(l) => Some(DestinationChoice { location: l.code.clone(), reason: DestinationReason::Hub }),
            None => origin(Some(DestinationReason::HubUnavailable { hub: hub.clone() })),
        },
        ReturnDestination::NearestStocking => {
            let nearest = facts.ship_to.and_then(|customer| {
                (facts.locations.iter())
                    .filter(|l| l.active && l.kind != LocationKind::Dropship && facts.stocking.contains(&l.code))
                    .filter_map(|l| Coordinates::from_pair(l.lat, l.lon).map(|at| (l, haversine_km(customer, at))))
                    // The first of equally near locations in allocation order.
                    .fold(None::<(&Location, f64)>, |best, (l, km)| match best {
                        Some((_, best_km)) if best_km <= km => best,
                        _ => Some((l, km)),
                    })
            });
            match nearest {
                Some((l, km)) => {
                    Some(DestinationChoice { location: l.code.clone(), reason: DestinationReason::Nearest { km } })
                }
                None => origin(Some(DestinationReason::NoStockingNearby)),
            }
        }
    }
}

/// The location that shipped most units (ties to the code first in order).
fn most_shipped(shipped_from: &[(LocationCode, i64)]) -> Option<&LocationCode> {
    let mut origins: Vec<&(LocationCode, i64)> = shipped_from.iter().filter(|(_, units)| *units > 0).collect();
    origins.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    origins.first().map(|(code, _)| code)
}

impl ReturnPolicy {
    /// The checks that need the catalogue: a hub must be a location it
    /// knows (`known`). Errors carry their TOML line when `toml_text` is
    /// the text the policy came from.
    pub fn check_locations(
        &self,
        known: impl Fn(&LocationCode) -> bool,
        toml_text: Option<&str>,
    ) -> Result<(), ReturnPolicyErrors> {
        let ReturnDestination::Hub(hub) = &self.destination else { return Ok(()) };
        if known(hub) {
            return Ok(());
        }
        let path = FieldPath::root().key("destination").key("hub");
        let errors = ReturnPolicyErrors::one(ReturnPolicyError::at(
            path,
            ReturnPolicyProblem::UnknownLocation { code: hub.to_string() },
        ));
        Err(match toml_text {
            Some(text) => errors.with_lines_from(text),
            None => errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Address;

    fn code(c: &str) -> LocationCode {
        LocationCode::parse(c).expect("code")
    }

    fn place(c: &str, kind: LocationKind, active: bool, at: Option<(f64, f64)>) -> Location {
        Location {
            code: code(c),
            name: c.into(),
            kind,
            address: Address::default(),
            lat: at.map(|a| a.0),
            lon: at.map(|a| a.1),
            can_ship: true,
            can_pickup: false,
            priority: 0,
            active,
            lead_time_days: 0,
            timezone: "UTC".into(),
        }
    }

    const PORTLAND: (f64, f64) = (45.52, -122.68);
    const SEATTLE: (f64, f64) = (47.61, -122.33);
    const RENO: (f64, f64) = (39.53, -119.81);
    const NEWARK: (f64, f64) = (40.74, -74.17);

    /// The destination's code and reason tag for each rule and situation.
    #[test]
    fn the_destination_rule_table() {
        use LocationKind::{Dropship, Store, Warehouse};
        let locations = [
            place("EAST", Warehouse, true, Some(NEWARK)),
            place("RENO", Warehouse, true, Some(RENO)),
            place("SEA", Store, true, Some(SEATTLE)),
            place("PDX-DROP", Dropship, true, Some(PORTLAND)),
            place("HUB", Warehouse, true, None),
            place("OLD-HUB", Warehouse, false, Some(PORTLAND)),
            place("NOWHERE", Store, true, None),
        ];
        let shipped = [(code("EAST"), 2)];
        let all_stock = [code("EAST"), code("RENO"), code("SEA"), code("PDX-DROP"), code("NOWHERE")];
        let portland = Coordinates::new(PORTLAND.0, PORTLAND.1);
        let facts = |stocking: &'static [LocationCode], ship_to| DestinationFacts {
            shipped_from: &shipped,
            locations: &locations,
            stocking,
            ship_to,
        };
        let all: &'static [LocationCode] = Box::leak(Box::new(all_stock));
        let only_reno: &'static [LocationCode] = Box::leak(Box::new([code("RENO")]));
        let only_nowhere: &'static [LocationCode] = Box::leak(Box::new([code("NOWHERE")]));
        let nearest = ReturnDestination::NearestStocking;
        let cases: Vec<(&str, ReturnDestination, DestinationFacts<'_>, &str, &str)> = vec![
            ("origin", ReturnDestination::Origin, facts(all, portland), "EAST", "origin"),
            ("hub", ReturnDestination::Hub(code("HUB")), facts(all, portland), "HUB", "hub"),
            ("inactive hub", ReturnDestination::Hub(code("OLD-HUB")), facts(all, portland), "EAST", "hub_unavailable"),
            ("removed hub", ReturnDestination::Hub(code("GONE")), facts(all, None), "EAST", "hub_unavailable"),
            // Seattle is nearer Portland than Reno; the drop-shipper in Portland itself never receives returns.
            ("nearest", nearest.clone(), facts(all, portland), "SEA", "nearest"),
            ("nearest that stocks", nearest.clone(), facts(only_reno, portland), "RENO", "nearest"),
            ("no coordinates", nearest.clone(), facts(all, None), "EAST", "no_stocking_nearby"),
            ("stocked only where unknown", nearest, facts(only_nowhere, portland), "EAST", "no_stocking_nearby"),
        ];
        for (name, rule, facts, want, why) in cases {
            let got = choose_destination(&rule, &facts).expect("a location is active");
            let tag = match got.reason {
                DestinationReason::Origin => "origin",
                DestinationReason::FirstActive => "first_active",
                DestinationReason::Nearest { .. } => "nearest",
                DestinationReason::Hub => "hub",
                DestinationReason::HubUnavailable { .. } => "hub_unavailable",
                DestinationReason::NoStockingNearby => "no_stocking_nearby",
            };
            assert_eq!((got.location.as_str(), tag), (want, why), "{name}: {}", got.explain());
        }
    }

    #[test]
    fn an_inactive_origin_falls_to_the_first_active_location_and_nothing_active_is_none() {
        let locations = [place("A", LocationKind::Warehouse, true, None), place("B", LocationKind::Store, false, None)];
        let shipped = [(code("B"), 1)];
        let facts = DestinationFacts { shipped_from: &shipped, locations: &locations, stocking: &[], ship_to: None };
        let got = choose_destination(&ReturnDestination::Origin, &facts).expect("A is active");
        assert_eq!((got.location.as_str(), &got.reason), ("A", &DestinationReason::FirstActive));
        let none = [place("A", LocationKind::Warehouse, false, None)];
        let facts = DestinationFacts { locations: &none, ..facts };
        assert_eq!(choose_destination(&ReturnDestination::Hub(code("A")), &facts), None);
    }

    #[test]
    fn the_nearest_reports_its_distance() {
        let locations = [place("SEA", LocationKind::Store, true, Some(SEATTLE))];
        let stocking = [code("SEA")];
        let facts = DestinationFacts {
            shipped_from: &[],
            locations: &locations,
            stocking: &stocking,
            ship_to: Coordinates::new(PORTLAND.0, PORTLAND.1),
        };
        let got = choose_destination(&ReturnDestination::NearestStocking, &facts).expect("SEA");
        let DestinationReason::Nearest { km } = got.reason.clone() else { panic!("nearest: {got:?}") };
        assert!((km - 234.0).abs() < 5.0, "Portland to Seattle is about 234 km, got {km}");
        assert!(got.explain().contains("(234 km from the customer)"), "{}", got.explain());
    }

    #[test]
    fn the_rule_reads_from_toml_and_an_unknown_hub_is_a_line_numbered_error() {
        let p = ReturnPolicy::from_toml("destination = \"nearest_stocking\"\n").expect("valid");
        assert_eq!(p.destination, ReturnDestination::NearestStocking);
        let text = "[window]\ndefault_days = 30\n\n[destination]\nhub = \"RET-HUB\"\n";
        let p = ReturnPolicy::from_toml(text).expect("valid");
        assert_eq!(p.destination, ReturnDestination::Hub(code("RET-HUB")));
        let inline = ReturnPolicy::from_toml("destination = { hub = \"RET-HUB\" }\n").expect("valid");
        assert_eq!(inline.destination, p.destination);
        assert_eq!(ReturnPolicy::from_toml("").expect("valid").destination, ReturnDestination::Origin);
        assert!(p.check_locations(|c| c.as_str() == "RET-HUB", Some(text)).is_ok());
        let errors = p.check_locations(|_| false, Some(text)).expect_err("unknown hub");
        assert_eq!(
            errors.to_string(),
            "the return policy has 1 error\n  line 5, column 1: destination.hub: unknown location \"RET-HUB\""
        );
        // A rule that is not one of the three names its line.
        let bad = ReturnPolicy::from_toml("\ndestination = \"closest\"\n").expect_err("unknown rule");
        assert_eq!(bad.errors()[0].line, Some(2), "{bad}");
        let bad = ReturnPolicy::from_toml("destination = { hub = \"has space\" }\n").expect_err("a bad code");
        assert_eq!(bad.errors()[0].line, Some(1), "{bad}");
        // Round trip: the rule survives TOML and JSON, and the default is not written.
        let again = ReturnPolicy::from_toml(&p.to_toml().expect("toml")).expect("parses back");
        assert_eq!(again.destination, p.destination);
        assert!(!ReturnPolicy::default().to_toml().expect("toml").contains("destination"));
    }
}
