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
    /// The position's counts (absent for a bundle, which holds no stock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hand: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_stock: Option<i64>,
    /// Units that may still be promised here: `on_hand − reserved −
    /// safety_stock` floored at 0; for a bundle, the kits its components
    /// here make.
    pub available: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentView {
    pub sku: String,
    /// Units of it one kit takes.
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InventoryView {
    pub sku: String,
    /// Sum of `available` over every location.
    pub available: i64,
    pub locations: Vec<PositionView>,
    /// A bundle's components (absent for a plain SKU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentView>>,
}

/// The SKU's availability as the API shows it; 404 for an unknown SKU.
async fn inventory_view(app: &AppState, sku: &Sku) -> Result<InventoryView, ApiError> {
    let a = app.engine.availability(sku).await?.ok_or_else(|| ApiError::not_found(format!("sku {sku} not found")))?;
    let locations = a
        .locations
        .into_iter()
        .map(|l| PositionView {
            location: l.location.to_string(),
            on_hand: l.position.map(|p| p.on_hand),
            reserved: l.position.map(|p| p.reserved),
            safety_stock: l.position.map(|p| p.safety_stock),
            available: l.available,
        })
        .collect();
    let components = (!a.components.is_empty()).then(|| {
        a.components.into_iter().map(|(sku, quantity)| ComponentView { sku: sku.to_string(), quantity }).collect()
    });
    Ok(InventoryView { sku: sku.to_string(), available: a.available, locations, components })
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

/// Stock of a SKU at every location; for a bundle, the kits its
/// components make at each location and in total.
#[utoipa::path(get, path = "/inventory/{sku}", tag = "inventory", params(("sku" = String, Path)),
    responses((status = 200, body = InventoryView), (status = 404, body = ErrorBody)))]
async fn get_inventory(
    State(app): State<AppState>,
    ApiPath(sku): ApiPath<String>,
) -> Result<Json<InventoryView>, ApiError> {
    let sku = Sku::parse(&sku)?;
    Ok(Json(inventory_view(&app, &sku).await?))
}
