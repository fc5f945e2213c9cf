//! What a routing decision is made from: the order, the candidate locations
//! and a snapshot of the stock positions it may draw on.
//!
//! The caller (the store, inside its transaction) builds this once; the
//! engine only reads it. Everything is plain data so a decision can be
//! replayed from a recorded input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelName, LocationCode, Sku};
use crate::location::{Location, LocationKind};
use crate::money::Money;
use crate::order::ServiceLevel;
use crate::stock::Position;

/// One order line as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingLine {
    pub sku: Sku,
    /// Line units wanted; anything below zero counts as zero.
    pub quantity: i64,
    /// The stock-holding SKUs one line unit consumes (itself, or a bundle's
    /// components) with the count of each, as in `allocation::LineRequest`.
    pub units: Vec<(Sku, i64)>,
    /// Tags of the line's SKU (e.g. `high-volume`, `bestseller`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether unfilled units of this line may wait for a restock.
    #[serde(default)]
    pub may_backorder: bool,
}

/// Where the order goes. Coordinates are optional: without them distances are
/// estimated from postal code, region and country.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub country: String,
}

/// A location as routing sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingLocation {
    pub code: LocationCode,
    /// Display name for explanations ("Warehouse East").
    pub name: String,
    pub kind: LocationKind,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub country: String,
    pub can_ship: bool,
    pub can_pickup: bool,
    pub active: bool,
    /// Lower numbers first.
    pub priority: i32,
    /// Days before a dropship vendor (or any location) ships.
    #[serde(default)]
    pub lead_time_days: u32,
    /// Orders already routed here since the location's local midnight (the
    /// caller computes the reset; the engine compares with the capacity).
    #[serde(default)]
    pub orders_today: u32,
}

impl RoutingLocation {
    /// A stored location as routing sees it, with the orders already routed
    /// there today (the caller counts them in the location's time zone).
    /// Live traffic (the engine's `allocate::build_input`) and the simulator
    /// both build their candidates here, so they see locations alike.
    pub fn from_location(location: &Location, orders_today: u32) -> Self {
        RoutingLocation {
            code: location.code.clone(),
            name: location.name.clone(),
            kind: location.kind,
            lat: location.lat,
            lon: location.lon,
            postal_code: location.address.postal_code.clone(),
            region: location.address.region.clone(),
            country: location.address.country.clone(),
            can_ship: location.can_ship,
            can_pickup: location.can_pickup,
            active: location.active,
            priority: location.priority,
            lead_time_days: location.lead_time_days,
            orders_today,
        }
    }
}

/// Everything a routing decision needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingInput {
    pub lines: Vec<RoutingLine>,
    /// The order's value, compared with the policy's money thresholds. A
    /// threshold in another currency never matches (no FX in routing).
    pub order_value: Money,
    pub channel: ChannelName,
    pub service_level: ServiceLevel,
    pub ship_to: Destination,
    /// The store chosen for a pickup order.
    #[serde(default)]
    pub pickup_location: Option<LocationCode>,
    pub locations: Vec<RoutingLocation>,
    /// Tags of stock-holding SKUs that are not themselves a line's SKU
    /// (bundle components), so protection and SKU rules by tag see them.
    #[serde(default)]
    pub component_tags: BTreeMap<Sku, Vec<String>>,
    /// Positions of every stock-holding SKU the order touches, as read by the
    /// store. `Position::available()` (which honours safety stock) is the
    /// most the engine will ever plan at one (SKU, location).
    #[serde(with = "stock_as_list")]
    pub stock: BTreeMap<(Sku, LocationCode), Position>,
    /// Positions this order must not draw on: a location said it could not
    /// find the item (a rejected allocation). The explanation names them.
    #[serde(default)]
    pub avoid: Vec<(Sku, LocationCode)>,
}

/// JSON objects need string keys; the stock map travels as a list of
/// `{sku, location, position}` rows instead.
mod stock_as_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::ids::{LocationCode, Sku};
    use crate::stock::Position;

    #[derive(Serialize, Deserialize)]
    struct Row<S, L> {
        sku: S,
        location: L,
        #[serde(flatten)]
        position: Position,
    }

    pub fn serialize<S: Serializer>(
        stock: &BTreeMap<(Sku, LocationCode), Position>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(stock.iter().map(|((sku, location), position)| Row {
            sku,
            location,
            position: *position,
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<(Sku, LocationCode), Position>, D::Error> {
        let rows: Vec<Row<Sku, LocationCode>> = Vec::deserialize(deserializer)?;
        Ok(rows.into_iter().map(|row| ((row.sku, row.location), row.position)).collect())
    }
}
