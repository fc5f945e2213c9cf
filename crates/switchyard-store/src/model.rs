//! Read models the store returns to the engine, the server and the CLI.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub skus_created: usize,
    pub positions_set: usize,
}

/// A position with its keys, for exports and the inventory grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub sku: String,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub safety_stock: i64,
    pub available: i64,
}

/// Filters and cursor for listing orders (newest first).
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub limit: i64,
    /// The id of the last order of the previous page.
    pub cursor: Option<String>,
}

/// A page of orders; `next_cursor` is set when more may follow.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderPage {
    pub orders: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// Units of a line allocated to a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AllocationView {
    pub location: String,
    pub quantity: i64,
    pub shipped: i64,
    pub released: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LineView {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub allocations: Vec<AllocationView>,
    /// Units nothing could fill.
    pub backordered: i64,
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventView {
    pub at: String,
    pub kind: String,
    pub message: String,
}

/// Units that left a location for an order: a parcel, or a handover at
/// the counter (carrier `pickup` or `counter`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShipmentView {
    pub id: String,
    pub location: String,
    pub lines: Vec<ShipmentLineView>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    /// Where the customer follows the parcel (`http(s)://`), when given.
    pub tracking_url: Option<String>,
    pub shipped_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShipmentLineView {
    pub sku: String,
    pub quantity: i64,
}

/// Something about an order that needs a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExceptionView {
    pub id: String,
    /// The order it is about; null for an exception about a channel
    /// connection itself (stock levels it never accepted).
    pub order_id: Option<String>,
    /// The channel's order id, for people (null without an order).
    pub external_id: Option<String>,
    /// The order's channel, or the connection the exception is about.
    pub channel: Option<String>,
    /// `address_invalid`, `unroutable`, `backordered`, `pickup_unavailable`,
    /// `split_over_limit`, `payment_timeout`, `sync_failed`, `unknown_sku` or
    /// `return_out_of_policy`.
    pub kind: String,
    /// `low` .. `critical`; raised one step per escalation.
    pub severity: String,
    /// `ops`, `store` or `owner`.
    pub owner_role: String,
    /// `open`, `resolved` or `dismissed`.
    pub status: String,
    pub message: String,
    /// Escalations so far (0 while within the SLA).
    pub level: i64,
    pub sla_secs: i64,
    pub created_at: String,
    /// When it escalates next if nobody acts (open exceptions only).
    pub due_at: Option<String>,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
    pub note: Option<String>,
    /// The actions that make sense for it.
    pub actions: Vec<String>,
    /// Every action taken, oldest first (single exception reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<Vec<ExceptionLogView>>,
    #[serde(skip)]
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExceptionLogView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: String,
}

/// Filters for the exception queue (oldest first).
#[derive(Debug, Clone, Default)]
pub struct ExceptionFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub order_id: Option<String>,
    /// The connection: its own exceptions and its orders'.
    pub channel: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShipToView {
    pub name: String,
    pub line1: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

impl From<switchyard_core::ShipTo> for ShipToView {
    fn from(s: switchyard_core::ShipTo) -> Self {
        ShipToView {
            name: s.name,
            line1: s.line1,
            city: s.city,
            region: s.region,
            postal_code: s.postal_code,
            country: s.country,
            lat: s.lat,
            lon: s.lon,
        }
    }
}

/// The canonical order as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderView {
    pub id: String,
    pub channel: String,
    pub external_id: String,
    pub status: String,
    pub currency: String,
    /// Order total in minor units of `currency`.
    pub total: i64,
    pub payment: String,
    pub service_level: String,
    pub pickup_location: Option<String>,
    pub ship_to: ShipToView,
    pub lines: Vec<LineView>,
    pub exceptions: Vec<ExceptionView>,
    /// Shipments and counter handovers, oldest first (single-order reads;
    /// absent from list pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipments: Option<Vec<ShipmentView>>,
    /// The timeline; omitted in lists (fetch the order for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
    /// Every routing decision (and shadow decision) with its explanation;
    /// omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<Vec<DecisionView>>,
    /// When an unpaid order's reservation lapses.
    pub reservation_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrderView {
    pub fn allocated_units(&self) -> i64 {
        self.lines.iter().flat_map(|l| &l.allocations).map(|a| a.quantity).sum()
    }
    pub fn backordered_units(&self) -> i64 {
        self.lines.iter().map(|l| l.backordered).sum()
    }
}

/// What `audit` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    pub positions_checked: usize,
    pub reservations_checked: usize,
    pub ledger_entries: i64,
    pub drift: Vec<String>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}

/// Formats stored milliseconds as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> String {
    // Every stored time was made by the engine's clock; one chrono cannot
    // represent (±262,000 years) is shown as the raw number, not as 1970.
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| format!("{ms}ms"), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A saved routing policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PolicyRecord {
    pub version: i64,
    /// The policy text (TOML) as saved.
    pub body: String,
    pub note: String,
    pub created_by: String,
    pub created_at: String,
    pub active: bool,
    pub shadow: bool,
    pub activated_at: Option<String>,
}

/// A routing decision as recorded with its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DecisionView {
    /// The policy version used; `None` for the built-in default policy.
    pub policy_version: Option<i64>,
    /// A shadow decision was recorded only for comparison; it reserved nothing.
    pub shadow: bool,
    pub outcome: String,
    pub explanation: String,
    /// The structured trace (candidates, rules, scores, the chosen plan).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub trace: serde_json::Value,
    pub at: String,
}

/// An order's active decision beside the shadow policy's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowPair {
    pub order_id: String,
    pub external_id: String,
    pub active: DecisionView,
    pub shadow: DecisionView,
}

/// What the inventory page asks for: stocked SKUs (bundles hold no stock of
/// their own and are left out) in byte order of their code, after a cursor.
#[derive(Debug, Clone, Default)]
pub struct StockSearch {
    pub filter: StockFilter,
    /// The last SKU of the previous page (keyset pagination).
    pub after: Option<String>,
    pub limit: i64,
}

/// Which SKUs a [`StockSearch`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StockFilter {
    #[default]
    All,
    /// Codes starting with it (case-sensitive, as codes are): a range of
    /// the index, as fast as the plain list.
    CodePrefix(String),
    /// Titles containing it, ignoring ASCII case: checked row by row as the
    /// index is walked, until the page is full or the SKUs run out.
    TitleContains(String),
}

/// A page of the inventory: each SKU with its positions.
#[derive(Debug, Clone, Default)]
pub struct StockPage {
    pub skus: Vec<StockSkuRow>,
    /// The cursor of the next page, when one may follow.
    pub next_after: Option<String>,
}

/// A SKU and its positions, by location.
#[derive(Debug, Clone)]
pub struct StockSkuRow {
    pub sku: String,
    pub title: String,
    pub positions: Vec<StockRow>,
}
