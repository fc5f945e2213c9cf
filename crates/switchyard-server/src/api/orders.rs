//! `/orders`: take an order, read and list orders, and the later events of
//! one order — payment, cancellation, shipments, re-routing, and a location
//! rejecting a line.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use switchyard_core::intake::{page_cursor, page_limit, ShipmentDraft, MAX_PAGE_LIMIT};
use switchyard_core::{ChannelName, LocationCode, NewShipment, OrderStatus};
use switchyard_engine::Code;
use switchyard_store::{OrderFilter, OrderPage, OrderView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, optional_json, parse_order, Actor, ApiBytes, ApiJson, ApiPath, ApiQuery, CreateOrderBody};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(pay_order))
        .routes(routes!(ship_order))
        .routes(routes!(ready_for_pickup))
        .routes(routes!(picked_up))
        .routes(routes!(reroute_order))
        .routes(routes!(reject_allocation))
}

/// Take an order: allocate and reserve at once. Idempotent by
/// (channel, external_id): an identical repeat returns the same order with
/// 200; a repeat with different lines, currency or payment is refused with
/// 409 `idempotency_conflict` (noted on the original order's timeline).
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = CreateOrderBody,
    responses((status = 201, body = OrderView, description = "Created"),
              (status = 200, body = OrderView, description = "Seen before: the same order"),
              (status = 409, body = ErrorBody, description = "Seen before with different content"),
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
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only orders in this status.
    pub status: Option<String>,
    /// Only orders from this channel.
    pub channel: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; anything else is refused (400).
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
        if OrderStatus::parse(s).is_none() {
            return Err(ApiError::new(Code::InvalidQuery, format!("unknown status {s:?}")));
        }
    }
    let limit = page_limit(p.limit, 50, MAX_PAGE_LIMIT)?;
    let cursor = page_cursor(p.cursor)?;
    // Channel names are case-insensitive, as when orders arrive.
    let channel = match p.channel {
        Some(c) => Some(ChannelName::parse(&c).map_err(|e| ApiError::new(Code::InvalidQuery, e.to_string()))?),
        None => None,
    };
    let filter = OrderFilter { status: p.status, channel: channel.map(|c| c.to_string()), limit, cursor };
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
    ApiBytes(body): ApiBytes,
) -> Result<Json<OrderView>, ApiError> {
    let body: CancelBody = optional_json(&body)?;
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
    /// Where the customer follows the parcel: a web address (http or https).
    pub tracking_url: Option<String>,
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
        tracking_url: body.tracking_url,
    })?;
    Ok(Json(app.engine.ship(&id, &shipment).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadyForPickupBody {
    /// The store where every unit is set aside.
    pub location: String,
}

/// Staff set the whole order aside at the pickup store: `ready_for_pickup`. Every unit must be allocated there.
#[utoipa::path(post, path = "/orders/{id}/ready-for-pickup", tag = "orders", params(("id" = String, Path)),
    request_body = ReadyForPickupBody,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn ready_for_pickup(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReadyForPickupBody>,
) -> Result<Json<OrderView>, ApiError> {
    who.require_floor(&body.location)?;
    let location = switchyard_core::LocationCode::parse(&body.location)?;
    Ok(Json(app.engine.ready_for_pickup(&id, &location).await?))
}

/// The customer collected a `ready_for_pickup` order: its units are handed over (a shipment with carrier `pickup`)
/// and it is `completed`.
#[utoipa::path(post, path = "/orders/{id}/picked-up", tag = "orders", params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn picked_up(
    State(app): State<AppState>,
    who: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderView>, ApiError> {
    // Store staff hand over their own store's pickups only.
    if who.only_location().is_some() {
        let order =
            app.engine.get_order(&id).await?.ok_or_else(|| ApiError::not_found(format!("order {id} not found")))?;
        who.require_floor(order.pickup_location.as_deref().unwrap_or_default())?;
    }
    Ok(Json(app.engine.picked_up(&id).await?))
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
    who: Actor,
    ApiPath(id): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<OrderView>, ApiError> {
    let body: RerouteBody = optional_json(&body)?;
    let by = actor(&who, &body.by);
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
    who: Actor,
    ApiPath((id, n)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<OrderView>, ApiError> {
    let location = LocationCode::parse(&body.location)?;
    if n < 1 {
        return Err(ApiError::new(Code::InvalidPath, "line numbers start at 1"));
    }
    let by = actor(&who, &body.by);
    Ok(Json(app.engine.reroute(&id, Some((n, &location)), &by, body.reason.trim()).await?))
}
