//! `/inventory`: stock of a SKU per location; cycle counts and adjustments.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::{LocationCode, Sku};
use switchyard_engine::Code;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiPath};
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_inventory)).routes(routes!(get_inventory)).routes(routes!(adjust_inventory))
}

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
