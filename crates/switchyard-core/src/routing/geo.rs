//! Distances between a ship-to address and a location.
//!
//! With coordinates on both sides the distance is the great-circle distance
//! (haversine on a sphere of the Earth's mean radius); that is within 0.5 % of
//! the ellipsoidal distance, far finer than any routing decision needs.
//!
//! Many orders arrive without coordinates, so the engine falls back to a
//! documented estimate from the address itself: same postal-code prefix, same
//! region, same country, or elsewhere. Each tier has a nominal distance set in
//! the policy (`[distance]`), so that distance limits, same-day radii and
//! shipping-rate bands keep working; the decision records which source was
//! used for every location.

use serde::{Deserialize, Serialize};

/// The mean Earth radius (IUGG), in km.
pub const EARTH_MEAN_RADIUS_KM: f64 = 6371.0088;

/// A validated latitude/longitude pair in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

impl Coordinates {
    /// Accepts finite coordinates within ±90° latitude and ±180° longitude;
    /// anything else is treated as "no coordinates" by the engine rather than
    /// producing a nonsense distance.
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        let valid =
            lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        valid.then_some(Self { lat, lon })
    }

    /// Both halves of an optional pair, validated.
    pub fn from_pair(lat: Option<f64>, lon: Option<f64>) -> Option<Self> {
        Self::new(lat?, lon?)
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lon(self) -> f64 {
        self.lon
    }
}

/// Great-circle distance in km (haversine formula).
pub fn haversine_km(from: Coordinates, to: Coordinates) -> f64 {
    let (lat1, lat2) = (from.lat.to_radians(), to.lat.to_radians());
    let half_dlat = (lat2 - lat1) / 2.0;
    let half_dlon = (to.lon - from.lon).to_radians() / 2.0;
    let a = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
    // `a` can exceed 1 by a rounding error for antipodal points; clamp so the
    // square root stays real.
    2.0 * EARTH_MEAN_RADIUS_KM * a.clamp(0.0, 1.0).sqrt().asin()
}

/// How close two addresses are when no coordinates are available, from the
/// closest tier to the farthest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressTier {
    SamePostalPrefix,
    SameRegion,
    SameCountry,
    Elsewhere,
}

impl AddressTier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SamePostalPrefix => "same_postal_prefix",
            Self::SameRegion => "same_region",
            Self::SameCountry => "same_country",
            Self::Elsewhere => "elsewhere",
        }
    }
}

/// Where a distance figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "source", content = "tier")]
pub enum DistanceSource {
    /// Both sides had coordinates: a great-circle distance.
    GreatCircle,
    /// At least one side had none: the policy's nominal km for this tier.
    Estimated(AddressTier),
}

/// The parts of an address the estimate looks at, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct AddressArea<'a> {
    pub postal_code: &'a str,
    pub region: &'a str,
    pub country: &'a str,
}

/// The closest tier two addresses share. Countries must match (when both are
/// known) before a postal prefix or region counts, because postal codes and
/// region names repeat across countries.
pub fn address_tier(a: AddressArea<'_>, b: AddressArea<'_>, postal_prefix_len: usize) -> AddressTier {
    let a_country = a.country.trim();
    let b_country = b.country.trim();
    let countries_known = !a_country.is_empty() && !b_country.is_empty();
    if countries_known && !a_country.eq_ignore_ascii_case(b_country) {
        return AddressTier::Elsewhere;
    }
    if postal_prefix_len > 0 && same_postal_prefix(a.postal_code, b.postal_code, postal_prefix_len) {
        return AddressTier::SamePostalPrefix;
    }
    let (a_region, b_region) = (a.region.trim(), b.region.trim());
    if !a_region.is_empty() && a_region.eq_ignore_ascii_case(b_region) {
        return AddressTier::SameRegion;
    }
    if countries_known {
        return AddressTier::SameCountry;
    }
    AddressTier::Elsewhere
}

/// Compares the first `len` significant characters of two postal codes,
/// ignoring spaces, hyphens and case ("SW1A 1AA" vs "sw1a2aa"). Both must have
/// at least `len` significant characters, so an empty code never matches.
fn same_postal_prefix(a: &str, b: &str, len: usize) -> bool {
    let significant = |c: &char| c.is_alphanumeric();
    let mut a_chars = a.chars().filter(significant);
    let mut b_chars = b.chars().filter(significant);
    for _ in 0..len {
        match (a_chars.next(), b_chars.next()) {
            (Some(x), Some(y)) if x.to_lowercase().eq(y.to_lowercase()) => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coords(lat: f64, lon: f64) -> Coordinates {
        Coordinates::new(lat, lon).expect("valid coordinates")
    }

    #[test]
    fn portland_to_seattle_is_about_233_km() {
        let portland = coords(45.5152, -122.6784);
        let seattle = coords(47.6062, -122.3321);
        let km = haversine_km(portland, seattle);
        assert!((km - 233.0).abs() < 2.0, "got {km}");
        assert!((haversine_km(seattle, portland) - km).abs() < 1e-9, "symmetric");
    }

    #[test]
    fn other_known_distances() {
        // London - Paris ≈ 344 km; a point to itself is 0; antipodes ≈ half the circumference.
        let km = haversine_km(coords(51.5074, -0.1278), coords(48.8566, 2.3522));
        assert!((km - 344.0).abs() < 3.0, "got {km}");
        assert_eq!(haversine_km(coords(10.0, 10.0), coords(10.0, 10.0)), 0.0);
        let half = haversine_km(coords(0.0, 0.0), coords(0.0, 180.0));
        assert!((half - std::f64::consts::PI * EARTH_MEAN_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn invalid_coordinates_are_refused() {
        assert!(Coordinates::new(91.0, 0.0).is_none());
        assert!(Coordinates::new(0.0, -180.5).is_none());
        assert!(Coordinates::new(f64::NAN, 0.0).is_none());
        assert!(Coordinates::from_pair(Some(1.0), None).is_none());
        assert!(Coordinates::from_pair(Some(1.0), Some(2.0)).is_some());
    }

    #[test]
    fn address_tiers() {
        let area = |postal_code, region, country| AddressArea { postal_code, region, country };
        let cases = [
            (area("97205", "OR", "US"), area("97209", "OR", "US"), 3, AddressTier::SamePostalPrefix),
            (area("97205", "OR", "US"), area("97405", "OR", "US"), 3, AddressTier::SameRegion),
            (area("97205", "OR", "US"), area("98101", "WA", "US"), 3, AddressTier::SameCountry),
            (area("97205", "OR", "US"), area("97205", "OR", "CA"), 3, AddressTier::Elsewhere),
            (area("SW1A 1AA", "", "GB"), area("sw1a2aa", "", "gb"), 4, AddressTier::SamePostalPrefix),
            (area("", "", ""), area("", "", ""), 3, AddressTier::Elsewhere),
            (area("97205", "or", ""), area("97999", "OR", "US"), 3, AddressTier::SameRegion),
            (area("97205", "", "US"), area("97205", "", "US"), 0, AddressTier::SameCountry),
            (area("97", "", "US"), area("97", "", "US"), 3, AddressTier::SameCountry),
        ];
        for (a, b, len, expected) in cases {
            assert_eq!(address_tier(a, b, len), expected, "{a:?} vs {b:?}");
        }
    }
}
