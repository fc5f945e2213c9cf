//! The JSON API under `/api/v1`: DTOs, parsing into core types, handlers,
//! and the OpenAPI document generated from them.

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchyard_core::intake::{LineDraft, OrderDraft, ResolutionDraft, ShipmentDraft};
use switchyard_core::routing::Policy;
use switchyard_core::{
    Address, ChannelName, Component, Location, LocationCode, LocationKind, Quantity, ShipTo, Sku, SkuDef,
};
use switchyard_core::{NewOrder, NewShipment, Resolution};
use switchyard_store::{
    AllocationView, DecisionView, EventView, ExceptionFilter, ExceptionLogView, ExceptionView, LineView, OrderFilter,
    OrderPage, OrderView, PolicyRecord, ShipToView,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ErrorBody, ErrorDetail};
use crate::{auth, ApiError, AppState};
use switchyard_engine::Code;

/// `Json<T>` whose rejections are [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Order orchestration for small multichannel retailers."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(
        ErrorBody, ErrorDetail, AllocationView, EventView, ExceptionView, ExceptionLogView, LineView, ShipToView
    ))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(put_location))
        .routes(routes!(list_locations))
        .routes(routes!(put_channel))
        .routes(routes!(list_channels))
        .routes(routes!(put_sku, get_sku))
        .routes(routes!(put_inventory))
        .routes(routes!(get_inventory))
        .routes(routes!(adjust_inventory))
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(pay_order))
        .routes(routes!(ship_order))
        .routes(routes!(reroute_order))
        .routes(routes!(reject_allocation))
        .routes(routes!(validate_policy))
        .routes(routes!(save_policy, list_policies))
        .routes(routes!(get_policy))
        .routes(routes!(activate_policy))
        .routes(routes!(rollback_policy))
        .routes(routes!(active_policy))
        .routes(routes!(set_shadow))
        .routes(routes!(preview_route))
        .routes(routes!(preview_recent))
        .routes(routes!(shadow_report))
        .routes(routes!(list_exceptions))
        .routes(routes!(get_exception))
        .routes(routes!(resolve_exception))
}

/// The OpenAPI 3 document of the whole API, generated from the handlers.
/// Paths are relative to the server URL `/api/v1`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

pub fn routes(state: AppState) -> Router {
    let (api, _) = api_router().split_for_parts();
    let doc = openapi_document();
    let api = api
        .route("/openapi.json", get(move || async move { Json(doc) }))
        .fallback(|| async { ApiError::not_found("no such API route") })
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_bearer))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.body_limit_bytes));
    Router::new().nest("/api/v1", api).route("/healthz", get(healthz)).with_state(state)
}

async fn healthz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    app.engine.ping().await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        ApiError::new(Code::Unavailable, "database is not answering")
    })?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

// ---------------------------------------------------------------- locations

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub line1: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct LocationBody {
    pub name: String,
    /// `store`, `warehouse` or `dropship`.
    pub kind: String,
    pub address: AddressBody,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(default = "yes")]
    pub can_ship: bool,
    #[serde(default)]
    pub can_pickup: bool,
    /// Lower numbers are tried first.
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "yes")]
    pub active: bool,
    /// Days before a dropship vendor ships.
    #[serde(default)]
    pub lead_time_days: u32,
    /// IANA time zone; its midnight resets the daily capacity (default UTC).
    #[serde(default = "utc")]
    pub timezone: String,
}

fn yes() -> bool {
    true
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub code: String,
    #[serde(flatten)]
    pub body: LocationBody,
}

fn location_view(l: Location) -> LocationView {
    LocationView {
        code: l.code.to_string(),
        body: LocationBody {
            name: l.name,
            kind: l.kind.as_str().into(),
            address: AddressBody {
                line1: l.address.line1,
                city: l.address.city,
                region: l.address.region,
                postal_code: l.address.postal_code,
                country: l.address.country,
            },
            lat: l.lat,
            lon: l.lon,
            can_ship: l.can_ship,
            can_pickup: l.can_pickup,
            priority: l.priority,
            active: l.active,
            lead_time_days: l.lead_time_days,
            timezone: l.timezone,
        },
    }
}

fn check_coordinates(lat: Option<f64>, lon: Option<f64>) -> Result<(), ApiError> {
    Ok(switchyard_core::intake::check_coordinates(lat, lon)?)
}

/// Create or replace a location.
#[utoipa::path(put, path = "/locations/{code}", tag = "locations",
    params(("code" = String, Path, description = "Location code")),
    request_body = LocationBody,
    responses((status = 200, body = LocationView), (status = 422, body = ErrorBody)))]
async fn put_location(
    State(app): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<LocationBody>,
) -> Result<Json<LocationView>, ApiError> {
    let code = LocationCode::parse(&code)?;
    let kind = LocationKind::parse(&body.kind)
        .ok_or_else(|| ApiError::new(Code::InvalidBody, "kind must be store, warehouse or dropship"))?;
    check_coordinates(body.lat, body.lon)?;
    if !switchyard_store::is_timezone(&body.timezone) {
        return Err(ApiError::new(Code::InvalidBody, format!("timezone {:?} is not an IANA time zone", body.timezone)));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::new(Code::InvalidBody, "name must not be empty"));
    }
    let location = Location {
        code,
        name: body.name,
        kind,
        address: Address {
            line1: body.address.line1,
            city: body.address.city,
            region: body.address.region,
            postal_code: body.address.postal_code,
            country: body.address.country,
        },
        lat: body.lat,
        lon: body.lon,
        can_ship: body.can_ship,
        can_pickup: body.can_pickup,
        priority: body.priority,
        active: body.active,
        lead_time_days: body.lead_time_days,
        timezone: body.timezone,
    };
    app.engine.put_location(&location).await?;
    Ok(Json(location_view(location)))
}

/// List locations in priority order.
#[utoipa::path(get, path = "/locations", tag = "locations", responses((status = 200, body = Vec<LocationView>)))]
async fn list_locations(State(app): State<AppState>) -> Result<Json<Vec<LocationView>>, ApiError> {
    Ok(Json(app.engine.list_locations().await?.into_iter().map(location_view).collect()))
}

// ----------------------------------------------------------------- channels

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    pub display_name: Option<String>,
    /// Settings as string pairs, e.g. {"atp_buffer": "2"}.
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    pub name: String,
    pub display_name: String,
    pub settings: std::collections::BTreeMap<String, String>,
    pub active: bool,
}

fn channel_view(c: switchyard_core::Channel) -> ChannelView {
    ChannelView { name: c.name.to_string(), display_name: c.display_name, settings: c.settings, active: c.active }
}

/// Create or replace a channel's settings.
#[utoipa::path(put, path = "/channels/{name}", tag = "channels",
    params(("name" = String, Path)), request_body = ChannelBody,
    responses((status = 200, body = ChannelView), (status = 422, body = ErrorBody)))]
async fn put_channel(
    State(app): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<ChannelBody>,
) -> Result<Json<ChannelView>, ApiError> {
    let name = ChannelName::parse(&name)?;
    if body.settings.len() > 100 {
        return Err(ApiError::new(Code::InvalidBody, "at most 100 settings"));
    }
    let channel = switchyard_core::Channel {
        display_name: body.display_name.unwrap_or_else(|| name.to_string()),
        name,
        settings: body.settings,
        active: body.active,
    };
    app.engine.put_channel(&channel).await?;
    Ok(Json(channel_view(channel)))
}

/// List channels, configured or registered by their first order.
#[utoipa::path(get, path = "/channels", tag = "channels", responses((status = 200, body = Vec<ChannelView>)))]
async fn list_channels(State(app): State<AppState>) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(app.engine.list_channels().await?.into_iter().map(channel_view).collect()))
}

// --------------------------------------------------------------------- skus

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentBody {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuBody {
    pub title: String,
    /// With components, the SKU is a bundle that reserves them.
    #[serde(default)]
    pub components: Option<Vec<ComponentBody>>,
    /// Labels routing rules refer to, e.g. `["high-volume"]`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether orders may wait for it when nothing can fill them (default true).
    #[serde(default = "yes")]
    pub allow_backorder: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuView {
    pub sku: String,
    pub title: String,
    pub components: Vec<ComponentBody>,
    pub tags: Vec<String>,
    pub allow_backorder: bool,
}

fn sku_view(d: SkuDef) -> SkuView {
    SkuView {
        sku: d.sku.to_string(),
        title: d.title,
        components: d
            .components
            .into_iter()
            .map(|c| ComponentBody { sku: c.sku.to_string(), quantity: c.quantity.as_i64() })
            .collect(),
        tags: d.tags,
        allow_backorder: d.allow_backorder,
    }
}

/// Create or replace a SKU (a bundle when it has components).
#[utoipa::path(put, path = "/skus/{sku}", tag = "skus",
    params(("sku" = String, Path)), request_body = SkuBody,
    responses((status = 200, body = SkuView), (status = 422, body = ErrorBody)))]
async fn put_sku(
    State(app): State<AppState>,
    ApiPath(sku): ApiPath<String>,
    ApiJson(body): ApiJson<SkuBody>,
) -> Result<Json<SkuView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    let mut components = Vec::new();
    for c in body.components.unwrap_or_default() {
        let component = Component { sku: Sku::parse(&c.sku)?, quantity: Quantity::new(c.quantity)? };
        if components.iter().any(|x: &Component| x.sku == component.sku) {
            return Err(ApiError::new(Code::InvalidBody, format!("component {} is listed twice", component.sku)));
        }
        components.push(component);
    }
    let mut tags: Vec<String> = Vec::new();
    for t in body.tags {
        let t = t.trim().to_owned();
        if t.is_empty() || t.len() > 40 || !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ApiError::new(Code::InvalidBody, format!("tag {t:?} must be 1–40 letters, digits, - _ or .")));
        }
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > 20 {
        return Err(ApiError::new(Code::InvalidBody, "at most 20 tags"));
    }
    let def = SkuDef { sku, title: body.title, components, tags, allow_backorder: body.allow_backorder };
    app.engine.put_sku(&def).await?;
    Ok(Json(sku_view(def)))
}

/// Get a SKU.
#[utoipa::path(get, path = "/skus/{sku}", tag = "skus", params(("sku" = String, Path)),
    responses((status = 200, body = SkuView), (status = 404, body = ErrorBody)))]
async fn get_sku(State(app): State<AppState>, ApiPath(sku): ApiPath<String>) -> Result<Json<SkuView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    let def = app.engine.get_sku(&sku).await?.ok_or_else(|| ApiError::not_found(format!("sku {sku} not found")))?;
    Ok(Json(sku_view(def)))
}

// ---------------------------------------------------------------- inventory

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStockBody {
    /// The counted units on hand.
    pub on_hand: i64,
    /// Units never promised to orders.
    pub safety_stock: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustBody {
    /// Signed change to on_hand.
    pub delta: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionView {
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub safety_stock: i64,
    pub available: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InventoryView {
    pub sku: String,
    /// Sum of `available` over every location.
    pub available: i64,
    pub locations: Vec<PositionView>,
}

async fn inventory_view(app: &AppState, sku: &Sku) -> Result<InventoryView, ApiError> {
    let positions = app.engine.sku_positions(sku).await?;
    let locations: Vec<PositionView> = positions
        .into_iter()
        .map(|(l, p)| PositionView {
            location: l.to_string(),
            on_hand: p.on_hand,
            reserved: p.reserved,
            safety_stock: p.safety_stock,
            available: p.available(),
        })
        .collect();
    Ok(InventoryView { sku: sku.to_string(), available: locations.iter().map(|l| l.available).sum(), locations })
}

/// Set the counted stock of a SKU at a location (a cycle count).
#[utoipa::path(put, path = "/inventory/{sku}/{location}", tag = "inventory",
    params(("sku" = String, Path), ("location" = String, Path)), request_body = SetStockBody,
    responses(
        (status = 200, body = InventoryView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
async fn put_inventory(
    State(app): State<AppState>,
    ApiPath((sku, location)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetStockBody>,
) -> Result<Json<InventoryView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    let location = LocationCode::parse(&location)?;
    let reason = body.reason.unwrap_or_else(|| "cycle count".into());
    app.engine.set_stock(&sku, &location, body.on_hand, body.safety_stock, &reason).await?;
    Ok(Json(inventory_view(&app, &sku).await?))
}

/// Adjust on_hand by a signed delta, with a reason.
#[utoipa::path(post, path = "/inventory/{sku}/{location}/adjust", tag = "inventory",
    params(("sku" = String, Path), ("location" = String, Path)), request_body = AdjustBody,
    responses(
        (status = 200, body = InventoryView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
async fn adjust_inventory(
    State(app): State<AppState>,
    ApiPath((sku, location)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<AdjustBody>,
) -> Result<Json<InventoryView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    let location = LocationCode::parse(&location)?;
    if body.delta == 0 {
        return Err(ApiError::new(Code::InvalidQuantity, "delta must not be zero"));
    }
    if body.reason.trim().is_empty() {
        return Err(ApiError::new(Code::InvalidBody, "reason must not be empty"));
    }
    app.engine.adjust_stock(&sku, &location, body.delta, &body.reason).await?;
    Ok(Json(inventory_view(&app, &sku).await?))
}

/// Stock of a SKU at every location.
#[utoipa::path(get, path = "/inventory/{sku}", tag = "inventory", params(("sku" = String, Path)),
    responses((status = 200, body = InventoryView), (status = 404, body = ErrorBody)))]
async fn get_inventory(
    State(app): State<AppState>,
    ApiPath(sku): ApiPath<String>,
) -> Result<Json<InventoryView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    if app.engine.get_sku(&sku).await?.is_none() {
        return Err(ApiError::not_found(format!("sku {sku} not found")));
    }
    Ok(Json(inventory_view(&app, &sku).await?))
}

// ------------------------------------------------------------------- orders

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineBody {
    pub sku: String,
    pub quantity: i64,
    /// Minor units of the order's currency.
    pub unit_price: i64,
    /// Optional; must equal the order's currency when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipToBody {
    pub name: String,
    pub line1: String,
    pub city: String,
    #[serde(default)]
    pub region: String,
    pub postal_code: String,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderBody {
    pub channel: String,
    pub external_id: String,
    /// ISO 4217 code of every price on the order.
    pub currency: String,
    pub lines: Vec<OrderLineBody>,
    pub ship_to: ShipToBody,
    /// `standard` (default), `expedited`, `same_day` or `pickup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_location: Option<String>,
    /// `paid` (default) or `pending`: a pending order holds its stock for the
    /// reservation TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
}

/// Parses an order body into a validated [`NewOrder`] (the core's intake
/// rules; the server only moves fields).
pub fn parse_order(body: CreateOrderBody) -> Result<NewOrder, ApiError> {
    let draft = OrderDraft {
        channel: body.channel,
        external_id: body.external_id,
        currency: body.currency,
        lines: body
            .lines
            .into_iter()
            .map(|l| LineDraft { sku: l.sku, quantity: l.quantity, unit_price: l.unit_price, currency: l.currency })
            .collect(),
        ship_to: ship_to(body.ship_to),
        service_level: body.service_level,
        pickup_location: body.pickup_location,
        payment: body.payment,
    };
    Ok(NewOrder::parse(draft)?)
}

/// Take an order: allocate and reserve at once. Idempotent by
/// (channel, external_id): a repeat returns the same order with 200.
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = CreateOrderBody,
    responses((status = 201, body = OrderView, description = "Created"),
              (status = 200, body = OrderView, description = "Seen before: the same order"),
              (status = 422, body = ErrorBody)))]
async fn create_order(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<CreateOrderBody>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let order = parse_order(body)?;
    let (view, created) = app.engine.create_order(&order).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only orders in this status.
    pub status: Option<String>,
    /// Only orders from this channel.
    pub channel: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List orders, newest first, with filters and cursor pagination.
#[utoipa::path(get, path = "/orders", tag = "orders", params(ListParams),
    responses((status = 200, body = OrderPage), (status = 422, body = ErrorBody)))]
async fn list_orders(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<OrderPage>, ApiError> {
    if let Some(s) = &p.status {
        if switchyard_core::OrderStatus::parse(s).is_none() {
            return Err(ApiError::new(Code::InvalidQuery, format!("unknown status {s:?}")));
        }
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be between 1 and 500"));
    }
    let filter = OrderFilter { status: p.status, channel: p.channel, limit, cursor: p.cursor };
    Ok(Json(app.engine.list_orders(&filter).await?))
}

/// Get an order with its allocations and timeline.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
async fn get_order(State(app): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<OrderView>, ApiError> {
    let order = app.engine.get_order(&id).await?.ok_or_else(|| ApiError::not_found(format!("order {id} not found")))?;
    Ok(Json(order))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// Cancel an order; its reservations are released.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", params(("id" = String, Path)),
    request_body(content = Option<CancelBody>),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_order(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<OrderView>, ApiError> {
    let body: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(Code::InvalidJson, e.to_string()))?
    };
    Ok(Json(app.engine.cancel_order(&id, body.reason.as_deref().unwrap_or("")).await?))
}

/// Mark a pending order paid.
#[utoipa::path(post, path = "/orders/{id}/payment", tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn pay_order(State(app): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(app.engine.mark_paid(&id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentLineBody {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentBody {
    pub location: String,
    pub lines: Vec<ShipmentLineBody>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
}

/// Record a shipment from one location; it consumes the reserved units.
#[utoipa::path(post, path = "/orders/{id}/shipments", tag = "orders", params(("id" = String, Path)),
    request_body = ShipmentBody,
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ship_order(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ShipmentBody>,
) -> Result<Json<OrderView>, ApiError> {
    let shipment = NewShipment::parse(ShipmentDraft {
        location: body.location,
        lines: body.lines.into_iter().map(|l| (l.sku, l.quantity)).collect(),
        carrier: body.carrier,
        tracking: body.tracking,
    })?;
    Ok(Json(app.engine.ship(&id, &shipment).await?))
}

// --------------------------------------------------------------- exceptions

/// An exception with its age.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionItem {
    #[serde(flatten)]
    pub exception: ExceptionView,
    /// Seconds since it was opened.
    pub age_secs: i64,
}

impl ExceptionItem {
    pub fn new(exception: ExceptionView, now_ms: i64) -> Self {
        let age_secs = (now_ms - exception.created_ms).max(0) / 1000;
        Self { exception, age_secs }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionList {
    pub exceptions: Vec<ExceptionItem>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionParams {
    /// `open` (default), `resolved`, `dismissed` or `all`.
    pub status: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this order's.
    pub order_id: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<i64>,
}

/// The exception queue, oldest first.
#[utoipa::path(get, path = "/exceptions", tag = "exceptions", params(ExceptionParams),
    responses((status = 200, body = ExceptionList), (status = 422, body = ErrorBody)))]
async fn list_exceptions(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<ExceptionParams>,
) -> Result<Json<ExceptionList>, ApiError> {
    let status = match p.status.as_deref() {
        None => Some("open".to_owned()),
        Some("all") => None,
        Some(s) if switchyard_core::ExceptionStatus::parse(s).is_some() => Some(s.to_owned()),
        Some(s) => return Err(ApiError::new(Code::InvalidQuery, format!("unknown exception status {s:?}"))),
    };
    if let Some(k) = &p.kind {
        if switchyard_core::ExceptionKind::parse(k).is_none() {
            return Err(ApiError::new(Code::InvalidQuery, format!("unknown exception kind {k:?}")));
        }
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be between 1 and 500"));
    }
    let filter = ExceptionFilter { status, kind: p.kind, order_id: p.order_id, limit };
    let now = app.engine.now_ms();
    let exceptions =
        app.engine.list_exceptions(&filter).await?.into_iter().map(|e| ExceptionItem::new(e, now)).collect();
    Ok(Json(ExceptionList { exceptions }))
}

/// One exception with its action log.
#[utoipa::path(get, path = "/exceptions/{id}", tag = "exceptions", params(("id" = String, Path)),
    responses((status = 200, body = ExceptionItem), (status = 404, body = ErrorBody)))]
async fn get_exception(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ExceptionItem>, ApiError> {
    let e =
        app.engine.get_exception(&id).await?.ok_or_else(|| ApiError::not_found(format!("exception {id} not found")))?;
    Ok(Json(ExceptionItem::new(e, app.engine.now_ms())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `retry`, `override_location`, `approve_split`, `edit_address`,
    /// `cancel` or `dismiss`.
    pub action: String,
    /// Who acts (a name or role); logged.
    pub by: String,
    /// Why; required to dismiss.
    #[serde(default)]
    pub reason: String,
    /// The corrected address, for `edit_address`.
    pub address: Option<ShipToBody>,
    /// The location to allocate from, for `override_location`.
    pub location: Option<String>,
}

fn ship_to(s: ShipToBody) -> ShipTo {
    ShipTo {
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

/// Act on an exception: retry allocation, allocate from a named location,
/// correct the address, cancel the order (with a notification), or dismiss
/// with a reason. Every action is logged with who and why.
#[utoipa::path(post, path = "/exceptions/{id}/resolve", tag = "exceptions", params(("id" = String, Path)),
    request_body = ResolveBody,
    responses((status = 200, body = ExceptionItem), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn resolve_exception(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> Result<Json<ExceptionItem>, ApiError> {
    let resolution = parse_resolution(body)?;
    let e = app.engine.resolve_exception(&id, &resolution).await?;
    Ok(Json(ExceptionItem::new(e, app.engine.now_ms())))
}

/// Parses a resolve request (shared with the dashboard's forms).
pub fn parse_resolution(body: ResolveBody) -> Result<Resolution, ApiError> {
    Ok(Resolution::parse(ResolutionDraft {
        action: body.action,
        by: body.by,
        reason: body.reason,
        address: body.address.map(ship_to),
        location: body.location,
    })?)
}

// ------------------------------------------------------------------ routing

/// A routing policy, as TOML text or as the same structure in JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// The policy as TOML (see the routing module docs for the format).
    pub toml: Option<String>,
    /// The policy as JSON.
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    #[serde(default)]
    pub note: String,
    /// Who saves it; logged.
    #[serde(default)]
    pub by: String,
}

/// The largest policy text accepted.
const MAX_POLICY_BYTES: usize = 256 * 1024;

/// Parses and checks a policy body; returns it with its TOML text.
pub fn parse_policy(toml: Option<String>, json: Option<serde_json::Value>) -> Result<(Policy, String), ApiError> {
    match (toml, json) {
        (Some(text), None) => {
            if text.len() > MAX_POLICY_BYTES {
                return Err(ApiError::new(Code::InvalidPolicy, "the policy is larger than 256 KiB"));
            }
            let policy = Policy::from_toml(&text)?;
            Ok((policy, text))
        }
        (None, Some(value)) => {
            let policy: Policy = serde_json::from_value(value)
                .map_err(|e| ApiError::new(Code::InvalidPolicy, format!("the routing policy is not valid: {e}")))?;
            policy.check()?;
            let text = policy.to_toml().map_err(|e| {
                ApiError::new(Code::InvalidPolicy, format!("the policy cannot be written as TOML: {e}"))
            })?;
            Ok((policy, text))
        }
        _ => Err(ApiError::new(Code::InvalidBody, "give the policy as exactly one of `toml` or `policy`")),
    }
}

/// The locations and SKU tags a policy may refer to.
pub(crate) async fn known_references(app: &AppState) -> Result<(Vec<LocationCode>, Vec<String>), ApiError> {
    let locations = app.engine.list_locations().await?.into_iter().map(|l| l.code).collect();
    let mut tags: Vec<String> = app.engine.list_skus().await?.into_iter().flat_map(|s| s.tags).collect();
    tags.sort();
    tags.dedup();
    Ok((locations, tags))
}

/// Validates a policy completely (structure and references), with the TOML
/// line of every error.
async fn validate_fully(app: &AppState, policy: &Policy, text: &str) -> Result<(), ApiError> {
    let (locations, tags) = known_references(app).await?;
    policy.validate(&locations, &tags).map_err(|e| ApiError::from(e.with_lines_from(text)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    #[serde(flatten)]
    pub record: PolicyRecord,
    /// The parsed policy as JSON.
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

fn policy_view(record: PolicyRecord) -> PolicyView {
    let policy = Policy::from_toml(&record.body)
        .ok()
        .and_then(|p| serde_json::to_value(p).ok())
        .unwrap_or(serde_json::Value::Null);
    PolicyView { record, policy }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationView {
    pub valid: bool,
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

/// Check a policy without saving it. Errors name the line and field.
#[utoipa::path(post, path = "/routing/policies/validate", tag = "routing", request_body = PolicyBody,
    responses((status = 200, body = ValidationView), (status = 422, body = ErrorBody)))]
async fn validate_policy(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<ValidationView>, ApiError> {
    let (policy, text) = parse_policy(body.toml, body.policy)?;
    validate_fully(&app, &policy, &text).await?;
    let policy = serde_json::to_value(&policy).unwrap_or_default();
    Ok(Json(ValidationView { valid: true, policy }))
}

/// Save a new policy version (validated; not active until activated).
#[utoipa::path(post, path = "/routing/policies", tag = "routing", request_body = PolicyBody,
    responses((status = 201, body = PolicyView), (status = 422, body = ErrorBody)))]
async fn save_policy(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<(StatusCode, Json<PolicyView>), ApiError> {
    let by = actor(&body.by)?;
    let (policy, text) = parse_policy(body.toml, body.policy)?;
    validate_fully(&app, &policy, &text).await?;
    let record = app.engine.save_policy(&text, &body.note, &by).await?;
    Ok((StatusCode::CREATED, Json(policy_view(record))))
}

fn actor(by: &str) -> Result<String, ApiError> {
    let by = by.trim();
    if by.len() > 100 {
        return Err(ApiError::new(Code::InvalidBody, "by is longer than 100 characters"));
    }
    Ok(if by.is_empty() { "api".to_owned() } else { by.to_owned() })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicyRecord>,
}

/// Saved policy versions, newest first.
#[utoipa::path(get, path = "/routing/policies", tag = "routing", responses((status = 200, body = PolicyList)))]
async fn list_policies(State(app): State<AppState>) -> Result<Json<PolicyList>, ApiError> {
    Ok(Json(PolicyList { policies: app.engine.list_policies(100).await? }))
}

/// One saved policy version.
#[utoipa::path(get, path = "/routing/policies/{version}", tag = "routing", params(("version" = i64, Path)),
    responses((status = 200, body = PolicyView), (status = 404, body = ErrorBody)))]
async fn get_policy(State(app): State<AppState>, ApiPath(version): ApiPath<i64>) -> Result<Json<PolicyView>, ApiError> {
    let record = app
        .engine
        .get_policy(version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("policy version {version} not found")))?;
    Ok(Json(policy_view(record)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActorBody {
    #[serde(default)]
    pub by: String,
}

fn actor_body(bytes: &axum::body::Bytes) -> Result<ActorBody, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActorBody::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::new(Code::InvalidJson, e.to_string()))
}

/// Make a saved version the active policy. It is validated again against
/// today's locations and tags: an invalid policy never becomes active.
#[utoipa::path(post, path = "/routing/policies/{version}/activate", tag = "routing", params(("version" = i64, Path)),
    request_body(content = Option<ActorBody>),
    responses((status = 200, body = PolicyView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn activate_policy(
    State(app): State<AppState>,
    ApiPath(version): ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<Json<PolicyView>, ApiError> {
    let by = actor(&actor_body(&body)?.by)?;
    let record = app
        .engine
        .get_policy(version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("policy version {version} not found")))?;
    let (policy, text) = parse_policy(Some(record.body.clone()), None)?;
    validate_fully(&app, &policy, &text).await?;
    let record = app.engine.activate_policy(version, &by).await?;
    Ok(Json(policy_view(record)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivePolicyView {
    /// The active version; `null` when the built-in default applies.
    pub version: Option<i64>,
    /// The policy in force, as TOML.
    pub toml: String,
    /// The version running in shadow, if any.
    pub shadow_version: Option<i64>,
}

async fn active_view(app: &AppState) -> Result<ActivePolicyView, ApiError> {
    let shadow_version = app.engine.shadow_policy().await?.map(|p| p.version);
    Ok(match app.engine.active_policy().await? {
        Some(p) => ActivePolicyView { version: Some(p.version), toml: p.body, shadow_version },
        None => {
            ActivePolicyView { version: None, toml: Policy::default().to_toml().unwrap_or_default(), shadow_version }
        }
    })
}

/// Go back to the previously active policy (or the built-in default).
#[utoipa::path(post, path = "/routing/rollback", tag = "routing", request_body(content = Option<ActorBody>),
    responses((status = 200, body = ActivePolicyView), (status = 409, body = ErrorBody)))]
async fn rollback_policy(
    State(app): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<ActivePolicyView>, ApiError> {
    let by = actor(&actor_body(&body)?.by)?;
    app.engine.rollback_policy(&by).await?;
    Ok(Json(active_view(&app).await?))
}

/// The policy in force.
#[utoipa::path(get, path = "/routing/policy", tag = "routing", responses((status = 200, body = ActivePolicyView)))]
async fn active_policy(State(app): State<AppState>) -> Result<Json<ActivePolicyView>, ApiError> {
    Ok(Json(active_view(&app).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowBody {
    /// The version to run in shadow; `null` stops shadowing.
    pub version: Option<i64>,
    #[serde(default)]
    pub by: String,
}

/// Run a saved version in shadow beside the active one (every order gets
/// both decisions recorded; only the active one reserves), or stop.
#[utoipa::path(post, path = "/routing/shadow", tag = "routing", request_body = ShadowBody,
    responses(
        (status = 200, body = ActivePolicyView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
async fn set_shadow(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<ShadowBody>,
) -> Result<Json<ActivePolicyView>, ApiError> {
    let by = actor(&body.by)?;
    if let Some(v) = body.version {
        let record = app
            .engine
            .get_policy(v)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("policy version {v} not found")))?;
        let (policy, text) = parse_policy(Some(record.body), None)?;
        validate_fully(&app, &policy, &text).await?;
    }
    app.engine.set_shadow_policy(body.version, &by).await?;
    Ok(Json(active_view(&app).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub order: CreateOrderBody,
    /// A draft policy as TOML; without one (or `policy`) the active policy.
    pub toml: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
}

/// The decision and its explanation for an order, without reserving
/// anything; with a draft policy or the active one.
#[utoipa::path(post, path = "/routing/preview", tag = "routing", request_body = PreviewBody,
    responses((status = 200, body = DecisionView), (status = 422, body = ErrorBody)))]
async fn preview_route(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PreviewBody>,
) -> Result<Json<DecisionView>, ApiError> {
    let order = parse_order(body.order)?;
    let draft = if body.toml.is_some() || body.policy.is_some() {
        let (policy, text) = parse_policy(body.toml, body.policy)?;
        validate_fully(&app, &policy, &text).await?;
        Some(policy)
    } else {
        None
    };
    Ok(Json(app.engine.preview_route(&order, draft.as_ref()).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerouteBody {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub by: String,
}

/// Release the order's unshipped units and route them again with the
/// active policy (one transaction; an event on the timeline).
#[utoipa::path(post, path = "/orders/{id}/reroute", tag = "orders", params(("id" = String, Path)),
    request_body(content = Option<RerouteBody>),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reroute_order(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<OrderView>, ApiError> {
    let body: RerouteBody = if body.iter().all(u8::is_ascii_whitespace) {
        RerouteBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(Code::InvalidJson, e.to_string()))?
    };
    let by = actor(&body.by)?;
    Ok(Json(app.engine.reroute(&id, None, &by, body.reason.trim()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// The location that cannot fill the line.
    pub location: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub by: String,
}

/// A location reports it cannot find line `n`'s item: its units there are
/// released, its count corrected, and the line re-routed elsewhere.
#[utoipa::path(post, path = "/orders/{id}/allocations/{n}/reject", tag = "orders",
    params(("id" = String, Path), ("n" = i64, Path, description = "Line number, from 1")),
    request_body = RejectBody,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn reject_allocation(
    State(app): State<AppState>,
    ApiPath((id, n)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<OrderView>, ApiError> {
    let location = LocationCode::parse(&body.location)?;
    if n < 1 {
        return Err(ApiError::new(Code::InvalidPath, "line numbers start at 1"));
    }
    let by = actor(&body.by)?;
    Ok(Json(app.engine.reroute(&id, Some((n, &location)), &by, body.reason.trim()).await?))
}

/// How the shadow policy's decisions differ from the active ones, over the
/// latest orders that got both.
#[utoipa::path(get, path = "/routing/shadow/report", tag = "routing",
    params(("limit" = Option<i64>, Query, description = "Orders, 1–500 (default 100)")),
    responses((status = 200, body = crate::compare::ComparisonReport)))]
async fn shadow_report(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<LimitParams>,
) -> Result<Json<crate::compare::ComparisonReport>, ApiError> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be between 1 and 500"));
    }
    let pairs = app.engine.shadow_pairs(limit).await?;
    let orders = pairs
        .into_iter()
        .map(|p| {
            crate::compare::compare(p.order_id, p.external_id, &p.active.trace, &p.shadow.trace, p.shadow.explanation)
        })
        .collect();
    Ok(Json(crate::compare::report(orders)))
}

#[derive(Debug, Deserialize)]
pub struct LimitParams {
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRecentBody {
    pub toml: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    /// How many of the latest orders (default 50, at most 200).
    pub limit: Option<i64>,
}

/// Run a draft policy over the latest orders (against today's stock,
/// reserving nothing) and compare with the decisions they got.
#[utoipa::path(post, path = "/routing/preview/recent", tag = "routing", request_body = PreviewRecentBody,
    responses((status = 200, body = crate::compare::ComparisonReport), (status = 422, body = ErrorBody)))]
async fn preview_recent(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<PreviewRecentBody>,
) -> Result<Json<crate::compare::ComparisonReport>, ApiError> {
    let limit = body.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(Code::InvalidBody, "limit must be between 1 and 200"));
    }
    let (policy, text) = parse_policy(body.toml, body.policy)?;
    validate_fully(&app, &policy, &text).await?;
    Ok(Json(preview_on_recent(&app, &policy, limit).await?))
}

/// The comparison behind `preview_recent` (shared with the Rules page).
pub async fn preview_on_recent(
    app: &AppState,
    policy: &Policy,
    limit: i64,
) -> Result<crate::compare::ComparisonReport, ApiError> {
    let page = app.engine.list_orders(&OrderFilter { limit, ..OrderFilter::default() }).await?;
    let mut orders = Vec::new();
    for summary in page.orders {
        let Some(order) = app.engine.get_order(&summary.id).await? else { continue };
        let Some(current) = order.routing.as_ref().and_then(|d| d.iter().find(|d| !d.shadow)).cloned() else {
            continue;
        };
        let Ok(new_order) = parse_order(order_body(&order)) else { continue };
        let candidate = app.engine.preview_route(&new_order, Some(policy)).await?;
        orders.push(crate::compare::compare(
            order.id,
            order.external_id,
            &current.trace,
            &candidate.trace,
            candidate.explanation,
        ));
    }
    Ok(crate::compare::report(orders))
}

/// A stored order as the body that would create it again.
fn order_body(o: &OrderView) -> CreateOrderBody {
    CreateOrderBody {
        channel: o.channel.clone(),
        external_id: o.external_id.clone(),
        currency: o.currency.clone(),
        lines: o
            .lines
            .iter()
            .map(|l| OrderLineBody {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                currency: None,
            })
            .collect(),
        ship_to: ShipToBody {
            name: o.ship_to.name.clone(),
            line1: o.ship_to.line1.clone(),
            city: o.ship_to.city.clone(),
            region: o.ship_to.region.clone(),
            postal_code: o.ship_to.postal_code.clone(),
            country: o.ship_to.country.clone(),
            lat: o.ship_to.lat,
            lon: o.ship_to.lon,
        },
        service_level: Some(o.service_level.clone()),
        pickup_location: o.pickup_location.clone(),
        payment: Some(o.payment.clone()),
    }
}
