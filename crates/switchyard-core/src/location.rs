//! Stock locations: a store's shelves, a warehouse, a dropship vendor.

use serde::{Deserialize, Serialize};

use crate::ids::LocationCode;
use crate::intake::{check_coordinates, IntakeError};
use crate::text::{checked, TextRule};

/// What kind of place holds the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Store,
    Warehouse,
    Dropship,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Warehouse => "warehouse",
            Self::Dropship => "dropship",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "store" => Some(Self::Store),
            "warehouse" => Some(Self::Warehouse),
            "dropship" => Some(Self::Dropship),
            _ => None,
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

/// A place that holds stock and may ship or hand over orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub code: LocationCode,
    pub name: String,
    pub kind: LocationKind,
    pub address: Address,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub can_ship: bool,
    pub can_pickup: bool,
    /// Lower numbers are tried first by allocation.
    pub priority: i32,
    pub active: bool,
    /// Days a dropship vendor (or slow location) needs before it ships.
    pub lead_time_days: u32,
    /// IANA time zone of the location (e.g. `America/Los_Angeles`), which
    /// decides when its day, and its capacity count, starts.
    pub timezone: String,
}

/// A location as an adapter received it, before any check.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationDraft {
    pub code: String,
    pub name: String,
    /// `store`, `warehouse` or `dropship`.
    pub kind: String,
    pub address: Address,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub can_ship: bool,
    pub can_pickup: bool,
    pub priority: i32,
    pub active: bool,
    pub lead_time_days: u32,
    /// Whether it names an IANA zone is checked where the zone database is
    /// (the store).
    pub timezone: String,
}

impl Location {
    /// Checks a location draft: code, kind, coordinates, name (required),
    /// address text and priority (0 or more).
    pub fn parse(d: LocationDraft) -> Result<Location, IntakeError> {
        let code = LocationCode::parse(&d.code)?;
        let kind = LocationKind::parse(&d.kind).ok_or(IntakeError::UnknownLocationKind(d.kind))?;
        check_coordinates(d.lat, d.lon)?;
        let name = checked("name", d.name, TextRule::NAME.required())?;
        if d.priority < 0 {
            return Err(IntakeError::NegativePriority);
        }
        let a = d.address;
        let address = Address {
            line1: checked("address.line1", a.line1, TextRule::ADDRESS)?,
            city: checked("address.city", a.city, TextRule::ADDRESS)?,
            region: checked("address.region", a.region, TextRule::ADDRESS)?,
            postal_code: checked("address.postal_code", a.postal_code, TextRule::ADDRESS)?,
            country: checked("address.country", a.country, TextRule::ADDRESS)?,
        };
        let timezone = checked("timezone", d.timezone, TextRule::ADDRESS)?;
        Ok(Location {
            code,
            name,
            kind,
            address,
            lat: d.lat,
            lon: d.lon,
            can_ship: d.can_ship,
            can_pickup: d.can_pickup,
            priority: d.priority,
            active: d.active,
            lead_time_days: d.lead_time_days,
            timezone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> LocationDraft {
        LocationDraft {
            code: "WH".into(),
            name: "Warehouse".into(),
            kind: "warehouse".into(),
            address: Address {
                line1: "1 Dock Rd".into(),
                city: "Reno".into(),
                region: "NV".into(),
                postal_code: "89501".into(),
                country: "US".into(),
            },
            lat: Some(39.5),
            lon: Some(-119.8),
            can_ship: true,
            can_pickup: false,
            priority: 1,
            active: true,
            lead_time_days: 0,
            timezone: "UTC".into(),
        }
    }

    #[test]
    fn a_location_draft_is_parsed() {
        let l = Location::parse(draft()).expect("valid");
        assert_eq!((l.code.as_str(), l.name.as_str(), l.kind), ("WH", "Warehouse", LocationKind::Warehouse));
    }

    #[test]
    fn location_rejections() {
        type Case = (&'static str, fn(&mut LocationDraft), &'static str, &'static str);
        let cases: &[Case] = &[
            (
                "bad code",
                |d| d.code = "W H".into(),
                "invalid_identifier",
                "location code may contain only letters, digits and . _ - : / # (found ' ')",
            ),
            ("unknown kind", |d| d.kind = "depot".into(), "invalid_body", "kind must be store, warehouse or dropship"),
            (
                "off the globe",
                |d| d.lat = Some(91.0),
                "invalid_coordinates",
                "lat must be within ±90 and lon within ±180",
            ),
            ("blank name", |d| d.name = " ".into(), "invalid_body", "name must not be empty"),
            (
                "nul in the name",
                |d| d.name = "Ware\u{0}house".into(),
                "invalid_body",
                "name must not contain control characters such as NUL (found U+0000)",
            ),
            ("long name", |d| d.name = "x".repeat(101), "invalid_body", "name is longer than 100 characters"),
            (
                "long city",
                |d| d.address.city = "x".repeat(201),
                "invalid_body",
                "address.city is longer than 200 characters",
            ),
            (
                "negative priority",
                |d| d.priority = -5,
                "invalid_body",
                "priority must be 0 or more (lower is tried first)",
            ),
        ];
        for &(name, edit, code, message) in cases {
            let mut d = draft();
            edit(&mut d);
            let e = Location::parse(d).expect_err(name);
            assert_eq!((e.code(), e.to_string().as_str()), (code, message), "{name}");
        }
    }
}
