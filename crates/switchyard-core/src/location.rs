//! Stock locations: a store's shelves, a warehouse, a dropship vendor.

use serde::{Deserialize, Serialize};

use crate::ids::LocationCode;

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
